/* src/sql/dialect.c — finding a dialect's SQL hooks (through the one list of backends,
 * src/engine/backends.c), and what the hooks share (type names written from a table). The
 * hook tables themselves are src/sql/dialects/<name>.c. */
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
