/* src/sql/dialect.c — the list of SQL dialects the Core compiler knows: one line each. The
 * hook tables themselves live with their backend in src/dialects/<name>/sql_dialect.c. */
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
