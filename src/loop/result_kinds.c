/* src/loop/result_kinds.c — the result getters of the kinds that are not one scalar: ENUM
 * (label -> index into the C enum's labels), INTERVAL (a cell, or ISO 8601 text) and ARRAY
 * (PostgreSQL's one-dimensional arrays). Declared in uvsql/engine.h; they share result.c's
 * cell lookup and last_error (result.h).
 *
 * Invariant: like every getter, each writes its outputs only on success, and on failure
 * leaves a message in last_error that names the column.
 */
#include <string.h>
#include "result.h"

int uvsql_result_enum(const uvsql_result_t *r, size_t row, size_t col, const uvsql_enum_type_t *e,
                      int *index) {
  const uvsql_value_t *v;
  int rc = uvsql__result_cell(r, row, col, &v);
  if (rc)
    return rc;
  if (!e || !index)
    return uvsql__result_fail(r, UVSQL_EINVALID_ARGUMENT,
                              "uvsql_result_enum: the enum type and index must not be NULL");
  if (v->type != UVSQL_TYPE_ENUM && v->type != UVSQL_TYPE_TEXT)
    return uvsql__result_mismatch(r, col, v, "enum");
  for (size_t i = 0; i < e->nlabels; i++) {
    const char *l = e->labels[i];
    if (l && strlen(l) == v->u.s.len && memcmp(l, v->u.s.ptr, v->u.s.len) == 0) {
      *index = (int)i;
      return 0;
    }
  }
  return uvsql__result_fail(r, UVSQL_EDATA,
                            "column \"%s\" holds \"%.*s\", which is not a label of enum type %s "
                            "(%zu labels): add the label to the C enum's labels",
                            uvsql_result_colname(r, col), (int)(v->u.s.len > 60 ? 60 : v->u.s.len),
                            v->u.s.ptr, e->name ? e->name : "?", e->nlabels);
}

int uvsql_result_interval(const uvsql_result_t *r, size_t row, size_t col, uvsql_interval_t *out) {
  const uvsql_value_t *v;
  int rc = uvsql__result_cell(r, row, col, &v);
  if (rc)
    return rc;
  if (v->type == UVSQL_TYPE_INTERVAL) {
    *out = v->u.iv;
    return 0;
  }
  if (v->type == UVSQL_TYPE_TEXT) {
    uvsql_interval_t iv;
    if (uvsql_parse_interval(v->u.s.ptr, v->u.s.len, &iv) == 0) {
      *out = iv;
      return 0;
    }
    return uvsql__result_fail(r, UVSQL_ETYPE,
                              "column \"%s\" holds text \"%.60s\", which is not an ISO 8601 "
                              "duration (\"P1Y2M-3DT-4H-5M-6.5S\")",
                              uvsql_result_colname(r, col), v->u.s.ptr);
  }
  return uvsql__result_mismatch(r, col, v, "interval");
}

int uvsql_result_array(const uvsql_result_t *r, size_t row, size_t col, const uvsql_value_t **items,
                       size_t *n) {
  const uvsql_value_t *v;
  int rc = uvsql__result_cell(r, row, col, &v);
  if (rc)
    return rc;
  if (v->type != UVSQL_TYPE_ARRAY)
    return uvsql__result_mismatch(r, col, v, "array");
  *items = v->u.arr.items;
  if (n)
    *n = v->u.arr.n;
  return 0;
}
