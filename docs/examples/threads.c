/* docs/examples/threads.c — the tutorial's "Threads" section: uvsql objects belong to the loop
 * they were made on, so a program with several threads runs one loop and one engine in each.
 * Nothing is shared between the threads but the database itself.
 *
 * Usage: threads [URL]   (default: two threads, each with its own SQLite file; with a URL,
 * both threads' engines connect to that database)
 */
#include <inttypes.h>
#include <stdio.h>
#include <uvsql.h>

typedef struct worker_s {
  int id;
  const char *url; /* NULL: an SQLite file of the thread's own */
  uv_thread_t thread;
  int64_t answer;
  int rc;
} worker_t;

static void worker_main(void *arg) {
  worker_t *w = arg;
  /* snippet:threads.1 */
  uv_loop_t loop; /* this thread's loop ... */
  uvsql_engine_t *engine;
  uvsql_error_t err;
  char file[64];
  snprintf(file, sizeof file, "sqlite:///thread%d.db", w->id);
  const char *url = w->url ? w->url : file; /* the URL given, or an SQLite file of its own */
  uv_loop_init(&loop);
  w->rc = uvsql_engine_new(&engine, &loop, url, NULL, &err); /* ... and its engine */
  /* end snippet */
  if (w->rc != 0)
    return;
  uvsql_param_t p[] = {UVSQL_P_INT64("id", w->id)};
  uvsql_future_t *f = uvsql_engine_execute_sql(engine, "SELECT :id * 100", p, 1, NULL, NULL);
  w->rc = uvsql_future_wait(f); /* runs this thread's loop only */
  if (w->rc == 0)
    uvsql_result_int64(uvsql_future_value(f), 0, 0, &w->answer);
  uvsql_future_unref(f);
  f = uvsql_engine_dispose(engine, NULL, NULL);
  uvsql_future_wait(f);
  uvsql_future_unref(f);
  uv_loop_close(&loop);
}

int main(int argc, char **argv) {
  const char *url = argc > 1 ? argv[1] : NULL;
  worker_t w[2] = {{.id = 1, .url = url}, {.id = 2, .url = url}};
  for (int i = 0; i < 2; i++)
    uv_thread_create(&w[i].thread, worker_main, &w[i]);
  int rc = 0;
  for (int i = 0; i < 2; i++) {
    uv_thread_join(&w[i].thread);
    printf("thread %d: rc %d, answer %" PRId64 "\n", w[i].id, w[i].rc, w[i].answer);
    rc |= w[i].rc;
  }
  return rc == 0 ? 0 : 1;
}
