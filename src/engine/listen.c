/* src/engine/listen.c — LISTEN/NOTIFY: the engine's listener connection and its listeners.
 *
 * The engine keeps one driver connection of its own for listening (never in the pool), opened
 * on the first uvsql_engine_listen with the engine's URL and options:
 *
 *   IDLE --listen--> CONNECTING --connected--> READY: SELECT pg_backend_pid(), then one
 *     LISTEN per distinct channel (each confirms the listeners of its channel)
 *   READY --on_lost--> WAIT (timer: 0 ms the first time, then 0.1 s doubling up to 5 s)
 *     --> CONNECTING --> READY: the same requests; when the last of them is done, every
 *     listener is told UVSQL_NOTIFY_RECONNECTED
 *   CONNECTING --failed--> WAIT (listeners whose LISTEN was never confirmed fail: ECONNECT)
 *   any --dispose--> CLOSING: the connection and the timer close (counted in e->nclosing),
 *     then the listener is freed and the engine's dispose goes on
 *
 * Notifications from the listener connection and from every pooled connection (pool.c sets
 * their on_notify to uvsql__listen_pool_notify) go through dispatch(), in arrival order.
 *
 * Invariants:
 *  1. A listener (entry) is called only while it is live (not `dead`); unlisten inside a
 *     callback marks it dead and it is freed when the outermost dispatch ends.
 *  2. A request carries the connection it was sent on; its done ignores it when that is no
 *     longer L->dc (a lost connection's requests are failed after the reconnect began).
 *  3. L is freed only when both handles it closes have closed (closing_handles == 0).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "uvsql/listen_copy.h"

#define CHANNEL_MAX      63 /* NAMEDATALEN - 1 */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS   5000

typedef struct entry_s entry_t;
struct entry_s {
  entry_t *next;
  uvsql_notify_cb cb;
  void *cbdata;
  uvsql_future_t *started; /* pending until the LISTEN is confirmed; NULL after */
  int confirmed;           /* the server confirmed a LISTEN for it once */
  int sent;                /* a LISTEN for its channel went out on the current connection */
  int dead;                /* invariant 1 */
  char channel[CHANNEL_MAX + 1];
};

typedef enum { L_IDLE, L_CONNECTING, L_READY, L_WAIT, L_CLOSING } lstate_t;

struct uvsql__listener_s {
  uvsql_engine_t *e;
  uvsql__dconn_t *dc;
  lstate_t state;
  entry_t *entries;
  uv_timer_t *timer;
  unsigned backoff_ms;
  int reconnecting; /* tell RECONNECTED when setup_left reaches 0 */
  int setup_left;   /* setup requests not yet done on this connection */
  int pid;
  int dispatching;
  int closing_handles;
  uvsql_error_t last_err;
};

enum { K_PID, K_LISTEN, K_UNLISTEN };

typedef struct lreq_s {
  uvsql__request_t req; /* first */
  uvsql__listener_t *L;
  uvsql__dconn_t *dc; /* invariant 2 */
  int kind;
  int setup;
  uvsql_future_t *f; /* UNLISTEN's */
  char channel[CHANNEL_MAX + 1];
  char sql[2 * CHANNEL_MAX + 16];
} lreq_t;

static void lconnect(uvsql__listener_t *L);

/* ------------------------------------------------------------------ helpers */

static int check_channel(const char *channel, uvsql_error_t *err) {
  size_t n = channel ? strlen(channel) : 0;
  if (n == 0 || n > CHANNEL_MAX)
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "channel name %s%.*s%s is %zu bytes: a PostgreSQL channel name has 1 "
                            "to %d bytes",
                            channel ? "\"" : "", 40, channel ? channel : "NULL",
                            channel ? (n > 40 ? "...\"" : "\"") : "", n, CHANNEL_MAX);
  return 0;
}

static uvsql_future_t *failed(uv_loop_t *loop, const uvsql_error_t *err, uvsql_future_cb cb,
                              void *data) {
  uvsql_future_t *f = uvsql__future_new(loop);
  if (!f)
    return NULL;
  uvsql__future_fail_soon(f, err);
  return uvsql__future_return(f, cb, data);
}

static int not_postgres(const uvsql_engine_t *e, const char *what, uvsql_error_t *err) {
  if (strcmp(e->driver->name, "postgresql") == 0)
    return 0;
  return uvsql__error_set(err, UVSQL_ENOT_SUPPORTED,
                          "%s: LISTEN/NOTIFY is a PostgreSQL feature; this engine is %s (poll "
                          "a table, or use PostgreSQL for notifications)",
                          what, e->driver->name);
}

static void settle_started(entry_t *en, const uvsql_error_t *err) {
  uvsql_future_t *f = en->started;
  if (!f)
    return;
  en->started = NULL;
  if (err)
    uvsql__future_fail(f, err);
  else
    uvsql__future_resolve(f, NULL, NULL);
  uvsql_future_unref(f);
}

static void sweep(uvsql__listener_t *L) {
  entry_t **pp = &L->entries;
  if (L->dispatching)
    return;
  while (*pp) {
    entry_t *en = *pp;
    if (en->dead) {
      *pp = en->next;
      free(en);
    } else {
      pp = &en->next;
    }
  }
}

/* Marks en dead (freed by sweep) and settles its started future with err (if pending). */
static void kill_entry(uvsql__listener_t *L, entry_t *en, const uvsql_error_t *err) {
  en->dead = 1;
  settle_started(en, err);
  (void)L;
}

static entry_t *channel_live(uvsql__listener_t *L, const char *channel, const entry_t *except) {
  for (entry_t *en = L->entries; en; en = en->next)
    if (!en->dead && en != except && strcmp(en->channel, channel) == 0)
      return en;
  return NULL;
}

static void dispatch(uvsql__listener_t *L, const char *channel, const char *payload, int pid,
                     unsigned flags) {
  uvsql_notification_t n = {channel, payload, pid, flags};
  L->dispatching++;
  for (entry_t *en = L->entries; en; en = en->next) {
    if (en->dead || (channel && strcmp(en->channel, channel) != 0))
      continue;
    if (!channel) { /* RECONNECTED: each listener hears it on its own channel */
      n.channel = en->channel;
      n.payload = "";
    }
    en->cb(&n, en->cbdata);
    if (L->state == L_CLOSING)
      break;
  }
  L->dispatching--;
  sweep(L);
}

/* ------------------------------------------------------------------ requests */

static void lreq_done(uvsql__request_t *req, uvsql_result_t *result, const uvsql_error_t *err) {
  lreq_t *r = (lreq_t *)req;
  uvsql__listener_t *L = r->L;
  uvsql_error_t closed;
  int current = L->state != L_CLOSING && r->dc == L->dc;
  if (r->f) { /* UNLISTEN: its caller hears what happened */
    if (err)
      uvsql__future_fail(r->f, err);
    else
      uvsql__future_resolve(r->f, NULL, NULL);
    uvsql_future_unref(r->f);
  }
  if (!current) {
    uvsql_result_free(result);
    free(r);
    return;
  }
  if (r->setup)
    L->setup_left--;
  if (r->kind == K_PID && !err) {
    int64_t pid = 0;
    if (uvsql_result_int64(result, 0, 0, &pid) == 0)
      L->pid = (int)pid;
  } else if (r->kind == K_LISTEN) {
    if (!err) {
      for (entry_t *en = L->entries; en; en = en->next)
        if (!en->dead && strcmp(en->channel, r->channel) == 0) {
          en->confirmed = 1;
          settle_started(en, NULL);
        }
    } else if (err->code != UVSQL_EDISCONNECT && err->code != UVSQL_ECLOSED) {
      /* the server refused it: its waiting listeners fail (a lost connection retries) */
      closed = *err;
      for (entry_t *en = L->entries; en; en = en->next)
        if (!en->dead && !en->confirmed && strcmp(en->channel, r->channel) == 0)
          kill_entry(L, en, &closed);
      sweep(L);
    }
  }
  uvsql_result_free(result);
  free(r);
  if (L->setup_left == 0 && L->reconnecting && L->state == L_READY) {
    L->reconnecting = 0;
    L->backoff_ms = 0;
    dispatch(L, NULL, "", L->pid, UVSQL_NOTIFY_RECONNECTED);
  } else if (L->setup_left == 0 && L->state == L_READY) {
    L->backoff_ms = 0;
  }
}

/* Sends one request on the listener connection. 0 or UVSQL_ENOMEM. */
static int lsubmit(uvsql__listener_t *L, int kind, const char *channel, int setup,
                   uvsql_future_t *f) {
  lreq_t *r = calloc(1, sizeof *r);
  if (!r)
    return UVSQL_ENOMEM;
  r->L = L;
  r->dc = L->dc;
  r->kind = kind;
  r->setup = setup;
  r->f = f;
  if (kind == K_PID) {
    snprintf(r->sql, sizeof r->sql, "SELECT pg_backend_pid()");
  } else {
    size_t o = 0;
    const char *verb = kind == K_LISTEN ? "LISTEN \"" : "UNLISTEN \"";
    snprintf(r->channel, sizeof r->channel, "%s", channel);
    o = (size_t)snprintf(r->sql, sizeof r->sql, "%s", verb);
    for (const char *p = channel; *p; p++) { /* a quoted identifier: " doubled */
      if (*p == '"')
        r->sql[o++] = '"';
      r->sql[o++] = *p;
    }
    r->sql[o++] = '"';
    r->sql[o] = '\0';
  }
  r->req.sql = r->sql;
  r->req.sql_len = strlen(r->sql);
  r->req.flags = UVSQL__REQ_NO_PREPARE;
  r->req.done = lreq_done;
  r->req.data = r;
  if (setup)
    L->setup_left++;
  uvsql__engine_echo(L->e, r->sql, NULL, 0);
  L->e->driver->submit(L->dc, &r->req);
  return 0;
}

/* LISTEN for en's channel unless one went out on this connection already. */
static int listen_channel(uvsql__listener_t *L, entry_t *en, int setup) {
  entry_t *other = channel_live(L, en->channel, en);
  int rc;
  if (other && other->sent) {
    en->sent = 1;
    if (other->confirmed && !setup)
      settle_started(en, NULL);
    return 0;
  }
  rc = lsubmit(L, K_LISTEN, en->channel, setup, NULL);
  if (rc == 0)
    for (entry_t *x = L->entries; x; x = x->next)
      if (!x->dead && strcmp(x->channel, en->channel) == 0)
        x->sent = 1;
  return rc;
}

/* ------------------------------------------------------------------ the connection */

static void retry_later(uvsql__listener_t *L);

static void on_notify(uvsql__dconn_t *dc, const char *channel, const char *payload, int pid,
                      void *data) {
  uvsql__listener_t *L = data;
  if (L->state == L_CLOSING || dc != L->dc)
    return;
  dispatch(L, channel, payload, pid, 0);
}

static void on_lost(uvsql__dconn_t *dc, void *data) {
  uvsql__listener_t *L = data;
  if (L->state == L_CLOSING || dc != L->dc)
    return;
  uvsql__engine_log(L->e, "the listener connection was lost: connecting again");
  L->dc = NULL; /* first: the close fails its requests, which are then stale (invariant 2) */
  L->e->driver->close(dc, NULL, NULL); /* finished when the driver's frame leaves */
  L->pid = 0;
  L->state = L_WAIT;
  L->reconnecting = 1;
  retry_later(L);
}

static void on_connected(uvsql__dconn_t *dc, const uvsql_error_t *err, void *data) {
  uvsql__listener_t *L = data;
  if (err) {
    L->last_err = *err;
    L->dc = NULL;
    L->e->driver->close(dc, NULL, NULL);
    L->state = L_WAIT;
    /* listeners nobody has confirmed yet hear it now; the others wait for the retry */
    for (entry_t *en = L->entries; en; en = en->next)
      if (!en->dead && !en->confirmed)
        kill_entry(L, en, err);
    sweep(L);
    if (L->entries) {
      retry_later(L);
    } else {
      L->state = L_IDLE;
      L->reconnecting = 0;
      L->backoff_ms = 0;
    }
    return;
  }
  dc->on_notify = on_notify;
  dc->on_lost = on_lost;
  dc->event_data = L;
  L->state = L_READY;
  L->setup_left = 0;
  for (entry_t *en = L->entries; en; en = en->next)
    en->sent = 0;
  if (lsubmit(L, K_PID, NULL, 1, NULL) != 0)
    goto nomem;
  for (entry_t *en = L->entries; en; en = en->next)
    if (!en->dead && !en->sent && listen_channel(L, en, 1) != 0)
      goto nomem;
  return;
nomem:
  uvsql__engine_warn(L->e, "out of memory setting up the listener connection: LISTENs are "
                           "missing until it reconnects");
}

static void timer_fired(uv_timer_t *t) {
  uvsql__listener_t *L = t->data;
  if (L->state == L_WAIT)
    lconnect(L);
}

static void retry_later(uvsql__listener_t *L) {
  unsigned delay = L->backoff_ms;
  L->backoff_ms =
      delay ? (delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2) : BACKOFF_FIRST_MS;
  if (!L->timer) {
    if (!(L->timer = malloc(sizeof *L->timer))) {
      uvsql__engine_warn(L->e, "out of memory: the listener connection is not reopened");
      return;
    }
    uv_timer_init(L->e->loop, L->timer);
    L->timer->data = L;
    uv_unref((uv_handle_t *)L->timer); /* as idle pooled connections: no keeping the loop */
  }
  uv_timer_start(L->timer, timer_fired, delay, 0);
}

static void lconnect(uvsql__listener_t *L) {
  uvsql_error_t err;
  uvsql_engine_t *e = L->e;
  L->state = L_CONNECTING;
  if (e->driver->connect(&L->dc, e->loop, e->url, &e->dopt, on_connected, L, &err) != 0) {
    L->dc = NULL;
    L->state = L_WAIT;
    L->last_err = err;
    for (entry_t *en = L->entries; en; en = en->next)
      if (!en->dead && !en->confirmed)
        kill_entry(L, en, &err);
    sweep(L);
    if (L->entries)
      retry_later(L);
    else
      L->state = L_IDLE;
  }
}

/* ------------------------------------------------------------------ dispose */

static void handle_closed(uvsql__listener_t *L) {
  uvsql_engine_t *e = L->e;
  e->nclosing--;
  if (--L->closing_handles == 0) {
    L->dispatching = 0;
    for (entry_t *en = L->entries; en; en = en->next)
      en->dead = 1;
    sweep(L);
    e->listener = NULL;
    free(L);
  }
  uvsql__engine_maybe_disposed(e);
}

static void dc_closed(void *data) {
  handle_closed(data);
}

static void timer_closed(uv_handle_t *h) {
  uvsql__listener_t *L = h->data;
  free(h);
  handle_closed(L);
}

void uvsql__listen_dispose(uvsql_engine_t *e) {
  uvsql__listener_t *L = e->listener;
  uvsql_error_t err;
  if (!L)
    return;
  L->state = L_CLOSING;
  uvsql__error_set(&err, UVSQL_ECLOSED, "the engine is being disposed: the listener is closed");
  for (entry_t *en = L->entries; en; en = en->next)
    if (!en->dead)
      kill_entry(L, en, &err);
  /* both counted first: a close callback must not see the other one at zero */
  L->closing_handles = 1 + (L->dc != NULL) + (L->timer != NULL);
  e->nclosing += L->closing_handles;
  if (L->dc) {
    uvsql__dconn_t *dc = L->dc;
    L->dc = NULL;
    e->driver->close(dc, dc_closed, L);
  }
  if (L->timer) {
    uv_timer_stop(L->timer);
    uv_close((uv_handle_t *)L->timer, timer_closed);
    L->timer = NULL;
  }
  handle_closed(L); /* the count's own 1 */
}

/* ------------------------------------------------------------------ pooled connections */

static void pool_notify(uvsql__dconn_t *dc, const char *channel, const char *payload, int pid,
                        void *data) {
  uvsql_engine_t *e = data;
  (void)dc;
  if (e->listener && e->listener->state != L_CLOSING)
    dispatch(e->listener, channel, payload, pid, UVSQL_NOTIFY_FROM_POOL);
}

void uvsql__listen_attach(uvsql_engine_t *e, uvsql__dconn_t *dc) {
  dc->on_notify = pool_notify;
  dc->event_data = e;
}

/* ------------------------------------------------------------------ the API */

static int listen_cancel(void *data) {
  entry_t *en = data;
  uvsql_error_t err;
  uvsql__error_set(&err, UVSQL_ECANCELLED,
                   "cancelled before the server confirmed the LISTEN: the listener is removed");
  kill_entry(NULL, en, &err);
  return 0; /* the entry is swept at the next dispatch, listen or unlisten */
}

uvsql_future_t *uvsql_engine_listen(uvsql_engine_t *e, const char *channel,
                                    uvsql_notify_cb on_notify_cb, void *notify_data,
                                    uvsql_future_cb cb, void *data) {
  uvsql_error_t err;
  uvsql__listener_t *L;
  entry_t *en;
  uvsql_future_t *f;
  if (!e)
    return NULL;
  if (not_postgres(e, "uvsql_engine_listen", &err) || check_channel(channel, &err))
    return failed(e->loop, &err, cb, data);
  if (!on_notify_cb) {
    uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT,
                     "uvsql_engine_listen: on_notify is NULL: pass the function to call for each "
                     "notification");
    return failed(e->loop, &err, cb, data);
  }
  if (e->disposing) {
    uvsql__error_set(&err, UVSQL_ECLOSED, "uvsql_engine_listen: the engine is being disposed");
    return failed(e->loop, &err, cb, data);
  }
  if (!(L = e->listener)) {
    if (!(L = calloc(1, sizeof *L))) {
      uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory adding a listener");
      return failed(e->loop, &err, cb, data);
    }
    L->e = e;
    e->listener = L;
  }
  sweep(L);
  if (!(en = calloc(1, sizeof *en)) || !(f = uvsql__future_new(e->loop))) {
    free(en);
    uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory adding a listener");
    return failed(e->loop, &err, cb, data);
  }
  en->cb = on_notify_cb;
  en->cbdata = notify_data;
  snprintf(en->channel, sizeof en->channel, "%s", channel);
  en->started = uvsql_future_ref(f);
  uvsql__future_set_canceller(f, listen_cancel, en);
  en->next = L->entries;
  L->entries = en;
  switch (L->state) {
  case L_IDLE:
    lconnect(L); /* a synchronous failure has failed f (soon enough: after return) */
    break;
  case L_READY: {
    entry_t *other = channel_live(L, en->channel, en);
    if (other && other->confirmed && L->setup_left == 0) {
      en->sent = en->confirmed = 1;
      en->started = NULL;
      uvsql__future_resolve_soon(f, NULL, NULL);
      uvsql_future_unref(f);
    } else if (listen_channel(L, en, 0) != 0) {
      uvsql__error_set(&err, UVSQL_ENOMEM, "out of memory sending LISTEN");
      en->dead = 1;
      en->started = NULL;
      uvsql__future_fail_soon(f, &err);
      uvsql_future_unref(f);
    }
    break;
  }
  default: /* CONNECTING, WAIT: the setup sends it */
    break;
  }
  return uvsql__future_return(f, cb, data);
}

uvsql_future_t *uvsql_engine_unlisten(uvsql_engine_t *e, const char *channel,
                                      uvsql_notify_cb on_notify_cb, void *notify_data,
                                      uvsql_future_cb cb, void *data) {
  uvsql_error_t err;
  uvsql__listener_t *L;
  entry_t *en = NULL;
  uvsql_future_t *f;
  if (!e)
    return NULL;
  if (not_postgres(e, "uvsql_engine_unlisten", &err) || check_channel(channel, &err))
    return failed(e->loop, &err, cb, data);
  if ((L = e->listener))
    for (en = L->entries; en; en = en->next)
      if (!en->dead && en->cb == on_notify_cb && en->cbdata == notify_data &&
          strcmp(en->channel, channel) == 0)
        break;
  if (!en) {
    uvsql__error_set(&err, UVSQL_EINVALID_ARGUMENT,
                     "uvsql_engine_unlisten: no listener on channel \"%s\" with that function "
                     "and data: pass what uvsql_engine_listen was given",
                     channel);
    return failed(e->loop, &err, cb, data);
  }
  if (!(f = uvsql__future_new(e->loop))) {
    return NULL;
  }
  uvsql__error_set(&err, UVSQL_ECANCELLED,
                   "uvsql_engine_unlisten was called before the server confirmed the LISTEN");
  kill_entry(L, en, &err);
  if (!channel_live(L, channel, NULL) && L->state == L_READY && en->sent) {
    if (lsubmit(L, K_UNLISTEN, channel, 0, uvsql_future_ref(f)) != 0) {
      uvsql_future_unref(f);                     /* the request's reference */
      uvsql__future_resolve_soon(f, NULL, NULL); /* the UNLISTEN waits for the session's end */
    }
  } else {
    uvsql__future_resolve_soon(f, NULL, NULL);
  }
  sweep(L);
  return uvsql__future_return(f, cb, data);
}

uvsql_future_t *uvsql_engine_notify(uvsql_engine_t *e, const char *channel, const char *payload,
                                    uvsql_future_cb cb, void *data) {
  uvsql_error_t err;
  if (!e)
    return NULL;
  if (not_postgres(e, "uvsql_engine_notify", &err) || check_channel(channel, &err))
    return failed(e->loop, &err, cb, data);
  uvsql_param_t p[] = {UVSQL_P_TEXT("c", channel), UVSQL_P_TEXT("p", payload ? payload : "")};
  return uvsql_engine_execute_sql(e, "SELECT pg_notify(:c, :p)", p, 2, cb, data);
}

int uvsql_engine_listener_pid(const uvsql_engine_t *e) {
  return e && e->listener && e->listener->state == L_READY ? e->listener->pid : 0;
}
