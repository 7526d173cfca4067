/* src/engine/routing.c — the router (uvsql/routing.h): one engine per PostgreSQL server, roles
 * from pg_is_in_recovery(), reads to healthy replicas, the rest to the primary, failover.
 *
 * Each server (node) has two engines: `engine` for the application's statements and `check`,
 * a pool of one connection with check_timeout as its connect and command timeout, for the
 * health checks, so that a check never waits behind the application's load.
 *
 * Invariants:
 *  1. r->primary is the node writes go to, or -1 while there is none (failover). It changes
 *     only in take_primary (a node answered pg_is_in_recovery() = false while there was no
 *     primary) and lose_primary (its check failed, or it is in recovery).
 *  2. A node that answers "not in recovery" while another node is the primary is fenced:
 *     never used, until it answers "in recovery" (rebuilt as a standby).
 *  3. Nothing that may have written is run twice: only statements routed as reads
 *     (x->read) are retried, once, with retry_reads.
 *  4. The router is freed once disposing, every engine has disposed, its timer has closed and
 *     no callback of its own is pending (r->nops == 0).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "uvsql/routing.h"
#include "internal.h"

#define FAILOVER_CHECK_MS 100
#define MAX_NODES         64

/* In recovery; whether WAL received is not replayed yet; the age of the last replayed commit.
 * The age alone overstates the lag of a standby that was idle (its last replayed commit is
 * old when new WAL arrives), so the lag used (apply) is the smaller of the age and how long
 * the router has seen the standby behind without a break. */
static const char HEALTH_SQL[] =
    "SELECT pg_is_in_recovery(), pg_is_in_recovery() AND pg_last_wal_receive_lsn() IS "
    "DISTINCT FROM pg_last_wal_replay_lsn(), COALESCE(extract(epoch FROM now() - "
    "pg_last_xact_replay_timestamp()), 0)::float8";

typedef struct {
  uvsql_engine_t *engine; /* the application's statements */
  uvsql_engine_t *check;  /* health checks: one connection */
  int up;                 /* answered its last check */
  int in_recovery;
  int fenced; /* invariant 2 */
  double lag;
  uint64_t out_until_ms;    /* a replica taken out: not used nor checked before then */
  uint64_t behind_since_ms; /* checks have seen it behind since then without a break; 0: not */
  int checking;
} node_t;

struct uvsql_router_s {
  uv_loop_t *loop;
  node_t *nodes;
  size_t n;
  int primary;
  size_t rr; /* round robin over replicas */
  uvsql_router_options_t opt;
  uv_timer_t timer;
  int fast; /* the timer runs at FAILOVER_CHECK_MS */
  uvsql_router_stats_t stats;
  int nops; /* callbacks of ours still to come (invariant 4) */
  int ncheck_round;
  uvsql_future_t **round_waiters; /* uvsql_router_check futures */
  size_t nround_waiters;
  int disposing;
  int nengines_open;
  int timer_closed;
  uvsql_future_t *dispose_future;
};

static void router_log(uvsql_router_t *r, size_t i, const char *fmt, ...) UVSQL__PRINTF(3, 4);

static void router_log(uvsql_router_t *r, size_t i, const char *fmt, ...) {
  char line[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  uvsql__engine_log(r->nodes[i].engine, "router: %s: %s", uvsql_engine_url(r->nodes[i].engine),
                    line);
}

/* ------------------------------------------------------------------ read-only statements */

static int word_is(const char *w, size_t n, const char *kw) {
  size_t k = strlen(kw);
  if (n != k)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (tolower((unsigned char)w[i]) != kw[i])
      return 0;
  return 1;
}

int uvsql_sql_is_read_only(const char *sql) {
  static const char *const first_ok[] = {"select", "with", "values", "table", "show", NULL};
  static const char *const writes[] = {"insert", "update",  "delete", "merge", "into", "share",
                                       "lock",   "nextval", "setval", "copy",  NULL};
  if (!sql)
    return 0;
  int first = 1;
  for (const char *p = sql; *p;) {
    unsigned char c = (unsigned char)*p;
    if (isspace(c) || c == '(' || c == ')' || c == ',') {
      p++;
    } else if (c == '-' && p[1] == '-') {
      p += strcspn(p, "\n");
    } else if (c == '/' && p[1] == '*') {
      const char *e = strstr(p + 2, "*/");
      if (!e)
        return 0;
      p = e + 2;
    } else if (c == '\'' || c == '"') { /* a string or a quoted identifier: skipped whole */
      const char *e = strchr(p + 1, (char)c);
      while (e && e[1] == (char)c)
        e = strchr(e + 2, (char)c);
      if (!e)
        return 0;
      p = e + 1;
    } else if (c == '$') { /* $n parameters, $tag$ quoting: too rare to route; primary */
      return 0;
    } else if (c == ';') { /* a second statement could write */
      for (p++; *p && isspace((unsigned char)*p); p++)
        ;
      if (*p)
        return 0;
    } else if (isalpha(c) || c == '_') {
      size_t n = 0;
      while (isalnum((unsigned char)p[n]) || p[n] == '_')
        n++;
      if (first) {
        size_t k;
        for (k = 0; first_ok[k]; k++)
          if (word_is(p, n, first_ok[k]))
            break;
        if (!first_ok[k])
          return 0;
        first = 0;
      } else {
        for (size_t k = 0; writes[k]; k++)
          if (word_is(p, n, writes[k]))
            return 0;
      }
      p += n;
    } else {
      p++;
    }
  }
  return !first;
}

/* ------------------------------------------------------------------ picking a node */

static int replica_usable(uvsql_router_t *r, size_t i) {
  node_t *nd = &r->nodes[i];
  if ((int)i == r->primary || !nd->up || !nd->in_recovery || nd->fenced)
    return 0;
  if (uv_now(r->loop) < nd->out_until_ms)
    return 0;
  return !(r->opt.max_replica_lag > 0 && nd->lag > r->opt.max_replica_lag);
}

/* The node for a statement: -1 when it needs the primary and there is none. exclude: a node
 * not to pick (a retry), or -1. */
static int pick(uvsql_router_t *r, uvsql_route_t route, int read, int exclude) {
  if (route == UVSQL_ROUTE_PRIMARY || (route == UVSQL_ROUTE_AUTO && !read))
    return r->primary;
  for (size_t k = 0; k < r->n; k++) {
    size_t i = (r->rr + k) % r->n;
    if ((int)i != exclude && replica_usable(r, i)) {
      r->rr = i + 1;
      return (int)i;
    }
  }
  return r->primary == exclude ? -1 : r->primary;
}

int uvsql_router_primary_index(const uvsql_router_t *r) {
  return r ? r->primary : -1;
}

int uvsql_router_node_healthy(const uvsql_router_t *r, size_t i) {
  if (!r || i >= r->n)
    return 0;
  if ((int)i == r->primary)
    return 1;
  return replica_usable((uvsql_router_t *)r, i);
}

uvsql_engine_t *uvsql_router_engine(uvsql_router_t *r, uvsql_route_t route) {
  if (!r)
    return NULL;
  int i = pick(r, route, 1, -1);
  return i < 0 ? NULL : r->nodes[i].engine;
}

void uvsql_router_stats(const uvsql_router_t *r, uvsql_router_stats_t *out) {
  *out = r->stats;
}

/* ------------------------------------------------------------------ roles and failover */

static void arm_timer(uvsql_router_t *r, int fast);

static void lose_primary(uvsql_router_t *r, size_t i, const char *why) {
  if (r->primary != (int)i)
    return;
  r->primary = -1;
  router_log(r, i,
             "the primary is lost (%s): its pool is invalidated; looking for a new primary "
             "among the servers every %d ms",
             why, FAILOVER_CHECK_MS);
  uvsql__pool_invalidate_all(r->nodes[i].engine, "the primary was lost (failover)");
  arm_timer(r, 1);
}

static void take_primary(uvsql_router_t *r, size_t i) {
  r->primary = (int)i;
  r->nodes[i].out_until_ms = 0;
  r->stats.failovers++;
  router_log(r, i,
             "is the primary now (pg_is_in_recovery() = false): new transactions and "
             "writes go there");
  arm_timer(r, 0);
}

static void take_out(uvsql_router_t *r, size_t i, const char *why) {
  node_t *nd = &r->nodes[i];
  if (uv_now(r->loop) >= nd->out_until_ms) {
    r->stats.replicas_out++;
    router_log(r, i, "replica taken out for %.3g s: %s", r->opt.retry_after, why);
  }
  nd->out_until_ms = uv_now(r->loop) + (uint64_t)(r->opt.retry_after * 1000.0 + 0.5);
}

/* What a health check found (err NULL: it answered). */
static void apply(uvsql_router_t *r, size_t i, const uvsql_error_t *err, int in_recovery,
                  double lag) {
  node_t *nd = &r->nodes[i];
  if (err) {
    nd->up = 0;
    if ((int)i == r->primary)
      lose_primary(r, i, err->message);
    else if (nd->in_recovery)
      take_out(r, i, err->message);
    return;
  }
  nd->up = 1;
  nd->lag = lag;
  nd->in_recovery = in_recovery;
  if (!in_recovery) {
    if (r->primary == (int)i)
      return;
    if (r->primary < 0 && !nd->fenced) {
      take_primary(r, i);
      return;
    }
    if (!nd->fenced)
      router_log(r, i,
                 "answers that it is a primary while another server is: it is not used "
                 "(split brain; rebuild it as a standby of the primary)");
    nd->fenced = 1;
    return;
  }
  nd->fenced = 0;
  if ((int)i == r->primary)
    lose_primary(r, i, "it is in recovery: a standby now");
  if (r->opt.max_replica_lag > 0 && lag > r->opt.max_replica_lag) {
    char why[120];
    snprintf(why, sizeof why, "it lags %.3g s behind the primary (max_replica_lag %.3g s)", lag,
             r->opt.max_replica_lag);
    take_out(r, i, why);
  }
}

/* ------------------------------------------------------------------ health checks */

typedef struct {
  uvsql_router_t *r;
  size_t i;
  uvsql_conn_t *conn;
} check_t;

static void maybe_free(uvsql_router_t *r);

static void round_done(uvsql_router_t *r) {
  uvsql_future_t **w = r->round_waiters;
  size_t n = r->nround_waiters;
  r->round_waiters = NULL;
  r->nround_waiters = 0;
  for (size_t k = 0; k < n; k++) {
    uvsql__future_resolve(w[k], NULL, NULL);
    uvsql_future_unref(w[k]);
  }
  free(w);
}

static void check_done(check_t *ck, const uvsql_error_t *err, int in_recovery, double lag) {
  uvsql_router_t *r = ck->r;
  r->nodes[ck->i].checking = 0;
  if (!r->disposing)
    apply(r, ck->i, err, in_recovery, lag);
  free(ck);
  r->nops--;
  if (--r->ncheck_round == 0 && r->nround_waiters)
    round_done(r);
  maybe_free(r);
}

static void check_answered(uvsql_future_t *f, void *data) {
  check_t *ck = data;
  const uvsql_error_t *err = uvsql_future_error(f);
  int rec = 0, behind = 0;
  double lag = 0, age = 0;
  uvsql_error_t e;
  if (!err) {
    const uvsql_result_t *res = uvsql_future_value(f);
    if (uvsql_result_bool(res, 0, 0, &rec) != 0 || uvsql_result_bool(res, 0, 1, &behind) != 0 ||
        uvsql_result_double(res, 0, 2, &age) != 0) {
      uvsql__error_set(&e, UVSQL_EDATA, "the health check's answer could not be read");
      err = &e;
    }
  }
  node_t *nd = &ck->r->nodes[ck->i];
  if (err || !behind) {
    nd->behind_since_ms = 0;
  } else {
    uint64_t now = uv_now(ck->r->loop);
    if (!nd->behind_since_ms)
      nd->behind_since_ms = now;
    double seen = (double)(now - nd->behind_since_ms) / 1000.0;
    lag = age < seen ? age : seen;
  }
  uvsql_conn_release(ck->conn);
  check_done(ck, err, rec, lag);
}

static void check_connected(uvsql_future_t *f, void *data) {
  check_t *ck = data;
  const uvsql_error_t *err = uvsql_future_error(f);
  if (err) {
    check_done(ck, err, 0, 0);
    return;
  }
  ck->conn = uvsql_future_value(f);
  if (!uvsql_conn_execute_sql(ck->conn, HEALTH_SQL, NULL, 0, check_answered, ck)) {
    uvsql_error_t e;
    uvsql__error_set(&e, UVSQL_ENOMEM, "out of memory running a health check");
    uvsql_conn_release(ck->conn);
    check_done(ck, &e, 0, 0);
  }
}

static void start_check(uvsql_router_t *r, size_t i) {
  node_t *nd = &r->nodes[i];
  check_t *ck;
  if (nd->checking || r->disposing || !(ck = calloc(1, sizeof *ck)))
    return;
  ck->r = r;
  ck->i = i;
  nd->checking = 1;
  r->nops++;
  r->ncheck_round++;
  r->stats.health_checks++;
  if (!uvsql_engine_connect(nd->check, check_connected, ck)) {
    uvsql_error_t e;
    uvsql__error_set(&e, UVSQL_ENOMEM, "out of memory running a health check");
    check_done(ck, &e, 0, 0);
  }
}

static void on_timer(uv_timer_t *t) {
  uvsql_router_t *r = t->data;
  uint64_t now = uv_now(r->loop);
  for (size_t i = 0; i < r->n; i++)
    if (r->primary < 0 || (int)i == r->primary || now >= r->nodes[i].out_until_ms)
      start_check(r, i);
}

static void arm_timer(uvsql_router_t *r, int fast) {
  if (r->disposing)
    return;
  uint64_t ms = fast ? FAILOVER_CHECK_MS : (uint64_t)(r->opt.health_interval * 1000.0 + 0.5);
  r->fast = fast;
  uv_timer_start(&r->timer, on_timer, fast ? 0 : ms, ms ? ms : 1);
}

uvsql_future_t *uvsql_router_check(uvsql_router_t *r, uvsql_future_cb cb, void *data) {
  if (!r)
    return NULL;
  uvsql_future_t *f = uvsql__future_new(r->loop);
  if (!f)
    return NULL;
  uvsql_future_t **w = realloc(r->round_waiters, (r->nround_waiters + 1) * sizeof *w);
  if (!w) {
    uvsql_error_t e;
    uvsql__error_set(&e, UVSQL_ENOMEM, "out of memory starting a health check");
    uvsql__future_fail_soon(f, &e);
    return uvsql__future_return(f, cb, data);
  }
  r->round_waiters = w;
  w[r->nround_waiters++] = uvsql_future_ref(f);
  uvsql__future_return(f, cb, data);
  for (size_t i = 0; i < r->n; i++)
    start_check(r, i);
  if (r->ncheck_round == 0) /* nothing could start (disposing) */
    uvsql__defer(r->loop, (void (*)(void *))round_done, r);
  return f;
}

/* A statement or checkout on node i failed with err: a server that may be gone is checked
 * now rather than at the next interval. */
static void note_failure(uvsql_router_t *r, int i, const uvsql_error_t *err) {
  if (i < 0 || r->disposing || (err->code != UVSQL_ECONNECT && err->code != UVSQL_EDISCONNECT))
    return;
  if (i == r->primary) {
    start_check(r, (size_t)i);
    return;
  }
  take_out(r, (size_t)i, err->message);
}

/* ------------------------------------------------------------------ statements */

typedef struct {
  uvsql_router_t *r;
  uvsql_future_t *outer;
  uvsql_future_t *inner; /* borrowed while pending */
  uvsql_stmt_t *stmt;
  uvsql_param_t *params; /* one block with their names and data */
  size_t nparams;
  uvsql_route_t route;
  int read;
  int retried;
  int node;
} exec_t;

static void exec_free(exec_t *x) {
  x->r->nops--;
  uvsql_stmt_free(x->stmt);
  free(x->params);
  uvsql_router_t *r = x->r;
  free(x);
  maybe_free(r);
}

static int exec_cancel(void *data) {
  exec_t *x = data;
  return x->inner ? uvsql_future_cancel(x->inner) : -1;
}

static void no_primary(uvsql_router_t *r, uvsql_error_t *e) {
  uvsql__error_set(e, UVSQL_ECONNECT,
                   "the router has no primary now: the last one was lost and no server of the "
                   "%zu has answered pg_is_in_recovery() = false yet (failover in progress: "
                   "promote a standby; nothing was run)",
                   r->n);
}

static void exec_done(uvsql_future_t *f, void *data);

static void exec_submit(exec_t *x, int exclude) {
  uvsql_router_t *r = x->r;
  x->node = pick(r, x->route, x->read, exclude);
  if (x->node < 0) {
    uvsql_error_t e;
    no_primary(r, &e);
    uvsql__future_fail(x->outer, &e);
    uvsql_future_unref(x->outer);
    exec_free(x);
    return;
  }
  if (x->node == r->primary)
    r->stats.on_primary++;
  else
    r->stats.on_replicas++;
  x->inner =
      uvsql_engine_execute(r->nodes[x->node].engine, x->stmt, x->params, x->nparams, exec_done, x);
  if (!x->inner) {
    uvsql__future_fail_code(x->outer, UVSQL_ENOMEM, "out of memory running a statement");
    uvsql_future_unref(x->outer);
    exec_free(x);
  }
}

static void exec_done(uvsql_future_t *f, void *data) {
  exec_t *x = data;
  uvsql_router_t *r = x->r;
  const uvsql_error_t *err = uvsql_future_error(f);
  x->inner = NULL;
  if (!err) {
    uvsql__future_resolve(x->outer, uvsql_future_take(f), (uvsql_value_free_cb)uvsql_result_free);
  } else {
    note_failure(r, x->node, err);
    if (x->read && r->opt.retry_reads && !x->retried && !r->disposing &&
        (err->code == UVSQL_ECONNECT || err->code == UVSQL_EDISCONNECT)) {
      x->retried = 1;
      r->stats.read_retries++;
      exec_submit(x, x->node); /* invariant 3: reads only */
      return;
    }
    uvsql__future_fail(x->outer, err);
  }
  uvsql_future_unref(x->outer);
  exec_free(x);
}

uvsql_future_t *uvsql_router_execute(uvsql_router_t *r, uvsql_stmt_t *stmt,
                                     const uvsql_param_t *params, size_t nparams,
                                     uvsql_route_t route, uvsql_future_cb cb, void *data) {
  if (!r)
    return NULL;
  uvsql_future_t *f = uvsql__future_new(r->loop);
  if (!f)
    return NULL;
  uvsql_error_t e;
  if (!stmt || (nparams && !params) || route < UVSQL_ROUTE_AUTO || route > UVSQL_ROUTE_REPLICA) {
    uvsql__error_set(&e, UVSQL_EINVALID_ARGUMENT,
                     "uvsql_router_execute: stmt is NULL, params NULL with nparams > 0, or route "
                     "is not UVSQL_ROUTE_AUTO, _PRIMARY or _REPLICA");
    uvsql__future_fail_soon(f, &e);
    return uvsql__future_return(f, cb, data);
  }
  exec_t *x = calloc(1, sizeof *x);
  size_t bytes = nparams * sizeof(uvsql_param_t);
  for (size_t k = 0; k < nparams; k++)
    bytes += (params[k].name ? strlen(params[k].name) + 1 : 0) +
             uvsql__value_extra(&params[k].value) + 8;
  if (x && nparams && !(x->params = malloc(bytes))) {
    free(x);
    x = NULL;
  }
  if (!x) {
    uvsql__error_set(&e, UVSQL_ENOMEM, "out of memory routing a statement");
    uvsql__future_fail_soon(f, &e);
    return uvsql__future_return(f, cb, data);
  }
  if (nparams) {
    char *store = (char *)(x->params + nparams);
    for (size_t k = 0; k < nparams; k++) {
      x->params[k] = params[k];
      if (params[k].name) {
        size_t n = strlen(params[k].name) + 1;
        memcpy(store, params[k].name, n);
        x->params[k].name = store;
        store += n;
      }
      uvsql__value_own(&x->params[k].value, &store);
    }
  }
  x->r = r;
  x->nparams = nparams;
  x->stmt = uvsql__stmt_ref(stmt);
  x->route = route;
  x->read = route == UVSQL_ROUTE_REPLICA ||
            (route == UVSQL_ROUTE_AUTO && uvsql_sql_is_read_only(uvsql_stmt_sql(stmt)));
  x->outer = uvsql_future_ref(f);
  r->nops++;
  uvsql__future_set_canceller(f, exec_cancel, x);
  uvsql__future_return(f, cb, data);
  exec_submit(x, -1);
  return f;
}

uvsql_future_t *uvsql_router_execute_sql(uvsql_router_t *r, const char *sql,
                                         const uvsql_param_t *params, size_t nparams,
                                         uvsql_route_t route, uvsql_future_cb cb, void *data) {
  if (!r)
    return NULL;
  uvsql_stmt_t *stmt = NULL;
  uvsql_error_t e;
  if (uvsql_text(&stmt, sql, &e) != 0) {
    uvsql_future_t *f = uvsql__future_new(r->loop);
    if (!f)
      return NULL;
    uvsql__future_fail_soon(f, &e);
    return uvsql__future_return(f, cb, data);
  }
  uvsql_future_t *f = uvsql_router_execute(r, stmt, params, nparams, route, cb, data);
  uvsql_stmt_free(stmt); /* the router holds its own reference */
  return f;
}

/* ------------------------------------------------------------------ checkouts */

typedef struct {
  uvsql_router_t *r;
  int node;
} watch_t;

static void connect_settled(uvsql_future_t *f, void *data) {
  watch_t *w = data;
  const uvsql_error_t *err = uvsql_future_error(f);
  if (err)
    note_failure(w->r, w->node, err);
  w->r->nops--;
  uvsql_router_t *r = w->r;
  free(w);
  maybe_free(r);
}

uvsql_future_t *uvsql_router_connect(uvsql_router_t *r, uvsql_route_t route, uvsql_future_cb cb,
                                     void *data) {
  if (!r)
    return NULL;
  int i = pick(r, route, route == UVSQL_ROUTE_REPLICA, -1);
  if (i < 0 || r->disposing) {
    uvsql_future_t *f = uvsql__future_new(r->loop);
    if (!f)
      return NULL;
    uvsql_error_t e;
    if (r->disposing)
      uvsql__error_set(&e, UVSQL_ECLOSED, "the router is being disposed: nothing was run");
    else
      no_primary(r, &e);
    uvsql__future_fail_soon(f, &e);
    return uvsql__future_return(f, cb, data);
  }
  if (i == r->primary)
    r->stats.on_primary++;
  else
    r->stats.on_replicas++;
  watch_t *w = malloc(sizeof *w);
  uvsql_future_t *f = uvsql_engine_connect(r->nodes[i].engine, cb, data);
  if (f && w) {
    w->r = r;
    w->node = i;
    r->nops++;
    if (uvsql_future_then(f, connect_settled, w) != 0) {
      r->nops--;
      free(w);
    }
  } else {
    free(w);
  }
  return f;
}

/* ------------------------------------------------------------------ life cycle */

int uvsql_router_new(uvsql_router_t **out, uv_loop_t *loop, const char *const *urls, size_t n,
                     const uvsql_engine_options_t *opt, const uvsql_router_options_t *ropt,
                     uvsql_error_t *err) {
  static const uvsql_router_options_t ropt_default = UVSQL_ROUTER_OPTIONS_INIT;
  static const uvsql_engine_options_t eopt_default = UVSQL_ENGINE_OPTIONS_INIT;
  if (!out || !loop || !urls || n == 0 || n > MAX_NODES)
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "uvsql_router_new: out, loop and urls must not be NULL, and there "
                            "must be 1 to %d URLs (the primary first, then its replicas); "
                            "there are %zu",
                            MAX_NODES, n);
  *out = NULL;
  uvsql_router_options_t ro = ropt ? *ropt : ropt_default;
  if (!(ro.health_interval > 0 && ro.health_interval < 1e6) ||
      !(ro.retry_after >= 0 && ro.retry_after < 1e6) ||
      !(ro.check_timeout > 0 && ro.check_timeout < 1e6) ||
      !(ro.max_replica_lag > -1e9 && ro.max_replica_lag < 1e9))
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "router options: health_interval (%g) and check_timeout (%g) must "
                            "be seconds above 0, retry_after (%g) 0 or more, max_replica_lag "
                            "(%g) a number (<= 0: not checked)",
                            ro.health_interval, ro.check_timeout, ro.retry_after,
                            ro.max_replica_lag);
  uvsql_router_t *r = calloc(1, sizeof *r);
  if (!r || !(r->nodes = calloc(n, sizeof *r->nodes))) {
    free(r);
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory creating a router");
  }
  r->loop = loop;
  r->n = n;
  r->opt = ro;
  uvsql_engine_options_t co = eopt_default;
  co.pool_size = 1;
  co.max_overflow = 0;
  co.connect_timeout = ro.check_timeout;
  co.command_timeout = ro.check_timeout;
  co.pool_timeout = ro.check_timeout;
  co.statement_cache_size = 0;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    uvsql_error_t e;
    rc = uvsql_engine_new(&r->nodes[i].engine, loop, urls[i], opt, &e);
    if (rc == 0)
      r->nengines_open++;
    if (rc == 0 && strcmp(uvsql_engine_dialect(r->nodes[i].engine), "postgresql") != 0) {
      rc = uvsql__error_set(&e, UVSQL_ENOT_SUPPORTED,
                            "the router follows PostgreSQL's replication (pg_is_in_recovery); "
                            "this URL is %s",
                            uvsql_engine_dialect(r->nodes[i].engine));
    }
    if (rc == 0) {
      rc = uvsql_engine_new(&r->nodes[i].check, loop, urls[i], &co, &e);
      if (rc == 0)
        r->nengines_open++;
    }
    if (rc != 0)
      uvsql__error_set(err, rc, "router URL %zu (%s): %s", i, i == 0 ? "the primary" : "a replica",
                       e.message);
  }
  r->primary = 0;
  for (size_t i = 0; i < n; i++) { /* until the first check says otherwise */
    r->nodes[i].up = 1;
    r->nodes[i].in_recovery = i > 0;
  }
  uv_timer_init(loop, &r->timer);
  r->timer.data = r;
  uv_unref((uv_handle_t *)&r->timer); /* health checks never keep the loop alive */
  if (rc != 0) {
    uvsql_future_unref(uvsql_router_dispose(r, NULL, NULL));
    return rc;
  }
  arm_timer(r, 0);
  on_timer(&r->timer); /* the first check, at once */
  *out = r;
  return 0;
}

static void maybe_free(uvsql_router_t *r) {
  if (!r->disposing || r->nops > 0 || r->nengines_open > 0 || !r->timer_closed)
    return;
  uvsql_future_t *f = r->dispose_future;
  if (r->nround_waiters)
    round_done(r);
  free(r->nodes);
  free(r);
  if (f) {
    uvsql__future_resolve(f, NULL, NULL);
    uvsql_future_unref(f);
  }
}

static void engine_disposed(uvsql_future_t *f, void *data) {
  (void)f;
  uvsql_router_t *r = data;
  r->nengines_open--;
  maybe_free(r);
}

static void timer_closed(uv_handle_t *h) {
  uvsql_router_t *r = h->data;
  r->timer_closed = 1;
  maybe_free(r);
}

uvsql_future_t *uvsql_router_dispose(uvsql_router_t *r, uvsql_future_cb cb, void *data) {
  if (!r || r->disposing)
    return NULL;
  uvsql_future_t *f = uvsql__future_new(r->loop);
  if (!f)
    return NULL;
  r->disposing = 1;
  r->dispose_future = uvsql_future_ref(f);
  uvsql__future_return(f, cb, data);
  uv_timer_stop(&r->timer);
  uv_close((uv_handle_t *)&r->timer, timer_closed);
  for (size_t i = 0; i < r->n; i++) {
    if (r->nodes[i].engine)
      uvsql_engine_dispose(r->nodes[i].engine, engine_disposed, r);
    if (r->nodes[i].check)
      uvsql_engine_dispose(r->nodes[i].check, engine_disposed, r);
  }
  return f;
}
