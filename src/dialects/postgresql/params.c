/* src/dialects/postgresql/params.c — uvsql values as libpq parameter arrays.
 *
 * Each value gets an OID and a format, so the server neither guesses nor parses numbers:
 *   INT64 int8 (20)        binary, 8 bytes big-endian
 *   DOUBLE float8 (701)    binary, IEEE 754 big-endian
 *   BOOL bool (16)         binary, 1 byte
 *   TEXT unknown (0)       text: the server infers the type from the context
 *   NUMERIC numeric (1700) text: the canonical decimal (execute.c checked it), exact
 *   BYTES bytea (17)       binary, the bytes as they are
 *   DATE date (1082)       binary int32, days since 2000-01-01
 *   TIME time (1083)       binary int64, microseconds since midnight
 *   TIMESTAMP (1114), TIMESTAMPTZ (1184)  binary int64, microseconds since 2000-01-01
 *   UUID uuid (2950)       binary, the 16 bytes as they are
 *   JSON jsonb (3802)      text (the engine checked it is JSON); a json column takes it too
 *                          (jsonb -> json is an assignment cast), and so does a text column
 *   NULL unknown (0)       no value
 *   ENUM unknown (0)       text, the label: the server casts it to the column's enum type
 *   INTERVAL (1186)        binary: int64 microseconds, int32 days, int32 months
 *   ARRAY <elem>[]         binary: int32 ndim (1; 0 when empty), int32 has-NULLs, element OID,
 *                          int32 length, int32 lower bound 1, then per element an int32 length
 *                          (-1: NULL) and its binary form. Elements: INT64 (int8[]), DOUBLE
 *                          (float8[]), BOOL, TEXT (text[]), BYTES, DATE, TIME, TIMESTAMP,
 *                          TIMESTAMPTZ, UUID, INTERVAL; every non-NULL element must be of the
 *                          array's element type.
 * INT64_MAX / INT64_MIN dates and timestamps are sent as infinity / -infinity.
 *
 * Invariants:
 *  1. One allocation at most per request (none when the arrays fit UVSQL__PG_PARAMS_INLINE).
 *  2. Bytes are borrowed from the caller's values; text is copied, because libpq reads text
 *     parameters up to a NUL and the caller's text need not have one.
 *  3. The arrays live until uvsql__pg_params_free, after libpq has copied them.
 *  4. Text with a NUL byte inside is refused (UVSQL_EDATA, naming the parameter and BYTES),
 *     never cut at the NUL: PostgreSQL text cannot hold one, and libpq stops at it.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "pg.h"

static void put_be32(char *p, uint32_t v) {
  for (int i = 3; i >= 0; i--, v >>= 8)
    p[i] = (char)(v & 0xff);
}

static void put_be64(char *p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8)
    p[i] = (char)(v & 0xff);
}

Oid uvsql__pg_oid_of(uvsql_type_t t) {
  switch (t) {
  case UVSQL_TYPE_BOOL:
    return UVSQL__PG_BOOL;
  case UVSQL_TYPE_INT64:
    return UVSQL__PG_INT8;
  case UVSQL_TYPE_DOUBLE:
    return UVSQL__PG_FLOAT8;
  case UVSQL_TYPE_BYTES:
    return UVSQL__PG_BYTEA;
  case UVSQL_TYPE_DATE:
    return UVSQL__PG_DATE;
  case UVSQL_TYPE_TIME:
    return UVSQL__PG_TIME;
  case UVSQL_TYPE_TIMESTAMP:
    return UVSQL__PG_TIMESTAMP;
  case UVSQL_TYPE_TIMESTAMPTZ:
    return UVSQL__PG_TIMESTAMPTZ;
  case UVSQL_TYPE_NUMERIC:
    return UVSQL__PG_NUMERIC;
  case UVSQL_TYPE_UUID:
    return UVSQL__PG_UUID;
  case UVSQL_TYPE_JSON:
    return UVSQL__PG_JSONB;
  case UVSQL_TYPE_INTERVAL:
    return UVSQL__PG_INTERVAL;
  default:
    return 0; /* TEXT, NULL */
  }
}

/* ------------------------------------------------------------------ arrays */

static Oid array_oid(uvsql_type_t elem, Oid *elem_oid) {
  static const struct {
    uvsql_type_t t;
    Oid elem, arr;
  } map[] = {
      {UVSQL_TYPE_INT64, UVSQL__PG_INT8, UVSQL__PG_INT8_ARRAY},
      {UVSQL_TYPE_DOUBLE, UVSQL__PG_FLOAT8, UVSQL__PG_FLOAT8_ARRAY},
      {UVSQL_TYPE_BOOL, UVSQL__PG_BOOL, UVSQL__PG_BOOL_ARRAY},
      {UVSQL_TYPE_TEXT, UVSQL__PG_TEXT, UVSQL__PG_TEXT_ARRAY},
      {UVSQL_TYPE_BYTES, UVSQL__PG_BYTEA, UVSQL__PG_BYTEA_ARRAY},
      {UVSQL_TYPE_DATE, UVSQL__PG_DATE, UVSQL__PG_DATE_ARRAY},
      {UVSQL_TYPE_TIME, UVSQL__PG_TIME, UVSQL__PG_TIME_ARRAY},
      {UVSQL_TYPE_TIMESTAMP, UVSQL__PG_TIMESTAMP, UVSQL__PG_TIMESTAMP_ARRAY},
      {UVSQL_TYPE_TIMESTAMPTZ, UVSQL__PG_TIMESTAMPTZ, UVSQL__PG_TIMESTAMPTZ_ARRAY},
      {UVSQL_TYPE_UUID, UVSQL__PG_UUID, UVSQL__PG_UUID_ARRAY},
      {UVSQL_TYPE_INTERVAL, UVSQL__PG_INTERVAL, UVSQL__PG_INTERVAL_ARRAY},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (map[i].t == elem) {
      *elem_oid = map[i].elem;
      return map[i].arr;
    }
  return 0;
}

/* The binary size of element x (-1 for a NULL: only its length word), or -2 if x is not of the
 * array's element type. */
static int64_t elem_size(const uvsql_value_t *x, uvsql_type_t elem) {
  if (x->type == UVSQL_TYPE_NULL)
    return -1;
  if (x->type != elem)
    return -2;
  switch (elem) {
  case UVSQL_TYPE_BOOL:
    return 1;
  case UVSQL_TYPE_DATE:
    return 4;
  case UVSQL_TYPE_UUID:
  case UVSQL_TYPE_INTERVAL:
    return 16;
  case UVSQL_TYPE_TEXT:
  case UVSQL_TYPE_BYTES:
    return x->u.s.len > (size_t)INT32_MAX ? -2 : (int64_t)x->u.s.len;
  default:
    return 8;
  }
}

/* The bytes the array value x takes, or 0 with err set. */
static size_t array_size(const uvsql_value_t *x, int i, uvsql_error_t *err) {
  Oid eo = 0;
  size_t need = 12 + (x->u.arr.n ? 8 : 0);
  if (!array_oid((uvsql_type_t)x->u.arr.elem, &eo)) {
    uvsql__error_set(err, UVSQL_ENOT_SUPPORTED,
                     "parameter $%d: an ARRAY of %s is not supported on PostgreSQL (elements: "
                     "int64, double, bool, text, bytes, date, time, timestamp, timestamptz, "
                     "uuid, interval)",
                     i + 1, uvsql_type_name((uvsql_type_t)x->u.arr.elem));
    return 0;
  }
  if (x->u.arr.n && !x->u.arr.items) {
    uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT, "parameter $%d: an ARRAY of %u items has none",
                     i + 1, (unsigned)x->u.arr.n);
    return 0;
  }
  for (uint32_t k = 0; k < x->u.arr.n; k++) {
    int64_t sz = elem_size(&x->u.arr.items[k], (uvsql_type_t)x->u.arr.elem);
    if (sz == -2) {
      uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                       "parameter $%d: element %u of an ARRAY of %s is %s: every element must "
                       "be of the array's type, or NULL",
                       i + 1, (unsigned)k, uvsql_type_name((uvsql_type_t)x->u.arr.elem),
                       uvsql_type_name(x->u.arr.items[k].type));
      return 0;
    }
    need += 4 + (sz > 0 ? (size_t)sz : 0);
    if (need > (size_t)INT32_MAX) {
      uvsql__error_set(err, UVSQL_EDATA,
                       "parameter $%d: an ARRAY longer than PostgreSQL "
                       "accepts (1 GB)",
                       i + 1);
      return 0;
    }
  }
  return need;
}

/* One element in binary form at b; returns its length. A date or timestamp out of
 * PostgreSQL's range: -1. */
static int64_t put_elem(char *b, const uvsql_value_t *x) {
  int64_t t;
  switch (x->type) {
  case UVSQL_TYPE_BOOL:
    b[0] = x->u.b ? 1 : 0;
    return 1;
  case UVSQL_TYPE_DOUBLE: {
    uint64_t bits;
    memcpy(&bits, &x->u.f64, 8);
    put_be64(b, bits);
    return 8;
  }
  case UVSQL_TYPE_TEXT:
  case UVSQL_TYPE_BYTES:
    if (x->u.s.len)
      memcpy(b, x->u.s.ptr, x->u.s.len);
    return (int64_t)x->u.s.len;
  case UVSQL_TYPE_DATE:
    if (x->u.i64 == INT64_MAX || x->u.i64 == INT64_MIN) {
      t = x->u.i64 == INT64_MAX ? INT32_MAX : INT32_MIN;
    } else {
      t = x->u.i64 - UVSQL__PG_EPOCH_DAYS;
      if (t <= INT32_MIN || t >= INT32_MAX)
        return -1;
    }
    put_be32(b, (uint32_t)(int32_t)t);
    return 4;
  case UVSQL_TYPE_TIMESTAMP:
  case UVSQL_TYPE_TIMESTAMPTZ:
    t = x->u.i64;
    if (t != INT64_MAX && t != INT64_MIN) {
      if (t < INT64_MIN + UVSQL__PG_EPOCH_US)
        return -1;
      t -= UVSQL__PG_EPOCH_US;
    }
    put_be64(b, (uint64_t)t);
    return 8;
  case UVSQL_TYPE_UUID:
    memcpy(b, x->u.uuid, 16);
    return 16;
  case UVSQL_TYPE_INTERVAL:
    put_be64(b, (uint64_t)x->u.iv.us);
    put_be32(b + 8, (uint32_t)x->u.iv.days);
    put_be32(b + 12, (uint32_t)x->u.iv.months);
    return 16;
  default: /* INT64, TIME */
    put_be64(b, (uint64_t)x->u.i64);
    return 8;
  }
}

/* Writes array x at b (array_size bytes). 0, or -1 for an element out of range. */
static int put_array(char *b, const uvsql_value_t *x) {
  Oid eo = 0;
  int has_null = 0;
  (void)array_oid((uvsql_type_t)x->u.arr.elem, &eo);
  for (uint32_t k = 0; k < x->u.arr.n; k++)
    has_null |= x->u.arr.items[k].type == UVSQL_TYPE_NULL;
  put_be32(b, x->u.arr.n ? 1 : 0);
  put_be32(b + 4, (uint32_t)has_null);
  put_be32(b + 8, eo);
  b += 12;
  if (x->u.arr.n) {
    put_be32(b, x->u.arr.n);
    put_be32(b + 4, 1);
    b += 8;
  }
  for (uint32_t k = 0; k < x->u.arr.n; k++) {
    const uvsql_value_t *e = &x->u.arr.items[k];
    if (e->type == UVSQL_TYPE_NULL) {
      put_be32(b, UINT32_MAX); /* -1 */
      b += 4;
      continue;
    }
    int64_t len = put_elem(b + 4, e);
    if (len < 0)
      return -1;
    put_be32(b, (uint32_t)len);
    b += 4 + len;
  }
  return 0;
}

int uvsql__pg_params_encode(uvsql__pg_params_t *p, const uvsql_value_t *v, int n,
                            uvsql_error_t *err) {
  size_t text = 0, need;
  char *block, *bin, *txt;

  memset(p, 0, offsetof(uvsql__pg_params_t, inl));
  p->n = n;
  if (n <= 0)
    return 0;
  /* text: the room after the fixed part, for text copies, intervals and arrays */
  for (int i = 0; i < n; i++) {
    if (v[i].type == UVSQL_TYPE_TEXT || v[i].type == UVSQL_TYPE_NUMERIC ||
        v[i].type == UVSQL_TYPE_JSON || v[i].type == UVSQL_TYPE_ENUM) {
      text += v[i].u.s.len + 1;
    } else if (v[i].type == UVSQL_TYPE_INTERVAL) {
      text += 16;
    } else if (v[i].type == UVSQL_TYPE_ARRAY) {
      size_t a = array_size(&v[i], i, err);
      if (!a)
        return err->code;
      text += a;
    }
  }
  /* values (pointers) first for alignment, then types, lengths, formats, 8 bytes of binary
   * scratch per value, then the text copies. */
  need = (size_t)n * (sizeof(char *) + sizeof(Oid) + 2 * sizeof(int) + 8) + text;
  if (need <= sizeof p->inl) {
    block = p->inl.bytes;
  } else {
    block = p->heap = malloc(need);
    if (!block)
      return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory encoding %d parameters", n);
  }
  p->values = (const char **)(void *)block;
  p->types = (Oid *)(void *)(block + (size_t)n * sizeof(char *));
  p->lengths = (int *)(void *)(p->types + n);
  p->formats = p->lengths + n;
  bin = (char *)(p->formats + n);
  txt = bin + (size_t)n * 8;

  for (int i = 0; i < n; i++) {
    const uvsql_value_t *x = &v[i];
    char *b = bin + (size_t)i * 8;
    int64_t t;
    p->types[i] = uvsql__pg_oid_of(x->type);
    p->formats[i] = 1;
    p->values[i] = b;
    switch (x->type) {
    case UVSQL_TYPE_NULL:
      p->values[i] = NULL;
      p->lengths[i] = 0;
      p->formats[i] = 0;
      break;
    case UVSQL_TYPE_BOOL:
      b[0] = x->u.b ? 1 : 0;
      p->lengths[i] = 1;
      break;
    case UVSQL_TYPE_INT64:
    case UVSQL_TYPE_TIME:
      put_be64(b, (uint64_t)x->u.i64);
      p->lengths[i] = 8;
      break;
    case UVSQL_TYPE_DOUBLE: {
      uint64_t bits;
      memcpy(&bits, &x->u.f64, 8);
      put_be64(b, bits);
      p->lengths[i] = 8;
      break;
    }
    case UVSQL_TYPE_TEXT:
    case UVSQL_TYPE_NUMERIC:
    case UVSQL_TYPE_JSON:
    case UVSQL_TYPE_ENUM:
      if (x->u.s.len > (size_t)INT32_MAX - 1)
        goto too_long;
      if (x->u.s.len && memchr(x->u.s.ptr, '\0', x->u.s.len)) {
        /* libpq sends text up to its NUL: the rest would be lost without a word */
        uvsql__pg_params_free(p);
        return uvsql__error_set(err, UVSQL_EDATA,
                                "PostgreSQL text cannot hold NUL bytes (parameter $%d): use BYTES",
                                i + 1);
      }
      if (x->u.s.len)
        memcpy(txt, x->u.s.ptr, x->u.s.len);
      txt[x->u.s.len] = '\0';
      p->values[i] = txt;
      p->lengths[i] = (int)x->u.s.len;
      p->formats[i] = 0;
      txt += x->u.s.len + 1;
      break;
    case UVSQL_TYPE_BYTES:
      if (x->u.s.len > (size_t)INT32_MAX)
        goto too_long;
      /* a NULL pointer would mean SQL NULL to libpq */
      p->values[i] = x->u.s.len ? x->u.s.ptr : "";
      p->lengths[i] = (int)x->u.s.len;
      break;
    case UVSQL_TYPE_UUID: /* borrowed from the value, as bytes are */
      p->values[i] = (const char *)x->u.uuid;
      p->lengths[i] = 16;
      break;
    case UVSQL_TYPE_DATE:
      if (x->u.i64 == INT64_MAX || x->u.i64 == INT64_MIN) {
        t = x->u.i64 == INT64_MAX ? INT32_MAX : INT32_MIN;
      } else {
        t = x->u.i64 - UVSQL__PG_EPOCH_DAYS;
        if (t <= INT32_MIN || t >= INT32_MAX) {
          uvsql__pg_params_free(p);
          return uvsql__error_set(err, UVSQL_EDATA,
                                  "parameter $%d: date %" PRId64 " (days since 1970-01-01) is "
                                  "out of PostgreSQL's range",
                                  i + 1, x->u.i64);
        }
      }
      put_be32(b, (uint32_t)(int32_t)t);
      p->lengths[i] = 4;
      break;
    case UVSQL_TYPE_TIMESTAMP:
    case UVSQL_TYPE_TIMESTAMPTZ:
      t = x->u.i64;
      if (t != INT64_MAX && t != INT64_MIN) {
        if (t < INT64_MIN + UVSQL__PG_EPOCH_US) {
          uvsql__pg_params_free(p);
          return uvsql__error_set(err, UVSQL_EDATA,
                                  "parameter $%d: timestamp is out of PostgreSQL's range", i + 1);
        }
        t -= UVSQL__PG_EPOCH_US;
      }
      put_be64(b, (uint64_t)t);
      p->lengths[i] = 8;
      break;
    case UVSQL_TYPE_INTERVAL:
      put_be64(txt, (uint64_t)x->u.iv.us);
      put_be32(txt + 8, (uint32_t)x->u.iv.days);
      put_be32(txt + 12, (uint32_t)x->u.iv.months);
      p->values[i] = txt;
      p->lengths[i] = 16;
      txt += 16;
      break;
    case UVSQL_TYPE_ARRAY: {
      Oid eo = 0;
      size_t a = array_size(x, i, err);
      p->types[i] = array_oid((uvsql_type_t)x->u.arr.elem, &eo);
      if (put_array(txt, x) != 0) {
        uvsql__pg_params_free(p);
        return uvsql__error_set(err, UVSQL_EDATA,
                                "parameter $%d: an ARRAY element (a date or timestamp) is out "
                                "of PostgreSQL's range",
                                i + 1);
      }
      p->values[i] = txt;
      p->lengths[i] = (int)a;
      txt += a;
      break;
    }
    default:
      uvsql__pg_params_free(p);
      return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                              "parameter $%d has an unknown type %d: build values with the "
                              "UVSQL_V_* macros (value.h)",
                              i + 1, (int)x->type);
    }
  }
  return 0;

too_long:
  uvsql__pg_params_free(p);
  return uvsql__error_set(err, UVSQL_EDATA, "a parameter is longer than PostgreSQL accepts (1 GB)");
}

void uvsql__pg_params_free(uvsql__pg_params_t *p) {
  free(p->heap);
  p->heap = NULL;
}
