/* src/sql/dml_eval.c — in-memory evaluation of an UPDATE/DELETE's WHERE and SET values for one
 * row (the ORM's synchronize_session EVALUATE), and the two statements derived from a DML
 * statement for synchronize_session FETCH (see dml_eval.h).
 *
 * Invariants:
 *  1. Every node is evaluated, whatever the values (no short-circuit): an expression that
 *     cannot be checked in memory fails for every row, so the static check (no row) and the
 *     per-row evaluation always agree.
 *  2. Only what every backend computes the same way is evaluated: comparisons of numbers with
 *     numbers, text with text, bytes with bytes, a date/time kind with the same kind; AND, OR,
 *     NOT, IS [NOT] NULL, IN (list), BETWEEN; +, -, * and unary minus of numbers. Division,
 *     LIKE, functions, casts, subqueries and columns of other tables are refused.
 *  3. Derived statements share s's nodes and hold a reference on s (uvsql__stmt_keep), so
 *     those nodes live as long as they do; s itself is never changed.
 */
#include <string.h>
#include "dml_eval.h"
#include "internal.h"

typedef struct {
  const uvsql_table_t *table;
  const uvsql_param_t *params;
  size_t nparams;
  uvsql__colval_fn fn;
  void *ctx;
  uvsql_error_t *err;
  int rc;
} ev_t;

static const char *const HINT = ": use synchronize_session UVSQL_SYNC_FETCH (or UVSQL_SYNC_NONE "
                                "and expire the objects yourself)";

static void refuse(ev_t *ev, const char *what, const char *name) {
  if (ev->rc)
    return;
  ev->rc = uvsql__error_set(ev->err, UVSQL_ENOT_SUPPORTED,
                            "synchronize_session EVALUATE cannot check %s%s%s%s in memory%s", what,
                            name ? " \"" : "", name ? name : "", name ? "\"" : "", HINT);
}

static int is_num(uvsql_type_t t) {
  return t == UVSQL_TYPE_BOOL || t == UVSQL_TYPE_INT64 || t == UVSQL_TYPE_DOUBLE;
}
static int is_time(uvsql_type_t t) {
  return t == UVSQL_TYPE_DATE || t == UVSQL_TYPE_TIME || t == UVSQL_TYPE_TIMESTAMP ||
         t == UVSQL_TYPE_TIMESTAMPTZ;
}
static double num(const uvsql_value_t *v) {
  return v->type == UVSQL_TYPE_DOUBLE ? v->u.f64
         : v->type == UVSQL_TYPE_BOOL ? (double)v->u.b
                                      : (double)v->u.i64;
}
static int64_t inum(const uvsql_value_t *v) {
  return v->type == UVSQL_TYPE_BOOL ? v->u.b : v->u.i64;
}

/* -1, 0, 1; 2 when a and b cannot be compared (err filled). Neither is NULL. */
static int compare(ev_t *ev, const uvsql_value_t *a, const uvsql_value_t *b) {
  if (is_num(a->type) && is_num(b->type)) {
    if (a->type != UVSQL_TYPE_DOUBLE && b->type != UVSQL_TYPE_DOUBLE)
      return (inum(a) > inum(b)) - (inum(a) < inum(b));
    return (num(a) > num(b)) - (num(a) < num(b));
  }
  if (is_time(a->type) && a->type == b->type)
    return (a->u.i64 > b->u.i64) - (a->u.i64 < b->u.i64);
  if ((a->type == UVSQL_TYPE_NUMERIC || b->type == UVSQL_TYPE_NUMERIC) &&
      (a->type == UVSQL_TYPE_NUMERIC || a->type == UVSQL_TYPE_INT64) &&
      (b->type == UVSQL_TYPE_NUMERIC || b->type == UVSQL_TYPE_INT64)) { /* exact */
    uvsql_numeric_t x, y;
    if (uvsql__value_numeric(a, &x) == 0 && uvsql__value_numeric(b, &y) == 0)
      return uvsql_numeric_cmp(&x, &y);
  }
  if ((a->type == UVSQL_TYPE_TEXT || a->type == UVSQL_TYPE_BYTES) && a->type == b->type) {
    size_t n = a->u.s.len < b->u.s.len ? a->u.s.len : b->u.s.len;
    int c = n ? memcmp(a->u.s.ptr, b->u.s.ptr, n) : 0;
    if (c)
      return c < 0 ? -1 : 1;
    return (a->u.s.len > b->u.s.len) - (a->u.s.len < b->u.s.len);
  }
  refuse(ev, "a comparison of values of different types", NULL);
  return 2;
}

static uvsql_value_t tv(int b) {
  return UVSQL_V_BOOL(b);
}

/* A condition's value: 1 true, 0 false, -1 unknown (NULL). A value that is not a boolean or a
 * number (a text column used as a condition) is refused: backends disagree on it. */
static int truth(ev_t *ev, const uvsql_value_t *v) {
  if (v->type == UVSQL_TYPE_NULL)
    return -1;
  if (is_num(v->type))
    return num(v) != 0;
  refuse(ev, "a condition that is not a boolean", NULL);
  return -1;
}

static uvsql_value_t eval(ev_t *ev, const uvsql_expr_t *e);

static uvsql_value_t eval_column(ev_t *ev, const uvsql_expr_t *e) {
  const uvsql_column_t *col = e->u.ref.col;
  uvsql_value_t v = UVSQL_V_NULL();
  if (col->table != ev->table || (e->u.ref.from && e->u.ref.from != &col->table->from)) {
    refuse(ev, "a column of another table or alias", col->name);
    return v;
  }
  if (ev->fn && ev->fn(ev->ctx, col, &v)) {
    refuse(ev, "the column", col->name);
    return UVSQL_V_NULL();
  }
  return v;
}

static uvsql_value_t eval_bind(ev_t *ev, const uvsql_expr_t *e) {
  for (size_t i = 0; i < ev->nparams; i++)
    if (ev->params[i].name && strcmp(ev->params[i].name, e->name) == 0)
      return ev->params[i].value;
  if (!ev->rc)
    ev->rc = uvsql__error_set(ev->err, UVSQL_EINVALID_ARGUMENT,
                              "the statement's parameter :%s was not given a value", e->name);
  return UVSQL_V_NULL();
}

static uvsql_value_t arith(ev_t *ev, int op, const uvsql_value_t *a, const uvsql_value_t *b) {
  if (a->type == UVSQL_TYPE_NULL || b->type == UVSQL_TYPE_NULL) {
    if ((a->type != UVSQL_TYPE_NULL && !is_num(a->type)) ||
        (b->type != UVSQL_TYPE_NULL && !is_num(b->type)))
      refuse(ev, "arithmetic on values that are not numbers", NULL);
    return UVSQL_V_NULL();
  }
  if (!is_num(a->type) || !is_num(b->type)) {
    refuse(ev, "arithmetic on values that are not numbers", NULL);
    return UVSQL_V_NULL();
  }
  if (a->type == UVSQL_TYPE_DOUBLE || b->type == UVSQL_TYPE_DOUBLE) {
    double x = num(a), y = num(b);
    return UVSQL_V_DOUBLE(op == UVSQL__OP_ADD ? x + y : op == UVSQL__OP_SUB ? x - y : x * y);
  }
  int64_t x = inum(a), y = inum(b), r;
  int over = op == UVSQL__OP_ADD   ? __builtin_add_overflow(x, y, &r)
             : op == UVSQL__OP_SUB ? __builtin_sub_overflow(x, y, &r)
                                   : __builtin_mul_overflow(x, y, &r);
  if (over) {
    refuse(ev, "an integer arithmetic that overflows", NULL);
    return UVSQL_V_NULL();
  }
  return UVSQL_V_INT64(r);
}

static uvsql_value_t eval_binary(ev_t *ev, const uvsql_expr_t *e) {
  uvsql_value_t a = eval(ev, e->a), b = eval(ev, e->b);
  switch (e->op) {
  case UVSQL__OP_EQ:
  case UVSQL__OP_NE:
  case UVSQL__OP_LT:
  case UVSQL__OP_LE:
  case UVSQL__OP_GT:
  case UVSQL__OP_GE: {
    if (a.type == UVSQL_TYPE_NULL || b.type == UVSQL_TYPE_NULL)
      return UVSQL_V_NULL();
    int c = compare(ev, &a, &b);
    if (c == 2)
      return UVSQL_V_NULL();
    switch (e->op) {
    case UVSQL__OP_EQ:
      return tv(c == 0);
    case UVSQL__OP_NE:
      return tv(c != 0);
    case UVSQL__OP_LT:
      return tv(c < 0);
    case UVSQL__OP_LE:
      return tv(c <= 0);
    case UVSQL__OP_GT:
      return tv(c > 0);
    default:
      return tv(c >= 0);
    }
  }
  case UVSQL__OP_ADD:
  case UVSQL__OP_SUB:
  case UVSQL__OP_MUL:
    return arith(ev, e->op, &a, &b);
  case UVSQL__OP_DIV:
  case UVSQL__OP_MOD:
    refuse(ev, "a division (its result differs between backends)", NULL);
    return UVSQL_V_NULL();
  case UVSQL__OP_CONCAT:
    refuse(ev, "a string concatenation", NULL);
    return UVSQL_V_NULL();
  default:
    refuse(ev, "the LIKE operator", NULL);
    return UVSQL_V_NULL();
  }
}

static uvsql_value_t eval_bool(ev_t *ev, const uvsql_expr_t *e) {
  int any_null = 0, decided = 0, and = e->op == UVSQL__OP_AND;
  for (uint32_t i = 0; i < e->n; i++) {
    uvsql_value_t v = eval(ev, e->list[i]);
    int t = truth(ev, &v);
    if (t < 0)
      any_null = 1;
    else if (t == !and) /* a false AND, a true OR */
      decided = 1;
  }
  if (decided)
    return tv(!and);
  return any_null ? UVSQL_V_NULL() : tv(and);
}

static uvsql_value_t eval(ev_t *ev, const uvsql_expr_t *e) {
  if (!e)
    return UVSQL_V_NULL();
  switch (e->kind) {
  case UVSQL__N_COLUMN:
    return eval_column(ev, e);
  case UVSQL__N_VALUE:
    return e->u.value;
  case UVSQL__N_BIND:
    return eval_bind(ev, e);
  case UVSQL__N_BINARY:
    return eval_binary(ev, e);
  case UVSQL__N_BOOL:
    return eval_bool(ev, e);
  case UVSQL__N_UNARY: {
    uvsql_value_t a = eval(ev, e->a);
    switch (e->op) {
    case UVSQL__OP_IS_NULL:
      return tv(a.type == UVSQL_TYPE_NULL);
    case UVSQL__OP_IS_NOT_NULL:
      return tv(a.type != UVSQL_TYPE_NULL);
    case UVSQL__OP_NOT: {
      int t = truth(ev, &a);
      return t < 0 ? UVSQL_V_NULL() : tv(!t);
    }
    default: {
      uvsql_value_t zero = UVSQL_V_INT64(0);
      return arith(ev, UVSQL__OP_SUB, &zero, &a);
    }
    }
  }
  case UVSQL__N_IN_LIST: {
    uvsql_value_t a = eval(ev, e->a);
    int found = 0, any_null = 0;
    for (uint32_t i = 0; i < e->n; i++) {
      uvsql_value_t b = eval(ev, e->list[i]);
      if (a.type == UVSQL_TYPE_NULL || b.type == UVSQL_TYPE_NULL)
        any_null = 1;
      else if (compare(ev, &a, &b) == 0)
        found = 1;
    }
    if (found)
      return tv(1);
    return any_null ? UVSQL_V_NULL() : tv(0);
  }
  case UVSQL__N_BETWEEN: {
    uvsql_value_t a = eval(ev, e->a), lo = eval(ev, e->b), hi = eval(ev, e->c);
    if (a.type == UVSQL_TYPE_NULL || lo.type == UVSQL_TYPE_NULL || hi.type == UVSQL_TYPE_NULL)
      return UVSQL_V_NULL();
    int c1 = compare(ev, &a, &lo), c2 = compare(ev, &a, &hi);
    if (c1 == 2 || c2 == 2)
      return UVSQL_V_NULL();
    return tv(c1 >= 0 && c2 <= 0);
  }
  case UVSQL__N_IN_EXP:
    refuse(ev, "an expanding IN list", NULL);
    return UVSQL_V_NULL();
  case UVSQL__N_IN_SEL:
  case UVSQL__N_EXISTS:
  case UVSQL__N_SCALAR:
    refuse(ev, "a subquery", NULL);
    return UVSQL_V_NULL();
  case UVSQL__N_FUNC:
    refuse(ev, "the function", e->name);
    return UVSQL_V_NULL();
  case UVSQL__N_CAST:
    refuse(ev, "a CAST", NULL);
    return UVSQL_V_NULL();
  case UVSQL__N_CASE:
    refuse(ev, "a CASE expression", NULL);
    return UVSQL_V_NULL();
  default:
    refuse(ev, "this expression", NULL);
    return UVSQL_V_NULL();
  }
}

/* ------------------------------------------------------------------ the ORM's side */

uvsql__dml_kind_t uvsql__dml_info(const uvsql_core_stmt_t *s, uvsql_table_t **table, size_t *nsets,
                                  int *has_returning) {
  *table = NULL;
  *nsets = 0;
  *has_returning = 0;
  if (!s || (s->kind != UVSQL__S_UPDATE && s->kind != UVSQL__S_DELETE))
    return UVSQL__DML_OTHER;
  *table = s->table;
  *nsets = s->kind == UVSQL__S_UPDATE ? s->sets.n : 0;
  *has_returning = s->returning.n > 0;
  return s->kind == UVSQL__S_UPDATE ? UVSQL__DML_UPDATE : UVSQL__DML_DELETE;
}

uvsql_column_t *uvsql__dml_set_column(const uvsql_core_stmt_t *s, size_t i) {
  return i < s->sets.n ? ((uvsql__set_t *)s->sets.items[i])->col : NULL;
}

int uvsql__dml_eval_where(const uvsql_core_stmt_t *s, const uvsql_param_t *params, size_t n,
                          uvsql__colval_fn fn, void *ctx, int *match, uvsql_error_t *err) {
  ev_t ev = {s->table, params, n, fn, ctx, err, 0};
  *match = 1;
  if (s->where) {
    uvsql_value_t v = eval(&ev, s->where);
    *match = truth(&ev, &v) == 1;
  }
  return ev.rc;
}

int uvsql__dml_eval_set(const uvsql_core_stmt_t *s, size_t i, const uvsql_param_t *params, size_t n,
                        uvsql__colval_fn fn, void *ctx, uvsql_value_t *out, uvsql_error_t *err) {
  ev_t ev = {s->table, params, n, fn, ctx, err, 0};
  *out = eval(&ev, ((uvsql__set_t *)s->sets.items[i])->e);
  return ev.rc;
}

uvsql_core_stmt_t *uvsql__dml_returning(uvsql_core_stmt_t *s, uvsql_column_t *const *cols,
                                        size_t ncols) {
  if (!s || (s->kind != UVSQL__S_UPDATE && s->kind != UVSQL__S_DELETE))
    return NULL;
  uvsql_core_stmt_t *d = uvsql__stmt_new(s->kind);
  if (!d)
    return NULL;
  d->table = s->table;
  d->sets = s->sets; /* s's arena, kept alive by the reference below (invariant 3) */
  d->where = s->where;
  if (s->err.code)
    d->err = s->err;
  int rc = uvsql__stmt_keep(d, s);
  for (uint32_t i = 0; rc == 0 && i < s->returning.n; i++)
    rc = uvsql__vec_push(&d->arena, &d->returning, s->returning.items[i]);
  for (size_t i = 0; rc == 0 && i < ncols; i++)
    rc = uvsql__vec_push(&d->arena, &d->returning, &cols[i]->ref);
  if (rc) {
    uvsql_core_stmt_free(d);
    return NULL;
  }
  return d;
}

uvsql_core_stmt_t *uvsql__dml_select(uvsql_core_stmt_t *s, uvsql_column_t *const *cols,
                                     size_t ncols) {
  if (!s || (s->kind != UVSQL__S_UPDATE && s->kind != UVSQL__S_DELETE))
    return NULL;
  uvsql_core_stmt_t *d = uvsql_select_new();
  if (!d)
    return NULL;
  for (size_t i = 0; i < ncols; i++) {
    uvsql_expr_t *c = &cols[i]->ref;
    uvsql_select_columns(d, &c, 1);
  }
  uvsql_select_from_item(d, &s->table->from);
  if (s->err.code && !d->err.code)
    d->err = s->err;
  if (uvsql__stmt_keep(d, s) || d->err.code == UVSQL_ENOMEM) {
    uvsql_core_stmt_free(d);
    return NULL;
  }
  d->where = s->where; /* s's node, alive while d holds s (invariant 3) */
  return d;
}
