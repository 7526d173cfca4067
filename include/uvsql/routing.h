/* uvsql/routing.h — one handle over a PostgreSQL primary and its streaming replicas: reads to
 * the replicas, writes and transactions to the primary, health checks, failover.
 *
 * A router holds one engine (engine.h) per server. The servers' roles are PostgreSQL's own:
 * the router asks each server `pg_is_in_recovery()` and its replay lag on the loop, every
 * health_interval seconds, without blocking, and routes by what they answer.
 *
 * Routing (uvsql_route_t):
 *   AUTO     uvsql_router_execute of a statement that only reads (its text begins with SELECT,
 *            WITH, VALUES, TABLE or SHOW, and it has no FOR UPDATE/SHARE, INSERT, UPDATE,
 *            DELETE, MERGE, nextval or setval) goes to a healthy replica, round robin, else to
 *            the primary; everything else to the primary. uvsql_router_connect (a transaction,
 *            or several statements that belong together) goes to the primary.
 *   PRIMARY  the primary (read-your-writes: a read that must see a write just committed).
 *   REPLICA  a healthy replica when there is one, else the primary.
 * ORM sessions (orm.h, uvsql_session_new_routed): every transaction and every flush on the
 * primary; with uvsql_session_set_route(s, UVSQL_ROUTE_REPLICA) a transaction that begins
 * with a read runs on a replica until the session writes: its first write moves it to the
 * primary (the read-only replica transaction is rolled back, nothing is lost), where it stays
 * until commit or rollback, so a session that wrote reads its own writes.
 *
 * Health: a replica whose check fails, or that lags more than max_replica_lag seconds behind
 * the primary (0 when it has replayed all it received, else now() -
 * pg_last_xact_replay_timestamp()), is taken out for retry_after seconds, then checked again.
 * A statement that fails on a replica with UVSQL_ECONNECT or UVSQL_EDISCONNECT takes it out at
 * once.
 *
 * Failover: when the primary's check or a statement on it fails with UVSQL_ECONNECT or
 * UVSQL_EDISCONNECT, or it answers that it is in recovery, the primary is taken out and every
 * server is checked every 100 ms until one answers pg_is_in_recovery() = false (a standby
 * promoted with pg_ctl promote / pg_promote()). It becomes the primary: the old primary's pool
 * is invalidated (none of its connections is handed out again) and new transactions and
 * writes go to the new one. A server that claims to be a primary while another is (the old
 * primary restarted without being rebuilt as a standby) is never used: split brain is logged,
 * not guessed at. Until a primary is found, writes and uvsql_router_connect(PRIMARY) fail fast
 * with UVSQL_ECONNECT ("no primary").
 *
 * What is retried: NOTHING that may have written. A statement or transaction pending on a
 * primary that dies fails with UVSQL_EDISCONNECT: it may or may not have committed, and only
 * the application can tell whether running it again is safe. With retry_reads set, a
 * statement routed as a read (AUTO read or REPLICA) that fails with UVSQL_ECONNECT or
 * UVSQL_EDISCONNECT runs once more on another server (reads are idempotent).
 *
 * Threading: a router and its engines belong to the loop they were made on.
 * Ownership:
 *   uvsql_router_t   caller (uvsql_router_new -> uvsql_router_dispose, asynchronous)
 *   its engines      the router (uvsql_router_engine: borrowed, valid until dispose)
 *   connections      as in engine.h: from uvsql_router_connect, the caller holds it until
 *                    uvsql_conn_release
 *   futures          as in future.h
 */
#ifndef UVSQL_ROUTING_H
#define UVSQL_ROUTING_H

#include <stdint.h>
#include "engine.h"

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif
UVSQL__EXPORTS_BEGIN

typedef struct uvsql_router_s uvsql_router_t;

typedef enum {
  UVSQL_ROUTE_AUTO = 0, /* reads outside a transaction to a replica, the rest to the primary */
  UVSQL_ROUTE_PRIMARY,  /* the primary */
  UVSQL_ROUTE_REPLICA   /* a healthy replica, else the primary */
} uvsql_route_t;

typedef struct uvsql_router_options_s {
  double max_replica_lag; /* seconds a replica may lag before it is taken out; default 10;
                             <= 0: lag not checked */
  double health_interval; /* seconds between health checks of each server; default 1 */
  double retry_after;     /* seconds an unhealthy replica stays out before it is checked again;
                             default 5 */
  double check_timeout;   /* seconds a health check may take before it counts as failed;
                             default 2 */
  int retry_reads;        /* a read that fails with UVSQL_ECONNECT or UVSQL_EDISCONNECT runs
                             once more on another server; default 0 */
} uvsql_router_options_t;

#define UVSQL_ROUTER_OPTIONS_INIT                                                                  \
  { 10.0, 1.0, 5.0, 2.0, 0 }

/* Makes a router over urls[0..n): urls[0] is the primary to start with, the others its
 * replicas (roles are checked and followed from then on: see Failover). Each URL must be
 * postgresql:// (UVSQL_ENOT_SUPPORTED otherwise); each gets an engine with opt (NULL:
 * defaults). Returns 0, or UVSQL_EINVALID_ARGUMENT (n is 0 or above 64, a bad option), UVSQL_EURL,
 * UVSQL_ENOT_SUPPORTED, UVSQL_ENOMEM with err saying which URL and why. The first health
 * check starts at once. The caller owns *out: end it with uvsql_router_dispose. */
int uvsql_router_new(uvsql_router_t **out, uv_loop_t *loop, const char *const *urls, size_t n,
                     const uvsql_engine_options_t *opt, const uvsql_router_options_t *ropt,
                     uvsql_error_t *err);

/* Disposes every engine (engine.h: uvsql_engine_dispose) and frees the router; the future
 * resolves when all are gone. The router must not be used after this call. */
uvsql_future_t *uvsql_router_dispose(uvsql_router_t *r, uvsql_future_cb cb, void *data);

/* Runs stmt where route says (see Routing). Resolves with a uvsql_result_t* (owned by the
 * future), as uvsql_engine_execute; fails with its errors. Parameters are copied. */
uvsql_future_t *uvsql_router_execute(uvsql_router_t *r, uvsql_stmt_t *stmt,
                                     const uvsql_param_t *params, size_t nparams,
                                     uvsql_route_t route, uvsql_future_cb cb, void *data);
uvsql_future_t *uvsql_router_execute_sql(uvsql_router_t *r, const char *sql,
                                         const uvsql_param_t *params, size_t nparams,
                                         uvsql_route_t route, uvsql_future_cb cb, void *data);

/* Checks a connection out of the primary's pool (AUTO, PRIMARY) or a healthy replica's
 * (REPLICA: for read-only transactions), as uvsql_engine_connect. Without a primary it fails
 * with UVSQL_ECONNECT naming the failover in progress. */
uvsql_future_t *uvsql_router_connect(uvsql_router_t *r, uvsql_route_t route, uvsql_future_cb cb,
                                     void *data);

/* The engine a new statement of that route would use now (borrowed, owned by the router);
 * NULL for PRIMARY while there is no primary. */
uvsql_engine_t *uvsql_router_engine(uvsql_router_t *r, uvsql_route_t route);
/* Which of the router's URLs is the primary now (index into urls), or -1 during failover. */
int uvsql_router_primary_index(const uvsql_router_t *r);
/* Whether server i is in use now (a primary, or a replica within max_replica_lag). */
int uvsql_router_node_healthy(const uvsql_router_t *r, size_t i);

/* Runs a health check of every server now; resolves with NULL when all have answered (or
 * failed). Tests and applications that just promoted a standby use it not to wait for the
 * next health_interval. */
uvsql_future_t *uvsql_router_check(uvsql_router_t *r, uvsql_future_cb cb, void *data);

typedef struct uvsql_router_stats_s {
  uint64_t on_primary;    /* statements and checkouts sent to the primary */
  uint64_t on_replicas;   /* reads sent to replicas */
  uint64_t read_retries;  /* reads run again on another server (retry_reads) */
  uint64_t failovers;     /* times a new primary was taken */
  uint64_t replicas_out;  /* times a replica was taken out (failure or lag) */
  uint64_t health_checks; /* checks sent */
} uvsql_router_stats_t;
void uvsql_router_stats(const uvsql_router_t *r, uvsql_router_stats_t *out);

/* 1 when sql only reads, as AUTO decides it (see Routing); 0 otherwise. */
int uvsql_sql_is_read_only(const char *sql);

UVSQL__EXPORTS_END
#ifdef __cplusplus
}
#endif

#endif
