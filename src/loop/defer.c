/* src/loop/defer.c — run a function on the loop's next iteration. A zero-delay timer per
 * call: zero-delay timers fire in the order they were started, so deferred calls keep their
 * order. Memory is freed in the close callback, as libuv requires.
 */
#include <stdlib.h>
#include "internal.h"

typedef struct {
  uv_timer_t timer;
  void (*fn)(void *data);
  void *data;
} defer_t;

static void defer_closed(uv_handle_t *h) {
  free(h->data);
}

static void defer_fire(uv_timer_t *t) {
  defer_t *d = t->data;
  uv_close((uv_handle_t *)&d->timer, defer_closed);
  d->fn(d->data);
}

int uvsql__defer(uv_loop_t *loop, void (*fn)(void *data), void *data) {
  defer_t *d = malloc(sizeof *d);
  if (!d)
    return UVSQL_ENOMEM;
  uv_timer_init(loop, &d->timer);
  d->timer.data = d;
  d->fn = fn;
  d->data = data;
  uv_timer_start(&d->timer, defer_fire, 0, 0);
  return 0;
}
