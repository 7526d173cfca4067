/* bench/lib/raw_pg.h — the libpq helpers the raw PostgreSQL sides share (raw_pg.c,
 * raw_pg_orm.c): one way to connect and to run a statement that returns nothing to read. */
#ifndef UVSQL_BENCH_RAW_PG_H
#define UVSQL_BENCH_RAW_PG_H

#include <endian.h>
#include <libpq-fe.h>
#include <stdint.h>
#include <string.h>

/* timestamptz binary: µs since 2000-01-01 UTC; + this = µs since 1970-01-01. */
#define PG_EPOCH_US INT64_C(946684800000000)

/* A connection, or NULL after printing why (the caller owns it: PQfinish). */
PGconn *bench_pg_open(const char *conninfo);
/* Runs sql; 0, or -1 after printing the error. */
int bench_pg_exec(PGconn *c, const char *sql);
/* PQprepare; 0, or -1 after printing the error. */
int bench_pg_prepare(PGconn *c, const char *name, const char *sql, int nparams, const Oid *types);

static inline uint64_t bench_be64(const char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return be64toh(v);
}

#endif
