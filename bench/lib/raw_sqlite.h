/* bench/lib/raw_sqlite.h — the sqlite3 helpers the raw SQLite sides share (raw_sqlite.c,
 * raw_sqlite_orm.c). */
#ifndef UVSQL_BENCH_RAW_SQLITE_H
#define UVSQL_BENCH_RAW_SQLITE_H

#include <sqlite3.h>

/* The database at path, or NULL after printing why (the caller owns it: sqlite3_close). */
sqlite3 *bench_sqlite_open(const char *path);
/* sqlite3_exec of sql (several statements allowed); 0, or -1 after printing the error. */
int bench_sqlite_exec(sqlite3 *db, const char *sql);
/* sqlite3_prepare_v2; NULL after printing the error. */
sqlite3_stmt *bench_sqlite_prepare(sqlite3 *db, const char *sql);

#endif
