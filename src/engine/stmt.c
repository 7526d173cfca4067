/* src/engine/stmt.c — text statements: "... WHERE id = :id" split once into literal segments
 * and placeholders, then compiled per parameter style ($1 / ? / ?1) on first use.
 *
 * Invariants:
 *  1. A statement never changes after uvsql_text() except for its per-style compiled cache.
 *  2. Names are matched case-sensitively; a name used twice is one parameter ($1 twice, or
 *     bound twice for ?).
 *  3. Nothing inside quotes ('...', "...", `...`, $tag$...$tag$), comments (--, / * * /),
 *     `::` casts or after a backslash (\:) is taken for a placeholder.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

struct uvsql__seg_s {
  size_t off, len; /* literal text in the segment buffer */
  int param;       /* distinct name index following the literal, or -1 */
};

typedef struct {
  char *text; /* literal text with escapes resolved */
  size_t len, cap;
  struct uvsql__seg_s *segs;
  size_t nsegs, capsegs;
  size_t seg_start;
} builder_t;

static int b_putn(builder_t *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 64;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *t = realloc(b->text, cap);
    if (!t)
      return UVSQL_ENOMEM;
    b->text = t;
    b->cap = cap;
  }
  memcpy(b->text + b->len, s, n);
  b->len += n;
  b->text[b->len] = '\0';
  return 0;
}

static int b_seg(builder_t *b, int param) {
  if (b->nsegs == b->capsegs) {
    size_t cap = b->capsegs ? b->capsegs * 2 : 8;
    struct uvsql__seg_s *s = realloc(b->segs, cap * sizeof *s);
    if (!s)
      return UVSQL_ENOMEM;
    b->segs = s;
    b->capsegs = cap;
  }
  b->segs[b->nsegs].off = b->seg_start;
  b->segs[b->nsegs].len = b->len - b->seg_start;
  b->segs[b->nsegs].param = param;
  b->nsegs++;
  b->seg_start = b->len;
  return 0;
}

/* Open addressing over the names while a statement is built (generated statements can hold
 * thousands of placeholders: a multi-row INSERT). Slots hold index + 1; 0 is empty. */
typedef struct {
  uint32_t *slots;
  size_t mask;
} namehash_t;

static size_t name_hash(const char *s, size_t n) {
  size_t h = 2166136261u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 16777619u;
  return h;
}

static int name_is(const char *have, const char *name, size_t n) {
  return strncmp(have, name, n) == 0 && have[n] == '\0';
}

/* The index of name among st's distinct names, added if new; h (may be NULL: a linear scan)
 * has room for every name the statement can hold. */
static int name_index(uvsql_stmt_t *st, namehash_t *h, const char *name, size_t n) {
  size_t slot = 0;
  if (h) {
    for (slot = name_hash(name, n) & h->mask; h->slots[slot]; slot = (slot + 1) & h->mask)
      if (name_is(st->names[h->slots[slot] - 1], name, n))
        return (int)h->slots[slot] - 1;
  } else {
    for (size_t i = 0; i < st->nnames; i++)
      if (name_is(st->names[i], name, n))
        return (int)i;
  }
  /* capacity: 4, then doubled whenever nnames reaches a power of two */
  if (st->nnames == 0 || (st->nnames >= 4 && (st->nnames & (st->nnames - 1)) == 0)) {
    char **names = realloc(st->names, (st->nnames ? st->nnames * 2 : 4) * sizeof *names);
    if (!names)
      return UVSQL_ENOMEM;
    st->names = names;
  }
  if (!(st->names[st->nnames] = strndup(name, n)))
    return UVSQL_ENOMEM;
  if (h)
    h->slots[slot] = (uint32_t)st->nnames + 1;
  return (int)st->nnames++;
}

/* Length of the quoted/comment span starting at p, or 0 if p does not open one. */
static size_t skip_span(const char *p) {
  const char *s = p;
  if (*s == '\'' || *s == '"' || *s == '`') {
    char q = *s++;
    while (*s) {
      if (*s == q) {
        if (s[1] == q) { /* doubled quote */
          s += 2;
          continue;
        }
        return (size_t)(s + 1 - p);
      }
      if (*s == '\\' && q == '\'' && s[1]) /* MySQL-style escape inside '' */
        s++;
      s++;
    }
    return (size_t)(s - p);
  }
  if (s[0] == '-' && s[1] == '-') {
    while (*s && *s != '\n')
      s++;
    return (size_t)(s - p);
  }
  if (s[0] == '/' && s[1] == '*') {
    const char *e = strstr(s + 2, "*/");
    return e ? (size_t)(e + 2 - p) : strlen(p);
  }
  if (s[0] == '$') { /* PostgreSQL dollar quoting: $tag$ ... $tag$ */
    const char *t = s + 1;
    while (isalnum((unsigned char)*t) || *t == '_')
      t++;
    if (*t != '$' || (t > s + 1 && isdigit((unsigned char)s[1])))
      return 0;
    size_t taglen = (size_t)(t + 1 - s);
    const char *body = t + 1;
    while ((body = strchr(body, '$'))) {
      if (strncmp(body, s, taglen) == 0)
        return (size_t)(body + taglen - p);
      body++;
    }
    return strlen(p);
  }
  return 0;
}

void uvsql_stmt_free(uvsql_stmt_t *st) {
  if (!st || --st->refs > 0)
    return;
  for (size_t i = 0; i < st->nnames; i++)
    free(st->names[i]);
  for (int s = 0; s < UVSQL__PARAMSTYLE_COUNT; s++) {
    free(st->compiled[s].sql);
    free(st->compiled[s].order);
  }
  free(st->names);
  free(st->segs);
  free(st->literal);
  free(st->sql);
  free(st);
}

uvsql_stmt_t *uvsql__stmt_ref(uvsql_stmt_t *st) {
  st->refs++;
  return st;
}

int uvsql_text(uvsql_stmt_t **out, const char *sql, uvsql_error_t *err) {
  if (!out || !sql)
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT, "uvsql_text: sql must not be NULL");
  *out = NULL;
  uvsql_stmt_t *st = calloc(1, sizeof *st);
  builder_t b = {0};
  namehash_t h = {NULL, 0}, *hp = NULL;
  int rc = UVSQL_ENOMEM;
  if (!st)
    goto fail;
  st->refs = 1;
  /* Every name starts with ':' and a letter or '_': their count bounds the distinct names, so
   * the hash never fills (linear in the names, where a scan was quadratic). */
  size_t candidates = 0;
  for (const char *c = sql; *c; c++)
    candidates += c[0] == ':' && (isalpha((unsigned char)c[1]) || c[1] == '_');
  if (candidates > 8) {
    size_t nslots = 16;
    while (nslots < 2 * candidates)
      nslots *= 2;
    if (!(h.slots = calloc(nslots, sizeof *h.slots)))
      goto fail;
    h.mask = nslots - 1;
    hp = &h;
  }
  if (b_putn(&b, "", 0) != 0)
    goto fail;
  const char *p = sql;
  while (*p) {
    size_t span = skip_span(p);
    if (span) {
      if (b_putn(&b, p, span))
        goto fail;
      p += span;
    } else if (p[0] == '\\' && p[1] == ':') {
      if (b_putn(&b, ":", 1))
        goto fail;
      p += 2;
    } else if (p[0] == ':' && p[1] == ':') {
      if (b_putn(&b, "::", 2))
        goto fail;
      p += 2;
      while (*p == ':') /* a run of colons is never a placeholder */
        if (b_putn(&b, p++, 1))
          goto fail;
    } else if (p[0] == ':' && (isalpha((unsigned char)p[1]) || p[1] == '_')) {
      const char *name = ++p;
      while (isalnum((unsigned char)*p) || *p == '_')
        p++;
      int idx = name_index(st, hp, name, (size_t)(p - name));
      if (idx < 0 || b_seg(&b, idx))
        goto fail;
    } else {
      if (b_putn(&b, p++, 1))
        goto fail;
    }
  }
  if (b_seg(&b, -1) || !(st->sql = strdup(sql)))
    goto fail;
  st->literal = b.text;
  st->segs = b.segs;
  st->nsegs = b.nsegs;
  free(h.slots);
  *out = st;
  return 0;
fail:
  free(h.slots);
  free(b.text);
  free(b.segs);
  uvsql_stmt_free(st);
  return uvsql__error_set(err, rc, "out of memory building a statement");
}

int uvsql__text_marked(uvsql_stmt_t **out, const char *sql, size_t len, const size_t *marks,
                       size_t nmarks, uvsql_error_t *err) {
  uvsql_stmt_t *st = calloc(1, sizeof *st);
  namehash_t h = {NULL, 0}, *hp = NULL;
  *out = NULL;
  if (!st)
    goto fail;
  if (nmarks > 8) {
    size_t nslots = 16;
    while (nslots < 2 * nmarks)
      nslots *= 2;
    if (!(h.slots = calloc(nslots, sizeof *h.slots)))
      goto fail;
    h.mask = nslots - 1;
    hp = &h;
  }
  st->refs = 1;
  st->sql = malloc(len + 1);
  st->literal = malloc(len + 1);
  st->segs = malloc((nmarks + 1) * sizeof *st->segs);
  if (!st->sql || !st->literal || !st->segs)
    goto fail;
  memcpy(st->sql, sql, len);
  st->sql[len] = '\0';
  size_t pos = 0, lit = 0;
  for (size_t i = 0; i <= nmarks; i++) {
    size_t end = i < nmarks ? marks[i] : len;
    memcpy(st->literal + lit, sql + pos, end - pos);
    st->segs[i].off = lit;
    st->segs[i].len = end - pos;
    st->segs[i].param = -1;
    lit += end - pos;
    if (i < nmarks) {
      const char *name = sql + end + 1, *p = name;
      while (isalnum((unsigned char)*p) || *p == '_')
        p++;
      int idx = name_index(st, hp, name, (size_t)(p - name));
      if (idx < 0)
        goto fail;
      st->segs[i].param = idx;
      pos = (size_t)(p - sql);
    }
  }
  st->literal[lit] = '\0';
  st->nsegs = nmarks + 1;
  free(h.slots);
  *out = st;
  return 0;
fail:
  free(h.slots);
  uvsql_stmt_free(st);
  return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory building a statement");
}

const char *uvsql_stmt_sql(const uvsql_stmt_t *st) {
  return st->sql;
}

size_t uvsql_stmt_param_count(const uvsql_stmt_t *st) {
  return st->nnames;
}

const char *uvsql_stmt_param_name(const uvsql_stmt_t *st, size_t i) {
  return i < st->nnames ? st->names[i] : NULL;
}

const uvsql__compiled_t *uvsql__stmt_compile(uvsql_stmt_t *st, uvsql__paramstyle_t style) {
  uvsql__compiled_t *c = &st->compiled[style];
  if (c->sql)
    return c;
  size_t nph = 0, cap = 1;
  for (size_t i = 0; i < st->nsegs; i++) {
    cap += st->segs[i].len + 8;
    if (st->segs[i].param >= 0)
      nph++;
  }
  if (style != UVSQL__PARAMSTYLE_QMARK)
    nph = st->nnames;
  char *sql = malloc(cap);
  int *order = malloc((nph ? nph : 1) * sizeof *order);
  if (!sql || !order) {
    free(sql);
    free(order);
    return NULL;
  }
  const char *text = st->literal;
  size_t len = 0, k = 0;
  for (size_t i = 0; i < st->nsegs; i++) {
    memcpy(sql + len, text + st->segs[i].off, st->segs[i].len);
    len += st->segs[i].len;
    int p = st->segs[i].param;
    if (p < 0)
      continue;
    if (style == UVSQL__PARAMSTYLE_QMARK) {
      sql[len++] = '?';
      order[k++] = p;
    } else {
      len +=
          (size_t)sprintf(sql + len, "%c%d", style == UVSQL__PARAMSTYLE_DOLLAR ? '$' : '?', p + 1);
    }
  }
  sql[len] = '\0';
  if (style != UVSQL__PARAMSTYLE_QMARK)
    for (size_t i = 0; i < nph; i++)
      order[i] = (int)i;
  c->sql = sql;
  c->len = len;
  c->order = order;
  c->nplaceholders = (int)nph;
  return c;
}

int uvsql__stmt_bind(const uvsql_stmt_t *st, const uvsql__compiled_t *c,
                     const uvsql_param_t *params, size_t nparams, uvsql_value_t *out,
                     uvsql_error_t *err) {
  /* Each distinct name finds its value; the caller's order usually matches, so try the same
   * position first. */
  uvsql_value_t stackvals[16];
  uvsql_value_t *vals = st->nnames <= 16 ? stackvals : malloc(st->nnames * sizeof *vals);
  if (!vals)
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory binding parameters");
  size_t matched = 0;
  int rc = 0;
  for (size_t i = 0; i < st->nnames; i++) {
    size_t j;
    if (i < nparams && params[i].name && strcmp(params[i].name, st->names[i]) == 0) {
      j = i;
    } else {
      for (j = 0; j < nparams; j++)
        if (params[j].name && strcmp(params[j].name, st->names[i]) == 0)
          break;
    }
    if (j == nparams) {
      rc = uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "no value for parameter :%s: pass a uvsql_param_t named \"%s\"",
                            st->names[i], st->names[i]);
      goto done;
    }
    vals[i] = params[j].value;
    matched++;
  }
  if (nparams != matched) {
    /* Some parameter names no placeholder (or is repeated). */
    for (size_t j = 0; j < nparams; j++) {
      size_t i;
      for (i = 0; i < st->nnames; i++)
        if (params[j].name && strcmp(params[j].name, st->names[i]) == 0)
          break;
      if (i == st->nnames) {
        rc = uvsql__error_set(
            err, UVSQL_EINVALID_ARGUMENT, "the statement has no parameter :%s (it has %zu: %s%s%s)",
            params[j].name ? params[j].name : "(null)", st->nnames, st->nnames ? ":" : "",
            st->nnames ? st->names[0] : "", st->nnames > 1 ? ", ..." : "");
        goto done;
      }
    }
    const char *twice = "?";
    for (size_t j = 0; j < nparams && twice[0] == '?'; j++)
      for (size_t k = j + 1; k < nparams; k++)
        if (params[j].name && params[k].name && strcmp(params[j].name, params[k].name) == 0) {
          twice = params[j].name;
          break;
        }
    rc = uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                          "parameter :%s was given twice: pass each name once", twice);
    goto done;
  }
  for (int k = 0; k < c->nplaceholders; k++)
    out[k] = vals[c->order[k]];
done:
  if (vals != stackvals)
    free(vals);
  return rc;
}
