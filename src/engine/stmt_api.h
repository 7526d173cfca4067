/* src/engine/stmt_api.h — the engine's narrow header for Core (src/sql/): what Core may call
 * below it besides the public API (uvsql/engine.h). Core never includes engine/internal.h.
 *
 *   - uvsql__text_marked: a text statement from Core's compiled SQL, whose parameter marks
 *     are already known (no scanning);
 *   - uvsql__backend_find: the one list of backends (backends.c), for a dialect's SQL hooks;
 *   - uvsql__backend_keyword: whether the backend's client library calls a word a keyword.
 */
#ifndef UVSQL_ENGINE_STMT_API_H
#define UVSQL_ENGINE_STMT_API_H

#include <stddef.h>
#include "uvsql/engine.h"

typedef struct uvsql__driver_s uvsql__driver_t;           /* src/dialects/driver.h */
typedef struct uvsql__sql_dialect_s uvsql__sql_dialect_t; /* src/sql/dialect.h */

/* One backend. Constant data. */
typedef struct uvsql__backend_s {
  const char *name;                /* "postgresql", "mariadb", "sqlite": driver and dialect */
  const char *schemes[3];          /* the URL schemes (and dialect names) that mean it */
  const uvsql__driver_t *driver;   /* NULL when this uvsql was built without it */
  const uvsql__sql_dialect_t *sql; /* Core's SQL hooks (src/sql/dialects/<name>.c) */
  const char *option;              /* the CMake option that builds its driver */
} uvsql__backend_t;

/* The backend a lower-case URL scheme or dialect name means ("mysql" is MariaDB), or NULL. */
const uvsql__backend_t *uvsql__backend_find(const char *name);

/* 1 if the client library of backend name (built in) says word is a keyword of its SQL
 * (case-insensitive), 0 if it says not, -1 when it cannot say (no such hook, or the driver is
 * not built). SQLite's library lists its keywords; the servers' libraries do not. */
int uvsql__backend_keyword(const char *name, const char *word);

/* For SQL that a generator wrote (src/sql/): builds the statement without scanning the text.
 * marks[i] is the byte offset of the ':' of the i-th placeholder; its name is the run of
 * [A-Za-z0-9_] after it. The text has no other placeholders and no escapes. The text is
 * copied. Returns 0 or UVSQL_ENOMEM (err filled). The caller owns *out. */
int uvsql__text_marked(uvsql_stmt_t **out, const char *sql, size_t len, const size_t *marks,
                       size_t nmarks, uvsql_error_t *err);

#endif
