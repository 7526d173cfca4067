/* src/loop/watcher.c — the socket watcher every network driver uses: one uv_poll_t for the
 * driver's current socket, one uv_timer_t for its deadlines and one uv_prepare_t for work
 * asked for "soon" (uvsql__watcher_soon: a driver sends what was submitted during a loop
 * iteration just before the loop next polls, without asking epoll for writability).
 *
 * Invariants:
 *  1. At most one poll handle is active; when the fd changes, the old handle is stopped (its
 *     fd leaves epoll at once) and closed, and a new one is made. Two handles never watch the
 *     same fd.
 *  2. The watcher struct is freed only after its timer's and prepare handle's close callbacks
 *     ran; poll handles replaced earlier free themselves in their own close callback.
 *  3. After uvsql__watcher_close the user callback is never called again.
 */
#include <stdlib.h>
#include "internal.h"

struct uvsql__watcher_s {
  uv_loop_t *loop;
  uv_poll_t *poll; /* NULL when no fd is watched */
  int fd;
  int events;
  uv_timer_t timer;
  uv_prepare_t soon; /* active while a "soon" call is due */
  int open;          /* handles embedded here not closed yet (timer, soon) */
  uvsql__watcher_cb cb;
  void *data;
  int closing;
  int unrefed; /* keepalive off: handles are uv_unref'd */
};

static void poll_closed(uv_handle_t *h) {
  free(h);
}

static void on_poll(uv_poll_t *p, int status, int events) {
  uvsql__watcher_t *w = p->data;
  if (w->closing)
    return;
  if (status < 0)
    w->cb(w, UVSQL__WATCH_ERROR, status, w->data);
  else
    w->cb(w, events, 0, w->data);
}

static void on_soon(uv_prepare_t *h) {
  uvsql__watcher_t *w = h->data;
  uv_prepare_stop(h);
  if (!w->closing)
    w->cb(w, UVSQL__WATCH_SOON, 0, w->data);
}

static void on_timer(uv_timer_t *t) {
  uvsql__watcher_t *w = t->data;
  if (!w->closing)
    w->cb(w, UVSQL__WATCH_TIMEOUT, 0, w->data);
}

int uvsql__watcher_new(uvsql__watcher_t **out, uv_loop_t *loop, uvsql__watcher_cb cb, void *data) {
  uvsql__watcher_t *w = calloc(1, sizeof *w);
  if (!w)
    return UVSQL_ENOMEM;
  w->loop = loop;
  w->fd = -1;
  w->cb = cb;
  w->data = data;
  uv_timer_init(loop, &w->timer);
  w->timer.data = w;
  uv_prepare_init(loop, &w->soon);
  w->soon.data = w;
  w->open = 2;
  *out = w;
  return 0;
}

static void drop_poll(uvsql__watcher_t *w) {
  if (w->poll) {
    uv_poll_stop(w->poll);
    uv_close((uv_handle_t *)w->poll, poll_closed);
    w->poll = NULL;
  }
  w->fd = -1;
  w->events = 0;
}

int uvsql__watcher_watch(uvsql__watcher_t *w, int fd, int events) {
  if (w->closing)
    return UVSQL_ECLOSED;
  if (fd < 0 || events == 0) {
    if (w->poll && w->events) {
      uv_poll_stop(w->poll);
      w->events = 0;
    }
    return 0;
  }
  if (fd != w->fd)
    drop_poll(w);
  if (!w->poll) {
    uv_poll_t *p = malloc(sizeof *p);
    if (!p)
      return UVSQL_ENOMEM;
    int rc = uv_poll_init(w->loop, p, fd);
    if (rc != 0) {
      free(p);
      return UVSQL_EOPERATIONAL;
    }
    p->data = w;
    if (w->unrefed)
      uv_unref((uv_handle_t *)p);
    w->poll = p;
    w->fd = fd;
    w->events = 0;
  }
  if (events != w->events) {
    if (uv_poll_start(w->poll, events, on_poll) != 0)
      return UVSQL_EOPERATIONAL;
    w->events = events;
  }
  return 0;
}

void uvsql__watcher_keepalive(uvsql__watcher_t *w, int on) {
  if (!w || w->closing || w->unrefed == !on)
    return;
  w->unrefed = !on;
  void (*fn)(uv_handle_t *) = on ? uv_ref : uv_unref;
  fn((uv_handle_t *)&w->timer);
  fn((uv_handle_t *)&w->soon);
  if (w->poll)
    fn((uv_handle_t *)w->poll);
}

void uvsql__watcher_stop(uvsql__watcher_t *w) {
  if (w && !w->closing)
    drop_poll(w);
}

void uvsql__watcher_timeout(uvsql__watcher_t *w, uint64_t ms) {
  if (w->closing)
    return;
  if (ms == 0)
    uv_timer_stop(&w->timer);
  else
    uv_timer_start(&w->timer, on_timer, ms, 0);
}

void uvsql__watcher_soon(uvsql__watcher_t *w) {
  if (!w->closing && !uv_is_active((uv_handle_t *)&w->soon))
    uv_prepare_start(&w->soon, on_soon);
}

static void handle_closed(uv_handle_t *h) {
  uvsql__watcher_t *w = h->data;
  if (--w->open == 0)
    free(w);
}

void uvsql__watcher_close(uvsql__watcher_t *w) {
  if (!w || w->closing)
    return;
  drop_poll(w);
  w->closing = 1;
  uv_timer_stop(&w->timer);
  uv_prepare_stop(&w->soon);
  uv_close((uv_handle_t *)&w->timer, handle_closed);
  uv_close((uv_handle_t *)&w->soon, handle_closed);
}
