/* src/dialects/mariadb/cancel.c — cancel a running statement: KILL QUERY <thread id>, sent on a
 * second, short-lived connection, without blocking the loop.
 *
 *   uvsql__my_kill_start: mysql_real_connect_start (same address, credentials and TLS as the
 *        |               connection whose statement runs; never a DNS lookup: the address
 *        v               that connection resolved is reused)
 *     CONNECT --kill_run--> QUERY (mysql_real_query_start "KILL QUERY n")
 *        |                    |
 *        | failed             v
 *        |                  CLOSE (mysql_close_start/_cont) --> kill_end: tell the connection,
 *        +----------------------------------------------------->  close the watcher, free
 *   (timer: KILL_TIMEOUT_MS after the start, whatever the step: kill_abort, then kill_end)
 *
 * Invariants:
 *  1. The job owns copies of everything it connects with: the connection may be closed and
 *     freed while the job runs (uvsql__my_kill_detach clears the job's pointer to it).
 *  2. While the job runs, the connection starts no further request (exec.c invariant 2), so
 *     the KILL reaches the statement that was cancelled or nothing; when the job ends,
 *     whatever its outcome, it clears mc->kill and kicks the connection's queue.
 *  3. The job never settles a request: the running statement's own answer (error 1317, or
 *     its row for SLEEP) does, in exec.c.
 *  4. Like every connection here, the socket is read again before each wait and the watcher
 *     stopped before the socket can be closed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "mariadb.h"

#define KILL_TIMEOUT_MS 10000

enum { KSTEP_CONNECT, KSTEP_QUERY, KSTEP_CLOSE };

struct uvsql__my_kill_s {
  uvsql__my_conn_t *mc; /* NULL once detached */
  uv_loop_t *loop;
  MYSQL *mysql;
  uvsql__watcher_t *watcher;
  int step;
  int wait; /* MYSQL_WAIT_* of the call in progress, 0 when none */
  MYSQL *ret_mysql;
  int ret_int;
  uint64_t deadline;
  char *host, *user, *password, *unix_socket;
  unsigned port;
  char sql[48];
};

static int kill_cont(uvsql__my_kill_t *k, int ready) {
  switch (k->step) {
  case KSTEP_CONNECT:
    return mysql_real_connect_cont(&k->ret_mysql, k->mysql, ready);
  case KSTEP_QUERY:
    return mysql_real_query_cont(&k->ret_int, k->mysql, ready);
  default:
    return mysql_close_cont(k->mysql, ready);
  }
}

static void kill_free(uvsql__my_kill_t *k) {
  if (k->password)
    memset(k->password, 0, strlen(k->password));
  free(k->host);
  free(k->user);
  free(k->password);
  free(k->unix_socket);
  free(k);
}

static void kill_end(uvsql__my_kill_t *k) {
  if (k->mc) {
    uvsql__my_conn_t *mc = k->mc;
    k->mc = NULL;
    mc->kill = NULL;
    uvsql__my_kick(mc); /* invariant 2: the queue may go on */
  }
  uvsql__watcher_stop(k->watcher);
  if (k->mysql) /* a failed connect or an abandoned call: no socket to talk to */
    mysql_close(k->mysql);
  k->mysql = NULL;
  uvsql__watcher_close(k->watcher);
  kill_free(k);
}

/* Ends the call in progress at once: shut the socket down and drive the call to its error. */
static void kill_abort(uvsql__my_kill_t *k) {
  if (k->wait && k->mysql) {
    int fd = (int)mysql_get_socket(k->mysql);
    uvsql__watcher_stop(k->watcher);
    if (fd >= 0)
      shutdown(fd, SHUT_RDWR);
    for (int i = 0; i < 64 && k->wait; i++)
      k->wait = kill_cont(k, k->wait);
    if (k->step == KSTEP_CLOSE && !k->wait)
      k->mysql = NULL; /* mysql_close_cont freed it */
  }
  k->wait = 0;
}

static void kill_wait(uvsql__my_kill_t *k, int status) {
  int events = 0, fd = (int)mysql_get_socket(k->mysql);
  uint64_t now = uvsql__now_ms(k->loop), ms = k->deadline > now ? k->deadline - now : 1;
  k->wait = status;
  if (status & MYSQL_WAIT_READ)
    events |= UV_READABLE;
  if (status & MYSQL_WAIT_WRITE)
    events |= UV_WRITABLE;
  if ((status & MYSQL_WAIT_EXCEPT) && !events)
    events |= UV_READABLE;
  if (status & MYSQL_WAIT_TIMEOUT) {
    uint64_t lib = mysql_get_timeout_value_ms(k->mysql);
    if (lib < ms)
      ms = lib ? lib : 1;
  }
  uvsql__watcher_timeout(k->watcher, ms);
  if (events && (fd < 0 || uvsql__watcher_watch(k->watcher, fd, events) != 0)) {
    kill_abort(k);
    kill_end(k);
  }
}

/* Drives the job after a call returned st (0: it has finished). */
static void kill_run(uvsql__my_kill_t *k, int st) {
  for (;;) {
    if (st != 0) {
      kill_wait(k, st);
      return;
    }
    k->wait = 0;
    uvsql__watcher_stop(k->watcher);
    switch (k->step) {
    case KSTEP_CONNECT:
      if (!k->ret_mysql) { /* could not connect: the statement runs to its end */
        kill_end(k);
        return;
      }
      k->step = KSTEP_QUERY;
      st = mysql_real_query_start(&k->ret_int, k->mysql, k->sql, (unsigned long)strlen(k->sql));
      break;
    case KSTEP_QUERY: /* 0, or 1094 "unknown thread" when the statement ended meanwhile */
      k->step = KSTEP_CLOSE;
      st = mysql_close_start(k->mysql);
      break;
    default:
      k->mysql = NULL; /* closed and freed */
      kill_end(k);
      return;
    }
  }
}

static void kill_on_watch(uvsql__watcher_t *w, int events, int status, void *data) {
  uvsql__my_kill_t *k = data;
  int ready = 0;
  (void)w;
  (void)status; /* a polling error is POLLERR: the call itself reports it */
  if (!k->wait)
    return;
  if ((events & UVSQL__WATCH_TIMEOUT) && uvsql__now_ms(k->loop) >= k->deadline) {
    kill_abort(k);
    kill_end(k);
    return;
  }
  if (events & UVSQL__WATCH_ERROR) /* POLLERR: let Connector/C read the socket's error */
    ready |= k->wait & (MYSQL_WAIT_READ | MYSQL_WAIT_WRITE | MYSQL_WAIT_EXCEPT);
  if (events & UV_READABLE)
    ready |= MYSQL_WAIT_READ;
  if (events & UV_WRITABLE)
    ready |= MYSQL_WAIT_WRITE;
  if ((events & UVSQL__WATCH_TIMEOUT) && (k->wait & MYSQL_WAIT_TIMEOUT))
    ready |= MYSQL_WAIT_TIMEOUT;
  if (!ready) {
    kill_wait(k, k->wait);
    return;
  }
  uvsql__watcher_stop(k->watcher); /* the call may close the socket (invariant 4) */
  kill_run(k, kill_cont(k, ready));
}

static char *dup_or_null(const char *s, int *oom) {
  char *d = s ? strdup(s) : NULL;
  if (s && !d)
    *oom = 1;
  return d;
}

int uvsql__my_kill_start(uvsql__my_conn_t *mc) {
  uvsql__my_kill_t *k = calloc(1, sizeof *k);
  int oom = 0;
  if (!k)
    return UVSQL_ENOMEM;
  k->loop = mc->dc.loop;
  k->port = (unsigned)mc->opt.port;
  k->deadline = uvsql__now_ms(k->loop) + KILL_TIMEOUT_MS;
  snprintf(k->sql, sizeof k->sql, "KILL QUERY %lu", mc->thread_id);
  if (!mc->opt.unix_socket)
    k->host = dup_or_null(mc->address[0] ? mc->address : mc->opt.host, &oom);
  k->user = dup_or_null(mc->opt.user, &oom);
  k->password = dup_or_null(mc->opt.password, &oom);
  k->unix_socket = dup_or_null(mc->opt.unix_socket, &oom);
  if (oom || !(k->mysql = mysql_init(NULL)) || uvsql__my_options_apply(&mc->opt, k->mysql) != 0 ||
      uvsql__watcher_new(&k->watcher, k->loop, kill_on_watch, k) != 0) {
    if (k->mysql)
      mysql_close(k->mysql);
    kill_free(k);
    return UVSQL_ENOMEM;
  }
  k->mc = mc;
  mc->kill = k;
  k->step = KSTEP_CONNECT;
  kill_run(k, mysql_real_connect_start(&k->ret_mysql, k->mysql, k->host, k->user, k->password, NULL,
                                       k->port, k->unix_socket, 0));
  return 0;
}

void uvsql__my_kill_detach(uvsql__my_kill_t *k) {
  if (k)
    k->mc = NULL;
}
