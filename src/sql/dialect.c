/* src/sql/dialect.c — finding a dialect's SQL hooks (through the one list of backends,
 * src/engine/backends.c), and what the hooks share (type names written from a table). The
 * hook tables themselves are src/sql/dialects/<name>.c. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "dialect.h"
#include "../engine/stmt_api.h"

const uvsql__sql_dialect_t *uvsql__sql_dialect_find(const char *name) {
  const uvsql__backend_t *b = uvsql__backend_find(name);
  return b ? b->sql : NULL;
}

void uvsql__c_type_name(uvsql__compiler_t *c, uvsql_sqltype_t t, uvsql__type_names_t names) {
  if ((unsigned)t.kind >= UVSQL__SQLT_NKINDS || !names[t.kind]) {
    uvsql__c_fail(c, UVSQL_EINVALID_ARGUMENT, "unknown column type %d", (int)t.kind);
    return;
  }
  uvsql__c_puts(c, names[t.kind]);
  if (t.kind == UVSQL_SQLT_NUMERIC && t.precision > 0)
    uvsql__c_printf(c, "(%d, %d)", t.precision, t.scale);
  else if (t.kind == UVSQL_SQLT_STRING && t.length > 0)
    uvsql__c_printf(c, "(%d)", t.length);
}

int uvsql__word_in(const char *word, const char *const *sorted, size_t n) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int r = strcmp(word, sorted[mid]);
    if (r == 0)
      return 1;
    if (r < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return 0;
}

const char *uvsql__c_json_path(uvsql__compiler_t *c, const uvsql_value_t *key, int sqlite) {
  char *out;
  if (key->type == UVSQL_TYPE_INT64) {
    char tmp[48];
    int64_t i = key->u.i64;
    int n = i >= 0 ? snprintf(tmp, sizeof tmp, "$[%" PRId64 "]", i)
            : sqlite
                ? snprintf(tmp, sizeof tmp, "$[#-%" PRIu64 "]", (uint64_t)0 - (uint64_t)i)
                : snprintf(tmp, sizeof tmp, "$[last-%" PRIu64 "]", (uint64_t)0 - (uint64_t)i - 1);
    out = uvsql__arena_strndup(c->arena, tmp, (size_t)n);
  } else {
    const char *k = key->u.s.ptr;
    size_t len = key->u.s.len, extra = 0;
    for (size_t i = 0; i < len; i++)
      if (k[i] == '"' || k[i] == '\\')
        extra++;
    if (extra && sqlite) {
      uvsql__c_fail(c, UVSQL_ENOT_SUPPORTED,
                    "sqlite: the JSON key \"%.40s\" holds '\"' or '\\', which SQLite's JSON paths "
                    "cannot name: rename the key, or read the document and look it up in C",
                    k);
      return NULL;
    }
    out = uvsql__arena_alloc(c->arena, len + extra + 5);
    if (out) {
      size_t o = 0;
      memcpy(out, "$.\"", 3);
      o = 3;
      for (size_t i = 0; i < len; i++) {
        if (k[i] == '"' || k[i] == '\\')
          out[o++] = '\\';
        out[o++] = k[i];
      }
      out[o++] = '"';
      out[o] = '\0';
    }
  }
  if (!out)
    uvsql__c_fail(c, UVSQL_ENOMEM, "out of memory compiling a statement");
  return out;
}

void uvsql__c_enum_labels(uvsql__compiler_t *c, const uvsql_enum_type_t *e, int backslash_escapes) {
  if (!e || !e->labels || e->nlabels == 0) {
    uvsql__c_fail(c, UVSQL_EINVALID_ARGUMENT,
                  "enum type %s has no labels: an ENUM needs at least one",
                  e && e->name ? e->name : "(NULL)");
    return;
  }
  uvsql__c_putn(c, "(", 1);
  for (size_t i = 0; i < e->nlabels; i++) {
    const char *l = e->labels[i];
    if (!l) {
      uvsql__c_fail(c, UVSQL_EINVALID_ARGUMENT, "enum type %s: label %zu is NULL", e->name, i);
      return;
    }
    if (i)
      uvsql__c_putn(c, ", ", 2);
    uvsql__c_putn(c, "'", 1);
    for (const char *p = l; *p; p++) {
      if (*p == '\'' || (backslash_escapes && *p == '\\'))
        uvsql__c_putn(c, p, 1); /* doubled: '' and \\ */
      uvsql__c_putn(c, p, 1);
    }
    uvsql__c_putn(c, "'", 1);
  }
  uvsql__c_putn(c, ")", 1);
}

int uvsql__enum_max_len(const uvsql_enum_type_t *e) {
  size_t n = 1;
  for (size_t i = 0; e && e->labels && i < e->nlabels; i++)
    if (e->labels[i] && strlen(e->labels[i]) > n)
      n = strlen(e->labels[i]);
  return (int)n;
}
