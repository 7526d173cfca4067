/* src/sql/expr.c — expression builders: literals, bound parameters, operators, predicates,
 * CASE, CAST, functions, window functions, labels and ordering.
 *
 * Every node is allocated in the arena of the statement passed first and owned by it
 * (node->owner). A builder checks its operands (uvsql__check_expr): a NULL operand, an error
 * node or another statement's node records the first error on s and yields NULL; so a chain
 * of builders fails once, with the message of the first mistake, and never crashes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"

uvsql_expr_t *uvsql__node(uvsql_core_stmt_t *s, uvsql__node_kind_t kind) {
  if (!s || uvsql__building(s, "an expression builder"))
    return NULL;
  uvsql_expr_t *e = uvsql__arena_alloc(&s->arena, sizeof *e);
  if (!e) {
    uvsql__fail(s, UVSQL_ENOMEM, "out of memory building an expression");
    return NULL;
  }
  memset(e, 0, sizeof *e);
  e->kind = (uint8_t)kind;
  e->owner = s;
  return e;
}

uvsql_expr_t *uvsql__error_node(uvsql__arena_t *a, const char *fmt, ...) {
  char msg[UVSQL_ERROR_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  uvsql_expr_t *e = uvsql__arena_alloc(a, sizeof *e);
  if (!e)
    return NULL;
  memset(e, 0, sizeof *e);
  e->kind = UVSQL__N_ERROR;
  e->name = uvsql__arena_strndup(a, msg,
                                 n < 0                     ? 0
                                 : (size_t)n >= sizeof msg ? sizeof msg - 1
                                                           : (size_t)n);
  return e->name ? e : NULL;
}

static char *sdup(uvsql_core_stmt_t *s, const char *str) {
  char *p = uvsql__arena_strndup(&s->arena, str, strlen(str));
  if (!p)
    uvsql__fail(s, UVSQL_ENOMEM, "out of memory");
  return p;
}

/* Copies n expressions into the arena after checking each. */
static uvsql_expr_t **list_dup(uvsql_core_stmt_t *s, uvsql_expr_t *const *e, size_t n,
                               const char *fn) {
  if (n && !e) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "%s: NULL list with %zu items", fn, n);
    return NULL;
  }
  uvsql_expr_t **l = uvsql__arena_alloc(&s->arena, (n ? n : 1) * sizeof *l);
  if (!l) {
    uvsql__fail(s, UVSQL_ENOMEM, "out of memory");
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    if (uvsql__check_expr(s, e[i], fn))
      return NULL;
    l[i] = e[i];
  }
  return l;
}

/* ------------------------------------------------------------------ leaves */

uvsql_expr_t *uvsql_lit(uvsql_core_stmt_t *s, uvsql_value_t v) {
  uvsql_expr_t *e = uvsql__node(s, UVSQL__N_VALUE);
  if (!e)
    return NULL;
  if (!uvsql__type_known(v.type)) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                "uvsql_lit: unknown value type %d: build values with the "
                "UVSQL_V_* macros",
                (int)v.type);
    return NULL;
  }
  if (uvsql__value_is_str(&v)) {
    if (!v.u.s.ptr && v.u.s.len) {
      uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                  "uvsql_lit: NULL pointer with length %zu (for SQL NULL use "
                  "uvsql_lit_null)",
                  v.u.s.len);
      return NULL;
    }
    char *p = uvsql__arena_strndup(&s->arena, v.u.s.ptr ? v.u.s.ptr : "", v.u.s.len);
    if (!p) {
      uvsql__fail(s, UVSQL_ENOMEM, "out of memory copying a value");
      return NULL;
    }
    v.u.s.ptr = p;
  } else if (v.type == UVSQL_TYPE_ARRAY) {
    char why[160];
    if (!uvsql__value_check(&v, why, sizeof why)) {
      uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "uvsql_lit: %s", why);
      return NULL;
    }
    char *store = uvsql__arena_alloc(&s->arena, uvsql__value_extra(&v));
    if (!store) {
      uvsql__fail(s, UVSQL_ENOMEM, "out of memory copying a value");
      return NULL;
    }
    uvsql__value_own(&v, &store);
  }
  e->u.value = v;
  return e;
}

uvsql_expr_t *uvsql_lit_null(uvsql_core_stmt_t *s) {
  return uvsql_lit(s, UVSQL_V_NULL());
}
uvsql_expr_t *uvsql_lit_bool(uvsql_core_stmt_t *s, int b) {
  return uvsql_lit(s, UVSQL_V_BOOL(b));
}
uvsql_expr_t *uvsql_lit_int64(uvsql_core_stmt_t *s, int64_t i) {
  return uvsql_lit(s, UVSQL_V_INT64(i));
}
uvsql_expr_t *uvsql_lit_double(uvsql_core_stmt_t *s, double d) {
  return uvsql_lit(s, UVSQL_V_DOUBLE(d));
}
uvsql_expr_t *uvsql_lit_text(uvsql_core_stmt_t *s, const char *text) {
  if (!text) {
    if (s)
      uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "uvsql_lit_text: NULL text (use uvsql_lit_null)");
    return NULL;
  }
  return uvsql_lit(s, UVSQL_V_TEXT(text));
}

static uvsql_expr_t *named(uvsql_core_stmt_t *s, uvsql__node_kind_t kind, const char *name,
                           const char *fn) {
  if (s && !s->err.code && (!name || !*name)) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "%s: a name is required", fn);
    return NULL;
  }
  uvsql_expr_t *e = uvsql__node(s, kind);
  if (e && !(e->name = sdup(s, name)))
    return NULL;
  return e;
}

uvsql_expr_t *uvsql_bindparam(uvsql_core_stmt_t *s, const char *name) {
  if (s && !s->err.code && !uvsql__valid_param_name(name)) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                "uvsql_bindparam: \"%s\" is not a parameter name (letters, digits and '_', not "
                "starting with a digit)",
                name ? name : "(null)");
    return NULL;
  }
  return named(s, UVSQL__N_BIND, name, "uvsql_bindparam");
}

uvsql_expr_t *uvsql_name(uvsql_core_stmt_t *s, const char *name) {
  return named(s, UVSQL__N_NAME, name, "uvsql_name");
}

uvsql_expr_t *uvsql_excluded(uvsql_core_stmt_t *s, const char *col) {
  if (s && !s->err.code && s->kind != UVSQL__S_INSERT) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                "uvsql_excluded: only for the ON CONFLICT clause of an INSERT "
                "statement");
    return NULL;
  }
  if (s && !s->err.code && (!col || !uvsql_table_column(s->table, col))) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "uvsql_excluded: table %s has no column %s",
                s->table->name, col ? col : "(null)");
    return NULL;
  }
  return named(s, UVSQL__N_EXCLUDED, col, "uvsql_excluded");
}

uvsql_expr_t *uvsql_star(uvsql_core_stmt_t *s, uvsql_from_t *from) {
  uvsql_expr_t *e = uvsql__node(s, UVSQL__N_STAR);
  if (e)
    e->u.ref.from = from;
  return e;
}

/* ------------------------------------------------------------------ operators */

static uvsql_expr_t *op2(uvsql_core_stmt_t *s, uvsql__op_t op, uvsql_expr_t *a, uvsql_expr_t *b,
                         const char *fn) {
  if (!s || uvsql__check_expr(s, a, fn) || uvsql__check_expr(s, b, fn))
    return NULL;
  uvsql_expr_t *e = uvsql__node(s, UVSQL__N_BINARY);
  if (e) {
    e->op = (uint8_t)op;
    e->a = a;
    e->b = b;
  }
  return e;
}

#define OP2(fname, OP)                                                                             \
  uvsql_expr_t *fname(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_expr_t *b) {                    \
    return op2(s, UVSQL__OP_##OP, a, b, #fname);                                                   \
  }
OP2(uvsql_eq, EQ)
OP2(uvsql_ne, NE)
OP2(uvsql_lt, LT)
OP2(uvsql_le, LE)
OP2(uvsql_gt, GT)
OP2(uvsql_ge, GE)
OP2(uvsql_add, ADD)
OP2(uvsql_sub, SUB)
OP2(uvsql_mul, MUL)
OP2(uvsql_div, DIV)
OP2(uvsql_mod, MOD)
OP2(uvsql_concat, CONCAT)
OP2(uvsql_like, LIKE)
OP2(uvsql_ilike, ILIKE)

static uvsql_expr_t *op1(uvsql_core_stmt_t *s, uvsql__op_t op, uvsql_expr_t *a, const char *fn) {
  if (!s || uvsql__check_expr(s, a, fn))
    return NULL;
  uvsql_expr_t *e = uvsql__node(s, UVSQL__N_UNARY);
  if (e) {
    e->op = (uint8_t)op;
    e->a = a;
  }
  return e;
}

uvsql_expr_t *uvsql_not(uvsql_core_stmt_t *s, uvsql_expr_t *a) {
  return op1(s, UVSQL__OP_NOT, a, "uvsql_not");
}
uvsql_expr_t *uvsql_neg(uvsql_core_stmt_t *s, uvsql_expr_t *a) {
  return op1(s, UVSQL__OP_NEG, a, "uvsql_neg");
}
uvsql_expr_t *uvsql_is_null(uvsql_core_stmt_t *s, uvsql_expr_t *a) {
  return op1(s, UVSQL__OP_IS_NULL, a, "uvsql_is_null");
}
uvsql_expr_t *uvsql_is_not_null(uvsql_core_stmt_t *s, uvsql_expr_t *a) {
  return op1(s, UVSQL__OP_IS_NOT_NULL, a, "uvsql_is_not_null");
}

static uvsql_expr_t *boolean(uvsql_core_stmt_t *s, uvsql__op_t op, uvsql_expr_t *const *e, size_t n,
                             const char *fn) {
  if (!s)
    return NULL;
  if (n == 0) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "%s: at least one condition is required", fn);
    return NULL;
  }
  if (n == 1)
    return uvsql__check_expr(s, e[0], fn) ? NULL : e[0];
  uvsql_expr_t **l = list_dup(s, e, n, fn);
  uvsql_expr_t *x = l ? uvsql__node(s, UVSQL__N_BOOL) : NULL;
  if (x) {
    x->op = (uint8_t)op;
    x->list = l;
    x->n = (uint32_t)n;
  }
  return x;
}

uvsql_expr_t *uvsql_and_n(uvsql_core_stmt_t *s, uvsql_expr_t *const *e, size_t n) {
  return boolean(s, UVSQL__OP_AND, e, n, "uvsql_and");
}
uvsql_expr_t *uvsql_or_n(uvsql_core_stmt_t *s, uvsql_expr_t *const *e, size_t n) {
  return boolean(s, UVSQL__OP_OR, e, n, "uvsql_or");
}

uvsql_expr_t *uvsql_between(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_expr_t *lo,
                            uvsql_expr_t *hi) {
  if (!s || uvsql__check_expr(s, a, "uvsql_between") || uvsql__check_expr(s, lo, "uvsql_between") ||
      uvsql__check_expr(s, hi, "uvsql_between"))
    return NULL;
  uvsql_expr_t *e = uvsql__node(s, UVSQL__N_BETWEEN);
  if (e) {
    e->a = a;
    e->b = lo;
    e->c = hi;
  }
  return e;
}

uvsql_expr_t *uvsql_in_list_n(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_expr_t *const *e,
                              size_t n) {
  if (!s || uvsql__check_expr(s, a, "uvsql_in_list"))
    return NULL;
  uvsql_expr_t **l = list_dup(s, e, n, "uvsql_in_list");
  uvsql_expr_t *x = l ? uvsql__node(s, UVSQL__N_IN_LIST) : NULL;
  if (x) {
    x->a = a;
    x->list = l;
    x->n = (uint32_t)n;
  }
  return x;
}

uvsql_expr_t *uvsql_in_expanding(uvsql_core_stmt_t *s, uvsql_expr_t *a, const char *name) {
  if (!s || uvsql__check_expr(s, a, "uvsql_in_expanding"))
    return NULL;
  if (!uvsql__valid_param_name(name)) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                "uvsql_in_expanding: \"%s\" is not a parameter name (letters, "
                "digits and '_', not starting with a digit)",
                name ? name : "(null)");
    return NULL;
  }
  uvsql_expr_t *x = named(s, UVSQL__N_IN_EXP, name, "uvsql_in_expanding");
  if (x) {
    x->a = a;
    s->has_expanding = 1;
  }
  return x;
}

static uvsql_expr_t *with_sub(uvsql_core_stmt_t *s, uvsql__node_kind_t kind, uvsql_expr_t *a,
                              uvsql_core_stmt_t *sub, const char *fn) {
  if (!s || (kind == UVSQL__N_IN_SEL && uvsql__check_expr(s, a, fn)))
    return NULL;
  if (!sub || (sub->kind != UVSQL__S_SELECT && sub->kind != UVSQL__S_COMPOUND)) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "%s: a SELECT statement is required", fn);
    return NULL;
  }
  if (sub == s) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "%s: a statement cannot contain itself", fn);
    return NULL;
  }
  uvsql_expr_t *x = uvsql__node(s, kind);
  if (!x || uvsql__stmt_keep(s, sub))
    return NULL;
  x->a = a;
  x->u.sub = sub;
  return x;
}

uvsql_expr_t *uvsql_in_select(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_core_stmt_t *sub) {
  return with_sub(s, UVSQL__N_IN_SEL, a, sub, "uvsql_in_select");
}
uvsql_expr_t *uvsql_not_in_select(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_core_stmt_t *sub) {
  uvsql_expr_t *x = with_sub(s, UVSQL__N_IN_SEL, a, sub, "uvsql_not_in_select");
  if (x)
    x->flags |= UVSQL__F_NEGATE;
  return x;
}
uvsql_expr_t *uvsql_exists(uvsql_core_stmt_t *s, uvsql_core_stmt_t *sub) {
  return with_sub(s, UVSQL__N_EXISTS, NULL, sub, "uvsql_exists");
}
uvsql_expr_t *uvsql_scalar(uvsql_core_stmt_t *s, uvsql_core_stmt_t *sub) {
  return with_sub(s, UVSQL__N_SCALAR, NULL, sub, "uvsql_scalar");
}

uvsql_expr_t *uvsql_case_n(uvsql_core_stmt_t *s, uvsql_expr_t *const *pairs, size_t npairs,
                           uvsql_expr_t *otherwise) {
  if (!s)
    return NULL;
  if (npairs == 0) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "uvsql_case: at least one WHEN/THEN pair is required");
    return NULL;
  }
  if (otherwise && uvsql__check_expr(s, otherwise, "uvsql_case"))
    return NULL;
  uvsql_expr_t **l = list_dup(s, pairs, npairs * 2, "uvsql_case");
  uvsql_expr_t *x = l ? uvsql__node(s, UVSQL__N_CASE) : NULL;
  if (x) {
    x->list = l;
    x->n = (uint32_t)npairs;
    x->a = otherwise;
  }
  return x;
}

uvsql_expr_t *uvsql_cast(uvsql_core_stmt_t *s, uvsql_expr_t *a, uvsql_sqltype_t type) {
  if (!s || uvsql__check_expr(s, a, "uvsql_cast"))
    return NULL;
  uvsql_expr_t *x = uvsql__node(s, UVSQL__N_CAST);
  if (x) {
    x->a = a;
    x->u.type = type;
  }
  return x;
}

/* ------------------------------------------------------------------ JSON access */

static uvsql_expr_t *json_get(uvsql_core_stmt_t *s, uvsql_expr_t *doc, uvsql_value_t key,
                              int as_text, const char *fn) {
  if (!s || uvsql__check_expr(s, doc, fn))
    return NULL;
  if (key.type != UVSQL_TYPE_TEXT && key.type != UVSQL_TYPE_INT64) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                "%s: the key is a %s value: give a member name (UVSQL_V_TEXT) or an array index "
                "(UVSQL_V_INT64)",
                fn, uvsql_type_name(key.type));
    return NULL;
  }
  uvsql_expr_t *k = uvsql_lit(s, key); /* copies the key's text into the statement */
  uvsql_expr_t *x = k ? uvsql__node(s, UVSQL__N_JSON_GET) : NULL;
  if (x) {
    x->a = doc;
    x->op = (uint8_t)as_text;
    x->u.value = k->u.value;
  }
  return x;
}

uvsql_expr_t *uvsql_json_get(uvsql_core_stmt_t *s, uvsql_expr_t *doc, uvsql_value_t key) {
  return json_get(s, doc, key, 0, "uvsql_json_get");
}

uvsql_expr_t *uvsql_json_get_text(uvsql_core_stmt_t *s, uvsql_expr_t *doc, uvsql_value_t key) {
  return json_get(s, doc, key, 1, "uvsql_json_get_text");
}

/* ------------------------------------------------------------------ functions */

static int valid_func_name(const char *n) {
  if (!n || !*n)
    return 0;
  for (; *n; n++)
    if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || (*n >= '0' && *n <= '9') ||
          *n == '_' || *n == '.'))
      return 0;
  return 1;
}

uvsql_expr_t *uvsql_func_n(uvsql_core_stmt_t *s, const char *name, uvsql_expr_t *const *args,
                           size_t n) {
  if (!s)
    return NULL;
  if (!valid_func_name(name)) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                "uvsql_func: \"%s\" is not a function name (letters, digits, '_' and '.')",
                name ? name : "(null)");
    return NULL;
  }
  uvsql_expr_t **l = list_dup(s, args, n, name);
  uvsql_expr_t *x = l ? uvsql__node(s, UVSQL__N_FUNC) : NULL;
  if (x && (x->name = sdup(s, name))) {
    x->list = l;
    x->n = (uint32_t)n;
    return x;
  }
  return NULL;
}

static uvsql_expr_t *func1(uvsql_core_stmt_t *s, const char *name, uvsql_expr_t *a) {
  return uvsql_func_n(s, name, &a, 1);
}

uvsql_expr_t *uvsql_count(uvsql_core_stmt_t *s, uvsql_expr_t *a) {
  if (a)
    return func1(s, "count", a);
  uvsql_expr_t *star = uvsql_star(s, NULL);
  return star ? func1(s, "count", star) : NULL;
}
uvsql_expr_t *uvsql_count_distinct(uvsql_core_stmt_t *s, uvsql_expr_t *a) {
  uvsql_expr_t *x = func1(s, "count", a);
  if (x)
    x->flags |= UVSQL__F_DISTINCT;
  return x;
}
uvsql_expr_t *uvsql_sum(uvsql_core_stmt_t *s, uvsql_expr_t *a) {
  return func1(s, "sum", a);
}
uvsql_expr_t *uvsql_avg(uvsql_core_stmt_t *s, uvsql_expr_t *a) {
  return func1(s, "avg", a);
}
uvsql_expr_t *uvsql_min(uvsql_core_stmt_t *s, uvsql_expr_t *a) {
  return func1(s, "min", a);
}
uvsql_expr_t *uvsql_max(uvsql_core_stmt_t *s, uvsql_expr_t *a) {
  return func1(s, "max", a);
}
uvsql_expr_t *uvsql_lower(uvsql_core_stmt_t *s, uvsql_expr_t *a) {
  return func1(s, "lower", a);
}
uvsql_expr_t *uvsql_upper(uvsql_core_stmt_t *s, uvsql_expr_t *a) {
  return func1(s, "upper", a);
}
uvsql_expr_t *uvsql_coalesce_n(uvsql_core_stmt_t *s, uvsql_expr_t *const *e, size_t n) {
  return uvsql_func_n(s, "coalesce", e, n);
}
uvsql_expr_t *uvsql_now(uvsql_core_stmt_t *s) {
  uvsql_expr_t *x = uvsql_func_n(s, "now", NULL, 0);
  if (x)
    x->flags |= UVSQL__F_NOW;
  return x;
}
uvsql_expr_t *uvsql_row_number(uvsql_core_stmt_t *s) {
  return uvsql_func_n(s, "row_number", NULL, 0);
}
uvsql_expr_t *uvsql_rank(uvsql_core_stmt_t *s) {
  return uvsql_func_n(s, "rank", NULL, 0);
}
uvsql_expr_t *uvsql_dense_rank(uvsql_core_stmt_t *s) {
  return uvsql_func_n(s, "dense_rank", NULL, 0);
}

uvsql_expr_t *uvsql_over(uvsql_core_stmt_t *s, uvsql_expr_t *f, uvsql_expr_t *const *partition,
                         size_t npartition, uvsql_expr_t *const *order, size_t norder) {
  if (!s || uvsql__check_expr(s, f, "uvsql_over"))
    return NULL;
  if (f->kind != UVSQL__N_FUNC) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                "uvsql_over: the first argument must be a function call "
                "(uvsql_func)");
    return NULL;
  }
  uvsql_expr_t **p = list_dup(s, partition, npartition, "uvsql_over");
  uvsql_expr_t **o = p ? list_dup(s, order, norder, "uvsql_over") : NULL;
  uvsql_expr_t *x = o ? uvsql__node(s, UVSQL__N_OVER) : NULL;
  if (x) {
    x->a = f;
    x->list = p;
    x->n = (uint32_t)npartition;
    x->list2 = o;
    x->n2 = (uint32_t)norder;
  }
  return x;
}

uvsql_expr_t *uvsql_label(uvsql_core_stmt_t *s, uvsql_expr_t *a, const char *name) {
  if (!s || uvsql__check_expr(s, a, "uvsql_label"))
    return NULL;
  uvsql_expr_t *x = named(s, UVSQL__N_LABEL, name, "uvsql_label");
  if (x)
    x->a = a;
  return x;
}

uvsql_expr_t *uvsql_order(uvsql_core_stmt_t *s, uvsql_expr_t *a, unsigned flags) {
  if (!s || uvsql__check_expr(s, a, "uvsql_order"))
    return NULL;
  if ((flags & UVSQL_NULLS_FIRST) && (flags & UVSQL_NULLS_LAST)) {
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "uvsql_order: NULLS FIRST or NULLS LAST, not both");
    return NULL;
  }
  uvsql_expr_t *x = uvsql__node(s, UVSQL__N_ORDER);
  if (x) {
    x->a = a;
    x->flags = (uint16_t)flags;
  }
  return x;
}
uvsql_expr_t *uvsql_asc(uvsql_core_stmt_t *s, uvsql_expr_t *a) {
  return uvsql_order(s, a, UVSQL_ASC);
}
uvsql_expr_t *uvsql_desc(uvsql_core_stmt_t *s, uvsql_expr_t *a) {
  return uvsql_order(s, a, UVSQL_DESC);
}
