/* examples/orm_tutorial.c — the SQLAlchemy ORM quickstart, in C with uvsql.
 *
 *   orm_tutorial [URL]     default: sqlite:///orm_tutorial.db
 *
 * Declares two models (user_account, address), creates the tables, adds users with their
 * addresses, commits, selects by name, changes a field (one UPDATE of that column), deletes
 * a user, and drops the tables again. Futures are awaited with uvsql_future_wait, as a script
 * would; a server would pass callbacks instead. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "uvsql.h"

#define USER_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(30), UVSQL_NOT_NULL)                                                              \
  X(fullname, TEXT, 0)
UVSQL_MODEL(user_t, "user_account", USER_FIELDS)

#define ADDRESS_FIELDS(X)                                                                          \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(email_address, STRING(100), UVSQL_NOT_NULL)                                                    \
  X(user_id, INT64, UVSQL_NOT_NULL)
UVSQL_MODEL(address_t, "address", ADDRESS_FIELDS)

/* Waits for f; exits with its error if it failed; returns its value (owned by f). */
static void *await(uvsql_future_t *f, const char *what) {
  if (uvsql_future_wait(f) != 0) {
    const uvsql_error_t *e = uvsql_future_error(f);
    fprintf(stderr, "%s: %s: %s\n", what, uvsql_err_name(e->code), e->message);
    exit(1);
  }
  return uvsql_future_value(f);
}

static void run(uvsql_future_t *f, const char *what) {
  await(f, what);
  uvsql_future_unref(f);
}

static void echo(void *data, const char *line) {
  (void)data;
  printf("  SQL> %s\n", line);
}

static user_t *new_user(uvsql_mapper_t *m, const char *name, const char *fullname) {
  user_t *u = uvsql_orm_new(m);
  uvsql_orm_set_text(u, &u->name, name);
  uvsql_orm_set_text(u, &u->fullname, fullname);
  return u;
}

static address_t *new_address(uvsql_mapper_t *m, user_t *owner, const char *email) {
  address_t *a = uvsql_orm_new(m);
  uvsql_orm_set_text(a, &a->email_address, email);
  uvsql_orm_link(a, &a->user_id, owner); /* user_id = owner's id, once it has one */
  return a;
}

int main(int argc, char **argv) {
  const char *url = argc > 1 ? argv[1] : "sqlite:///orm_tutorial.db";
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

  /* models -> tables */
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  uvsql_mapper_t *users = uvsql_registry_map(reg, user_t_model(), &err);
  uvsql_mapper_t *addresses = uvsql_registry_map(reg, address_t_model(), &err);
  if (!users || !addresses) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  uvsql_mapper_references(addresses, "user_id", "user_account.id", UVSQL_FK_CASCADE);
  puts("create tables");
  run(uvsql_metadata_create_all(uvsql_registry_metadata(reg), engine, NULL, NULL), "create_all");

  /* add users with addresses; commit */
  uvsql_session_t *session;
  uvsql_session_new(&session, engine, reg, NULL);
  user_t *spongebob = new_user(users, "spongebob", "Spongebob Squarepants");
  user_t *sandy = new_user(users, "sandy", "Sandy Cheeks");
  user_t *patrick = new_user(users, "patrick", "Patrick Star");
  void *objs[] = {spongebob,
                  sandy,
                  patrick,
                  new_address(addresses, spongebob, "spongebob@sqlalchemy.org"),
                  new_address(addresses, sandy, "sandy@sqlalchemy.org"),
                  new_address(addresses, sandy, "sandy@squirrelpower.org")};
  uvsql_session_add_all(session, objs, sizeof objs / sizeof objs[0]); /* the session owns them */
  puts("add and commit");
  run(uvsql_session_commit(session, NULL, NULL), "commit");
  printf("spongebob.id = %" PRId64 ", sandy.id = %" PRId64 "\n", spongebob->id, sandy->id);

  /* select by name */
  puts("select by name");
  uvsql_core_stmt_t *q = uvsql_orm_select(users);
  uvsql_where(q, uvsql_eq(q, uvsql_mapper_col(users, "name"), uvsql_bindparam(q, "name")));
  uvsql_param_t p = UVSQL_P_TEXT("name", "sandy");
  uvsql_future_t *f = uvsql_session_execute(session, users, q, &p, 1, NULL, NULL);
  void *found;
  if (uvsql_orm_result_one(await(f, "select"), &found, &err)) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  uvsql_future_unref(f);
  uvsql_core_stmt_free(q);
  user_t *u = found;
  printf("found %s (%s); the same object as before: %s\n", u->name, u->fullname,
         u == sandy ? "yes" : "no");

  /* change a field; commit: one UPDATE of that column */
  puts("change sandy's fullname and commit");
  uvsql_orm_set_text(sandy, &sandy->fullname, "Sandy Squirrel");
  run(uvsql_session_commit(session, NULL, NULL), "commit");

  /* delete; commit (the addresses go by ON DELETE CASCADE) */
  puts("delete patrick and commit");
  uvsql_session_delete(session, patrick);
  run(uvsql_session_commit(session, NULL, NULL), "commit");

  run(uvsql_session_close(session, NULL, NULL), "close"); /* frees the objects */
  puts("drop tables");
  run(uvsql_metadata_drop_all(uvsql_registry_metadata(reg), engine, NULL, NULL), "drop_all");
  run(uvsql_engine_dispose(engine, NULL, NULL), "dispose");
  uvsql_registry_free(reg);
  uv_run(loop, UV_RUN_DEFAULT);
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
