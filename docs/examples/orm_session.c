/* docs/examples/orm_session.c — the session beyond the basic unit of work, as SQLAlchemy's ORM
 * documentation shows it, in one program: defaults (a client default, a server default fetched
 * back into the struct), expiry (expire_on_commit: another connection changes a row, a get reads
 * it again; populate_existing), Core statements in the session's transaction (a count, scalars),
 * bulk UPDATE / DELETE by criteria with synchronize_session, a failed statement that leaves the
 * session demanding a rollback, and post_update: a user and its favorite address reference
 * each other (a cycle between the tables, closed by a use_alter key).
 * It checks what it shows and exits 1 when something differs.
 *
 * Usage: orm_session [URL]   (default sqlite:///orm_session.db; ctest -L docs also runs it on
 * the test servers). Its tables are named user_account_<pid> and address_<pid>, so runs on one
 * server at the same time do not meet; it drops them at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uvsql.h>

/* The cycle: user_account.favorite_address_id -> address.id, address.user_id -> user_account.id */
#define USER_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(30), UVSQL_NOT_NULL | UVSQL_UNIQUE)                                               \
  X(fullname, TEXT, 0)                                                                             \
  X(status, STRING(20), 0)                                                                         \
  X(karma, INT64, 0)                                                                               \
  X(favorite_address_id, INT64, 0)
#define USER_RELS(X) X(addresses, MANY(address_t)) X(favorite, ONE(address_t))
UVSQL_MODEL_REL(user_t, "user_account", USER_FIELDS, USER_RELS)

#define ADDRESS_FIELDS(X)                                                                          \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(email, STRING(50), UVSQL_NOT_NULL)                                                             \
  X(user_id, INT64, 0)
#define ADDRESS_RELS(X) X(user, ONE(user_t))
UVSQL_MODEL_REL(address_t, "address", ADDRESS_FIELDS, ADDRESS_RELS)

static int echoing; /* print the SQL the engine sends (set around the post_update part) */
static void echo(void *data, const char *line) {
  (void)data;
  if (echoing)
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
    fprintf(stderr, "orm_session: expected %s\n", what);
    exit(1);
  }
}

static user_t *new_user(uvsql_mapper_t *users, const char *name, const char *fullname) {
  user_t *u = uvsql_orm_new(users);
  uvsql_orm_set_text(u, &u->name, name);
  uvsql_orm_set_text(u, &u->fullname, fullname);
  return u;
}

int main(int argc, char **argv) {
  const char *url = argc > 1 ? argv[1] : "sqlite:///orm_session.db";
  uv_loop_t *loop = uv_default_loop();
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.echo = 1;
  opt.log_cb = echo;
  uvsql_engine_t *engine;
  uvsql_error_t err;
  if (uvsql_engine_new(&engine, loop, url, &opt, &err) != 0) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  char tuser[64], taddr[64], fk[80];
  snprintf(tuser, sizeof tuser, "user_account_%ld", (long)getpid());
  snprintf(taddr, sizeof taddr, "address_%ld", (long)getpid());
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  uvsql_mapper_t *users = uvsql_registry_map_table(reg, user_t_model(), tuser, &err);
  uvsql_mapper_t *addresses = uvsql_registry_map_table(reg, address_t_model(), taddr, &err);
  check(users && addresses, "the mappers");

  /* Defaults, declared before create_all: karma gets 10 from the ORM, status 'active' from the
   * server (DDL), fetched back into the struct by the INSERT (RETURNING). */
  uvsql_error_clear(&err);
  uvsql_mapper_default(users, "karma", UVSQL_V_INT64(10), &err);
  uvsql_mapper_server_default(users, "status", "'active'", &err);
  /* The cycle: address.user_id is an ordinary key (uvsql_mapper_relate declares it);
   * user_account.favorite_address_id is added by ALTER TABLE after both tables (use_alter,
   * declared first, which uvsql_mapper_relate keeps) and written by a second UPDATE of the
   * flush (post_update), after both rows are inserted. */
  /* snippet:orm_session.cycle */
  snprintf(fk, sizeof fk, "%s.id", taddr);
  uvsql_column_references_use_alter(uvsql_mapper_column(users, "favorite_address_id"), fk,
                                    UVSQL_FK_NO_ACTION, UVSQL_FK_NO_ACTION);
  uvsql_relationship_t *favorite = uvsql_mapper_relate(
      users, "favorite", addresses, "favorite_address_id", NULL, UVSQL_REL_POST_UPDATE, &err);
  /* end snippet */
  uvsql_relationship_t *user_addresses =
      favorite ? uvsql_mapper_relate(users, "addresses", addresses, "user_id", "user",
                                     UVSQL_CASCADE_ALL | UVSQL_CASCADE_DELETE_ORPHAN, &err)
               : NULL;
  if (!favorite || !user_addresses) {
    fprintf(stderr, "mapping: %s\n", err.message);
    return 1;
  }
  run(uvsql_metadata_drop_all(uvsql_registry_metadata(reg), engine, NULL, NULL), "drop_all");
  run(uvsql_metadata_create_all(uvsql_registry_metadata(reg), engine, NULL, NULL), "create_all");

  uvsql_session_t *s;
  uvsql_session_new(&s, engine, reg, NULL);
  user_t *sandy = new_user(users, "sandy", "Sandy Cheeks");
  user_t *pat = new_user(users, "patrick", "Patrick Star");
  uvsql_session_add(s, sandy);
  uvsql_session_add(s, pat);
  run(uvsql_session_flush(s, NULL, NULL), "flush");
  printf("sandy: status %s, karma %lld\n", sandy->status, (long long)sandy->karma);
  check(sandy->status && strcmp(sandy->status, "active") == 0 && sandy->karma == 10,
        "the server's status and the client's karma in the struct after the flush");
  run(uvsql_session_commit(s, NULL, NULL), "commit");

  /* Expiry: after the commit every object is expired. Its fields keep their last values until
   * a row loads it again; a get SELECTs it instead of answering from the identity map. */
  check(uvsql_orm_is_expired(sandy), "sandy expired after commit");
  uvsql_core_stmt_t *other = uvsql_update(uvsql_mapper_table(users));
  uvsql_update_set(other, "fullname", uvsql_lit_text(other, "Sandy J. Cheeks"));
  uvsql_update_set(other, "status", uvsql_lit_text(other, "away"));
  uvsql_where(other,
              uvsql_eq(other, uvsql_mapper_col(users, "name"), uvsql_lit_text(other, "sandy")));
  run(uvsql_engine_execute_core(engine, other, NULL, 0, NULL, NULL), "another connection's UPDATE");
  uvsql_future_t *f = uvsql_session_get_int(s, users, sandy->id, NULL, NULL);
  check(wait_ok(f, "get") == sandy, "the same object");
  uvsql_future_unref(f);
  printf("after commit and get: %s, %s\n", sandy->fullname, sandy->status);
  check(strcmp(sandy->fullname, "Sandy J. Cheeks") == 0 && strcmp(sandy->status, "away") == 0,
        "the other connection's values");

  /* A count in the session's transaction: autoflush first, then the Core select. */
  uvsql_session_add(s, new_user(users, "squidward", "Squidward Tentacles"));
  uvsql_core_stmt_t *count = uvsql_select_new();
  uvsql_select_cols(count, uvsql_count(count, NULL));
  uvsql_select_from(count, uvsql_mapper_table(users));
  f = uvsql_session_scalar(s, count, NULL, 0, NULL, NULL);
  const uvsql_value_t *n = wait_ok(f, "count");
  printf("users: %lld\n", (long long)n->u.i64);
  check(n->u.i64 == 3, "3 users, the pending one flushed");
  uvsql_future_unref(f);

  /* A query loads the expired objects again (patrick was not read since the commit). */
  uvsql_core_stmt_t *sel = uvsql_orm_select(users);
  check(uvsql_orm_is_expired(pat), "patrick expired");
  run(uvsql_session_execute(s, users, sel, NULL, 0, NULL, NULL), "select");
  check(!uvsql_orm_is_expired(pat), "patrick loaded");

  /* Bulk UPDATE by criteria: synchronize_session EVALUATE checks the WHERE on the session's
   * objects in memory (expired ones are left to be read again) and gives the matched ones the
   * new value. */
  uvsql_core_stmt_t *up = uvsql_update(uvsql_mapper_table(users));
  uvsql_update_set(up, "fullname", uvsql_bindparam(up, "fullname"));
  uvsql_where(up, uvsql_eq(up, uvsql_mapper_col(users, "name"), uvsql_bindparam(up, "name")));
  uvsql_param_t p[] = {UVSQL_P_TEXT("fullname", "Patrick S."), UVSQL_P_TEXT("name", "patrick")};
  uvsql_exec_options_t xo = UVSQL_EXEC_OPTIONS_INIT;
  xo.synchronize_session = UVSQL_SYNC_EVALUATE;
  run(uvsql_session_execute_core(s, up, p, 2, &xo, NULL, NULL), "bulk update");
  printf("after the bulk UPDATE: %s\n", pat->fullname);
  check(strcmp(pat->fullname, "Patrick S.") == 0, "the synchronized value");
  check(!uvsql_session_is_modified(s, pat), "not dirty: the database has it");

  /* ... and with NONE the object keeps its value until populate_existing reads the row. */
  p[0] = (uvsql_param_t)UVSQL_P_TEXT("fullname", "Patrick Star");
  xo.synchronize_session = UVSQL_SYNC_NONE;
  run(uvsql_session_execute_core(s, up, p, 2, &xo, NULL, NULL), "bulk update, no sync");
  check(strcmp(pat->fullname, "Patrick S.") == 0, "the old value (NONE)");
  uvsql_exec_options_t pop = UVSQL_EXEC_OPTIONS_INIT;
  pop.populate_existing = 1;
  run(uvsql_session_execute_opts(s, users, sel, NULL, 0, &pop, NULL, NULL), "populate_existing");
  printf("after populate_existing: %s\n", pat->fullname);
  check(strcmp(pat->fullname, "Patrick Star") == 0, "the row's value");

  /* Bulk DELETE with FETCH: the deleted keys come back; their objects become DELETED. */
  uvsql_core_stmt_t *del = uvsql_delete(uvsql_mapper_table(users));
  uvsql_where(del, uvsql_like(del, uvsql_mapper_col(users, "name"), uvsql_lit_text(del, "squid%")));
  xo.synchronize_session = UVSQL_SYNC_FETCH;
  run(uvsql_session_execute_core(s, del, NULL, 0, &xo, NULL, NULL), "bulk delete");
  run(uvsql_session_commit(s, NULL, NULL), "commit");

  /* A failed statement: the session must be rolled back before anything else. */
  uvsql_core_stmt_t *dup = uvsql_insert(uvsql_mapper_table(users));
  uvsql_insert_columns(dup, UVSQL_NAMES("name"));
  uvsql_insert_values(dup, uvsql_lit_text(dup, "sandy"));
  f = uvsql_session_execute_core(s, dup, NULL, 0, NULL, NULL, NULL);
  check(uvsql_future_wait(f) == UVSQL_EINTEGRITY, "a unique violation");
  uvsql_future_unref(f);
  f = uvsql_session_flush(s, NULL, NULL);
  check(uvsql_future_wait(f) == UVSQL_EINTERFACE, "the session demanding a rollback");
  printf("flush: %.100s...\n", uvsql_future_error(f)->message);
  uvsql_future_unref(f);
  run(uvsql_session_rollback(s, NULL, NULL), "rollback");
  f = uvsql_session_scalar(s, count, NULL, 0, NULL, NULL);
  n = wait_ok(f, "count after rollback");
  check(n->u.i64 == 2, "2 users (squidward deleted)");
  uvsql_future_unref(f);

  /* post_update: a new user and her favorite address, which belongs to her. Neither row can be
   * inserted first with its key set, so the flush INSERTs the user with favorite_address_id
   * NULL, then the addresses with her new key, then sets the favorite by an UPDATE. */
  user_t *gary = new_user(users, "gary", "Gary the Snail");
  address_t *shell = uvsql_orm_new(addresses), *pineapple = uvsql_orm_new(addresses);
  uvsql_orm_set_text(shell, &shell->email, "gary@shell.sea");
  uvsql_orm_set_text(pineapple, &pineapple->email, "gary@pineapple.sea");
  uvsql_orm_append(gary, "addresses", shell);
  uvsql_orm_append(gary, "addresses", pineapple);
  uvsql_orm_set_ref(gary, "favorite", pineapple);
  uvsql_session_add(s, gary); /* cascades to the addresses */
  echoing = 1;
  run(uvsql_session_commit(s, NULL, NULL), "commit the cycle");
  echoing = 0;
  printf("gary's favorite: %lld (address %lld)\n", (long long)gary->favorite_address_id,
         (long long)pineapple->id);
  check(gary->favorite_address_id == pineapple->id && pineapple->user_id == gary->id,
        "both keys of the cycle set");

  /* Deleting gary (the delete cascades to his addresses): an UPDATE clears his favorite first,
   * then the addresses and the user are deleted. */
  uvsql_session_delete(s, gary);
  echoing = 1;
  run(uvsql_session_commit(s, NULL, NULL), "commit the deletion");
  echoing = 0;
  uvsql_core_stmt_t *naddr = uvsql_select_new();
  uvsql_select_cols(naddr, uvsql_count(naddr, NULL));
  uvsql_select_from(naddr, uvsql_mapper_table(addresses));
  f = uvsql_session_scalar(s, naddr, NULL, 0, NULL, NULL);
  n = wait_ok(f, "count addresses");
  check(n->u.i64 == 0, "no address left");
  uvsql_future_unref(f);
  f = uvsql_session_scalar(s, count, NULL, 0, NULL, NULL);
  n = wait_ok(f, "count users");
  check(n->u.i64 == 2, "2 users (gary deleted)");
  uvsql_future_unref(f);
  uvsql_core_stmt_free(naddr);
  uvsql_core_stmt_free(other);

  uvsql_core_stmt_free(dup);
  uvsql_core_stmt_free(del);
  uvsql_core_stmt_free(sel);
  uvsql_core_stmt_free(up);
  uvsql_core_stmt_free(count);
  run(uvsql_session_close(s, NULL, NULL), "close");
  run(uvsql_metadata_drop_all(uvsql_registry_metadata(reg), engine, NULL, NULL), "drop_all");
  uvsql_registry_free(reg);
  run(uvsql_engine_dispose(engine, NULL, NULL), "dispose");
  uv_loop_close(loop);
  printf("ok\n");
  return 0;
}
