/* src/dialects/postgresql/copy.c — COPY FROM STDIN / TO STDOUT in binary format.
 *
 * A COPY request (driver.h: UVSQL__REQ_COPY_IN / COPY_OUT) goes out as one simple-protocol
 * query (exec.c runs it like a multi-statement text, out of pipeline mode):
 *     SELECT <columns> ... LIMIT 0; COPY ... (FORMAT binary)
 * The probe's result (uvsql__pg_copy_probe) gives each column's type OID and name; then the
 * server enters COPY IN or OUT (uvsql__pg_copy_begin) and exec.c calls uvsql__pg_copy_step
 * from read_results whenever the socket is ready, until the copy data is over; the COPY's own
 * CommandComplete ("COPY n") then ends the group as any result does.
 *
 * COPY IN: rows from req->source are encoded (binary COPY: the 19-byte header once, per row
 * an int16 field count and per field an int32 length, -1 for NULL, then the value in the
 * type's binary send format; at the end an int16 -1) into one buffer of at most a batch,
 * given to PQputCopyData, and PQflush'ed. Memory stays bounded: no new batch is asked for
 * while libpq still has unsent output (PQflush returned 1: wait for writable). The source
 * failing, a value that does not fit its column, or a cancel ends the copy with PQputCopyEnd
 * (CopyFail: the server rolls the COPY back) and the request reports that error.
 * COPY OUT: PQgetCopyData(async) gives one row per message (the first one also holds the
 * header); rows are decoded with the probe's types into batches of batch_rows.
 *
 * Invariant: a step does at most STEP_MAX rows' worth of work, then yields to the loop (the
 * watcher is asked for writable, which comes at once), so a large copy never starves it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pg.h"

#define STEP_MAX 20000 /* rows per step before yielding to the loop */

static const char signature[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', '\0'};

/* ------------------------------------------------------------------ buffer */

static int reserve(uvsql__pg_conn_t *pc, size_t more) {
  if (pc->cp.len + more <= pc->cp.cap)
    return 0;
  size_t cap = pc->cp.cap ? pc->cp.cap : 65536;
  while (cap < pc->cp.len + more)
    cap *= 2;
  char *b = realloc(pc->cp.buf, cap);
  if (!b)
    return -1;
  pc->cp.buf = b;
  pc->cp.cap = cap;
  return 0;
}

static void put16(char *p, uint16_t v) {
  p[0] = (char)(v >> 8);
  p[1] = (char)v;
}

static void put32(char *p, uint32_t v) {
  for (int i = 3; i >= 0; i--, v >>= 8)
    p[i] = (char)(v & 0xff);
}

static void put64(char *p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8)
    p[i] = (char)(v & 0xff);
}

static uint32_t get32(const char *p) {
  return (uint32_t)(unsigned char)p[0] << 24 | (uint32_t)(unsigned char)p[1] << 16 |
         (uint32_t)(unsigned char)p[2] << 8 | (uint32_t)(unsigned char)p[3];
}

static const char *type_name(uvsql_type_t t) {
  static const char *names[] = {"NULL", "bool", "int64",     "double",      "text",    "bytes",
                                "date", "time", "timestamp", "timestamptz", "numeric", "uuid",
                                "json", "enum", "interval",  "array"};
  return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

/* Appends one field (length + value) of column col for v. 0, or an error code with err set. */
static int put_field(uvsql__pg_conn_t *pc, int col, const uvsql_value_t *v, uint64_t row,
                     uvsql_error_t *err) {
  Oid oid = PQftype(pc->cp.probe, col);
  char *p;
  size_t n;
  int64_t t;
  if (v->type == UVSQL_TYPE_NULL) {
    if (reserve(pc, 4) != 0)
      goto nomem;
    put32(pc->cp.buf + pc->cp.len, 0xffffffffu);
    pc->cp.len += 4;
    return 0;
  }
  switch (oid) {
  case UVSQL__PG_INT2:
  case UVSQL__PG_INT4:
  case UVSQL__PG_INT8:
    if (v->type != UVSQL_TYPE_INT64)
      goto mismatch;
    n = oid == UVSQL__PG_INT2 ? 2 : oid == UVSQL__PG_INT4 ? 4 : 8;
    if ((n == 2 && (v->u.i64 < INT16_MIN || v->u.i64 > INT16_MAX)) ||
        (n == 4 && (v->u.i64 < INT32_MIN || v->u.i64 > INT32_MAX)))
      return uvsql__error_set(
          err, UVSQL_EDATA,
          "row %" PRIu64 ", column \"%s\": %" PRId64 " is out of range for its type (%s)", row + 1,
          PQfname(pc->cp.probe, col), v->u.i64, n == 2 ? "smallint" : "integer");
    if (reserve(pc, 4 + n) != 0)
      goto nomem;
    p = pc->cp.buf + pc->cp.len;
    put32(p, (uint32_t)n);
    if (n == 2)
      put16(p + 4, (uint16_t)(int16_t)v->u.i64);
    else if (n == 4)
      put32(p + 4, (uint32_t)(int32_t)v->u.i64);
    else
      put64(p + 4, (uint64_t)v->u.i64);
    pc->cp.len += 4 + n;
    return 0;
  case UVSQL__PG_FLOAT4:
  case UVSQL__PG_FLOAT8: {
    double d;
    if (v->type == UVSQL_TYPE_DOUBLE)
      d = v->u.f64;
    else if (v->type == UVSQL_TYPE_INT64)
      d = (double)v->u.i64;
    else
      goto mismatch;
    if (reserve(pc, 12) != 0)
      goto nomem;
    p = pc->cp.buf + pc->cp.len;
    if (oid == UVSQL__PG_FLOAT4) {
      float f = (float)d;
      uint32_t bits;
      memcpy(&bits, &f, 4);
      put32(p, 4);
      put32(p + 4, bits);
      pc->cp.len += 8;
    } else {
      uint64_t bits;
      memcpy(&bits, &d, 8);
      put32(p, 8);
      put64(p + 4, bits);
      pc->cp.len += 12;
    }
    return 0;
  }
  case UVSQL__PG_BOOL:
    if (v->type != UVSQL_TYPE_BOOL)
      goto mismatch;
    if (reserve(pc, 5) != 0)
      goto nomem;
    p = pc->cp.buf + pc->cp.len;
    put32(p, 1);
    p[4] = v->u.b ? 1 : 0;
    pc->cp.len += 5;
    return 0;
  case UVSQL__PG_DATE:
    if (v->type != UVSQL_TYPE_DATE)
      goto mismatch;
    if (v->u.i64 == INT64_MAX || v->u.i64 == INT64_MIN) {
      t = v->u.i64 == INT64_MAX ? INT32_MAX : INT32_MIN;
    } else {
      t = v->u.i64 - UVSQL__PG_EPOCH_DAYS;
      if (t <= INT32_MIN || t >= INT32_MAX)
        goto range;
    }
    if (reserve(pc, 8) != 0)
      goto nomem;
    put32(pc->cp.buf + pc->cp.len, 4);
    put32(pc->cp.buf + pc->cp.len + 4, (uint32_t)(int32_t)t);
    pc->cp.len += 8;
    return 0;
  case UVSQL__PG_TIME:
  case UVSQL__PG_TIMESTAMP:
  case UVSQL__PG_TIMESTAMPTZ:
    t = v->u.i64;
    if (oid == UVSQL__PG_TIME) {
      if (v->type != UVSQL_TYPE_TIME)
        goto mismatch;
    } else {
      if (v->type != UVSQL_TYPE_TIMESTAMP && v->type != UVSQL_TYPE_TIMESTAMPTZ)
        goto mismatch;
      if (t != INT64_MAX && t != INT64_MIN) {
        if (t < INT64_MIN + UVSQL__PG_EPOCH_US)
          goto range;
        t -= UVSQL__PG_EPOCH_US;
      }
    }
    if (reserve(pc, 12) != 0)
      goto nomem;
    put32(pc->cp.buf + pc->cp.len, 8);
    put64(pc->cp.buf + pc->cp.len + 4, (uint64_t)t);
    pc->cp.len += 12;
    return 0;
  case UVSQL__PG_UUID:
    if (v->type != UVSQL_TYPE_UUID)
      goto mismatch;
    if (reserve(pc, 20) != 0)
      goto nomem;
    put32(pc->cp.buf + pc->cp.len, 16);
    memcpy(pc->cp.buf + pc->cp.len + 4, v->u.uuid, 16);
    pc->cp.len += 20;
    return 0;
  case UVSQL__PG_BYTEA:
  case UVSQL__PG_TEXT:
  case UVSQL__PG_VARCHAR:
  case UVSQL__PG_BPCHAR:
  case UVSQL__PG_NAME:
  case UVSQL__PG_JSON:
  case UVSQL__PG_JSONB: {
    /* the binary form of the text types (and json) is the text; jsonb adds a version byte */
    int jsonb = oid == UVSQL__PG_JSONB;
    if (oid == UVSQL__PG_BYTEA ? v->type != UVSQL_TYPE_BYTES
                               : v->type != UVSQL_TYPE_TEXT && v->type != UVSQL_TYPE_JSON &&
                                     v->type != UVSQL_TYPE_ENUM)
      goto mismatch;
    n = v->u.s.len + (size_t)jsonb;
    if (n > (size_t)INT32_MAX - 1)
      return uvsql__error_set(err, UVSQL_EDATA,
                              "row %" PRIu64 ", column \"%s\": the value is longer than "
                              "PostgreSQL accepts (1 GB)",
                              row + 1, PQfname(pc->cp.probe, col));
    if (reserve(pc, 4 + n) != 0)
      goto nomem;
    p = pc->cp.buf + pc->cp.len;
    put32(p, (uint32_t)n);
    if (jsonb)
      p[4] = 1;
    if (v->u.s.len)
      memcpy(p + 4 + jsonb, v->u.s.ptr, v->u.s.len);
    pc->cp.len += 4 + n;
    return 0;
  }
  default:
    return uvsql__error_set(err, UVSQL_ENOT_SUPPORTED,
                            "column \"%s\" has type oid %u, which uvsql's binary COPY cannot "
                            "encode (it encodes integers, floats, bool, text, bytea, json(b), "
                            "uuid, date, time and timestamps): copy into a table whose columns "
                            "have those types, or insert with a statement",
                            PQfname(pc->cp.probe, col), (unsigned)oid);
  }
mismatch:
  return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                          "row %" PRIu64 ", column \"%s\": a %s value cannot be copied into a "
                          "column of type oid %u: give a value of the column's type",
                          row + 1, PQfname(pc->cp.probe, col), type_name(v->type), (unsigned)oid);
range:
  return uvsql__error_set(err, UVSQL_EDATA,
                          "row %" PRIu64 ", column \"%s\": the date/time is out of "
                          "PostgreSQL's range",
                          row + 1, PQfname(pc->cp.probe, col));
nomem:
  return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory encoding COPY rows");
}

/* ------------------------------------------------------------------ COPY IN */

/* Abandons the copy: CopyFail with err's message next; err is what the request reports. */
static void abandon(uvsql__pg_conn_t *pc, const uvsql_error_t *err) {
  if (!pc->rd_err.code)
    pc->rd_err = *err;
  pc->cp.ending = 1;
  pc->cp.fail = "abandoned by uvsql";
  pc->cp.len = 0; /* rows not yet handed to libpq are dropped */
}

static int encode_batch(uvsql__pg_conn_t *pc, uvsql__request_t *req, uint64_t *rows_seen) {
  const uvsql_value_t *rows = NULL;
  size_t nrows = 0, ncols = req->ncolumns;
  uvsql_error_t err;
  int nf = PQnfields(pc->cp.probe);
  uvsql_error_clear(&err);
  if (req->source(req, &rows, &nrows, &err) != 0) {
    if (!err.code)
      uvsql__error_set(&err, UVSQL_ECANCELLED, "the row source stopped the copy");
    abandon(pc, &err);
    return 0;
  }
  if (!pc->cp.header) {
    if (reserve(pc, 19) != 0)
      goto nomem;
    memcpy(pc->cp.buf, signature, 11);
    memset(pc->cp.buf + 11, 0, 8); /* flags, header extension length */
    pc->cp.len = 19;
    pc->cp.header = 1;
  }
  if (nrows == 0) { /* the end: the trailer, then CopyDone */
    if (reserve(pc, 2) != 0)
      goto nomem;
    put16(pc->cp.buf + pc->cp.len, 0xffffu);
    pc->cp.len += 2;
    pc->cp.ending = 1;
    pc->cp.fail = NULL;
    return 0;
  }
  if ((int)ncols != nf) {
    uvsql__error_set(&err, UVSQL_EINTERNAL, "the COPY has %d columns, the rows %zu", nf, ncols);
    abandon(pc, &err);
    return 0;
  }
  for (size_t r = 0; r < nrows; r++) {
    if (reserve(pc, 2) != 0)
      goto nomem;
    put16(pc->cp.buf + pc->cp.len, (uint16_t)nf);
    pc->cp.len += 2;
    for (int c = 0; c < nf; c++)
      if (put_field(pc, c, &rows[r * ncols + (size_t)c], *rows_seen + r, &err) != 0) {
        abandon(pc, &err);
        return 0;
      }
  }
  *rows_seen += nrows;
  return (int)nrows;
nomem:
  uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory encoding COPY rows");
  abandon(pc, &err);
  return 0;
}

static int copy_in_step(uvsql__pg_conn_t *pc, uvsql__request_t *req) {
  int done = 0;
  for (;;) {
    int rc;
    if (pc->cp.len > 0) {
      rc = PQputCopyData(pc->pg, pc->cp.buf, (int)pc->cp.len);
      if (rc < 0)
        return -1;
      if (rc == 0) { /* libpq could not take it now */
        pc->flush_pending = 1;
        return 0;
      }
      pc->cp.len = 0;
    }
    rc = PQflush(pc->pg);
    if (rc < 0)
      return -1;
    if (rc == 1) { /* the socket is full: wait for writable, ask for nothing more meanwhile */
      pc->flush_pending = 1;
      return 0;
    }
    if (pc->cp.ending) {
      rc = PQputCopyEnd(pc->pg, pc->cp.fail);
      if (rc < 0)
        return -1;
      if (rc == 0) {
        pc->flush_pending = 1;
        return 0;
      }
      pc->cp.active = 0;
      rc = PQflush(pc->pg);
      if (rc < 0)
        return -1;
      pc->flush_pending = rc == 1;
      return 1;
    }
    if (req->state & UVSQL__PG_RS_CANCEL) {
      uvsql_error_t err;
      uvsql__error_set(&err, UVSQL_ECANCELLED,
                       "the copy was cancelled: nothing was written (the server rolled the "
                       "COPY back)");
      abandon(pc, &err);
      continue;
    }
    if (done >= STEP_MAX) { /* yield (invariant): writable comes back at once */
      pc->flush_pending = 1;
      return 0;
    }
    done += encode_batch(pc, req, &pc->cp.seen) + 1;
  }
}

/* ------------------------------------------------------------------ COPY OUT */

static int hand_over(uvsql__pg_conn_t *pc, uvsql__request_t *req) {
  uvsql_result_t *b = pc->cp.batch;
  pc->cp.batch = NULL;
  if (!b)
    return 0;
  if (req->state & UVSQL__PG_RS_CANCEL)
    pc->cp.stop = 1; /* cancelled: nothing more is handed over, whenever the server stops */
  if (!pc->cp.stop && req->batch(req, b) != 0) {
    pc->cp.stop = 1;
    if (!pc->cancel_job)
      (void)uvsql__pg_cancel_hold(pc); /* the rest is dropped; the cancel cuts it short */
    req->state |= UVSQL__PG_RS_CANCEL_SENT;
  }
  uvsql_result_free(b);
  return 0;
}

/* Decodes one CopyData message (a tuple, the first one after the header). */
static int read_row(uvsql__pg_conn_t *pc, uvsql__request_t *req, const char *m, int len) {
  const char *end = m + len;
  int nf = PQnfields(pc->cp.probe);
  uvsql_error_t err;
  if (!pc->cp.header) {
    uint32_t ext;
    if (len < 19 || memcmp(m, signature, 11) != 0)
      goto bad;
    ext = get32(m + 15);
    if (ext > (uint32_t)(len - 19))
      goto bad;
    m += 19 + ext;
    pc->cp.header = 1;
  }
  if (end - m < 2)
    goto bad;
  int16_t count = (int16_t)(uint16_t)((unsigned char)m[0] << 8 | (unsigned char)m[1]);
  m += 2;
  if (count == -1)
    return 0; /* the trailer */
  if (count != nf)
    goto bad;
  if (pc->cp.stop)
    return 0;
  if (!pc->cp.batch) {
    uvsql_result_t *r = uvsql__result_new((size_t)nf);
    int rc = r ? 0 : -1;
    for (int c = 0; r && c < nf && rc == 0; c++)
      rc = uvsql__result_set_column(r, (size_t)c, PQfname(pc->cp.probe, c),
                                    uvsql__pg_type_of(PQftype(pc->cp.probe, c)));
    if (!r || rc != 0 || uvsql__result_reserve(r, req->batch_rows) != 0) {
      uvsql_result_free(r);
      goto nomem;
    }
    pc->cp.batch = r;
  }
  uvsql_value_t *cells = uvsql__result_add_row(pc->cp.batch);
  if (!cells)
    goto nomem;
  for (int c = 0; c < nf; c++) {
    uint32_t flen;
    if (end - m < 4)
      goto bad;
    flen = get32(m);
    m += 4;
    if (flen == 0xffffffffu)
      continue; /* NULL: the cell is NULL already */
    if (flen > (uint32_t)(end - m))
      goto bad;
    int rc = uvsql__pg_decode_value(pc->cp.batch, PQftype(pc->cp.probe, c), 1, m, flen, &cells[c]);
    if (rc == UVSQL_ENOMEM)
      goto nomem;
    if (rc != 0) {
      uvsql__error_set(&err, rc, "could not read column \"%s\" (type oid %u) of a copied row",
                       PQfname(pc->cp.probe, c), (unsigned)PQftype(pc->cp.probe, c));
      goto fail;
    }
    m += flen;
  }
  if (uvsql_result_nrows(pc->cp.batch) >= req->batch_rows)
    hand_over(pc, req);
  return 0;
bad:
  uvsql__error_set(&err, UVSQL_EINTERNAL, "the server sent a COPY row uvsql could not read");
  goto fail;
nomem:
  uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory reading copied rows");
fail:
  if (!pc->rd_err.code)
    pc->rd_err = err;
  uvsql_result_free(pc->cp.batch);
  pc->cp.batch = NULL;
  pc->cp.stop = 1; /* nothing more is handed over; the copy is cut short */
  if (!pc->cancel_job)
    (void)uvsql__pg_cancel_hold(pc);
  req->state |= UVSQL__PG_RS_CANCEL_SENT;
  return 0;
}

static int copy_out_step(uvsql__pg_conn_t *pc, uvsql__request_t *req) {
  for (int n = 0; n < STEP_MAX; n++) {
    char *buf = NULL;
    int len = PQgetCopyData(pc->pg, &buf, 1);
    if (len == 0)
      return 0; /* wait for readable (the watcher always is) */
    if (len == -1) {
      pc->cp.active = 0;
      return 1;
    }
    if (len < 0)
      return -1;
    read_row(pc, req, buf, len);
    PQfreemem(buf);
    if (pc->state != UVSQL__PG_READY || pc->guard.closing)
      return 0;
  }
  pc->flush_pending = 1; /* yield (invariant) */
  return 0;
}

/* ------------------------------------------------------------------ the exec.c interface */

void uvsql__pg_copy_probe(uvsql__pg_conn_t *pc, PGresult *res) {
  if (pc->cp.probe)
    PQclear(pc->cp.probe);
  pc->cp.probe = res;
}

void uvsql__pg_copy_begin(uvsql__pg_conn_t *pc, uvsql__request_t *req) {
  pc->cp.active = 1;
  pc->cp.ending = 0;
  pc->cp.header = 0;
  pc->cp.stop = 0;
  pc->cp.len = 0;
  pc->cp.seen = 0;
  if (!pc->cp.probe) {
    uvsql_error_t err;
    uvsql__error_set(&err, UVSQL_EINTERNAL, "the COPY's probe gave no columns");
    if (req->flags & UVSQL__REQ_COPY_IN)
      abandon(pc, &err);
    else if (!pc->rd_err.code)
      pc->rd_err = err;
    return;
  }
  if (req->flags & UVSQL__REQ_COPY_OUT) /* every column must be one decode.c reads in binary */
    for (int c = 0; c < PQnfields(pc->cp.probe); c++) {
      Oid oid = PQftype(pc->cp.probe, c);
      if (uvsql__pg_binary_known(oid))
        continue;
      if (!pc->rd_err.code)
        uvsql__error_set(&pc->rd_err, UVSQL_ENOT_SUPPORTED,
                         "column \"%s\" has type oid %u, which uvsql cannot read from a binary "
                         "COPY: cast it to text in the query (\"%s\"::text)",
                         PQfname(pc->cp.probe, c), (unsigned)oid, PQfname(pc->cp.probe, c));
      pc->cp.stop = 1; /* the rows are dropped; the cancel cuts the copy short */
      if (!pc->cancel_job)
        (void)uvsql__pg_cancel_hold(pc);
      req->state |= UVSQL__PG_RS_CANCEL_SENT;
      return;
    }
}

int uvsql__pg_copy_step(uvsql__pg_conn_t *pc, uvsql__request_t *req) {
  if (req->flags & UVSQL__REQ_COPY_IN)
    return copy_in_step(pc, req);
  if (!pc->cp.probe) { /* nothing to decode with: drain */
    pc->cp.stop = 1;
  }
  return copy_out_step(pc, req);
}

void uvsql__pg_copy_end(uvsql__pg_conn_t *pc, uvsql__request_t *req, uvsql_error_t *err) {
  if ((req->flags & UVSQL__REQ_COPY_OUT) && !err->code)
    hand_over(pc, req);
  if (pc->cp.stop && (req->flags & UVSQL__REQ_COPY_OUT) && err->code == UVSQL_ECANCELLED &&
      !(req->state & UVSQL__PG_RS_CANCEL))
    uvsql_error_clear(err); /* the consumer's stop: the cancel's error is ours, not theirs */
  else if ((req->flags & UVSQL__REQ_COPY_OUT) && (req->state & UVSQL__PG_RS_CANCEL) &&
           !err->code) /* the server had sent everything before the cancel reached it */
    uvsql__error_set(err, UVSQL_ECANCELLED,
                     "the copy was cancelled: the rows after the cancel were not handed over");
  uvsql__pg_copy_reset(pc);
}

void uvsql__pg_copy_reset(uvsql__pg_conn_t *pc) {
  if (pc->cp.probe)
    PQclear(pc->cp.probe);
  uvsql_result_free(pc->cp.batch);
  free(pc->cp.buf);
  memset(&pc->cp, 0, sizeof pc->cp);
}
