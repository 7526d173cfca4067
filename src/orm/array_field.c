/* src/orm/array_field.c — ARRAY(e) fields (uvsql_array_t, PostgreSQL arrays): the element
 * kinds a field may have, deep copies of an array into one block, comparison for dirty
 * tracking, loading from a result cell, and uvsql_orm_set_array. object.c calls these from its
 * per-kind switches; the rest of the ORM sees an ARRAY field as one of the object's "blobs"
 * (out-of-line data owned by the object, copied into snapshots).
 *
 * Invariants:
 *  1. An array's block is `n` values followed by the bytes of its TEXT/BYTES elements, each
 *     NUL-terminated, the block aligned for uvsql_value_t; array_bytes() is its exact size and
 *     copy_to() fills exactly that many bytes. Elements of other types own nothing.
 *  2. items == NULL is SQL NULL; an empty array has a (1-byte or larger) block and n == 0.
 *  3. Two arrays are equal when they have the same length and every element is equal: both
 *     NULL, or the same type and value (text and bytes by content, doubles by value or bits).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

uvsql_type_t uvsql__array_elem_type(const uvsql_field_t *f) {
  switch ((uvsql_field_kind_t)f->length) {
  case UVSQL_FIELD_INT64:
    return UVSQL_TYPE_INT64;
  case UVSQL_FIELD_DOUBLE:
    return UVSQL_TYPE_DOUBLE;
  case UVSQL_FIELD_BOOL:
    return UVSQL_TYPE_BOOL;
  case UVSQL_FIELD_TEXT:
    return UVSQL_TYPE_TEXT;
  case UVSQL_FIELD_BYTES:
    return UVSQL_TYPE_BYTES;
  case UVSQL_FIELD_DATE:
    return UVSQL_TYPE_DATE;
  case UVSQL_FIELD_TIME:
    return UVSQL_TYPE_TIME;
  case UVSQL_FIELD_TIMESTAMP:
    return UVSQL_TYPE_TIMESTAMP;
  case UVSQL_FIELD_TIMESTAMPTZ:
    return UVSQL_TYPE_TIMESTAMPTZ;
  case UVSQL_FIELD_UUID:
    return UVSQL_TYPE_UUID;
  case UVSQL_FIELD_INTERVAL:
    return UVSQL_TYPE_INTERVAL;
  default:
    return UVSQL_TYPE_NULL;
  }
}

uvsql_sqltype_t uvsql__array_sqltype(const uvsql_field_t *f) {
  static const uvsql_sqltype_kind_t of[] = {
      [UVSQL_TYPE_INT64] = UVSQL_SQLT_BIGINT,
      [UVSQL_TYPE_DOUBLE] = UVSQL_SQLT_DOUBLE,
      [UVSQL_TYPE_BOOL] = UVSQL_SQLT_BOOLEAN,
      [UVSQL_TYPE_TEXT] = UVSQL_SQLT_TEXT,
      [UVSQL_TYPE_BYTES] = UVSQL_SQLT_BINARY,
      [UVSQL_TYPE_DATE] = UVSQL_SQLT_DATE,
      [UVSQL_TYPE_TIME] = UVSQL_SQLT_TIME,
      [UVSQL_TYPE_TIMESTAMP] = UVSQL_SQLT_TIMESTAMP,
      [UVSQL_TYPE_TIMESTAMPTZ] = UVSQL_SQLT_TIMESTAMPTZ,
      [UVSQL_TYPE_UUID] = UVSQL_SQLT_UUID,
      [UVSQL_TYPE_INTERVAL] = UVSQL_SQLT_INTERVAL,
  };
  uvsql_type_t t = uvsql__array_elem_type(f);
  uvsql_sqltype_t st = UVSQL_SQL_ARRAY(TEXT);
  st.element = t == UVSQL_TYPE_NULL ? 0 : (int)of[t]; /* 0: refused by uvsql__array_check */
  return st;
}

int uvsql__array_check(const uvsql_model_t *md, const uvsql_field_t *f, uvsql_error_t *err) {
  if (uvsql__array_elem_type(f) != UVSQL_TYPE_NULL)
    return 0;
  uvsql_field_t elem = *f;
  elem.kind = (uvsql_field_kind_t)f->length;
  elem.length = 0;
  char kind[32];
  return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                          "%s.%s: an ARRAY field's elements are INT64, DOUBLE, BOOL, TEXT, BYTES, "
                          "DATE, TIME, TIMESTAMP, TIMESTAMPTZ, UUID or INTERVAL, not %s",
                          md->type_name, f->name, uvsql__field_kind_name(&elem, kind, sizeof kind));
}

const char *uvsql__array_kind_name(const uvsql_field_t *f, char *buf, size_t len) {
  uvsql_type_t t = uvsql__array_elem_type(f);
  char up[24];
  const char *name = t == UVSQL_TYPE_NULL ? "?" : uvsql_type_name(t);
  size_t k = 0;
  for (; name[k] && k + 1 < sizeof up; k++)
    up[k] = (char)(name[k] >= 'a' && name[k] <= 'z' ? name[k] - 'a' + 'A' : name[k]);
  up[k] = '\0';
  snprintf(buf, len, "ARRAY(%s)", up);
  return buf;
}

static int has_bytes(uvsql_type_t t) {
  return t == UVSQL_TYPE_TEXT || t == UVSQL_TYPE_BYTES;
}

size_t uvsql__array_bytes(const uvsql_value_t *items, size_t n) {
  size_t size = n * sizeof(uvsql_value_t);
  for (size_t k = 0; k < n; k++)
    if (has_bytes(items[k].type))
      size += items[k].u.s.len + 1;
  return size;
}

uvsql_array_t uvsql__array_copy_to(const uvsql_value_t *items, size_t n, void *dst) {
  uvsql_value_t *out = dst;
  char *tail = (char *)dst + n * sizeof(uvsql_value_t);
  for (size_t k = 0; k < n; k++) {
    out[k] = items[k];
    if (!has_bytes(items[k].type))
      continue;
    size_t len = items[k].u.s.len;
    if (len)
      memcpy(tail, items[k].u.s.ptr, len);
    tail[len] = '\0';
    out[k].u.s.ptr = tail;
    tail += len + 1;
  }
  uvsql_array_t a = {out, n};
  return a;
}

int uvsql__array_dup(const uvsql_value_t *items, size_t n, uvsql_array_t *out) {
  size_t size = uvsql__array_bytes(items, n);
  void *block = malloc(size ? size : 1);
  if (!block)
    return UVSQL_ENOMEM;
  *out = uvsql__array_copy_to(items, n, block);
  return 0;
}

static int elem_differs(const uvsql_value_t *x, const uvsql_value_t *y) {
  if (x->type != y->type)
    return 1;
  switch (x->type) {
  case UVSQL_TYPE_NULL:
    return 0;
  case UVSQL_TYPE_BOOL:
    return !x->u.b != !y->u.b;
  case UVSQL_TYPE_DOUBLE: /* the same bits are the same value (a NaN stays unchanged) */
    return !(x->u.f64 == y->u.f64) && memcmp(&x->u.f64, &y->u.f64, sizeof(double)) != 0;
  case UVSQL_TYPE_TEXT:
  case UVSQL_TYPE_BYTES:
    return x->u.s.len != y->u.s.len ||
           (x->u.s.len && memcmp(x->u.s.ptr, y->u.s.ptr, x->u.s.len) != 0);
  case UVSQL_TYPE_UUID:
    return memcmp(x->u.uuid, y->u.uuid, 16) != 0;
  case UVSQL_TYPE_INTERVAL:
    return x->u.iv.months != y->u.iv.months || x->u.iv.days != y->u.iv.days ||
           x->u.iv.us != y->u.iv.us;
  default:
    return x->u.i64 != y->u.i64;
  }
}

int uvsql__array_differs(const uvsql_value_t *a, size_t na, const uvsql_value_t *b, size_t nb) {
  if (na != nb)
    return 1;
  for (size_t k = 0; k < na; k++)
    if (elem_differs(&a[k], &b[k]))
      return 1;
  return 0;
}

/* The first element of items[0..n) that an array of `elem` cannot hold (n when none). A
 * TIMESTAMP element in a TIMESTAMPTZ array (or the reverse) counts as fitting when `retag`:
 * the copy's element is given the array's type (loading: the server says which it sent). */
static size_t first_misfit(const uvsql_value_t *items, size_t n, uvsql_type_t elem, int retag) {
  for (size_t k = 0; k < n; k++) {
    uvsql_type_t t = items[k].type;
    if (t == UVSQL_TYPE_NULL || t == elem)
      continue;
    if (retag && (t == UVSQL_TYPE_TIMESTAMP || t == UVSQL_TYPE_TIMESTAMPTZ) &&
        (elem == UVSQL_TYPE_TIMESTAMP || elem == UVSQL_TYPE_TIMESTAMPTZ))
      continue;
    return k;
  }
  return n;
}

int uvsql__array_load(const uvsql_mapper_t *m, size_t i, uvsql_array_t *field,
                      const uvsql_result_t *r, size_t row, size_t col, uvsql_error_t *err) {
  const uvsql_field_t *f = &m->model->fields[i];
  const uvsql_value_t *items;
  size_t n;
  int rc = uvsql_result_array(r, row, col, &items, &n);
  if (rc)
    return rc; /* not an array: the caller's mismatch message */
  uvsql_type_t elem = uvsql__array_elem_type(f);
  size_t bad = first_misfit(items, n, elem, 1);
  if (bad < n) {
    const char *colname = uvsql_result_colname(r, col);
    char kind[32];
    return uvsql__error_set(err, UVSQL_EDATA,
                            "cannot load column \"%s\" (an array) into field %s.%s of kind %s: "
                            "element %zu is %s; declare the field as an ARRAY of that kind, or "
                            "convert the column in the query (CAST)",
                            colname ? colname : f->name, m->model->type_name, f->name,
                            uvsql__array_kind_name(f, kind, sizeof kind), bad,
                            uvsql_type_name(items[bad].type));
  }
  if (uvsql__array_dup(items, n, field) != 0)
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory loading %s", f->name);
  for (size_t k = 0; k < n; k++)
    if (field->items[k].type != UVSQL_TYPE_NULL)
      field->items[k].type = elem;
  return 0;
}

int uvsql__array_set_value(const uvsql_field_t *f, uvsql_array_t *field, const uvsql_value_t *v) {
  if (v->type != UVSQL_TYPE_ARRAY || (v->u.arr.n && !v->u.arr.items))
    return UVSQL_EINVALID_ARGUMENT;
  uvsql_type_t elem = uvsql__array_elem_type(f);
  if (first_misfit(v->u.arr.items, v->u.arr.n, elem, 0) < v->u.arr.n)
    return UVSQL_EINVALID_ARGUMENT;
  uvsql_array_t copy;
  if (uvsql__array_dup(v->u.arr.items, v->u.arr.n, &copy) != 0) /* first: v may be field's */
    return UVSQL_ENOMEM;
  free(field->items);
  *field = copy;
  return 0;
}

int uvsql_orm_set_array(void *obj, uvsql_array_t *field, const uvsql_value_t *items, size_t n,
                        uvsql_error_t *err) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  const uvsql_model_t *md = h ? h->mapper->model : NULL;
  size_t i = 0, off = (size_t)((const unsigned char *)field - (const unsigned char *)obj);
  while (md && i < md->nfields && md->fields[i].offset != off)
    i++;
  if (!md || i == md->nfields || md->fields[i].kind != UVSQL_FIELD_ARRAY)
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "uvsql_orm_set_array: the field is not an ARRAY field of the object");
  const uvsql_field_t *f = &md->fields[i];
  if ((n && !items) || n > UINT32_MAX)
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "%s.%s: an ARRAY of %zu items needs them (items is NULL) and at most "
                            "4294967295",
                            md->type_name, f->name, n);
  uvsql_type_t elem = uvsql__array_elem_type(f);
  size_t bad = first_misfit(items, n, elem, 0);
  if (bad < n) {
    char kind[32];
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "%s.%s: element %zu is %s: an %s holds %s values or NULL",
                            md->type_name, f->name, bad, uvsql_type_name(items[bad].type),
                            uvsql__array_kind_name(f, kind, sizeof kind), uvsql_type_name(elem));
  }
  uvsql_value_t v = uvsql_v_array(elem, items, n);
  if (uvsql__array_set_value(f, field, &v) != 0)
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory setting %s.%s", md->type_name,
                            f->name);
  uvsql__field_set_null(h->mapper, obj, i, 0);
  return uvsql_orm_mark_set(obj, field);
}
