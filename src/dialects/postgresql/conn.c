/* src/dialects/postgresql/conn.c — one PostgreSQL connection's life: resolve, connect, close.
 *
 * States (uvsql__pg_state_t) and the functions that move between them:
 *
 *   uvsql__pg_connect()
 *        |  host is a name                          host is an address, a socket
 *        |  uv_getaddrinfo                          directory, or libpq's default
 *        v                                                  |
 *   RESOLVING --pg_on_resolved()--> pg_start() <-------------+
 *        |                              |  PQconnectStartParams(host + hostaddr list)
 *        |                              v
 *        |                         CONNECTING <--+ pg_connect_step(): watcher stopped,
 *        |                              |        | PQconnectPoll, PQsocket re-read,
 *        |                              |        | watcher told fd + events, every step
 *        |                              |--------+
 *        |        PGRES_POLLING_FAILED, |  PGRES_POLLING_OK
 *        |        timer (connect_timeout)  pg_connected(): PQenterPipelineMode, cb(NULL)
 *        | timer    pg_connect_fail()   v
 *        +------------> FAILED        READY <--> (simple_mode: out of pipeline mode for one
 *                  cb(err); waits        |        multi-statement request; exec.c)
 *                  for close()           |  uvsql__pg_broken(): FATAL error, EOF, poll error
 *                                        v
 *                                      BROKEN  (every request fails with UVSQL_EDISCONNECT)
 *
 *   any state --uvsql__pg_close()--> pg_finish_close() --> CLOSED --pg_maybe_free()--> freed
 *
 * Invariants:
 *  1. The watcher is stopped before every call that can close the socket: PQconnectPoll
 *     (libpq moves to the next address on a fresh socket, which may reuse the fd number) and
 *     PQfinish. After each connect step the socket is read again from PQsocket.
 *  2. Frames: every entry from libuv or the engine runs between uvsql__kit_enter and
 *     uvsql__kit_leave on pc->guard (kit.h). close() inside a frame (say from a done callback) only
 * sets `closing`; the outermost leave finishes it, so nothing is freed under a running loop.
 *  3. The struct is freed only when it is CLOSED, no frame is on the stack, and nothing that
 *     will call back into it is pending (getaddrinfo, deferred fails): `holds`.
 *  4. cb runs exactly once, from the loop, after connect returned; never after close().
 *  5. Cancel jobs (cancel.c) own their PGcancel: they never keep a closed connection alive
 *     (close detaches the one in flight and drops its hold).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pg.h"

extern const uvsql__driver_t uvsql__postgresql_driver;

#define PG_MAX_ADDRS 8

static void pg_finish_close(uvsql__pg_conn_t *pc);

/* ------------------------------------------------------------------ frames and freeing */

static void pg_free_params(uvsql__pg_conn_t *pc) {
  for (int i = 0; i < pc->nkv; i++) {
    free(pc->keys[i]);
    free(pc->vals[i]);
  }
  free(pc->keys);
  free(pc->vals);
  pc->keys = pc->vals = NULL;
  pc->nkv = 0;
}

static void pg_maybe_free(uvsql__pg_conn_t *pc) {
  if (pc->state != UVSQL__PG_CLOSED || uvsql__kit_guard_busy(&pc->guard) || pc->gai_active)
    return;
  uvsql__kit_guard_closed(&pc->guard, pc->dc.loop);
  pg_free_params(pc);
  free(pc->host);
  free(pc->port);
  free(pc);
}

/* The guard's on_last_leave (invariant 2). */
static void pg_on_last_leave(uvsql__kit_guard_t *g) {
  uvsql__pg_conn_t *pc = UVSQL__KIT_OWNER(g, uvsql__pg_conn_t, guard);
  if (pc->guard.closing && pc->state != UVSQL__PG_CLOSED)
    pg_finish_close(pc);
  else
    pg_maybe_free(pc);
}

/* Stops polling: before the socket can be closed (invariant 1). */
static void pg_unwatch(uvsql__pg_conn_t *pc) {
  if (pc->watcher)
    uvsql__watcher_stop(pc->watcher);
  pc->watch_fd = -1;
  pc->watch_events = 0;
}

/* Frees what connect() made when it fails before returning (no callback involved). */
static void pg_free_now(uvsql__pg_conn_t *pc) {
  pg_unwatch(pc);
  uvsql__watcher_close(pc->watcher);
  if (pc->pg)
    PQfinish(pc->pg);
  uvsql__kit_lru_free(&pc->cache);
  pg_free_params(pc);
  free(pc->host);
  free(pc->port);
  free(pc);
}

/* ------------------------------------------------------------------ connect */

static void pg_notice_silent(void *arg, const char *message) {
  (void)arg;
  (void)message; /* a library does not print to stderr; NOTICEs are dropped */
}

static void pg_connect_fail(uvsql__pg_conn_t *pc, const uvsql_error_t *err) {
  uvsql__connect_cb cb = pc->connect_cb;
  pc->connect_cb = NULL;
  pc->state = UVSQL__PG_FAILED;
  pg_unwatch(pc);
  if (pc->watcher)
    uvsql__watcher_timeout(pc->watcher, 0);
  if (pc->gai_active)
    uv_cancel((uv_req_t *)&pc->gai);
  if (pc->pg) {
    PQfinish(pc->pg);
    pc->pg = NULL;
  }
  if (pc->pending.head)
    uvsql__kit_deferred_schedule(&pc->fail_pending, pc->dc.loop);
  if (cb)
    cb(&pc->dc, err, pc->connect_data);
}

static void pg_connect_fail_libpq(uvsql__pg_conn_t *pc) {
  uvsql_error_t err;
  char flat[UVSQL_ERROR_MESSAGE_MAX];
  uvsql__pg_flatten(pc->pg ? PQerrorMessage(pc->pg) : "out of memory", flat, sizeof flat);
  uvsql__error_set(&err, UVSQL_ECONNECT, "could not connect to %s: %s", pc->where,
                   flat[0] ? flat : "libpq gave no reason");
  pg_connect_fail(pc, &err);
}

static void pg_connected(uvsql__pg_conn_t *pc) {
  uvsql__connect_cb cb = pc->connect_cb;
  const char *ds;
  uvsql__watcher_timeout(pc->watcher, 0);
  if (!PQenterPipelineMode(pc->pg)) {
    pg_connect_fail_libpq(pc);
    return;
  }
  /* Text-format dates are read as ISO 8601; make sure the server writes them so. */
  ds = PQparameterStatus(pc->pg, "DateStyle");
  if (ds && strncmp(ds, "ISO", 3) != 0 &&
      uvsql__pg_submit_internal_first(pc, "SET DateStyle = ISO") != 0) {
    uvsql_error_t err;
    uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory setting up the connection");
    pg_connect_fail(pc, &err);
    return;
  }
  pc->state = UVSQL__PG_READY;
  pg_free_params(pc); /* the password need not stay in memory */
  pc->connect_cb = NULL;
  if (cb)
    cb(&pc->dc, NULL, pc->connect_data);
  uvsql__pg_pump(pc);
}

/* One step of PQconnectPoll (invariant 1), then wait for what it asked for. */
static void pg_connect_step(uvsql__pg_conn_t *pc) {
  int events, fd, rc;
  pg_unwatch(pc);
  switch (PQconnectPoll(pc->pg)) {
  case PGRES_POLLING_OK:
    pg_connected(pc);
    return;
  case PGRES_POLLING_FAILED:
    pg_connect_fail_libpq(pc);
    return;
  case PGRES_POLLING_READING:
    events = UV_READABLE;
    break;
  case PGRES_POLLING_WRITING:
    events = UV_WRITABLE;
    break;
  default:
    events = UV_READABLE | UV_WRITABLE;
    break;
  }
  fd = PQsocket(pc->pg);
  rc = fd < 0 ? UVSQL_ECONNECT : uvsql__watcher_watch(pc->watcher, fd, events);
  if (rc != 0) {
    uvsql_error_t err;
    uvsql__error_set(&err, UVSQL_ECONNECT, "could not connect to %s: %s", pc->where,
                     fd < 0 ? "libpq has no socket to wait on" : "could not watch the socket");
    pg_connect_fail(pc, &err);
    return;
  }
  pc->watch_fd = fd;
  pc->watch_events = events;
}

/* Starts libpq's connection. hostaddr: comma-separated addresses matching `host` repeated,
 * or NULL. Returns 0 or a code with err set; on error pc->pg may be set (freed by caller). */
static int pg_start(uvsql__pg_conn_t *pc, const char *host, const char *hostaddr,
                    uvsql_error_t *err) {
  int n = pc->nkv, fd;
  /* the arrays were made with two free slots before the terminator */
  if (host) {
    pc->keys[n] = "host";
    pc->vals[n++] = (char *)host;
  }
  if (hostaddr) {
    pc->keys[n] = "hostaddr";
    pc->vals[n++] = (char *)hostaddr;
  }
  pc->keys[n] = NULL;
  pc->vals[n] = NULL;
  pc->pg = PQconnectStartParams((const char *const *)pc->keys, (const char *const *)pc->vals, 0);
  for (int i = pc->nkv; i < n; i++) /* those slots were borrowed */
    pc->keys[i] = pc->vals[i] = NULL;
  if (!pc->pg)
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory starting a connection");
  if (PQstatus(pc->pg) == CONNECTION_BAD) {
    char flat[UVSQL_ERROR_MESSAGE_MAX];
    uvsql__pg_flatten(PQerrorMessage(pc->pg), flat, sizeof flat);
    return uvsql__error_set(err, UVSQL_ECONNECT, "could not connect to %s: %s", pc->where, flat);
  }
  PQsetnonblocking(pc->pg, 1);
  PQsetNoticeProcessor(pc->pg, pg_notice_silent, NULL);
  pc->state = UVSQL__PG_CONNECTING;
  /* libpq's advice: start as if PQconnectPoll had answered PGRES_POLLING_WRITING. */
  fd = PQsocket(pc->pg);
  if (fd < 0 || uvsql__watcher_watch(pc->watcher, fd, UV_WRITABLE) != 0)
    return uvsql__error_set(err, UVSQL_ECONNECT, "could not connect to %s: no socket to wait on",
                            pc->where);
  pc->watch_fd = fd;
  pc->watch_events = UV_WRITABLE;
  return 0;
}

static void pg_on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  uvsql__pg_conn_t *pc = req->data;
  uvsql_error_t err;
  pc->gai_active = 0;
  uvsql__kit_enter(&pc->guard);
  if (pc->state != UVSQL__PG_RESOLVING) {
    /* closed or timed out meanwhile */
  } else if (status != 0) {
    uvsql__error_set(&err, UVSQL_ECONNECT, "could not connect to %s: could not resolve \"%s\": %s",
                     pc->where, pc->host, uv_strerror(status));
    pg_connect_fail(pc, &err);
  } else {
    char addrs[PG_MAX_ADDRS * (INET6_ADDRSTRLEN + 1)] = "";
    char hosts[PG_MAX_ADDRS * 256] = "";
    char one[INET6_ADDRSTRLEN];
    int n = 0;
    for (struct addrinfo *ai = res; ai && n < PG_MAX_ADDRS; ai = ai->ai_next) {
      if (ai->ai_family == AF_INET)
        uv_ip4_name((const struct sockaddr_in *)ai->ai_addr, one, sizeof one);
      else if (ai->ai_family == AF_INET6)
        uv_ip6_name((const struct sockaddr_in6 *)ai->ai_addr, one, sizeof one);
      else
        continue;
      if (strstr(addrs, one)) /* a duplicate (another socket type of the same address) */
        continue;
      if (strlen(pc->host) > 250)
        break;
      if (n) {
        strcat(addrs, ",");
        strcat(hosts, ",");
      }
      strcat(addrs, one);
      strcat(hosts, pc->host);
      n++;
    }
    if (n == 0) {
      uvsql__error_set(&err, UVSQL_ECONNECT, "could not connect to %s: \"%s\" has no address",
                       pc->where, pc->host);
      pg_connect_fail(pc, &err);
    } else if (pg_start(pc, hosts, addrs, &err) != 0) {
      pg_connect_fail(pc, &err);
    }
  }
  uv_freeaddrinfo(res);
  uvsql__kit_leave(&pc->guard);
}

static void pg_on_watch(uvsql__watcher_t *w, int events, int status, void *data) {
  uvsql__pg_conn_t *pc = data;
  uvsql_error_t err;
  (void)w;
  uvsql__kit_enter(&pc->guard);
  switch (pc->state) {
  case UVSQL__PG_RESOLVING:
  case UVSQL__PG_CONNECTING:
    if (events == UVSQL__WATCH_SOON)
      break; /* asked while READY before a reconnect: nothing to send yet */
    if (events & UVSQL__WATCH_TIMEOUT) {
      uvsql__error_set(&err, UVSQL_ETIMEOUT, "could not connect to %s: timed out after %.3g s",
                       pc->where, (double)pc->connect_timeout_ms / 1000.0);
      pg_connect_fail(pc, &err);
    } else if (pc->state == UVSQL__PG_CONNECTING) {
      /* UVSQL__WATCH_ERROR too: libuv reports POLLERR (a refused connect) as EBADF, while
       * PQconnectPoll reads the socket's real error and may move on to the next address. */
      pg_connect_step(pc);
    }
    break;
  case UVSQL__PG_READY:
    uvsql__pg_io(pc, events, status);
    break;
  default: /* FAILED, BROKEN: nothing to wait for */
    pg_unwatch(pc);
    break;
  }
  uvsql__kit_leave(&pc->guard);
}

static const char *query_get(const uvsql_url_t *url, const char *key) {
  for (size_t i = 0; i < url->nquery; i++)
    if (strcmp(url->query[i].key, key) == 0)
      return url->query[i].value;
  return NULL;
}

static int is_numeric_host(const char *h) {
  unsigned char buf[sizeof(struct in6_addr)];
  return uv_inet_pton(AF_INET, h, buf) == 0 || uv_inet_pton(AF_INET6, h, buf) == 0;
}

static int pg_kv(uvsql__pg_conn_t *pc, const char *k, const char *v) {
  if (!v)
    return 0;
  pc->keys[pc->nkv] = strdup(k);
  pc->vals[pc->nkv] = strdup(v);
  pc->nkv++;
  return pc->keys[pc->nkv - 1] && pc->vals[pc->nkv - 1] ? 0 : UVSQL_ENOMEM;
}

/* Copies the connection keywords: the URL's parts, then its query options (which win: libpq
 * takes the last value of a keyword). */
static int pg_build_params(uvsql__pg_conn_t *pc, const uvsql_url_t *url) {
  char port[16];
  const char *app = query_get(url, "application_name");
  size_t max = 6 + 4 + url->nquery + 3; /* + keepalive defaults, host, hostaddr, terminator */
  int rc = 0;
  pc->keys = calloc(max, sizeof *pc->keys);
  pc->vals = calloc(max, sizeof *pc->vals);
  if (!pc->keys || !pc->vals)
    return UVSQL_ENOMEM;
  snprintf(port, sizeof port, "%d", url->port);
  rc |= pg_kv(pc, "port", pc->port);
  (void)port;
  rc |= pg_kv(pc, "user", url->user);
  rc |= pg_kv(pc, "password", url->password);
  rc |= pg_kv(pc, "dbname", url->database);
  rc |= pg_kv(pc, "client_encoding", "UTF8");
  rc |= pg_kv(pc, "application_name", app ? app : "uvsql");
  /* A dead peer is noticed in bounded time (the URL's own values come later and win): probes
   * after 60 s idle, every 10 s, 6 of them; sent data unacknowledged for 30 s drops it. */
  rc |= pg_kv(pc, "keepalives_idle", "60");
  rc |= pg_kv(pc, "keepalives_interval", "10");
  rc |= pg_kv(pc, "keepalives_count", "6");
  rc |= pg_kv(pc, "tcp_user_timeout", "30000");
  for (size_t i = 0; i < url->nquery && rc == 0; i++) {
    const char *k = url->query[i].key;
    if (strcmp(k, "host") == 0 || strcmp(k, "hostaddr") == 0 || strcmp(k, "application_name") == 0)
      continue; /* host and hostaddr are decided in pg_start */
    if (strcmp(k, "statement_cache_size") == 0 || strcmp(k, "shared_sync") == 0 ||
        strcmp(k, "port") == 0)
      continue; /* uvsql's own (options.c); the port list is pc->port */
    rc |= pg_kv(pc, k, url->query[i].value);
  }
  return rc ? UVSQL_ENOMEM : 0;
}

int uvsql__pg_connect(uvsql__dconn_t **out, uv_loop_t *loop, const uvsql_url_t *url,
                      const uvsql__dconn_options_t *opt, uvsql__connect_cb cb, void *data,
                      uvsql_error_t *err) {
  uvsql__pg_conn_t *pc;
  const char *host, *hostaddr, *qport, *qtimeout;
  double timeout = opt ? opt->connect_timeout : 30.0;
  int rc;

  if (!out || !loop || !url || !cb)
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT, "connect: missing argument");
  if ((rc = uvsql__postgresql_driver.validate_url(url, err)) != 0)
    return rc;
  pc = calloc(1, sizeof *pc);
  if (!pc)
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory");
  pc->dc.driver = &uvsql__postgresql_driver;
  pc->dc.loop = loop;
  pc->watch_fd = -1;
  pc->connect_cb = cb;
  pc->connect_data = data;
  pc->gai.data = pc;
  uvsql__kit_guard_init(&pc->guard, pg_on_last_leave);
  uvsql__kit_deferred_init(&pc->fail_pending, &pc->guard, uvsql__pg_fail_pending);
  const char *qcache = query_get(url, "statement_cache_size");
  uvsql__kit_lru_init(&pc->cache,
                      qcache ? (int)strtol(qcache, NULL, 10)
                      : opt  ? opt->statement_cache_size
                             : 100,
                      sizeof(uvsql__pg_stmt_t), uvsql__pg_stmt_evict, uvsql__pg_stmt_release);

  const char *qshared = query_get(url, "shared_sync");
  int shared = 1;
  if (qshared)
    uvsql__kit_parse_bool(qshared, &shared); /* validated above */
  pc->solo_syncs = !shared;

  host = query_get(url, "host");
  char *hostlist = NULL;
  if (!host && url->nhosts > 1) { /* h1:5432,h2:5433: libpq's host and port lists */
    size_t hlen = 1, plen = 1;
    for (size_t i = 0; i < url->nhosts; i++)
      hlen += strlen(url->hosts[i].host) + 1, plen += 7;
    if (!(hostlist = calloc(1, hlen)) || !(pc->port = calloc(1, plen))) {
      free(hostlist);
      goto nomem;
    }
    for (size_t i = 0; i < url->nhosts; i++) {
      char p[16];
      snprintf(p, sizeof p, "%s%d", i ? "," : "",
               url->hosts[i].port > 0 ? url->hosts[i].port : 5432);
      if (i)
        strcat(hostlist, ",");
      strcat(hostlist, url->hosts[i].host);
      strcat(pc->port, p);
    }
    pc->host = hostlist;
    host = hostlist;
  }
  if (!host)
    host = url->host;
  hostaddr = query_get(url, "hostaddr");
  qport = query_get(url, "port");
  qtimeout = query_get(url, "connect_timeout");
  if (qtimeout)
    timeout = strtod(qtimeout, NULL);
  pc->connect_timeout_ms = timeout > 0 ? (uint64_t)(timeout * 1000.0 + 0.5) : 0;
  if (host && !hostlist && !(pc->host = strdup(host)))
    goto nomem;
  if (hostlist) {
    /* the port list was made with the host list */
  } else if (qport) {
    if (!(pc->port = strdup(qport)))
      goto nomem;
  } else if (url->port > 0) {
    char p[16];
    snprintf(p, sizeof p, "%d", url->port);
    if (!(pc->port = strdup(p)))
      goto nomem;
  }
  if (!host)
    snprintf(pc->where, sizeof pc->where, "the default socket (port %s)",
             pc->port ? pc->port : "5432");
  else if (host[0] == '/')
    snprintf(pc->where, sizeof pc->where, "%s/.s.PGSQL.%s", host, pc->port ? pc->port : "5432");
  else if (strchr(host, ','))
    snprintf(pc->where, sizeof pc->where, "hosts %s (ports %s)", host,
             pc->port ? pc->port : "5432");
  else
    snprintf(pc->where, sizeof pc->where, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host,
             pc->port ? pc->port : "5432");

  if (pg_build_params(pc, url) != 0)
    goto nomem;
  if ((rc = uvsql__watcher_new(&pc->watcher, loop, pg_on_watch, pc)) != 0) {
    pg_free_now(pc);
    return uvsql__error_set(err, rc, "could not make a socket watcher");
  }
  if (pc->connect_timeout_ms)
    uvsql__watcher_timeout(pc->watcher, pc->connect_timeout_ms);

  if (hostaddr || !host || host[0] == '/' || strchr(host, ',') || is_numeric_host(host)) {
    /* nothing to resolve (a host list is left to libpq, which resolves it itself) */
    if (!hostaddr && host && host[0] != '/' && !strchr(host, ','))
      hostaddr = host;
    if ((rc = pg_start(pc, host, hostaddr, err)) != 0) {
      pg_free_now(pc);
      return rc;
    }
  } else {
    rc = uvsql__kit_resolve(loop, &pc->gai, pg_on_resolved, host, pc->port ? pc->port : "5432",
                            pc->where, err);
    if (rc != 0) {
      pg_free_now(pc);
      return rc;
    }
    pc->gai_active = 1;
    pc->state = UVSQL__PG_RESOLVING;
  }
  *out = &pc->dc;
  return 0;

nomem:
  pg_free_now(pc);
  return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory");
}

/* ------------------------------------------------------------------ close */

static void pg_finish_close(uvsql__pg_conn_t *pc) {
  uvsql_error_t err;
  uvsql__kit_enter(&pc->guard);
  pc->connect_cb = NULL; /* invariant 4 */
  pc->state = UVSQL__PG_CLOSED;
  uvsql__error_set(&err, UVSQL_ECLOSED, "the connection was closed before the request finished");
  uvsql__pg_fail_all(pc, &err);
  pg_unwatch(pc);
  uvsql__watcher_close(pc->watcher);
  pc->watcher = NULL;
  if (pc->pg) {
    PQfinish(pc->pg);
    pc->pg = NULL;
  }
  uvsql__kit_lru_free(&pc->cache);
  if (pc->cancel_job) { /* invariant 5: never wait for a cancel that may hang */
    uvsql__pg_cancel_detach(pc->cancel_job);
    pc->cancel_job = NULL;
    pc->guard.holds--;
  }
  if (pc->gai_active)
    uv_cancel((uv_req_t *)&pc->gai);
  uvsql__kit_leave(&pc->guard); /* CLOSED: pg_on_last_leave frees what nothing holds */
}

void uvsql__pg_close(uvsql__dconn_t *dc, void (*closed_cb)(void *data), void *data) {
  uvsql__pg_conn_t *pc = (uvsql__pg_conn_t *)dc;
  if (!pc)
    return;
  int now = uvsql__kit_guard_close(&pc->guard, closed_cb, data);
  pc->connect_cb = NULL;
  if (now)
    pg_finish_close(pc);
}
