/* src/engine/backends.c — the list of backends: one row each, naming its URL schemes, its
 * driver (src/dialects/<name>/) and its SQL dialect (Core's hooks, src/sql/dialects/<name>.c).
 *
 * The engine finds a URL's driver here and Core finds a dialect's hooks here (through
 * stmt_api.h): there is no other list, and the `mysql` alias is written only in this file.
 * The SQL dialect is named, never opened: the engine does not include Core's headers.
 * A driver left out of the build (CMake UVSQL_WITH_<BACKEND>=OFF) keeps its row, with no
 * driver: its SQL can still be compiled, and a URL that asks for it is refused with a message
 * that names the option (engine.c).
 */
#include <string.h>
#include "internal.h"

extern const uvsql__sql_dialect_t uvsql__sql_dialect_postgresql;
extern const uvsql__sql_dialect_t uvsql__sql_dialect_mariadb;
extern const uvsql__sql_dialect_t uvsql__sql_dialect_sqlite;

/* Set by CMake (UVSQL_WITH_<BACKEND>); every backend when built otherwise. */
#ifndef UVSQL_WITH_POSTGRESQL
#define UVSQL_WITH_POSTGRESQL 1
#endif
#ifndef UVSQL_WITH_MARIADB
#define UVSQL_WITH_MARIADB 1
#endif
#ifndef UVSQL_WITH_SQLITE
#define UVSQL_WITH_SQLITE 1
#endif

#if UVSQL_WITH_POSTGRESQL
extern const uvsql__driver_t uvsql__postgresql_driver;
#define PG_DRIVER &uvsql__postgresql_driver
#else
#define PG_DRIVER NULL
#endif
#if UVSQL_WITH_MARIADB
extern const uvsql__driver_t uvsql__mariadb_driver;
#define MY_DRIVER &uvsql__mariadb_driver
#else
#define MY_DRIVER NULL
#endif
#if UVSQL_WITH_SQLITE
extern const uvsql__driver_t uvsql__sqlite_driver;
#define SQ_DRIVER &uvsql__sqlite_driver
#else
#define SQ_DRIVER NULL
#endif

static const uvsql__backend_t backends[] = {
    {"postgresql",
     {"postgresql", "postgres", NULL},
     PG_DRIVER,
     &uvsql__sql_dialect_postgresql,
     "UVSQL_WITH_POSTGRESQL"},
    {"mariadb",
     {"mariadb", "mysql", NULL},
     MY_DRIVER,
     &uvsql__sql_dialect_mariadb,
     "UVSQL_WITH_MARIADB"},
    {"sqlite", {"sqlite", NULL, NULL}, SQ_DRIVER, &uvsql__sql_dialect_sqlite, "UVSQL_WITH_SQLITE"},
};

const uvsql__backend_t *uvsql__backend_find(const char *name) {
  if (!name)
    return NULL;
  for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
    for (size_t j = 0;
         j < sizeof backends[i].schemes / sizeof backends[i].schemes[0] && backends[i].schemes[j];
         j++)
      if (strcmp(backends[i].schemes[j], name) == 0)
        return &backends[i];
  return NULL;
}

int uvsql__backend_keyword(const char *name, const char *word) {
  const uvsql__backend_t *b = uvsql__backend_find(name);
  if (!b || !b->driver || !b->driver->is_keyword)
    return -1;
  return b->driver->is_keyword(word, strlen(word)) ? 1 : 0;
}
