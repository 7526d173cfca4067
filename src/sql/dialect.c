/* src/sql/dialect.c — the list of SQL dialects the Core compiler knows: one line each, and
 * what their hooks share (type names written from a table). The hook tables themselves live
 * with their backend in src/dialects/<name>/sql_dialect.c. */
#include <string.h>
#include "dialect.h"

static const uvsql__sql_dialect_t *const dialects[UVSQL__NDIALECTS] = {
    &uvsql__sql_dialect_postgresql,
    &uvsql__sql_dialect_mariadb,
    &uvsql__sql_dialect_sqlite,
};

const uvsql__sql_dialect_t *uvsql__sql_dialect_find(const char *name) {
  if (!name)
    return NULL;
  for (size_t i = 0; i < UVSQL__NDIALECTS; i++)
    if (strcmp(dialects[i]->name, name) == 0)
      return dialects[i];
  if (strcmp(name, "mysql") == 0)
    return &uvsql__sql_dialect_mariadb;
  return NULL;
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
