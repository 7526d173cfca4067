/* docs/examples/orm_defaults.c — the tutorial's "Defaults" section: a mapped field is set,
 * NULL or unset; unset fields take the column's client default, or are left out of the
 * INSERT for a server default, whose value comes back into the struct in the same statement
 * (RETURNING: SQLAlchemy's eager_defaults); a zero given with a setter is stored as zero; an
 * onupdate value is written by every UPDATE that does not change the field itself. It checks
 * what it shows and exits 1 when something differs.
 *
 * Usage: orm_defaults [URL]   (default sqlite:///orm_defaults.db)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uvsql.h>

#define ITEM_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(40), UVSQL_NOT_NULL)                                                              \
  X(status, STRING(20), 0)                                                                         \
  X(qty, INT64, 0)                                                                                 \
  X(created, TIMESTAMP, 0)                                                                         \
  X(note, TEXT, 0)
UVSQL_MODEL(item_t, "item", ITEM_FIELDS)

static void echo(void *data, const char *line) {
  (void)data;
  printf("  SQL> %s\n", line);
}

static void run(uvsql_future_t *f, const char *what) {
  if (uvsql_future_wait(f) != 0) {
    const uvsql_error_t *e = uvsql_future_error(f);
    fprintf(stderr, "%s: %s: %s\n", what, uvsql_err_name(e->code), e->message);
    exit(1);
  }
  uvsql_future_unref(f);
}

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "orm_defaults: expected %s\n", what);
    exit(1);
  }
}

int main(int argc, char **argv) {
  const char *url = argc > 1 ? argv[1] : "sqlite:///orm_defaults.db";
  uv_loop_t *loop = uv_default_loop();
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.echo = 1;
  opt.echo_hide_parameters = 1;
  opt.log_cb = echo;
  uvsql_engine_t *engine;
  uvsql_error_t err;
  if (uvsql_engine_new(&engine, loop, url, &opt, &err) != 0) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  uvsql_mapper_t *items = uvsql_registry_map(reg, item_t_model(), &err);
  if (!items) {
    fprintf(stderr, "map: %s\n", err.message);
    return 1;
  }

  /* Defaults are declared before create_all: a server default is part of the DDL. */
  uvsql_error_clear(&err);
  /* snippet:orm_defaults.1 */
  uvsql_mapper_server_default(items, "status", "'active'", &err); /* DDL: DEFAULT 'active' */
  uvsql_mapper_server_default(items, "created", "CURRENT_TIMESTAMP", &err);
  uvsql_mapper_default(items, "qty", UVSQL_V_INT64(10), &err);        /* sent by the ORM */
  uvsql_mapper_onupdate(items, "note", UVSQL_V_TEXT("edited"), &err); /* on every UPDATE */
  /* end snippet */
  if (err.code) {
    fprintf(stderr, "defaults: %s\n", err.message);
    return 1;
  }
  uvsql_metadata_t *md = uvsql_registry_metadata(reg);
  run(uvsql_metadata_drop_all(md, engine, NULL, NULL), "drop_all");
  run(uvsql_metadata_create_all(md, engine, NULL, NULL), "create_all");

  uvsql_session_t *session;
  if (uvsql_session_new(&session, engine, reg, NULL) != 0)
    return 1;
  /* snippet:orm_defaults.2 */
  item_t *it = uvsql_orm_new(items);
  uvsql_orm_set_text(it, &it->name, "widget"); /* status, qty, created: unset */
  item_t *zero = uvsql_orm_new(items);
  uvsql_orm_set_text(zero, &zero->name, "empty");
  uvsql_orm_set_int64(zero, &zero->qty, 0); /* a real 0, not "use the default" */
  /* end snippet */
  uvsql_session_add(session, it);
  uvsql_session_add(session, zero);
  run(uvsql_session_flush(session, NULL, NULL), "flush");

  char when[32];
  time_t secs = (time_t)(it->created / 1000000);
  strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", gmtime(&secs));
  printf("it: status %s, qty %" PRId64 ", created %s; zero: qty %" PRId64 "\n", it->status, it->qty,
         when, zero->qty);
  check(strcmp(it->status, "active") == 0 && it->qty == 10 && it->created > 0 && zero->qty == 0 &&
            strcmp(zero->status, "active") == 0,
        "the server's status and time and the client's qty in the struct, and zero's own 0");

  /* An UPDATE that leaves note alone writes the onupdate value. */
  uvsql_orm_set_text(it, &it->name, "gadget");
  run(uvsql_session_commit(session, NULL, NULL), "commit");
  printf("after the update: note %s\n", it->note);
  check(it->note && strcmp(it->note, "edited") == 0, "the onupdate note");

  run(uvsql_session_close(session, NULL, NULL), "close");
  run(uvsql_metadata_drop_all(md, engine, NULL, NULL), "drop_all");
  run(uvsql_engine_dispose(engine, NULL, NULL), "dispose");
  uvsql_registry_free(reg);
  uv_run(loop, UV_RUN_DEFAULT);
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
