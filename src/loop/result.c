/* src/loop/result.c — uvsql_result_t: the rows a driver produced, and the typed getters.
 * The builder API (for drivers) is declared in result.h.
 *
 * Layout: ncols column descriptors, then nrows*ncols cells, row-major, in one growable array.
 * Text and bytes in cells point into the result's chunks (a few bytes inside the result's own
 * allocation, then chunks doubling up to 4 MB) or into a backing object (a PGresult) freed with
 * the result. Cells and chunks past 1 MB are big blocks (bigblock.c): huge pages, and memory
 * that an earlier large result already faulted in. Invariants: a TEXT cell is NUL-terminated at
 * ptr[len]; the result is immutable once handed to the engine except for last_error, which getters
 * write.
 *
 * The getters run once per cell of every result an application reads, so each has a fast path
 * (cell in range, of the type asked for) that touches nothing else; every other case (NULL,
 * out of range, a conversion, a mismatch) goes through the common slow path, which alone
 * writes last_error. Both paths give the same value for the same cell.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "result.h"

typedef struct {
  char *name;
  uvsql_type_t type;
} column_t;

/* A chunk of text and bytes: this header, then the bytes. Chunks grow from CHUNK_FIRST to
 * CHUNK_MAX bytes, doubling, so a large result takes a few dozen, not one per 4 KB; past
 * BIG_MIN they are big blocks (bigblock.c). */
typedef struct chunk_s {
  struct chunk_s *next;
  size_t size; /* of the allocation, this header included */
  int big;
} chunk_t;

#define CHUNK_HDR    ((sizeof(chunk_t) + 7) & ~(size_t)7)
#define CHUNK_FIRST  ((size_t)4096)
#define CHUNK_MAX    ((size_t)4 << 20)
#define BIG_MIN      ((size_t)1 << 20)
#define INLINE_BYTES ((size_t)256) /* in the result's own allocation: names, a short row */

struct uvsql_result_s {
  size_t ncols, nrows, cap_rows;
  int64_t rows_affected;
  column_t *cols;
  uvsql_value_t *cells;
  size_t cells_big;             /* bytes of the big block holding cells; 0: malloc'd */
  unsigned char *str, *str_end; /* the free bytes of the current chunk */
  chunk_t *chunks;              /* the chunks, newest first (not the inline bytes) */
  size_t next_chunk;            /* the size of the next chunk */
  void *backing;
  void (*backing_free)(void *);
  char last_error[256];
};

/* The column descriptors and INLINE_BYTES of text live in the same allocation, right after
 * the struct: one malloc and one free per result, which counts for the one-row results of key
 * lookups. */
uvsql_result_t *uvsql__result_new(size_t ncols) {
  if (ncols > (SIZE_MAX - sizeof(uvsql_result_t) - INLINE_BYTES) / sizeof(column_t))
    return NULL;
  size_t head = sizeof(uvsql_result_t) + ncols * sizeof(column_t);
  head = (head + 7) & ~(size_t)7;
  uvsql_result_t *r = malloc(head + INLINE_BYTES);
  if (!r)
    return NULL;
  /* Not calloc: the inline bytes and last_error past its NUL need no zeroing. */
  memset(r, 0, offsetof(uvsql_result_t, last_error) + 1);
  if (ncols)
    memset(r + 1, 0, ncols * sizeof(column_t));
  r->ncols = ncols;
  r->rows_affected = -1;
  r->cols = ncols ? (column_t *)(r + 1) : NULL;
  r->str = (unsigned char *)r + head;
  r->str_end = r->str + INLINE_BYTES;
  r->next_chunk = CHUNK_FIRST;
  return r;
}

void uvsql_result_free(uvsql_result_t *r) {
  if (!r)
    return;
  if (r->backing && r->backing_free)
    r->backing_free(r->backing);
  for (chunk_t *c = r->chunks, *next; c; c = next) {
    next = c->next;
    if (c->big)
      uvsql__big_put(c, c->size);
    else
      free(c);
  }
  if (r->cells_big)
    uvsql__big_put(r->cells, r->cells_big);
  else
    free(r->cells);
  free(r);
}

/* A new current chunk with room for size bytes; 0 or -1 (out of memory). What was left in the
 * previous one is not used again. */
static int new_chunk(uvsql_result_t *r, size_t size) {
  size_t want = r->next_chunk, got = 0;
  if (size > SIZE_MAX - CHUNK_HDR)
    return -1;
  if (want < size + CHUNK_HDR)
    want = size + CHUNK_HDR;
  int big = want >= BIG_MIN;
  chunk_t *c = big ? uvsql__big_get(want, &got) : malloc(want);
  if (!c)
    return -1;
  c->size = big ? got : want;
  c->big = big;
  c->next = r->chunks;
  r->chunks = c;
  r->str = (unsigned char *)c + CHUNK_HDR;
  r->str_end = (unsigned char *)c + c->size;
  if (r->next_chunk < CHUNK_MAX)
    r->next_chunk *= 2;
  return 0;
}

/* size bytes, 8-byte aligned, freed with r. */
static void *res_alloc(uvsql_result_t *r, size_t size) {
  if (size > SIZE_MAX - 7)
    return NULL;
  size = (size + 7) & ~(size_t)7;
  if ((size_t)(r->str_end - r->str) < size && new_chunk(r, size) != 0)
    return NULL;
  void *p = r->str;
  r->str += size;
  return p;
}

static char *res_strndup(uvsql_result_t *r, const char *s, size_t len) {
  if (len == SIZE_MAX)
    return NULL;
  char *p = res_alloc(r, len + 1);
  if (!p)
    return NULL;
  if (len)
    memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

int uvsql__result_set_column(uvsql_result_t *r, size_t col, const char *name, uvsql_type_t type) {
  if (col >= r->ncols)
    return UVSQL_EINVALID_ARGUMENT;
  r->cols[col].name = res_strndup(r, name ? name : "", name ? strlen(name) : 0);
  if (!r->cols[col].name)
    return UVSQL_ENOMEM;
  r->cols[col].type = type;
  return 0;
}

/* Cells past BIG_MIN bytes are a big block (bigblock.c): huge pages, grown in place, and
 * memory a previous large result already faulted in. Below it, plain realloc. */
int uvsql__result_reserve(uvsql_result_t *r, size_t nrows) {
  if (nrows <= r->cap_rows || r->ncols == 0)
    return 0;
  if (nrows > SIZE_MAX / r->ncols / sizeof(uvsql_value_t))
    return UVSQL_ENOMEM;
  size_t row_bytes = r->ncols * sizeof(uvsql_value_t);
  size_t bytes = nrows * row_bytes, used = r->nrows * row_bytes;
  if (r->cells_big || bytes >= BIG_MIN) {
    size_t got = 0;
    void *p;
    if (r->cells_big) {
      p = uvsql__big_grow(r->cells, r->cells_big, used, bytes, &got);
    } else {
      p = uvsql__big_get(bytes, &got);
      if (p && used)
        memcpy(p, r->cells, used);
      if (p)
        free(r->cells);
    }
    if (!p)
      return UVSQL_ENOMEM;
    r->cells = p;
    r->cells_big = got;
    r->cap_rows = got / row_bytes;
    return 0;
  }
  uvsql_value_t *cells = realloc(r->cells, bytes);
  if (!cells)
    return UVSQL_ENOMEM;
  r->cells = cells;
  r->cap_rows = nrows;
  return 0;
}

uvsql_value_t *uvsql__result_add_row(uvsql_result_t *r) {
  if (r->ncols == 0)
    return NULL;
  if (r->nrows == r->cap_rows && uvsql__result_reserve(r, r->cap_rows ? r->cap_rows * 2 : 16) != 0)
    return NULL;
  uvsql_value_t *row = r->cells + r->nrows * r->ncols;
  memset(row, 0, r->ncols * sizeof *row); /* all UVSQL_TYPE_NULL */
  r->nrows++;
  return row;
}

uvsql_value_t *uvsql__result_add_rows(uvsql_result_t *r, size_t n) {
  if (r->ncols == 0 || n == 0)
    return NULL;
  if (n > SIZE_MAX - r->nrows)
    return NULL;
  if (r->nrows + n > r->cap_rows && uvsql__result_reserve(r, r->nrows + n) != 0)
    return NULL;
  uvsql_value_t *first = r->cells + r->nrows * r->ncols;
  r->nrows += n;
  return first;
}

void *uvsql__result_alloc(uvsql_result_t *r, size_t size) {
  return res_alloc(r, size);
}

char *uvsql__result_strndup(uvsql_result_t *r, const char *s, size_t len) {
  return res_strndup(r, s, len);
}

void uvsql__result_set_backing(uvsql_result_t *r, void *backing, void (*free_fn)(void *)) {
  r->backing = backing;
  r->backing_free = free_fn;
}

void uvsql__result_set_rows_affected(uvsql_result_t *r, int64_t n) {
  r->rows_affected = n;
}

/* ------------------------------------------------------------------ public getters */

size_t uvsql_result_nrows(const uvsql_result_t *r) {
  return r ? r->nrows : 0;
}

size_t uvsql_result_ncols(const uvsql_result_t *r) {
  return r ? r->ncols : 0;
}

int64_t uvsql_result_rows_affected(const uvsql_result_t *r) {
  return r ? r->rows_affected : -1;
}

const char *uvsql_result_colname(const uvsql_result_t *r, size_t col) {
  return r && col < r->ncols ? r->cols[col].name : NULL;
}

long uvsql_result_colindex(const uvsql_result_t *r, const char *name) {
  for (size_t i = 0; r && name && i < r->ncols; i++)
    if (strcmp(r->cols[i].name, name) == 0)
      return (long)i;
  return -1;
}

uvsql_type_t uvsql_result_coltype(const uvsql_result_t *r, size_t col) {
  return r && col < r->ncols ? r->cols[col].type : UVSQL_TYPE_NULL;
}

const uvsql_value_t *uvsql_result_value(const uvsql_result_t *r, size_t row, size_t col) {
  if (!r || row >= r->nrows || col >= r->ncols)
    return NULL;
  return &r->cells[row * r->ncols + col];
}

const uvsql_value_t *uvsql__result_row(const uvsql_result_t *r, size_t row) {
  return r && row < r->nrows ? &r->cells[row * r->ncols] : NULL;
}

int uvsql_result_is_null(const uvsql_result_t *r, size_t row, size_t col) {
  const uvsql_value_t *v = uvsql_result_value(r, row, col);
  return !v || v->type == UVSQL_TYPE_NULL;
}

const char *uvsql_result_last_error(const uvsql_result_t *r) {
  return r ? r->last_error : "";
}

/* Finds the cell for a getter, or writes last_error and returns the code. */
static int cell(const uvsql_result_t *r, size_t row, size_t col, const uvsql_value_t **out) {
  uvsql_result_t *w = (uvsql_result_t *)r; /* last_error is the getters' scratch space */
  if (!r)
    return UVSQL_EINVALID_ARGUMENT;
  if (row >= r->nrows || col >= r->ncols) {
    snprintf(w->last_error, sizeof w->last_error,
             "cell (%zu, %zu) is out of range: the result has %zu rows and %zu columns", row, col,
             r->nrows, r->ncols);
    return UVSQL_EINVALID_ARGUMENT;
  }
  const uvsql_value_t *v = &r->cells[row * r->ncols + col];
  if (v->type == UVSQL_TYPE_NULL) {
    snprintf(w->last_error, sizeof w->last_error,
             "column \"%s\" is NULL in row %zu: check uvsql_result_is_null first",
             r->cols[col].name, row);
    return UVSQL_EDATA;
  }
  *out = v;
  return 0;
}

static int not_decimal(const uvsql_result_t *r, size_t col, const uvsql_value_t *v) {
  uvsql_result_t *w = (uvsql_result_t *)r;
  snprintf(w->last_error, sizeof w->last_error,
           "column \"%s\" holds %s \"%.60s\", which is not a decimal number (or has more than 38 "
           "digits)",
           r->cols[col].name, uvsql_type_name(v->type), v->u.s.ptr);
  return UVSQL_EDATA;
}

static int mismatch(const uvsql_result_t *r, size_t col, const uvsql_value_t *v,
                    const char *wanted) {
  uvsql_result_t *w = (uvsql_result_t *)r;
  snprintf(w->last_error, sizeof w->last_error,
           "column \"%s\" holds %s, which cannot be read as %s", r->cols[col].name,
           uvsql_type_name(v->type), wanted);
  return UVSQL_ETYPE;
}

/* An exact NUMERIC as int64: integral and in range, else UVSQL_EDATA naming column and value. */
static int numeric_int64(const uvsql_result_t *r, size_t col, const uvsql_value_t *v,
                         int64_t *out) {
  uvsql_numeric_t n;
  if (uvsql_numeric_parse(v->u.s.ptr, v->u.s.len, &n) == 0 && uvsql_numeric_to_int64(&n, out) == 0)
    return 0;
  uvsql_result_t *w = (uvsql_result_t *)r;
  snprintf(w->last_error, sizeof w->last_error,
           "column \"%s\" holds numeric %.60s, which is not an integer in int64's range: read it "
           "with uvsql_result_numeric (exact) or uvsql_result_double (rounded)",
           r->cols[col].name, v->u.s.ptr);
  return UVSQL_EDATA;
}

/* For the getters of the other kinds (result_kinds.c): cell() and mismatch() above, and a
 * message of their own into last_error. */
int uvsql__result_cell(const uvsql_result_t *r, size_t row, size_t col, const uvsql_value_t **out) {
  return cell(r, row, col, out);
}
int uvsql__result_mismatch(const uvsql_result_t *r, size_t col, const uvsql_value_t *v,
                           const char *wanted) {
  return mismatch(r, col, v, wanted);
}
int uvsql__result_fail(const uvsql_result_t *r, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(((uvsql_result_t *)r)->last_error, sizeof r->last_error, fmt, ap);
  va_end(ap);
  return code;
}

/* The slow paths stay out of line, so that the fast paths need no stack frame. */
#if defined(__GNUC__)
#define SLOW_PATH __attribute__((noinline, cold))
#else
#define SLOW_PATH
#endif

/* A getter's fast path: the cell at (row, col) if it is in range and of type t1 or t2. */
#define FAST_CELL(r, row, col, t1, t2, v)                                                          \
  ((r) && (row) < (r)->nrows && (col) < (r)->ncols &&                                              \
   ((v) = &(r)->cells[(row) * (r)->ncols + (col)], (v)->type == (t1) || (v)->type == (t2)))

SLOW_PATH static int int64_slow(const uvsql_result_t *r, size_t row, size_t col, int64_t *out) {
  const uvsql_value_t *v;
  int rc = cell(r, row, col, &v);
  if (rc)
    return rc;
  if (v->type == UVSQL_TYPE_INT64)
    *out = v->u.i64;
  else if (v->type == UVSQL_TYPE_BOOL)
    *out = v->u.b;
  else if (v->type == UVSQL_TYPE_NUMERIC)
    return numeric_int64(r, col, v, out);
  else
    return mismatch(r, col, v, "int64");
  return 0;
}

int uvsql_result_int64(const uvsql_result_t *r, size_t row, size_t col, int64_t *out) {
  const uvsql_value_t *v;
  if (FAST_CELL(r, row, col, UVSQL_TYPE_INT64, UVSQL_TYPE_INT64, v)) {
    *out = v->u.i64;
    return 0;
  }
  return int64_slow(r, row, col, out);
}

SLOW_PATH static int double_slow(const uvsql_result_t *r, size_t row, size_t col, double *out) {
  const uvsql_value_t *v;
  int rc = cell(r, row, col, &v);
  if (rc)
    return rc;
  if (v->type == UVSQL_TYPE_DOUBLE)
    *out = v->u.f64;
  else if (v->type == UVSQL_TYPE_INT64)
    *out = (double)v->u.i64;
  else if (v->type == UVSQL_TYPE_NUMERIC) {
    uvsql_numeric_t n;
    if (uvsql_numeric_parse(v->u.s.ptr, v->u.s.len, &n) != 0)
      return not_decimal(r, col, v);
    *out = uvsql_numeric_to_double(&n); /* rounds: documented in engine.h */
  } else
    return mismatch(r, col, v, "double");
  return 0;
}

int uvsql_result_double(const uvsql_result_t *r, size_t row, size_t col, double *out) {
  const uvsql_value_t *v;
  if (FAST_CELL(r, row, col, UVSQL_TYPE_DOUBLE, UVSQL_TYPE_DOUBLE, v)) {
    *out = v->u.f64;
    return 0;
  }
  return double_slow(r, row, col, out);
}

SLOW_PATH static int bool_slow(const uvsql_result_t *r, size_t row, size_t col, int *out) {
  const uvsql_value_t *v;
  int rc = cell(r, row, col, &v);
  if (rc)
    return rc;
  if (v->type == UVSQL_TYPE_BOOL)
    *out = v->u.b;
  else if (v->type == UVSQL_TYPE_INT64 && (v->u.i64 == 0 || v->u.i64 == 1))
    *out = (int)v->u.i64;
  else
    return mismatch(r, col, v, "bool");
  return 0;
}

int uvsql_result_bool(const uvsql_result_t *r, size_t row, size_t col, int *out) {
  const uvsql_value_t *v;
  if (FAST_CELL(r, row, col, UVSQL_TYPE_BOOL, UVSQL_TYPE_BOOL, v)) {
    *out = v->u.b;
    return 0;
  }
  return bool_slow(r, row, col, out);
}

/* A NUMERIC cell reads as its exact text. A UUID cell reads as its canonical text, formatted into
 * the result's chunks at each call (37 bytes, freed with the result): the text form programs read
 * before uuids had a type. */
SLOW_PATH static int text_slow(const uvsql_result_t *r, size_t row, size_t col, const char **out,
                               size_t *len) {
  const uvsql_value_t *v;
  int rc = cell(r, row, col, &v);
  if (rc)
    return rc;
  if (v->type == UVSQL_TYPE_NUMERIC) { /* its exact text */
    *out = v->u.s.ptr;
    if (len)
      *len = v->u.s.len;
    return 0;
  }
  if (v->type != UVSQL_TYPE_UUID)
    return mismatch(r, col, v, "text");
  char *buf = res_alloc((uvsql_result_t *)r, 37);
  if (!buf)
    return UVSQL_ENOMEM;
  size_t n = uvsql_uuid_format((const uvsql_uuid_t *)(const void *)v->u.uuid, buf);
  *out = buf;
  if (len)
    *len = n;
  return 0;
}

int uvsql_result_text(const uvsql_result_t *r, size_t row, size_t col, const char **out,
                      size_t *len) {
  const uvsql_value_t *v = NULL; /* set by FAST_CELL when the cell is in range */
  /* TEXT, JSON and NUMERIC (its exact text) are read as they are */
  if (!FAST_CELL(r, row, col, UVSQL_TYPE_TEXT, UVSQL_TYPE_JSON, v) &&
      !(v && v->type == UVSQL_TYPE_NUMERIC))
    return text_slow(r, row, col, out, len);
  *out = v->u.s.ptr;
  if (len)
    *len = v->u.s.len;
  return 0;
}

int uvsql_result_numeric(const uvsql_result_t *r, size_t row, size_t col, uvsql_numeric_t *out) {
  const uvsql_value_t *v;
  int rc = cell(r, row, col, &v);
  if (rc)
    return rc;
  uvsql_numeric_t n;
  if (v->type == UVSQL_TYPE_INT64) {
    *out = uvsql_numeric_from_int64(v->u.i64);
    return 0;
  }
  if (v->type == UVSQL_TYPE_NUMERIC || v->type == UVSQL_TYPE_TEXT) {
    if (uvsql_numeric_parse(v->u.s.ptr, v->u.s.len, &n) != 0)
      return not_decimal(r, col, v);
    *out = n;
    return 0;
  }
  if (v->type == UVSQL_TYPE_DOUBLE) {
    uvsql_result_t *w = (uvsql_result_t *)r;
    snprintf(w->last_error, sizeof w->last_error,
             "column \"%s\" holds double %.17g, which is not exact: read it with "
             "uvsql_result_double, or keep exact decimals in a NUMERIC column (on SQLite, one "
             "that Core creates: NUMERIC(p, s) is stored as text there)",
             r->cols[col].name, v->u.f64);
    return UVSQL_ETYPE;
  }
  return mismatch(r, col, v, "numeric");
}

int uvsql_result_bytes(const uvsql_result_t *r, size_t row, size_t col, const void **out,
                       size_t *len) {
  const uvsql_value_t *v;
  int rc = cell(r, row, col, &v);
  if (rc)
    return rc;
  if (v->type == UVSQL_TYPE_UUID) { /* its 16 bytes, in the cell */
    *out = v->u.uuid;
    if (len)
      *len = 16;
    return 0;
  }
  if (v->type != UVSQL_TYPE_BYTES && v->type != UVSQL_TYPE_TEXT)
    return mismatch(r, col, v, "bytes");
  *out = v->u.s.ptr;
  if (len)
    *len = v->u.s.len;
  return 0;
}

int uvsql_result_uuid(const uvsql_result_t *r, size_t row, size_t col, uvsql_uuid_t *out) {
  const uvsql_value_t *v;
  int rc = cell(r, row, col, &v);
  if (rc)
    return rc;
  switch (v->type) {
  case UVSQL_TYPE_UUID:
    memcpy(out->b, v->u.uuid, 16);
    return 0;
  case UVSQL_TYPE_BYTES:
    if (v->u.s.len == 16) {
      memcpy(out->b, v->u.s.ptr, 16);
      return 0;
    }
    snprintf(((uvsql_result_t *)r)->last_error, sizeof r->last_error,
             "column \"%s\" holds %zu bytes, which is not a UUID (16 bytes)", r->cols[col].name,
             v->u.s.len);
    return UVSQL_EDATA;
  case UVSQL_TYPE_TEXT:
    if (uvsql_uuid_parse(v->u.s.ptr, v->u.s.len, out) == 0)
      return 0;
    snprintf(((uvsql_result_t *)r)->last_error, sizeof r->last_error,
             "column \"%s\" holds text \"%.60s\", which is not a UUID (8-4-4-4-12 hex digits, "
             "or 32 without hyphens)",
             r->cols[col].name, v->u.s.ptr);
    return UVSQL_EDATA;
  default:
    return mismatch(r, col, v, "uuid");
  }
}

SLOW_PATH static int temporal(const uvsql_result_t *r, size_t row, size_t col, uvsql_type_t want,
                              int64_t *out) {
  const uvsql_value_t *v;
  int rc = cell(r, row, col, &v);
  if (rc)
    return rc;
  int ok_type =
      v->type == want || (want == UVSQL_TYPE_TIMESTAMP && v->type == UVSQL_TYPE_TIMESTAMPTZ);
  if (ok_type) {
    *out = v->u.i64;
    return 0;
  }
  if (v->type == UVSQL_TYPE_TEXT) {
    int64_t x;
    /* SQLite keeps times as text; a timestamp column may carry an offset. */
    if (uvsql_parse_temporal(want, v->u.s.ptr, v->u.s.len, &x) == 0 ||
        (want == UVSQL_TYPE_TIMESTAMP &&
         uvsql_parse_temporal(UVSQL_TYPE_TIMESTAMPTZ, v->u.s.ptr, v->u.s.len, &x) == 0)) {
      *out = x;
      return 0;
    }
    uvsql_result_t *w = (uvsql_result_t *)r;
    snprintf(w->last_error, sizeof w->last_error,
             "column \"%s\" holds text \"%.60s\", which is not an ISO 8601 %s", r->cols[col].name,
             v->u.s.ptr, uvsql_type_name(want));
    return UVSQL_ETYPE;
  }
  return mismatch(r, col, v, uvsql_type_name(want));
}

int uvsql_result_date(const uvsql_result_t *r, size_t row, size_t col, int64_t *days) {
  return temporal(r, row, col, UVSQL_TYPE_DATE, days);
}

int uvsql_result_time(const uvsql_result_t *r, size_t row, size_t col, int64_t *us) {
  return temporal(r, row, col, UVSQL_TYPE_TIME, us);
}

/* SQLite keeps timestamps as text, so reading one parses it for every cell. Text in exactly
 * the form uvsql writes and SQLite's strftime gives, "YYYY-MM-DD HH:MM:SS" with an optional
 * ".f" of 1 to 6 digits, is read here with the same checks as uvsql_parse_temporal (years
 * 1..9999, the month's days, 00:00:00..23:59:59) and the same value; anything else (and any
 * check that fails) is left to uvsql_parse_temporal, so errors and other forms are its. */
static int canonical_timestamp(const char *s, size_t len, int64_t *us) {
  static const unsigned char mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int64_t frac = 0;
  if (len < 19 || len == 20 || len > 26 || s[4] != '-' || s[7] != '-' || s[10] != ' ' ||
      s[13] != ':' || s[16] != ':')
    return -1;
#define DIGIT(i) ((unsigned)(unsigned char)s[i] - '0')
  unsigned d[14] = {DIGIT(0), DIGIT(1),  DIGIT(2),  DIGIT(3),  DIGIT(5),  DIGIT(6),  DIGIT(8),
                    DIGIT(9), DIGIT(11), DIGIT(12), DIGIT(14), DIGIT(15), DIGIT(17), DIGIT(18)};
#undef DIGIT
  if ((d[0] > 9) | (d[1] > 9) | (d[2] > 9) | (d[3] > 9) | (d[4] > 9) | (d[5] > 9) | (d[6] > 9) |
      (d[7] > 9) | (d[8] > 9) | (d[9] > 9) | (d[10] > 9) | (d[11] > 9) | (d[12] > 9) | (d[13] > 9))
    return -1;
  if (len > 19) {
    if (s[19] != '.')
      return -1;
    size_t i = 20;
    for (; i < len; i++) {
      unsigned x = (unsigned)(unsigned char)s[i] - '0';
      if (x > 9)
        return -1;
      frac = frac * 10 + x;
    }
    for (; i < 26; i++)
      frac *= 10;
  }
  int y = (int)(d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3]), m = (int)(d[4] * 10 + d[5]),
      day = (int)(d[6] * 10 + d[7]), h = (int)(d[8] * 10 + d[9]), mi = (int)(d[10] * 10 + d[11]),
      se = (int)(d[12] * 10 + d[13]);
  if (y < 1 || m < 1 || m > 12 || day < 1 || h > 23 || mi > 59 || se > 59)
    return -1;
  if (day > mdays[m - 1] + (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
    return -1;
  *us = uvsql_days_from_civil(y, m, day) * INT64_C(86400000000) +
        ((int64_t)h * 3600 + mi * 60 + se) * INT64_C(1000000) + frac;
  return 0;
}

int uvsql_result_timestamp(const uvsql_result_t *r, size_t row, size_t col, int64_t *us) {
  const uvsql_value_t *v = NULL;
  if (FAST_CELL(r, row, col, UVSQL_TYPE_TIMESTAMP, UVSQL_TYPE_TIMESTAMPTZ, v)) {
    *us = v->u.i64;
    return 0;
  }
  if (v && v->type == UVSQL_TYPE_TEXT && canonical_timestamp(v->u.s.ptr, v->u.s.len, us) == 0)
    return 0;
  return temporal(r, row, col, UVSQL_TYPE_TIMESTAMP, us);
}
