/* src/loop/value_copy.c — values that own what they point to: the one place that knows which
 * kinds point outside the value (TEXT, BYTES, NUMERIC, JSON, ENUM labels; an ARRAY's items and
 * their data), so the engine (queued parameters), Core literals and the session copy them alike.
 * NUMERIC and JSON text count as text; the ORM's fixed-size NUMERIC form points at its object's
 * field and is copied as it is (the engine writes it as text, execute.c).
 *
 * Invariants: uvsql__value_own advances *store by exactly uvsql__value_extra(v) bytes; ARRAY
 * items land 8-aligned (the padding is counted in the extra); a copied text or label ends
 * with a NUL, as drivers expect of text.
 */
#include <stdio.h>
#include <string.h>
#include "internal.h"

/* TEXT, BYTES, NUMERIC (as text), JSON, ENUM: uvsql__value_is_str */
#define is_string(v) uvsql__value_is_str(v)

#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

size_t uvsql__value_extra(const uvsql_value_t *v) {
  if (is_string(v))
    return v->u.s.len + 1;
  if (v->type != UVSQL_TYPE_ARRAY)
    return 0;
  size_t n = 8 + (size_t)v->u.arr.n * sizeof(uvsql_value_t); /* 8: the worst alignment pad */
  for (uint32_t k = 0; k < v->u.arr.n; k++)
    if (is_string(&v->u.arr.items[k]))
      n += v->u.arr.items[k].u.s.len + 1;
  return n;
}

static void own_string(uvsql_value_t *v, char **store) {
  char *p = *store;
  if (v->u.s.len)
    memcpy(p, v->u.s.ptr, v->u.s.len);
  p[v->u.s.len] = '\0';
  v->u.s.ptr = p;
  *store = p + v->u.s.len + 1;
}

void uvsql__value_own(uvsql_value_t *v, char **store) {
  if (is_string(v)) {
    own_string(v, store);
    return;
  }
  if (v->type != UVSQL_TYPE_ARRAY)
    return;
  char *start = *store;
  uvsql_value_t *items =
      (uvsql_value_t *)(void *)(start + (ALIGN8((uintptr_t)start) - (uintptr_t)start));
  char *p = start + 8 + (size_t)v->u.arr.n * sizeof(uvsql_value_t);
  if (v->u.arr.n)
    memcpy(items, v->u.arr.items, (size_t)v->u.arr.n * sizeof(uvsql_value_t));
  for (uint32_t k = 0; k < v->u.arr.n; k++)
    if (is_string(&items[k]))
      own_string(&items[k], &p);
  v->u.arr.items = items;
  *store = p;
}

int uvsql__value_check(const uvsql_value_t *v, char *why, size_t size) {
  if (is_string(v) && !v->u.s.ptr && v->u.s.len) {
    snprintf(why, size,
             "a text or bytes value with a NULL pointer and length %zu: pass the data, or "
             "UVSQL_V_NULL() for SQL NULL",
             v->u.s.len);
    return 0;
  }
  if (v->type != UVSQL_TYPE_ARRAY)
    return 1;
  if (v->u.arr.n && !v->u.arr.items) {
    snprintf(why, size, "an ARRAY of %u items with a NULL items pointer", (unsigned)v->u.arr.n);
    return 0;
  }
  for (uint32_t k = 0; k < v->u.arr.n; k++) {
    const uvsql_value_t *e = &v->u.arr.items[k];
    if (e->type == UVSQL_TYPE_NULL)
      continue;
    if (e->type != (uvsql_type_t)v->u.arr.elem || e->type == UVSQL_TYPE_ARRAY) {
      snprintf(why, size,
               "element %u of an ARRAY of %s is %s: every element must be of the array's type "
               "(or NULL), and arrays do not nest",
               (unsigned)k, uvsql_type_name((uvsql_type_t)v->u.arr.elem), uvsql_type_name(e->type));
      return 0;
    }
    if (is_string(e) && !e->u.s.ptr && e->u.s.len) {
      snprintf(why, size, "element %u of an ARRAY is text with a NULL pointer and length %zu",
               (unsigned)k, e->u.s.len);
      return 0;
    }
  }
  return 1;
}
