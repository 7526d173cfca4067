/* bench/lib/numeric_uuid.c — large_resultset_numeric_uuid (PostgreSQL): the large_resultset
 * shape plus a NUMERIC(12,2) and a UUID column, through uvsql and through raw libpq, the two
 * sides alternated (raw, uvsql, raw, uvsql, ...) so that a busy machine slows both alike.
 *
 * Table bench_rows_nu, N rows, g = 1..N: bench_rows' columns (id, name, x, ts, flag as in
 * bench.h), plus
 *   amount numeric(12,2) = ((g * 7919) % 2000000 - 1000000) / 100.0   (-10000.00 .. 9999.99)
 *   uid    uuid          = md5(g::text)::uuid
 * Checksum per row: BENCH_ROW_SUM + the length of amount's text + its last digit + the first
 * and last byte of uid (16 bytes).
 * Raw side: binary results; numeric decoded from its base-10000 groups to text (into one
 * reused buffer: what a C program does with libpq), uuid memcpy'd as 16 bytes. uvsql side: the
 * typed getters; amount with uvsql_result_text (its exact text), uid as 16 bytes from a UUID
 * cell, or from the canonical text when the driver gives the uuid as text. */
#include <stdlib.h>
#include <string.h>
#include <uvsql.h>
#include "bench.h"
#include "raw_pg.h"
#include "uvsql_env.h"

#define NU_TABLE  "bench_rows_nu"
#define NU_SELECT "SELECT id, name, x, ts, flag, amount, uid FROM " NU_TABLE

static int nu_setup(PGconn *c, int64_t nrows) {
  char sql[700];
  PGresult *r = PQexec(c, "SELECT count(*) FROM " NU_TABLE);
  int ok = PQresultStatus(r) == PGRES_TUPLES_OK && atoll(PQgetvalue(r, 0, 0)) == nrows;
  PQclear(r);
  if (ok)
    return 0;
  snprintf(sql, sizeof sql,
           "INSERT INTO " NU_TABLE " SELECT g, 'name-' || g, g * 0.5, "
           "timestamptz '2024-01-01' + g * interval '1 second', g %% 2 = 0, "
           "((g::bigint * 7919) %% 2000000 - 1000000) / 100.0, md5(g::text)::uuid "
           "FROM generate_series(1, %lld) g",
           (long long)nrows);
  return bench_pg_exec(c, "DROP TABLE IF EXISTS " NU_TABLE) ||
                 bench_pg_exec(c,
                               "CREATE TABLE " NU_TABLE
                               " (id bigint PRIMARY KEY, name text, x double precision, "
                               "ts timestamptz, flag boolean, amount numeric(12,2), uid uuid)") ||
                 bench_pg_exec(c, sql) || bench_pg_exec(c, "VACUUM ANALYZE " NU_TABLE)
             ? -1
             : 0;
}

static double extra_sum(const char *amount, size_t len, const unsigned char *uid) {
  return (double)len + (double)(amount[len - 1] - '0') + (double)uid[0] + (double)uid[15];
}

/* ------------------------------------------------------------------ raw libpq */

static inline int be16(const char *p) {
  return (int)((unsigned)(unsigned char)p[0] << 8 | (unsigned char)p[1]);
}

static const char pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

static inline void put4(char *p, int g) {
  memcpy(p, pairs + 2 * (g / 100), 2);
  memcpy(p + 2, pairs + 2 * (g % 100), 2);
}

/* A binary numeric (not NaN/Infinity: the column holds none) as text into out; its length. */
static size_t numeric_text(const char *s, char *out) {
  int nd = (int16_t)be16(s), weight = (int16_t)be16(s + 2), sign = be16(s + 4),
      dscale = (int16_t)be16(s + 6);
  const char *d = s + 8;
  char *p = out;
  if (sign == 0x4000 && nd > 0)
    *p++ = '-';
  if (weight < 0) {
    *p++ = '0';
  } else {
    int g = nd > 0 ? be16(d) : 0;
    char tmp[4];
    put4(tmp, g);
    int skip = g >= 1000 ? 0 : g >= 100 ? 1 : g >= 10 ? 2 : 3;
    memcpy(p, tmp + skip, (size_t)(4 - skip));
    p += 4 - skip;
    for (int i = 1; i <= weight; i++, p += 4)
      put4(p, i < nd ? be16(d + 2 * i) : 0);
  }
  if (dscale > 0) {
    *p++ = '.';
    char *frac = p;
    for (int i = weight + 1; p - frac < dscale; i++, p += 4)
      put4(p, i >= 0 && i < nd ? be16(d + 2 * i) : 0);
    p = frac + dscale;
  }
  *p = '\0';
  return (size_t)(p - out);
}

static int raw_once(void *ctx, bench_run_t *run) {
  PGconn *c = ctx;
  double t0 = bench_now();
  PGresult *r = PQexecParams(c, NU_SELECT, 0, NULL, NULL, NULL, NULL, 1);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    fprintf(stderr, "%s", PQresultErrorMessage(r));
    PQclear(r);
    return -1;
  }
  int n = PQntuples(r);
  char amount[160];
  unsigned char uid[16];
  for (int i = 0; i < n; i++) {
    int64_t id = (int64_t)bench_be64(PQgetvalue(r, i, 0));
    int len = PQgetlength(r, i, 1);
    uint64_t xb = bench_be64(PQgetvalue(r, i, 2));
    double x;
    memcpy(&x, &xb, 8);
    int64_t ts = (int64_t)bench_be64(PQgetvalue(r, i, 3)) + PG_EPOCH_US;
    int flag = PQgetvalue(r, i, 4)[0];
    size_t alen = numeric_text(PQgetvalue(r, i, 5), amount);
    memcpy(uid, PQgetvalue(r, i, 6), 16);
    run->checksum += BENCH_ROW_SUM(id, x, flag, len, ts) + extra_sum(amount, alen, uid);
  }
  run->rows += n;
  PQclear(r);
  run->seconds = bench_now() - t0;
  return 0;
}

/* ------------------------------------------------------------------ uvsql */

typedef struct {
  bench_env_t env;
  uvsql_stmt_t *st;
} nu_t;

static int hexval(char c) {
  return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* uid as 16 bytes: a UUID cell as it is, a text cell (canonical 8-4-4-4-12) parsed. */
static void uuid_bytes(const uvsql_result_t *r, size_t row, unsigned char *out) {
  const uvsql_value_t *v = uvsql_result_value(r, row, 6);
  if (v->type == UVSQL_TYPE_UUID) {
    memcpy(out, v->u.uuid, 16);
    return;
  }
  const char *s = v->u.s.ptr;
  for (int i = 0, k = 0; i < 16; i++, k += 2) {
    if (s[k] == '-')
      k++;
    out[i] = (unsigned char)(hexval(s[k]) << 4 | hexval(s[k + 1]));
  }
}

static int uvsql_once(void *ctx, bench_run_t *run) {
  nu_t *c = ctx;
  double t0 = bench_now();
  uvsql_future_t *f = uvsql_engine_execute(c->env.engine, c->st, NULL, 0, NULL, NULL);
  if (uvsql_future_wait(f) != 0)
    return bench_failed(f, "large_resultset_numeric_uuid");
  const uvsql_result_t *r = uvsql_future_value(f);
  size_t n = uvsql_result_nrows(r);
  unsigned char uid[16];
  for (size_t i = 0; i < n; i++) {
    int64_t id, ts;
    double x;
    int flag;
    const char *name, *amount;
    size_t len, alen;
    uvsql_result_int64(r, i, 0, &id);
    uvsql_result_text(r, i, 1, &name, &len);
    uvsql_result_double(r, i, 2, &x);
    uvsql_result_timestamp(r, i, 3, &ts);
    uvsql_result_bool(r, i, 4, &flag);
    uvsql_result_text(r, i, 5, &amount, &alen);
    uuid_bytes(r, i, uid);
    run->checksum += BENCH_ROW_SUM(id, x, flag, len, ts) + extra_sum(amount, alen, uid);
  }
  run->rows += (int64_t)n;
  uvsql_future_unref(f);
  run->seconds = bench_now() - t0;
  return 0;
}

int bench_pg_numeric_uuid(const char *conninfo, const char *url, int64_t nrows, int reps,
                          bench_run_t *raw, bench_run_t *uv) {
  PGconn *c = bench_pg_open(conninfo);
  nu_t u = {0};
  int rc = -1;
  if (!c || nu_setup(c, nrows) != 0 || bench_env_open(&u.env, url, 1) != 0)
    goto done;
  if (uvsql_text(&u.st, NU_SELECT, NULL) != 0)
    goto done;
  /* warm-ups (connect, prepare, learn the result types), then alternate the sides */
  bench_run_t w = {0};
  if (raw_once(c, &w) != 0 || (memset(&w, 0, sizeof w), uvsql_once(&u, &w)) != 0)
    goto done;
  raw->seconds = uv->seconds = 1e9;
  for (int k = 0; k < reps; k++) {
    bench_run_t a = {0}, b = {0};
    if (raw_once(c, &a) != 0 || uvsql_once(&u, &b) != 0)
      goto done;
    if (a.seconds < raw->seconds)
      *raw = a;
    if (b.seconds < uv->seconds)
      *uv = b;
  }
  rc = 0;
done:
  if (u.st)
    uvsql_stmt_free(u.st);
  if (u.env.engine)
    bench_env_close(&u.env);
  PQfinish(c);
  return rc;
}
