/* bench/lib/raw_mariadb.h — the workloads done directly with MariaDB Connector/C (its blocking
 * API), as bench.h's contract defines them. url is uvsql's mariadb:// URL
 * (mariadb://user:pass@host:port/db[?unix_socket=...]). Every function returns 0, or -1 after
 * printing the library's error to stderr. mariadb_streaming is declared in bench.h. */
#ifndef UVSQL_BENCH_RAW_MARIADB_H
#define UVSQL_BENCH_RAW_MARIADB_H

#include <stdint.h>
#include "bench.h"

/* bench_rows with nrows rows; an existing table with nrows rows is kept. */
int mariadb_setup(const char *url, int64_t nrows);
/* Prepared SELECT of every row, binary protocol, fetched row by row into typed buffers. */
int mariadb_large_resultset(const char *url, bench_run_t *out);
/* The same fetch into a malloc'd array of bench_raw_row_t with strdup'd names. */
int mariadb_orm_large_resultset(const char *url, bench_run_t *out);
/* n prepared primary-key lookups, one after another, keys BENCH_KEY(i, nkeys). */
int mariadb_short_selects(const char *url, int n, int64_t nkeys, bench_run_t *out);
/* The same lookups, each filling one bench_raw_row_t. */
int mariadb_get_lookups(const char *url, int n, int64_t nkeys, bench_run_t *out);
/* conns connections, one thread each, n / conns prepared lookups per connection. */
int mariadb_concurrent_selects(const char *url, int n, int conns, int64_t nkeys, bench_run_t *out);
/* bench_eager_author / bench_eager_book dropped, recreated and filled. */
int mariadb_eager_setup(const char *url, int nauthors, int nbooks);
/* Authors, then their books WHERE author_id IN (BENCH_EAGER_CHUNK keys); best of
 * BENCH_EAGER_RUNS. */
int mariadb_eager_selectin(const char *url, bench_run_t *out);
/* One authors LEFT OUTER JOIN books ordered by author; best of BENCH_EAGER_RUNS. */
int mariadb_eager_joined(const char *url, bench_run_t *out);
/* bench_orm_rows dropped and recreated (keys start at 1). */
int mariadb_bulk_insert_setup(const char *url);
/* One run: BEGIN, prepared INSERT ... VALUES (?, ?) x BENCH_INSERT_BATCH ... RETURNING id,
 * keys written into the rows, COMMIT. */
int mariadb_bulk_insert(const char *url, int nrows, bench_run_t *out);

#endif
