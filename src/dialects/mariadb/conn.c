/* src/dialects/mariadb/conn.c — one MariaDB/MySQL connection's life on the loop: resolve,
 * connect, drive the nonblocking call in progress, close.
 *
 * States (uvsql__my_state_t) and the functions that move between them:
 *
 *   uvsql__my_connect()
 *        | host is a name: uv_getaddrinfo         host is numeric, "localhost", a socket path
 *        v                                                   |
 *   RESOLVING --my_on_resolved()--> my_start_connect() <-----+  (from connect(): the first
 *        |                               | mysql_real_connect_start          step is handled
 *        |                               v                                   by my_kick)
 *        |                          CONNECTING <---+ my_on_watch(): mysql_real_connect_cont;
 *        |                               |         | my_wait() re-reads mysql_get_socket and
 *        |                               |---------+ tells the watcher fd + events + timer
 *        |   refused, more addresses:    |
 *        |   my_connect_done() -> my_start_connect(next address)
 *        |                               | my_connect_done(): thread id kept, cb(NULL)
 *        | timer (connect_timeout),      v
 *        | last address failed:        READY  <--> requests (exec.c): uvsql__my_start_next,
 *        +--my_connect_fail()--> FAILED    |        uvsql__my_step; cancel via cancel.c
 *                    cb(err), waits for    |
 *                    close()               | uvsql__my_broken(): 2006/2013/2055/1927, poll
 *                                          v   error: dc.broken, every request EDISCONNECT
 *                                        BROKEN
 *
 *   any state --uvsql__my_close()--> my_finish_close(): requests fail ECLOSED, watcher
 *   stopped, a call in progress is ended (socket shut down, call driven to its error),
 *   mysql_close_start --> CLOSING --mysql_close_cont (my_on_watch)--> my_close_done() -->
 *   CLOSED --my_maybe_free()--> freed, closed_cb from the loop
 *
 * Invariants:
 *  1. One nonblocking call at a time (mariadb.h): `op` names it, `wait` is what it waits for
 *     (0 once it has returned). Only my_on_watch resumes it, with the events the watcher saw.
 *  2. The socket is read again with mysql_get_socket before every wait (it changes when
 *     Connector/C retries or reconnects), and the watcher is stopped before anything that can
 *     close it: a new connect attempt, mysql_close_start, the shutdown in my_abort_op.
 *  3. Frames: every entry from libuv or the engine runs between uvsql__kit_enter and
 *     uvsql__kit_leave on mc->guard (kit.h). close() inside a frame (from a done callback) only
 * sets `closing`; the outermost leave finishes it, so nothing is freed while its caller is on the
 * stack.
 *  4. The struct is freed only when CLOSED, no frame is on the stack and nothing that will call
 *     back is pending: getaddrinfo (`gai_active`) and deferred kicks (`holds`).
 *  5. Callbacks never run inside the engine's call: connect() and submit() leave any work
 *     whose completion would call back to my_kick, one loop iteration later.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "mariadb.h"

/* gcc 12 at -O3 inlines my_maybe_free into a frame and cannot see that it never frees while a
 * frame holds the guard (uvsql__kit_guard_busy: depth > 0), so it reports the frame's closing
 * uvsql__kit_leave as a use after free. ASan and valgrind runs check the real thing. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wuse-after-free"
#endif

static void my_finish_close(uvsql__my_conn_t *mc);
static int my_start_connect(uvsql__my_conn_t *mc, uvsql_error_t *err);
static void my_kick(uvsql__my_conn_t *mc);

/* ------------------------------------------------------------------ frames and freeing */

static void my_maybe_free(uvsql__my_conn_t *mc) {
  if (mc->state != UVSQL__MY_CLOSED || uvsql__kit_guard_busy(&mc->guard) || mc->gai_active)
    return;
  uvsql__kit_guard_closed(&mc->guard, mc->dc.loop);
  if (mc->addrs)
    uv_freeaddrinfo(mc->addrs);
  uvsql__my_options_free(&mc->opt);
  free(mc->binds);
  free(mc->bind_store);
  free(mc->bulk_store);
  free(mc);
}

/* The guard's on_last_leave (invariant 3). */
static void my_on_last_leave(uvsql__kit_guard_t *g) {
  uvsql__my_conn_t *mc = UVSQL__KIT_OWNER(g, uvsql__my_conn_t, guard);
  if (mc->guard.closing && mc->state != UVSQL__MY_CLOSING && mc->state != UVSQL__MY_CLOSED)
    my_finish_close(mc);
  else
    my_maybe_free(mc);
}

static void my_unwatch(uvsql__my_conn_t *mc) {
  if (mc->watcher)
    uvsql__watcher_stop(mc->watcher);
}

/* ------------------------------------------------------------------ the call in progress */

static int my_op_cont(uvsql__my_conn_t *mc, int ready) {
  switch (mc->op) {
  case UVSQL__MY_OP_CONNECT:
    return mysql_real_connect_cont(&mc->ret_mysql, mc->mysql, ready);
  case UVSQL__MY_OP_STMT_CLOSE:
    return mysql_stmt_close_cont(&mc->ret_bool, mc->op_stmt, ready);
  case UVSQL__MY_OP_PREPARE:
    return mysql_stmt_prepare_cont(&mc->ret_int, mc->op_stmt, ready);
  case UVSQL__MY_OP_EXECUTE:
    return mysql_stmt_execute_cont(&mc->ret_int, mc->op_stmt, ready);
  case UVSQL__MY_OP_STMT_STORE:
    return mysql_stmt_store_result_cont(&mc->ret_int, mc->op_stmt, ready);
  case UVSQL__MY_OP_STMT_NEXT:
    return mysql_stmt_next_result_cont(&mc->ret_int, mc->op_stmt, ready);
  case UVSQL__MY_OP_STMT_FETCH:
    return mysql_stmt_fetch_cont(&mc->ret_int, mc->op_stmt, ready);
  case UVSQL__MY_OP_QUERY:
    return mysql_real_query_cont(&mc->ret_int, mc->mysql, ready);
  case UVSQL__MY_OP_STORE:
    return mysql_store_result_cont(&mc->ret_res, mc->mysql, ready);
  case UVSQL__MY_OP_NEXT:
    return mysql_next_result_cont(&mc->ret_int, mc->mysql, ready);
  case UVSQL__MY_OP_CLOSE:
    return mysql_close_cont(mc->mysql, ready);
  default:
    return 0;
  }
}

/* Ends the call in progress without waiting for the server (close, broken, connect timeout):
 * the socket is shut down, so every read and write the call is waiting for fails at once, and
 * the call is driven to its (error) end. Its leftovers are freed. */
static void my_abort_op(uvsql__my_conn_t *mc) {
  if (mc->op == UVSQL__MY_OP_NONE)
    return;
  if (mc->wait != 0) {
    int fd = mc->mysql ? (int)mysql_get_socket(mc->mysql) : -1;
    my_unwatch(mc); /* invariant 2 */
    if (fd >= 0)
      shutdown(fd, SHUT_RDWR);
    for (int i = 0; i < 64 && mc->wait != 0; i++)
      mc->wait = my_op_cont(mc, mc->wait);
  }
  if (mc->op == UVSQL__MY_OP_STORE && mc->ret_res)
    mysql_free_result(mc->ret_res);
  if (mc->op == UVSQL__MY_OP_CLOSE && mc->wait == 0)
    mc->mysql = NULL; /* mysql_close_cont freed it */
  mc->ret_res = NULL;
  mc->op = UVSQL__MY_OP_NONE;
  mc->wait = 0;
  if (mc->watcher)
    uvsql__watcher_timeout(mc->watcher, 0);
}

/* Waits for what the call asked for (invariant 2: the socket is read again now). */
static void my_wait(uvsql__my_conn_t *mc, int status) {
  int events = 0, fd;
  uint64_t ms = 0;
  mc->wait = status;
  if (status & MYSQL_WAIT_READ)
    events |= UV_READABLE;
  if (status & MYSQL_WAIT_WRITE)
    events |= UV_WRITABLE;
  if ((status & MYSQL_WAIT_EXCEPT) && !events)
    events |= UV_READABLE; /* the protocol has no out-of-band data: an error shows as readable */
  if (status & MYSQL_WAIT_TIMEOUT) {
    ms = mysql_get_timeout_value_ms(mc->mysql);
    if (ms == 0)
      ms = 1;
  }
  if (mc->connect_deadline) {
    uint64_t now = uvsql__now_ms(mc->dc.loop);
    uint64_t left = mc->connect_deadline > now ? mc->connect_deadline - now : 1;
    if (!ms || left < ms)
      ms = left;
  }
  uvsql__watcher_timeout(mc->watcher, ms);
  fd = (int)mysql_get_socket(mc->mysql);
  if (!events) {
    uvsql__watcher_watch(mc->watcher, -1, 0);
    return;
  }
  if (fd < 0 || uvsql__watcher_watch(mc->watcher, fd, events) != 0) {
    uvsql_error_t err;
    uvsql__error_set(
        &err, mc->state == UVSQL__MY_CONNECTING ? UVSQL_ECONNECT : UVSQL_EDISCONNECT, "%s %s: %s",
        mc->state == UVSQL__MY_CONNECTING ? "could not connect to" : "lost the connection to",
        mc->where, fd < 0 ? "Connector/C has no socket to wait on" : "could not watch the socket");
    if (mc->state == UVSQL__MY_CLOSING) {
      my_abort_op(mc); /* my_finish_close or my_on_watch sees the call ended */
    } else if (mc->state == UVSQL__MY_CONNECTING) {
      my_abort_op(mc);
      mc->state = UVSQL__MY_FAILED;
      uvsql__my_fail_all(mc, &err);
      uvsql__connect_cb cb = mc->connect_cb;
      mc->connect_cb = NULL;
      if (cb)
        cb(&mc->dc, &err, mc->connect_data);
    } else {
      uvsql__my_broken(mc, &err);
    }
  }
}

/* ------------------------------------------------------------------ connect */

static void my_connect_fail(uvsql__my_conn_t *mc, const uvsql_error_t *err) {
  uvsql__connect_cb cb = mc->connect_cb;
  mc->connect_cb = NULL;
  mc->state = UVSQL__MY_FAILED;
  mc->connect_deadline = 0;
  my_abort_op(mc);
  my_unwatch(mc);
  if (mc->watcher)
    uvsql__watcher_timeout(mc->watcher, 0);
  if (mc->gai_active)
    uv_cancel((uv_req_t *)&mc->gai);
  if (mc->mysql) {
    mysql_close(mc->mysql); /* no socket is left after a failed connect: no I/O */
    mc->mysql = NULL;
  }
  uvsql__my_fail_all(mc, err);
  if (cb)
    cb(&mc->dc, err, mc->connect_data);
}

/* The connect call ended. Returns the status of the next call started, or -1. */
static int my_connect_done(uvsql__my_conn_t *mc) {
  uvsql_error_t err;
  if (!mc->ret_mysql) {
    unsigned e = mysql_errno(mc->mysql);
    if ((e == 2002 || e == 2003) && mc->next_addr) { /* refused: try the next address */
      my_unwatch(mc);
      mysql_close(mc->mysql);
      mc->mysql = NULL;
      int st = my_start_connect(mc, &err);
      if (st >= 0)
        return st;
      my_connect_fail(mc, &err);
      return -1;
    }
    const char *hint = "";
    if (e == 2026 && strstr(mysql_error(mc->mysql), "certificate"))
      hint = mc->opt.ssl_ca ? " (the server's certificate was refused: ssl_ca must name the "
                              "authority that signed it, and verify_identity also needs the "
                              "certificate to name the host)"
                            : " (the server's certificate was refused: give ssl_ca=<file> "
                              "naming the authority that signed it)";
    uvsql__error_set_db(&err, UVSQL_ECONNECT, mysql_sqlstate(mc->mysql), (int)e,
                        "could not connect to %s: %s%s", mc->where, mysql_error(mc->mysql), hint);
    if (!strcmp(err.sqlstate, "HY000"))
      err.sqlstate[0] = '\0';
    my_connect_fail(mc, &err);
    return -1;
  }
  if (uvsql__my_tls_wanted(&mc->opt) && !mysql_get_ssl_cipher(mc->mysql)) {
    /* Connector/C 3.3 lets a server that offers no TLS through even with
     * MYSQL_OPT_SSL_ENFORCE: a TLS mode must never end in an unencrypted session. */
    uvsql__error_set(&err, UVSQL_ECONNECT,
                     "could not connect to %s: ssl_mode=%s needs TLS but the server does not "
                     "offer it, and uvsql does not fall back to an unencrypted connection; "
                     "enable TLS on the server (ssl_cert and ssl_key in its configuration), "
                     "or connect with ssl_mode=disabled if the network is trusted",
                     mc->where, uvsql__my_ssl_mode_name(mc->opt.ssl_mode));
    my_connect_fail(mc, &err);
    return -1;
  }
  mc->thread_id = mysql_thread_id(mc->mysql);
  uvsql__my_options_socket(&mc->opt, (int)mysql_get_socket(mc->mysql));
  mc->state = UVSQL__MY_READY;
  mc->connect_deadline = 0;
  uvsql__watcher_timeout(mc->watcher, 0);
  if (mc->addrs) {
    uv_freeaddrinfo(mc->addrs);
    mc->addrs = mc->next_addr = NULL;
  }
  uvsql__connect_cb cb = mc->connect_cb;
  mc->connect_cb = NULL;
  if (cb)
    cb(&mc->dc, NULL, mc->connect_data);
  return uvsql__my_start_next(mc);
}

/* Starts mysql_real_connect on a fresh handle, at the next resolved address if there is one.
 * Returns its status (>= 0), or -1 with err set. */
static int my_start_connect(uvsql__my_conn_t *mc, uvsql_error_t *err) {
  const char *host = mc->opt.host;
  if (mc->next_addr) {
    const struct addrinfo *ai = mc->next_addr;
    mc->next_addr = ai->ai_next;
    if (ai->ai_family == AF_INET6)
      uv_ip6_name((const struct sockaddr_in6 *)ai->ai_addr, mc->address, sizeof mc->address);
    else
      uv_ip4_name((const struct sockaddr_in *)ai->ai_addr, mc->address, sizeof mc->address);
    /* Certificates name hosts, not addresses: verifying the name needs it (Connector/C then
     * resolves it itself, the one case where it does; see options.c). verify_ca checks only
     * the chain, which the address serves as well. */
    if (mc->opt.ssl_mode < UVSQL__MY_SSL_VERIFY_IDENTITY)
      host = mc->address;
  }
  mc->mysql = mysql_init(NULL);
  if (!mc->mysql || uvsql__my_options_apply(&mc->opt, mc->mysql) != 0) {
    uvsql__error_set(err, UVSQL_ENOMEM, "out of memory starting a connection to %s", mc->where);
    return -1;
  }
  mc->state = UVSQL__MY_CONNECTING;
  mc->op = UVSQL__MY_OP_CONNECT;
  mc->ret_mysql = NULL;
  return mysql_real_connect_start(&mc->ret_mysql, mc->mysql, mc->opt.unix_socket ? NULL : host,
                                  mc->opt.user, mc->opt.password, mc->opt.database,
                                  (unsigned)mc->opt.port, mc->opt.unix_socket,
                                  CLIENT_MULTI_STATEMENTS | CLIENT_FOUND_ROWS);
}

static void my_on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  uvsql__my_conn_t *mc = req->data;
  uvsql_error_t err;
  mc->gai_active = 0;
  uvsql__kit_enter(&mc->guard);
  if (mc->state != UVSQL__MY_RESOLVING || mc->guard.closing) {
    if (res)
      uv_freeaddrinfo(res); /* closed or timed out meanwhile */
  } else if (status != 0 || !res) {
    uvsql__error_set(&err, UVSQL_ECONNECT, "could not connect to %s: could not resolve \"%s\": %s",
                     mc->where, mc->opt.host, uv_strerror(status));
    my_connect_fail(mc, &err);
  } else {
    mc->addrs = mc->next_addr = res;
    int st = my_start_connect(mc, &err);
    if (st < 0)
      my_connect_fail(mc, &err);
    else
      uvsql__my_run(mc, st);
  }
  uvsql__kit_leave(&mc->guard);
}

/* ------------------------------------------------------------------ driving */

void uvsql__my_run(uvsql__my_conn_t *mc, int status) {
  for (;;) {
    if (status < 0 || mc->op == UVSQL__MY_OP_NONE) {
      mc->wait = 0;
      return;
    }
    if (status != 0) {
      my_wait(mc, status);
      return;
    }
    uvsql__my_op_t op = mc->op;
    mc->op = UVSQL__MY_OP_NONE;
    mc->wait = 0;
    my_unwatch(mc);
    if (!mc->connect_deadline)
      uvsql__watcher_timeout(mc->watcher, 0);
    if (op == UVSQL__MY_OP_CONNECT) {
      status = my_connect_done(mc);
    } else if (op == UVSQL__MY_OP_CLOSE) {
      mc->mysql = NULL; /* mysql_close_cont freed it */
      return;           /* my_finish_close goes on */
    } else {
      status = uvsql__my_step(mc, op);
    }
  }
}

static void my_close_done(uvsql__my_conn_t *mc);

static void my_on_watch(uvsql__watcher_t *w, int events, int status, void *data) {
  uvsql__my_conn_t *mc = data;
  uvsql_error_t err;
  (void)w;
  (void)status; /* a polling error is POLLERR: the call itself reports it (below) */
  uvsql__kit_enter(&mc->guard);
  if ((events & UVSQL__WATCH_TIMEOUT) && mc->connect_deadline &&
      uvsql__now_ms(mc->dc.loop) >= mc->connect_deadline &&
      (mc->state == UVSQL__MY_RESOLVING || mc->state == UVSQL__MY_CONNECTING)) {
    uvsql__error_set(&err, UVSQL_ETIMEOUT, "could not connect to %s: timed out after %.3g s",
                     mc->where, mc->opt.connect_timeout);
    my_connect_fail(mc, &err);
  } else if (mc->st_resume && mc->op == UVSQL__MY_OP_STMT_FETCH && mc->wait == 0) {
    mc->st_resume = 0; /* a stream yielded to the loop after a batch (stream.c invariant 4) */
    my_unwatch(mc);
    uvsql__my_run(mc, 0);
  } else if (mc->op == UVSQL__MY_OP_NONE || mc->wait == 0) {
    my_unwatch(mc); /* nothing waits: a late event */
  } else {
    int ready = 0;
    /* libuv reports POLLERR (a refused connect, a reset) as a polling error: hand the call
     * what it waits for, and Connector/C finds the socket's error itself and says it. */
    if (events & UVSQL__WATCH_ERROR)
      ready |= mc->wait & (MYSQL_WAIT_READ | MYSQL_WAIT_WRITE | MYSQL_WAIT_EXCEPT);
    if (events & UV_READABLE)
      ready |= MYSQL_WAIT_READ;
    if (events & UV_WRITABLE)
      ready |= MYSQL_WAIT_WRITE;
    if ((events & UVSQL__WATCH_TIMEOUT) && (mc->wait & MYSQL_WAIT_TIMEOUT))
      ready |= MYSQL_WAIT_TIMEOUT;
    if (ready == 0) {
      my_wait(mc, mc->wait); /* the connect deadline's timer, not the call's: wait on */
    } else {
      /* Connecting may close the socket and open another with the same number (Connector/C
       * tries again): stop polling first (invariant 2). Other calls keep their socket. */
      if (mc->op == UVSQL__MY_OP_CONNECT || mc->op == UVSQL__MY_OP_CLOSE)
        my_unwatch(mc);
      int st = my_op_cont(mc, ready);
      int was_closing = mc->state == UVSQL__MY_CLOSING;
      uvsql__my_run(mc, st);
      if (was_closing && mc->op == UVSQL__MY_OP_NONE)
        my_close_done(mc);
    }
  }
  uvsql__kit_leave(&mc->guard);
}

/* A finished call (or queued work) left for the loop's next iteration (invariant 5). */
static void my_on_kick(uvsql__kit_guard_t *g) {
  uvsql__my_conn_t *mc = UVSQL__KIT_OWNER(g, uvsql__my_conn_t, guard);
  if (!mc->guard.closing) {
    if (mc->op != UVSQL__MY_OP_NONE && mc->wait == 0)
      uvsql__my_run(mc, 0);
    else if (mc->op == UVSQL__MY_OP_NONE && mc->state == UVSQL__MY_READY)
      uvsql__my_run(mc, uvsql__my_start_next(mc));
  }
}

static void my_kick(uvsql__my_conn_t *mc) {
  uvsql__kit_deferred_schedule(&mc->kick, mc->dc.loop); /* never fails: an idle connection
                                                           has no next event to wait for */
}

void uvsql__my_kick(uvsql__my_conn_t *mc) {
  my_kick(mc);
}

void uvsql__my_broken(uvsql__my_conn_t *mc, const uvsql_error_t *err) {
  my_abort_op(mc);
  my_unwatch(mc);
  mc->state = UVSQL__MY_BROKEN;
  mc->dc.broken = 1;
  if (mc->kill) {
    uvsql__my_kill_detach(mc->kill);
    mc->kill = NULL;
  }
  uvsql__my_fail_all(mc, err);
}

/* ------------------------------------------------------------------ connect() */

static int is_numeric_host(const char *h) {
  unsigned char buf[sizeof(struct in6_addr)];
  return uv_inet_pton(AF_INET, h, buf) == 0 || uv_inet_pton(AF_INET6, h, buf) == 0;
}

static void my_free_now(uvsql__my_conn_t *mc) {
  my_unwatch(mc);
  uvsql__watcher_close(mc->watcher);
  if (mc->mysql)
    mysql_close(mc->mysql);
  uvsql__my_options_free(&mc->opt);
  free(mc);
}

int uvsql__my_connect(uvsql__dconn_t **out, uv_loop_t *loop, const uvsql_url_t *url,
                      const uvsql__dconn_options_t *opt, uvsql__connect_cb cb, void *data,
                      uvsql_error_t *err) {
  uvsql__my_conn_t *mc;
  int rc;
  if (!out || !loop || !url || !cb)
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT, "connect: missing argument");
  *out = NULL;
  if (!(mc = calloc(1, sizeof *mc)))
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory");
  if ((rc = uvsql__my_options_parse(&mc->opt, url, err)) != 0) {
    uvsql__my_options_free(&mc->opt);
    free(mc);
    return rc;
  }
  mc->dc.driver = &uvsql__mariadb_driver;
  mc->dc.loop = loop;
  mc->connect_cb = cb;
  mc->connect_data = data;
  mc->gai.data = mc;
  uvsql__kit_guard_init(&mc->guard, my_on_last_leave);
  uvsql__kit_deferred_init(&mc->kick, &mc->guard, my_on_kick);
  uvsql__kit_lru_init(&mc->cache, opt ? opt->statement_cache_size : 100, sizeof(uvsql__my_stmt_t),
                      NULL, uvsql__my_stmt_release);
  if (mc->opt.connect_timeout < 0)
    mc->opt.connect_timeout = opt ? opt->connect_timeout : 30.0;
  if (mc->opt.connect_timeout > 0)
    mc->connect_deadline = uvsql__now_ms(loop) + (uint64_t)(mc->opt.connect_timeout * 1000.0 + 0.5);
  snprintf(mc->port_text, sizeof mc->port_text, "%d", mc->opt.port);
  if (mc->opt.unix_socket)
    snprintf(mc->where, sizeof mc->where, "%s", mc->opt.unix_socket);
  else if (!mc->opt.host || !strcmp(mc->opt.host, "localhost"))
    snprintf(mc->where, sizeof mc->where, "localhost (the server's default Unix socket)");
  else
    snprintf(mc->where, sizeof mc->where, strchr(mc->opt.host, ':') ? "[%s]:%d" : "%s:%d",
             mc->opt.host, mc->opt.port);

  if ((rc = uvsql__watcher_new(&mc->watcher, loop, my_on_watch, mc)) != 0) {
    my_free_now(mc);
    return uvsql__error_set(err, rc, "could not make a socket watcher");
  }
  if (mc->connect_deadline)
    uvsql__watcher_timeout(mc->watcher, mc->connect_deadline - uvsql__now_ms(loop));

  const char *host = mc->opt.host;
  if (mc->opt.unix_socket || !host || !strcmp(host, "localhost") || is_numeric_host(host) ||
      mc->opt.ssl_mode >= UVSQL__MY_SSL_VERIFY_IDENTITY) {
    if (host && is_numeric_host(host))
      snprintf(mc->address, sizeof mc->address, "%s", host);
    int st = my_start_connect(mc, err);
    if (st < 0) {
      my_free_now(mc);
      return UVSQL_ENOMEM;
    }
    if (st == 0) {
      my_kick(mc); /* finished at once (a missing socket file): report from the loop */
    } else {
      /* A socket that cannot be watched fails connect() itself (invariant 5: no callback
       * inside it), and every handle opened so far is closed with mc. */
      mc->connect_cb = NULL;
      my_wait(mc, st);
      if (mc->state == UVSQL__MY_FAILED) {
        uvsql__error_set(err, UVSQL_ECONNECT, "could not connect to %s: could not watch the socket",
                         mc->where);
        my_free_now(mc);
        return UVSQL_ECONNECT;
      }
      mc->connect_cb = cb;
    }
  } else {
    rc = uvsql__kit_resolve(loop, &mc->gai, my_on_resolved, host, mc->port_text, mc->where, err);
    if (rc != 0) {
      my_free_now(mc);
      return rc;
    }
    mc->gai_active = 1;
    mc->state = UVSQL__MY_RESOLVING;
  }
  *out = &mc->dc;
  return 0;
}

/* ------------------------------------------------------------------ close */

static void my_close_done(uvsql__my_conn_t *mc) {
  if (mc->state == UVSQL__MY_CLOSED)
    return;
  if (mc->mysql) { /* the close call was abandoned: free what is left, without I/O */
    mysql_close(mc->mysql);
    mc->mysql = NULL;
  }
  uvsql__kit_lru_free(&mc->cache); /* closes the statements: detached, no I/O */
  uvsql__my_exec_free(mc);
  mc->state = UVSQL__MY_CLOSED;
  uvsql__watcher_close(mc->watcher);
  mc->watcher = NULL;
  my_maybe_free(mc);
}

static void my_finish_close(uvsql__my_conn_t *mc) {
  uvsql_error_t err;
  uvsql__kit_enter(&mc->guard);
  mc->connect_cb = NULL;
  mc->connect_deadline = 0;
  uvsql__error_set(&err, UVSQL_ECLOSED, "the connection was closed before the request finished");
  uvsql__my_fail_all(mc, &err);
  if (mc->kill) {
    uvsql__my_kill_detach(mc->kill);
    mc->kill = NULL;
  }
  if (mc->gai_active)
    uv_cancel((uv_req_t *)&mc->gai);
  my_abort_op(mc);
  my_unwatch(mc);
  mc->state = UVSQL__MY_CLOSING;
  if (mc->mysql) {
    /* Statements stay with the handle until it is closed: mysql_close detaches them, and
     * my_close_done frees them without talking to the server (which frees its side itself). */
    mc->op = UVSQL__MY_OP_CLOSE;
    int st = mysql_close_start(mc->mysql);
    if (st != 0) {
      my_wait(mc, st);
      if (mc->op == UVSQL__MY_OP_CLOSE && mc->wait != 0) {
        uvsql__kit_leave(&mc->guard); /* CLOSING: my_on_last_leave frees nothing yet */
        return;                       /* my_on_watch drives it, then my_close_done */
      }
    } else {
      mc->op = UVSQL__MY_OP_NONE;
      mc->mysql = NULL; /* closed and freed already */
    }
  }
  my_close_done(mc);
  uvsql__kit_leave(&mc->guard); /* CLOSED: my_on_last_leave frees what nothing holds */
}

void uvsql__my_close(uvsql__dconn_t *dc, void (*closed_cb)(void *data), void *data) {
  uvsql__my_conn_t *mc = (uvsql__my_conn_t *)dc;
  if (!mc)
    return;
  int now = uvsql__kit_guard_close(&mc->guard, closed_cb, data);
  mc->connect_cb = NULL;
  if (now)
    my_finish_close(mc);
}
