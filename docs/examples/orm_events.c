/* docs/examples/orm_events.c — the tutorial's "Events, merge and streaming" section: an audit
 * column stamped by a before_insert/before_update listener and written by the same
 * statement, an after_commit listener, a merge of a detached object (one UPDATE of the field
 * that changed), and a streamed select whose batches leave the session unless kept. It
 * checks what it shows and exits 1 when something differs.
 *
 * Usage: orm_events [URL]   (default sqlite:///orm_events.db)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uvsql.h>

#define ITEM_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(40), UVSQL_NOT_NULL)                                                              \
  X(updated_at, INT64, 0)
UVSQL_MODEL(item_t, "event_item", ITEM_FIELDS)

static int64_t clock_us = 1000; /* a clock the example controls */
static int64_t now_us(void) {
  return clock_us;
}

static int updates;
static void echo(void *data, const char *line) {
  (void)data;
  if (strncmp(line, "UPDATE", 6) == 0)
    updates++;
  printf("  SQL> %s\n", line);
}

static void *wait_ok(uvsql_future_t *f, const char *what) {
  if (uvsql_future_wait(f) != 0) {
    const uvsql_error_t *e = uvsql_future_error(f);
    fprintf(stderr, "%s: %s: %s\n", what, uvsql_err_name(e->code), e->message);
    exit(1);
  }
  return uvsql_future_value(f);
}

static void run(uvsql_future_t *f, const char *what) {
  wait_ok(f, what);
  uvsql_future_unref(f);
}

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "unexpected: %s\n", what);
    exit(1);
  }
}

/* snippet:orm_events.1 */
static int stamp(uvsql_session_t *s, unsigned ev, void *obj, void *data, uvsql_error_t *err) {
  (void)s, (void)ev, (void)data, (void)err;
  item_t *it = obj;
  return uvsql_orm_set_int64(it, &it->updated_at, now_us()); /* written by the same UPDATE */
}
/* end snippet */

static int count_commits(uvsql_session_t *s, unsigned ev, void *obj, void *data,
                         uvsql_error_t *err) {
  (void)s, (void)ev, (void)obj, (void)err;
  ++*(int *)data;
  return 0;
}

static int wanted(const void *obj) {
  return ((const item_t *)obj)->id % 100 == 0;
}

/* snippet:orm_events.4 */
static int on_batch(uvsql_session_t *s, void *const *objs, size_t n, void *data) {
  (void)data;
  for (size_t i = 0; i < n; i++)
    if (wanted(objs[i]))
      uvsql_session_keep(s, objs[i]); /* stays in the session after this batch */
  return 0;                           /* non-zero stops the stream */
}
/* end snippet */

int main(int argc, char **argv) {
  const char *url = argc > 1 ? argv[1] : "sqlite:///orm_events.db";
  uv_loop_t *loop = uv_default_loop();
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.echo = 1;
  opt.echo_hide_parameters = 1;
  opt.log_cb = echo;
  uvsql_engine_t *engine;
  uvsql_error_t err;
  if (uvsql_engine_new(&engine, loop, url, &opt, &err)) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  uvsql_mapper_t *items = uvsql_registry_map(reg, item_t_model(), &err);
  check(items != NULL, "map");
  run(uvsql_metadata_drop_all(uvsql_registry_metadata(reg), engine, NULL, NULL), "drop_all");
  run(uvsql_metadata_create_all(uvsql_registry_metadata(reg), engine, NULL, NULL), "create_all");
  uvsql_session_t *session;
  check(uvsql_session_new(&session, engine, reg, NULL) == 0, "session");
  int commits = 0;

  /* snippet:orm_events.2 */
  uvsql_mapper_on(items, UVSQL_EV_BEFORE_INSERT | UVSQL_EV_BEFORE_UPDATE, stamp, NULL, &err);
  uvsql_session_on(session, UVSQL_EV_AFTER_COMMIT, count_commits, &commits, &err);
  /* end snippet */

  for (int64_t i = 1; i <= 2000; i++) {
    item_t *it = uvsql_orm_new(items);
    char name[32];
    snprintf(name, sizeof name, "item %" PRId64, i);
    uvsql_orm_set_int64(it, &it->id, i);
    uvsql_orm_set_text(it, &it->name, name);
    uvsql_session_add(session, it);
  }
  run(uvsql_session_commit(session, NULL, NULL), "commit");
  check(commits == 1, "one after_commit");

  /* merge: a request body for item 1 */
  clock_us = 2000;
  run(uvsql_session_close(session, NULL, NULL), "close");
  check(uvsql_session_new(&session, engine, reg, NULL) == 0, "session");
  uvsql_future_t *f;
  /* snippet:orm_events.3 */
  item_t *body = uvsql_orm_new(items); /* e.g. parsed from a request */
  body->id = 1;
  uvsql_orm_set_text(body, &body->name, "renamed");
  f = uvsql_session_merge(session, body, NULL, NULL);
  item_t *stored = wait_ok(f, "merge");
  uvsql_orm_free(body);
  /* end snippet */
  check(strcmp(stored->name, "renamed") == 0, "merged name");
  uvsql_future_unref(f);
  updates = 0;
  run(uvsql_session_commit(session, NULL, NULL), "commit");
  check(updates == 1, "one UPDATE");
  printf("merged: item 1 is \"%s\", stamped %" PRId64 "\n", stored->name, stored->updated_at);
  check(stored->updated_at == 2000, "stamped by the UPDATE");

  /* streaming: 2,000 rows in batches of 1,000; every 100th object is kept */
  /* snippet:orm_events.5 */
  uvsql_core_stmt_t *sel = uvsql_orm_select(items);
  f = uvsql_session_stream(session, items, sel, NULL, 0, 1000, on_batch, NULL, NULL, NULL);
  /* end snippet */
  uvsql_stream_summary_t *sum = wait_ok(f, "stream");
  printf("streamed %" PRIu64 " rows in %" PRIu64 " batches; %zu objects in the session\n",
         sum->rows, sum->batches, uvsql_session_identity_count(session));
  check(sum->rows == 2000 && sum->batches == 2, "the rows");
  check(uvsql_session_identity_count(session) == 21, "20 kept, and item 1 it had before");
  uvsql_future_unref(f);
  uvsql_core_stmt_free(sel);

  run(uvsql_session_close(session, NULL, NULL), "close");
  run(uvsql_metadata_drop_all(uvsql_registry_metadata(reg), engine, NULL, NULL), "drop_all");
  uvsql_registry_free(reg);
  run(uvsql_engine_dispose(engine, NULL, NULL), "dispose");
  uv_loop_close(loop);
  return 0;
}
