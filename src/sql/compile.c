/* src/sql/compile.c — the generic compiler: output buffer, identifier quoting, bound values,
 * expressions, and the per-dialect cache of compiled forms.
 *
 * Output: SQL text with :name placeholders. Embedded values become :param_1, :param_2, ...
 * numbered in the order they appear in the text; an expanding IN becomes :name_1 ... :name_k.
 * The text is then turned into an engine statement (uvsql_text), so execution goes through
 * the engine's placeholder conversion, prepared-statement cache and drivers unchanged.
 *
 * Invariants:
 *  1. No user value is ever written into the SQL text; only identifiers (quoted, with the
 *     quote character doubled inside, when they are reserved words of the dialect (its
 *     `reserved` hook), are 64 bytes or longer, or are not [a-z_][a-z0-9_]*) and the
 *     dialect's own keywords are.
 *  2. The first error stops nothing but is the one reported; the buffer is then discarded.
 *  3. A statement's compiled form for a dialect is made once and kept until it is freed,
 *     unless the statement expands IN lists (then it is remade at each execution).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dialect.h"
#include "../engine/stmt_api.h" /* uvsql__text_marked: the text needs no scanning */

void uvsql__c_fail(uvsql__compiler_t *c, int code, const char *fmt, ...) {
  if (c->rc)
    return;
  c->rc = code;
  if (c->err) {
    va_list ap;
    va_start(ap, fmt);
    uvsql_error_clear(c->err);
    c->err->code = code;
    vsnprintf(c->err->message, sizeof c->err->message, fmt, ap);
    va_end(ap);
  }
}

void uvsql__c_putn(uvsql__compiler_t *c, const char *s, size_t n) {
  if (c->rc)
    return;
  if (c->len + n + 1 > c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 256;
    while (cap < c->len + n + 1)
      cap *= 2;
    char *b = c->buf_heap ? realloc(c->buf, cap) : malloc(cap);
    if (!b) {
      uvsql__c_fail(c, UVSQL_ENOMEM, "out of memory compiling a statement");
      return;
    }
    if (!c->buf_heap && c->len)
      memcpy(b, c->buf, c->len);
    c->buf_heap = 1;
    c->buf = b;
    c->cap = cap;
  }
  memcpy(c->buf + c->len, s, n);
  c->len += n;
  c->buf[c->len] = '\0';
}

void uvsql__c_puts(uvsql__compiler_t *c, const char *s) {
  uvsql__c_putn(c, s, strlen(s));
}

void uvsql__c_printf(uvsql__compiler_t *c, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof tmp)
    uvsql__c_fail(c, UVSQL_EINVALID_ARGUMENT,
                  "a name in the statement is too long (255 bytes at most): "
                  "\"%.40s...\"",
                  tmp);
  else
    uvsql__c_putn(c, tmp, (size_t)n);
}

int uvsql__ident_plain(const char *name) {
  int plain = (name[0] >= 'a' && name[0] <= 'z') || name[0] == '_';
  size_t n = 0;
  for (const char *p = name; *p && plain; p++, n++)
    plain = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
  return plain && n < 64;
}

void uvsql__c_ident(uvsql__compiler_t *c, const char *name) {
  uvsql__c_ident_known(c, name, uvsql__ident_plain(name));
}

void uvsql__c_ident_known(uvsql__compiler_t *c, const char *name, int plain) {
  if (plain && !c->d->reserved(name)) {
    uvsql__c_puts(c, name);
    return;
  }
  char q = c->d->quote;
  uvsql__c_putn(c, &q, 1);
  for (const char *p = name; *p; p++) {
    const char *run = p;
    while (*p && *p != q)
      p++;
    uvsql__c_putn(c, run, (size_t)(p - run));
    if (!*p)
      break;
    uvsql__c_putn(c, p, 1); /* a quote inside is doubled */
    uvsql__c_putn(c, p, 1);
  }
  uvsql__c_putn(c, &q, 1);
}

static void push_value(uvsql__compiler_t *c, const char *name, const uvsql_value_t *v) {
  if (c->rc)
    return;
  if (c->nvalues == c->capvalues) {
    size_t cap = c->capvalues ? c->capvalues * 2 : 8;
    uvsql_param_t *p =
        c->values_heap ? realloc(c->values, cap * sizeof *p) : malloc(cap * sizeof *p);
    if (!p) {
      uvsql__c_fail(c, UVSQL_ENOMEM, "out of memory compiling a statement");
      return;
    }
    if (!c->values_heap && c->nvalues)
      memcpy(p, c->values, c->nvalues * sizeof *p);
    c->values_heap = 1;
    c->values = p;
    c->capvalues = cap;
  }
  c->values[c->nvalues].name = name;
  c->values[c->nvalues].value = *v;
  c->nvalues++;
}

void uvsql__c_placeholder(uvsql__compiler_t *c, const char *name) {
  if (c->rc)
    return;
  if (c->nmarks == c->capmarks) {
    size_t cap = c->capmarks * 2;
    size_t *m = c->marks_heap ? realloc(c->marks, cap * sizeof *m) : malloc(cap * sizeof *m);
    if (!m) {
      uvsql__c_fail(c, UVSQL_ENOMEM, "out of memory compiling a statement");
      return;
    }
    if (!c->marks_heap)
      memcpy(m, c->marks, c->nmarks * sizeof *m);
    c->marks_heap = 1;
    c->marks = m;
    c->capmarks = cap;
  }
  c->marks[c->nmarks++] = c->len;
  uvsql__c_putn(c, ":", 1);
  uvsql__c_puts(c, name);
}

static const char *gen_name(uvsql__compiler_t *c, const char *base, size_t k) {
  char tmp[80];
  int n = snprintf(tmp, sizeof tmp, "%s_%zu", base, k);
  char *p = uvsql__arena_strndup(c->arena, tmp, (size_t)n);
  if (!p)
    uvsql__c_fail(c, UVSQL_ENOMEM, "out of memory compiling a statement");
  return p;
}

void uvsql__c_value(uvsql__compiler_t *c, const uvsql_value_t *v) {
  const char *name = gen_name(c, "param", c->nvalues + 1);
  if (!name)
    return;
  push_value(c, name, v);
  uvsql__c_placeholder(c, name);
}

static void bind_name(uvsql__compiler_t *c, const char *name) {
  if (c->nbind < (int)(sizeof c->bindnames / sizeof c->bindnames[0]))
    c->bindnames[c->nbind++] = name;
  uvsql__c_placeholder(c, name);
}

/* ------------------------------------------------------------------ expressions */

/* Binding strength: a child weaker than its parent is parenthesised. */
static int prec(const uvsql_expr_t *e) {
  switch (e->kind) {
  case UVSQL__N_BOOL:
    return e->op == UVSQL__OP_OR ? 1 : 2;
  case UVSQL__N_UNARY:
    return e->op == UVSQL__OP_NOT ? 3 : e->op == UVSQL__OP_NEG ? 9 : 5;
  case UVSQL__N_IN_LIST:
  case UVSQL__N_IN_EXP:
  case UVSQL__N_IN_SEL:
  case UVSQL__N_BETWEEN:
    return 5;
  case UVSQL__N_BINARY:
    switch (e->op) {
    case UVSQL__OP_ADD:
    case UVSQL__OP_SUB:
      return 7;
    case UVSQL__OP_MUL:
    case UVSQL__OP_DIV:
    case UVSQL__OP_MOD:
      return 8;
    case UVSQL__OP_CONCAT:
      return 6;
    default:
      return 5;
    }
  case UVSQL__N_LABEL:
    return prec(e->a);
  default:
    return 10;
  }
}

static void sub_expr(uvsql__compiler_t *c, const uvsql_expr_t *e, int parent, int strict) {
  while (e->kind == UVSQL__N_LABEL)
    e = e->a;
  int p = prec(e);
  int paren = p < parent || (strict && p == parent);
  if (paren)
    uvsql__c_putn(c, "(", 1);
  uvsql__c_expr(c, e);
  if (paren)
    uvsql__c_putn(c, ")", 1);
}

void uvsql__c_expr_list(uvsql__compiler_t *c, uvsql_expr_t *const *e, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (i)
      uvsql__c_putn(c, ", ", 2);
    uvsql__c_expr(c, e[i]);
  }
}

static void nested(uvsql__compiler_t *c, uvsql_core_stmt_t *sub) {
  int unqualified = c->unqualified; /* inside a subquery every column is qualified */
  c->unqualified = 0;
  uvsql__c_putn(c, "(", 1);
  uvsql__c_stmt(c, sub);
  uvsql__c_putn(c, ")", 1);
  c->unqualified = unqualified;
}

static const char *const binops[] = {
    [UVSQL__OP_EQ] = " = ",      [UVSQL__OP_NE] = " != ",       [UVSQL__OP_LT] = " < ",
    [UVSQL__OP_LE] = " <= ",     [UVSQL__OP_GT] = " > ",        [UVSQL__OP_GE] = " >= ",
    [UVSQL__OP_ADD] = " + ",     [UVSQL__OP_SUB] = " - ",       [UVSQL__OP_MUL] = " * ",
    [UVSQL__OP_DIV] = " / ",     [UVSQL__OP_MOD] = " % ",       [UVSQL__OP_CONCAT] = " || ",
    [UVSQL__OP_LIKE] = " LIKE ", [UVSQL__OP_ILIKE] = " ILIKE ",
};

static void binary(uvsql__compiler_t *c, const uvsql_expr_t *e) {
  int p = prec(e);
  if (e->op == UVSQL__OP_CONCAT && (c->d->features & UVSQL__D_CONCAT_FUNC)) {
    uvsql__c_puts(c, "CONCAT(");
    uvsql__c_expr(c, e->a);
    uvsql__c_putn(c, ", ", 2);
    uvsql__c_expr(c, e->b);
    uvsql__c_putn(c, ")", 1);
    return;
  }
  if (e->op == UVSQL__OP_ILIKE && !(c->d->features & UVSQL__D_ILIKE)) {
    uvsql__c_puts(c, "lower(");
    uvsql__c_expr(c, e->a);
    uvsql__c_puts(c, ") LIKE lower(");
    uvsql__c_expr(c, e->b);
    uvsql__c_putn(c, ")", 1);
    return;
  }
  /* Comparisons do not chain; - / % are not associative on the right. */
  int strict_left = p == 5;
  int strict_right =
      p == 5 || e->op == UVSQL__OP_SUB || e->op == UVSQL__OP_DIV || e->op == UVSQL__OP_MOD;
  sub_expr(c, e->a, p, strict_left);
  uvsql__c_puts(c, binops[e->op]);
  sub_expr(c, e->b, p, strict_right);
}

static void in_expanding(uvsql__compiler_t *c, const uvsql_expr_t *e) {
  size_t k = 0;
  if (uvsql__vec_push(c->arena, &c->expnames, (void *)e->name))
    uvsql__c_fail(c, UVSQL_ENOMEM, "out of memory compiling a statement");
  for (size_t i = 0; i < c->nuser; i++)
    if (c->user[i].name && strcmp(c->user[i].name, e->name) == 0)
      k++;
  if (k == 0) { /* an empty IN is false, whatever a is (even NULL) */
    uvsql__c_puts(c, "1 != 1");
    return;
  }
  sub_expr(c, e->a, 5, 1);
  uvsql__c_puts(c, " IN (");
  size_t j = 0;
  for (size_t i = 0; i < c->nuser; i++) {
    if (!c->user[i].name || strcmp(c->user[i].name, e->name) != 0)
      continue;
    const char *name = gen_name(c, e->name, ++j);
    if (!name)
      return;
    if (j > 1)
      uvsql__c_putn(c, ", ", 2);
    push_value(c, name, &c->user[i].value);
    uvsql__c_placeholder(c, name);
  }
  uvsql__c_putn(c, ")", 1);
}

static void column(uvsql__compiler_t *c, const uvsql_expr_t *e) {
  const uvsql_from_t *f = e->u.ref.from;
  const char *name = e->kind == UVSQL__N_COLUMN ? e->u.ref.col->name : e->name;
  if (!name) {
    uvsql__c_fail(c, UVSQL_EINVALID_ARGUMENT,
                  "a column of %s has no name: label it in the subquery", f->name);
    return;
  }
  if (!(c->unqualified && f->kind == UVSQL__F_TABLE && f->table == c->dml_table)) {
    uvsql__c_ident_known(c, f->name, f->plain);
    uvsql__c_putn(c, ".", 1);
  }
  if (e->kind == UVSQL__N_COLUMN)
    uvsql__c_ident_known(c, name, e->u.ref.col->plain);
  else
    uvsql__c_ident(c, name);
}

static void order_item(uvsql__compiler_t *c, const uvsql_expr_t *e) {
  unsigned flags = 0;
  if (e->kind == UVSQL__N_ORDER) {
    flags = e->flags;
    e = e->a;
  }
  int nulls = flags & (UVSQL_NULLS_FIRST | UVSQL_NULLS_LAST);
  const uvsql_expr_t *key = e;
  if (nulls && !(c->d->features & UVSQL__D_NULLS_ORDER)) {
    /* a IS NULL sorts 1 for NULL: DESC puts NULLs first. */
    sub_expr(c, key, 5, 1);
    uvsql__c_puts(c, flags & UVSQL_NULLS_FIRST ? " IS NULL DESC, " : " IS NULL, ");
    nulls = 0;
  }
  if (e->kind == UVSQL__N_LABEL) {
    uvsql__c_ident(c, e->name);
  } else {
    uvsql__c_expr(c, e);
  }
  if (flags & UVSQL_DESC)
    uvsql__c_puts(c, " DESC");
  if (nulls)
    uvsql__c_puts(c, flags & UVSQL_NULLS_FIRST ? " NULLS FIRST" : " NULLS LAST");
}

void uvsql__c_expr(uvsql__compiler_t *c, const uvsql_expr_t *e) {
  if (c->rc)
    return;
  switch ((uvsql__node_kind_t)e->kind) {
  case UVSQL__N_COLUMN:
  case UVSQL__N_FROMCOL:
    column(c, e);
    return;
  case UVSQL__N_NAME:
    uvsql__c_ident(c, e->name);
    return;
  case UVSQL__N_STAR:
    if (e->u.ref.from) {
      uvsql__c_ident(c, e->u.ref.from->name);
      uvsql__c_putn(c, ".", 1);
    }
    uvsql__c_putn(c, "*", 1);
    return;
  case UVSQL__N_VALUE:
    uvsql__c_value(c, &e->u.value);
    return;
  case UVSQL__N_BIND:
    bind_name(c, e->name);
    return;
  case UVSQL__N_BINARY:
    binary(c, e);
    return;
  case UVSQL__N_BOOL:
    for (uint32_t i = 0; i < e->n; i++) {
      if (i)
        uvsql__c_puts(c, e->op == UVSQL__OP_AND ? " AND " : " OR ");
      sub_expr(c, e->list[i], prec(e), 0);
    }
    return;
  case UVSQL__N_UNARY:
    if (e->op == UVSQL__OP_NOT) {
      uvsql__c_puts(c, "NOT ");
      sub_expr(c, e->a, 3, 0);
    } else if (e->op == UVSQL__OP_NEG) {
      uvsql__c_putn(c, "-", 1);
      sub_expr(c, e->a, 9, 1);
    } else {
      sub_expr(c, e->a, 5, 1);
      uvsql__c_puts(c, e->op == UVSQL__OP_IS_NULL ? " IS NULL" : " IS NOT NULL");
    }
    return;
  case UVSQL__N_IN_LIST:
    if (e->n == 0) {
      uvsql__c_puts(c, "1 != 1");
      return;
    }
    sub_expr(c, e->a, 5, 1);
    uvsql__c_puts(c, " IN (");
    uvsql__c_expr_list(c, e->list, e->n);
    uvsql__c_putn(c, ")", 1);
    return;
  case UVSQL__N_IN_EXP:
    in_expanding(c, e);
    return;
  case UVSQL__N_IN_SEL:
    sub_expr(c, e->a, 5, 1);
    uvsql__c_puts(c, e->flags & UVSQL__F_NEGATE ? " NOT IN " : " IN ");
    nested(c, e->u.sub);
    return;
  case UVSQL__N_EXISTS:
    uvsql__c_puts(c, "EXISTS ");
    nested(c, e->u.sub);
    return;
  case UVSQL__N_SCALAR:
    nested(c, e->u.sub);
    return;
  case UVSQL__N_BETWEEN:
    sub_expr(c, e->a, 5, 1);
    uvsql__c_puts(c, " BETWEEN ");
    sub_expr(c, e->b, 6, 0);
    uvsql__c_puts(c, " AND ");
    sub_expr(c, e->c, 6, 0);
    return;
  case UVSQL__N_CASE:
    uvsql__c_puts(c, "CASE");
    for (uint32_t i = 0; i < e->n; i++) {
      uvsql__c_puts(c, " WHEN ");
      uvsql__c_expr(c, e->list[2 * i]);
      uvsql__c_puts(c, " THEN ");
      uvsql__c_expr(c, e->list[2 * i + 1]);
    }
    if (e->a) {
      uvsql__c_puts(c, " ELSE ");
      uvsql__c_expr(c, e->a);
    }
    uvsql__c_puts(c, " END");
    return;
  case UVSQL__N_CAST:
    uvsql__c_puts(c, "CAST(");
    uvsql__c_expr(c, e->a);
    uvsql__c_puts(c, " AS ");
    c->d->type(c, e->u.type, UVSQL__TYPE_CAST);
    uvsql__c_putn(c, ")", 1);
    return;
  case UVSQL__N_FUNC:
    if (e->flags & UVSQL__F_NOW) {
      uvsql__c_puts(c, c->d->now_sql);
      return;
    }
    uvsql__c_puts(c, e->name);
    uvsql__c_puts(c, e->flags & UVSQL__F_DISTINCT ? "(DISTINCT " : "(");
    uvsql__c_expr_list(c, e->list, e->n);
    uvsql__c_putn(c, ")", 1);
    return;
  case UVSQL__N_OVER:
    uvsql__c_expr(c, e->a);
    uvsql__c_puts(c, " OVER (");
    if (e->n) {
      uvsql__c_puts(c, "PARTITION BY ");
      uvsql__c_expr_list(c, e->list, e->n);
    }
    if (e->n2) {
      uvsql__c_puts(c, e->n ? " ORDER BY " : "ORDER BY ");
      for (uint32_t i = 0; i < e->n2; i++) {
        if (i)
          uvsql__c_putn(c, ", ", 2);
        order_item(c, e->list2[i]);
      }
    }
    uvsql__c_putn(c, ")", 1);
    return;
  case UVSQL__N_LABEL:
    uvsql__c_expr(c, e->a);
    return;
  case UVSQL__N_ORDER:
    order_item(c, e);
    return;
  case UVSQL__N_EXCLUDED:
    c->d->excluded(c, e->name);
    return;
  case UVSQL__N_ERROR:
    uvsql__c_fail(c, UVSQL_EINVALID_ARGUMENT, "%s", e->name);
    return;
  case UVSQL__N_JSON_GET:
    c->d->json_get(c, e->a, &e->u.value, e->op);
    return;
  }
  uvsql__c_fail(c, UVSQL_EINTERNAL, "unknown expression node %d", e->kind);
}

void uvsql__c_order_list(uvsql__compiler_t *c, uvsql_expr_t *const *e, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (i)
      uvsql__c_putn(c, ", ", 2);
    order_item(c, e[i]);
  }
}

void uvsql__c_stmt(uvsql__compiler_t *c, uvsql_core_stmt_t *s) {
  if (c->rc)
    return;
  if (s->err.code) {
    uvsql__c_fail(c, s->err.code, "%s", s->err.message);
    return;
  }
  switch (s->kind) {
  case UVSQL__S_SELECT:
    uvsql__c_select(c, s);
    return;
  case UVSQL__S_COMPOUND:
    uvsql__c_compound(c, s);
    return;
  case UVSQL__S_INSERT:
    uvsql__c_insert(c, s);
    return;
  case UVSQL__S_UPDATE:
    uvsql__c_update(c, s);
    return;
  case UVSQL__S_DELETE:
    uvsql__c_delete(c, s);
    return;
  case UVSQL__S_DDL:
    uvsql__c_ddl(c, s);
    return;
  }
}

/* ------------------------------------------------------------------ compiling and caching */

int uvsql__compile(uvsql_core_stmt_t *s, const uvsql__sql_dialect_t *d, const uvsql_param_t *user,
                   size_t nuser, uvsql__arena_t *arena, uvsql__core_compiled_t *out,
                   uvsql_error_t *err) {
  uvsql_error_t local;
  uvsql__compiler_t c;
  char buf[1024];
  uvsql_param_t vals[16];
  size_t marks[32];
  memset(&c, 0, sizeof c);
  c.marks = marks;
  c.capmarks = sizeof marks / sizeof marks[0];
  c.buf = buf;
  c.cap = sizeof buf;
  buf[0] = '\0';
  c.values = vals;
  c.capvalues = sizeof vals / sizeof vals[0];
  c.d = d;
  c.arena = arena;
  c.user = user;
  c.nuser = nuser;
  c.err = err ? err : &local;
  uvsql__c_stmt(&c, s);
  /* A generated name must not also be one of the caller's :names. */
  for (size_t i = 0; i < c.nvalues && !c.rc; i++)
    for (int j = 0; j < c.nbind; j++)
      if (strcmp(c.values[i].name, c.bindnames[j]) == 0)
        uvsql__c_fail(&c, UVSQL_EINVALID_ARGUMENT,
                      "bound parameter :%s clashes with a generated name: rename it",
                      c.bindnames[j]);
  uvsql_param_t *values = NULL;
  if (!c.rc && c.nvalues && !(values = uvsql__arena_alloc(arena, c.nvalues * sizeof *values)))
    uvsql__c_fail(&c, UVSQL_ENOMEM, "out of memory compiling a statement");
  uvsql_stmt_t *text = NULL;
  if (!c.rc && uvsql__text_marked(&text, c.buf, c.len, c.marks, c.nmarks, c.err) != 0)
    c.rc = c.err->code;
  if (!c.rc) {
    if (c.nvalues)
      memcpy(values, c.values, c.nvalues * sizeof *values);
    out->text = text;
    out->values = values;
    out->nvalues = c.nvalues;
    out->expanding = (const char **)c.expnames.items;
    out->nexpanding = c.expnames.n;
  }
  if (c.buf_heap)
    free(c.buf);
  if (c.values_heap)
    free(c.values);
  if (c.marks_heap)
    free(c.marks);
  return c.rc;
}

int uvsql__compiled(uvsql_core_stmt_t *s, const uvsql__sql_dialect_t *d, const uvsql_param_t *user,
                    size_t nuser, const uvsql__core_compiled_t **out, uvsql_error_t *err) {
  if (s->err.code) {
    if (err)
      *err = s->err;
    return s->err.code;
  }
  if (!s->has_expanding) {
    uvsql__core_compiled_t *cc = &s->compiled[d->index];
    if (!cc->text) {
      int rc = uvsql__compile(s, d, NULL, 0, &s->arena, cc, err);
      if (rc)
        return rc;
      s->frozen = 1;
    }
    *out = cc;
    return 0;
  }
  uvsql_stmt_free(s->expanded.text);
  memset(&s->expanded, 0, sizeof s->expanded);
  uvsql__arena_free(&s->exp_arena);
  int rc = uvsql__compile(s, d, user, nuser, &s->exp_arena, &s->expanded, err);
  if (rc)
    return rc;
  s->frozen = 1;
  *out = &s->expanded;
  return 0;
}

int uvsql_core_compile(uvsql_core_stmt_t *s, const char *dialect, const uvsql_param_t *params,
                       size_t nparams, const char **sql_out, const uvsql_param_t **values_out,
                       size_t *nvalues_out, uvsql_error_t *err) {
  if (!s)
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT, "uvsql_core_compile: no statement");
  const uvsql__sql_dialect_t *d = uvsql__sql_dialect_find(dialect);
  if (!d)
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "uvsql_core_compile: unknown dialect \"%s\" (postgresql, mariadb, "
                            "sqlite)",
                            dialect ? dialect : "(null)");
  const uvsql__core_compiled_t *cc = NULL; /* set when rc is 0 (gcc -O3 cannot tell) */
  int rc = uvsql__compiled(s, d, params, nparams, &cc, err);
  if (rc)
    return rc;
  if (sql_out)
    *sql_out = uvsql_stmt_sql(cc->text);
  if (values_out)
    *values_out = cc->values;
  if (nvalues_out)
    *nvalues_out = cc->nvalues;
  return 0;
}
