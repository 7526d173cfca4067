/* docs/examples/orm.c — the tutorial's "ORM" chapter, in the order of SQLAlchemy's unified
 * tutorial: models with a relationship, create_all, the session's unit of work (add, flush,
 * the identity map, commit), selecting objects, updating, deleting and rolling back, then
 * related objects: appending to a collection, explicit lazy loading, selectinload and
 * joinedload. It checks what it shows (statement counts, states, values) and exits 1 when
 * something differs.
 *
 * Usage: orm [URL]   (default sqlite:///orm.db)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uvsql.h>

/* Two models: a user has many addresses; an address belongs to one user. */
/* snippet:orm.1 */
#define USER_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(30), UVSQL_NOT_NULL)                                                              \
  X(fullname, TEXT, 0)
#define USER_RELS(X) X(addresses, MANY(address_t))
UVSQL_MODEL_REL(user_t, "user_account", USER_FIELDS, USER_RELS)

#define ADDRESS_FIELDS(X)                                                                          \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(email_address, STRING(100), UVSQL_NOT_NULL)                                                    \
  X(user_id, INT64, UVSQL_NOT_NULL)
#define ADDRESS_RELS(X) X(user, ONE(user_t))
UVSQL_MODEL_REL(address_t, "address", ADDRESS_FIELDS, ADDRESS_RELS)
/* end snippet */

/* snippet:orm.helpers */
static int selects; /* SELECT statements sent, counted from the engine's echo */

static void echo(void *data, const char *line) {
  (void)data;
  if (strncmp(line, "SELECT", 6) == 0)
    selects++;
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
    fprintf(stderr, "orm: expected %s\n", what);
    exit(1);
  }
}

static user_t *new_user(uvsql_mapper_t *users, const char *name, const char *fullname) {
  user_t *u = uvsql_orm_new(users);
  uvsql_orm_set_text(u, &u->name, name);
  uvsql_orm_set_text(u, &u->fullname, fullname);
  return u;
}

static address_t *new_address(uvsql_mapper_t *addresses, const char *email) {
  address_t *a = uvsql_orm_new(addresses);
  uvsql_orm_set_text(a, &a->email_address, email);
  return a;
}
/* end snippet */

int main(int argc, char **argv) {
  const char *url = argc > 1 ? argv[1] : "sqlite:///orm.db";
  uv_loop_t *loop = uv_default_loop();
  /* snippet:orm.engine */
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.echo = 1;
  opt.echo_hide_parameters = 1;
  opt.log_cb = echo;
  /* end snippet */
  uvsql_engine_t *engine;
  uvsql_error_t err;
  if (uvsql_engine_new(&engine, loop, url, &opt, &err) != 0) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }

  /* Models -> tables, and the relationship between them. */
  /* snippet:orm.2 */
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  uvsql_mapper_t *users = uvsql_registry_map(reg, user_t_model(), &err);
  uvsql_mapper_t *addresses = users ? uvsql_registry_map(reg, address_t_model(), &err) : NULL;
  if (!users || !addresses) {
    fprintf(stderr, "map: %s\n", err.message);
    return 1;
  }
  /* users.addresses <-> addresses.user, through address.user_id (ON DELETE CASCADE) */
  /* snippet:orm.relate */
  uvsql_relationship_t *user_addresses = uvsql_mapper_relate(
      users, "addresses", addresses, "user_id", "user",
      UVSQL_CASCADE_ALL | UVSQL_CASCADE_DELETE_ORPHAN | UVSQL_REL_FK_ON_DELETE_CASCADE, &err);
  /* end snippet */
  if (!user_addresses || !uvsql_relationship_order_by(user_addresses, "id")) {
    fprintf(stderr, "relationship: %s\n", err.message);
    return 1;
  }
  /* end snippet */

  /* snippet:orm.session */
  uvsql_metadata_t *md = uvsql_registry_metadata(reg);
  run(uvsql_metadata_drop_all(md, engine, NULL, NULL), "drop_all");
  run(uvsql_metadata_create_all(md, engine, NULL, NULL), "create_all");

  /* The unit of work: add objects, flush, commit. */
  uvsql_session_t *session;
  if (uvsql_session_new(&session, engine, reg, NULL) != 0)
    return 1;
  /* end snippet */
  /* snippet:orm.3 */
  user_t *squidward = new_user(users, "squidward", "Squidward Tentacles");
  user_t *krabs = new_user(users, "ehkrabs", "Eugene H. Krabs");
  uvsql_session_add(session, squidward); /* the session owns it from now on */
  uvsql_session_add(session, krabs);
  printf("squidward is %s\n", uvsql_orm_state_name(uvsql_orm_state(squidward)));

  run(uvsql_session_flush(session, NULL, NULL), "flush");
  /* end snippet */
  printf("after flush: squidward is %s, id %" PRId64 "\n",
         uvsql_orm_state_name(uvsql_orm_state(squidward)), squidward->id);

  /* snippet:orm.4 */
  int before = selects;
  uvsql_future_t *f = uvsql_session_get_int(session, users, squidward->id, NULL, NULL);
  user_t *same = wait_ok(f, "get");
  uvsql_future_unref(f);
  printf("get(%" PRId64 ") is the same object: %s, with %d SELECT\n", squidward->id,
         same == squidward ? "yes" : "no", selects - before);
  /* end snippet */

  run(uvsql_session_commit(session, NULL, NULL), "commit");
  check(uvsql_orm_state(squidward) == UVSQL_OBJ_PERSISTENT && same == squidward &&
            selects == before,
        "a persistent squidward, from the identity map without a SELECT");

  /* Selecting objects: a Core select of the mapper's columns. */
  /* snippet:orm.5 */
  uvsql_core_stmt_t *q = uvsql_orm_select(users);
  uvsql_where(q, uvsql_eq(q, uvsql_mapper_col(users, "name"), uvsql_bindparam(q, "name")));
  uvsql_param_t p = UVSQL_P_TEXT("name", "ehkrabs");
  f = uvsql_session_execute(session, users, q, &p, 1, NULL, NULL);
  void *found;
  if (uvsql_orm_result_one(wait_ok(f, "select"), &found, &err) != 0) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  /* end snippet */
  uvsql_future_unref(f);
  uvsql_core_stmt_free(q);
  user_t *u = found;
  printf("found %s (%s)\n", u->name, u->fullname);
  check(u == krabs, "the identity map to give back krabs himself");

  /* Updating: change a field; the next flush UPDATEs that column only. */
  /* snippet:orm.6 */
  uvsql_orm_set_text(squidward, &squidward->fullname, "Squidward Q. Tentacles");
  printf("squidward modified: %d\n", uvsql_session_is_modified(session, squidward));
  run(uvsql_session_commit(session, NULL, NULL), "commit");
  /* end snippet */

  /* Deleting, and rolling back: the deleted object comes back. */
  /* snippet:orm.7 */
  uvsql_session_delete(session, krabs);
  run(uvsql_session_flush(session, NULL, NULL), "flush");
  printf("after flush: krabs is %s\n", uvsql_orm_state_name(uvsql_orm_state(krabs)));
  run(uvsql_session_rollback(session, NULL, NULL), "rollback");
  printf("after rollback: krabs is %s\n", uvsql_orm_state_name(uvsql_orm_state(krabs)));
  /* end snippet */
  check(uvsql_orm_state(krabs) == UVSQL_OBJ_PERSISTENT, "krabs persistent after the rollback");

  /* Related objects: append to a collection; adding the user adds its addresses. */
  /* snippet:orm.8 */
  user_t *pkrabs = new_user(users, "pkrabs", "Pearl Krabs");
  address_t *a1 = new_address(addresses, "pearl.krabs@gmail.com");
  address_t *a2 = new_address(addresses, "pearl@aol.com");
  uvsql_orm_append(pkrabs, "addresses", a1);
  uvsql_orm_append(pkrabs, "addresses", a2);
  printf("a1.user is pkrabs: %s\n", a1->user == pkrabs ? "yes" : "no");
  uvsql_session_add(session, pkrabs); /* cascade: a1 and a2 too */
  run(uvsql_session_commit(session, NULL, NULL), "commit");
  /* end snippet */
  printf("a1.user_id = %" PRId64 " (pkrabs.id = %" PRId64 ")\n", a1->user_id, pkrabs->id);
  check(a1->user_id == pkrabs->id && a2->user_id == pkrabs->id, "the addresses linked");
  int64_t pearl = pkrabs->id;
  run(uvsql_session_close(session, NULL, NULL), "close"); /* frees its objects */

  /* Loading relationships, in a new session: nothing is loaded behind your back. */
  uvsql_session_new(&session, engine, reg, NULL);
  f = uvsql_session_get_int(session, users, pearl, NULL, NULL);
  u = wait_ok(f, "get");
  uvsql_future_unref(f);
  /* snippet:orm.9 */
  printf("%s's addresses loaded: %d\n", u->name, uvsql_orm_is_loaded(u, "addresses"));
  run(uvsql_session_load(session, u, "addresses", NULL, NULL), "load");
  printf("after uvsql_session_load: %zu addresses\n", u->addresses.n);
  /* end snippet */
  check(u->addresses.n == 2, "pkrabs to have two addresses");

  /* selectinload: the users, then one SELECT ... WHERE user_id IN (...) for all of them. */
  /* snippet:orm.10 */
  uvsql_load_option_t selectin[] = {UVSQL_SELECTINLOAD("addresses")};
  uvsql_orm_query_t *uq = uvsql_orm_query(users, selectin, 1, &err);
  uvsql_select_order_by(uvsql_orm_query_stmt(uq), uvsql_mapper_col(users, "id"));
  before = selects;
  f = uvsql_session_execute_query(session, uq, NULL, 0, NULL, NULL);
  uvsql_orm_result_t *r = wait_ok(f, "selectinload");
  for (size_t i = 0; i < uvsql_orm_result_count(r); i++) {
    user_t *x = uvsql_orm_result_at(r, i);
    printf("%s: %zu address(es)\n", x->name, x->addresses.n);
  }
  printf("selectinload: %d SELECTs\n", selects - before);
  /* end snippet */
  check(uvsql_orm_result_count(r) == 3 && selects - before == 2, "3 users in 2 SELECTs");
  uvsql_future_unref(f);
  uvsql_orm_query_free(uq);

  /* joinedload: addresses with their user in one SELECT ... LEFT OUTER JOIN, filtered on
   * the joined user through its alias. */
  /* snippet:orm.11 */
  uvsql_load_option_t joined[] = {UVSQL_JOINEDLOAD("user")};
  uvsql_orm_query_t *aq = uvsql_orm_query(addresses, joined, 1, &err);
  uvsql_core_stmt_t *as = uvsql_orm_query_stmt(aq);
  uvsql_where(as, uvsql_eq(as, uvsql_col(uvsql_orm_query_from(aq, "user"), "name"),
                           uvsql_bindparam(as, "name")));
  uvsql_select_order_by(as, uvsql_mapper_col(addresses, "id"));
  p = UVSQL_P_TEXT("name", "pkrabs");
  before = selects;
  f = uvsql_session_execute_query(session, aq, &p, 1, NULL, NULL);
  r = wait_ok(f, "joinedload");
  for (size_t i = 0; i < uvsql_orm_result_count(r); i++) {
    address_t *a = uvsql_orm_result_at(r, i);
    printf("%s belongs to %s\n", a->email_address, a->user->fullname);
  }
  printf("joinedload: %d SELECT\n", selects - before);
  /* end snippet */
  check(uvsql_orm_result_count(r) == 2 && selects - before == 1, "2 addresses in 1 SELECT");
  uvsql_future_unref(f);
  uvsql_orm_query_free(aq);

  run(uvsql_session_close(session, NULL, NULL), "close");
  run(uvsql_metadata_drop_all(md, engine, NULL, NULL), "drop_all");
  run(uvsql_engine_dispose(engine, NULL, NULL), "dispose");
  uvsql_registry_free(reg);
  uv_run(loop, UV_RUN_DEFAULT);
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
