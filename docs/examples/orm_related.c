/* docs/examples/orm_related.c — SQLAlchemy's unified tutorial chapter "Working with ORM Related
 * Objects", step by step, as one program: the User/Address relationship declared in one call,
 * persisting related objects (append, set_ref, the save-update cascade, the keys the flush
 * fills in), loading them (an explicit lazy load), selectinload, joinedload (inner), a join
 * filtered on the joined user (contains_eager's use), and raiseload. It is the program the
 * line counts of docs/line-counts.md measure. It checks what it shows and exits 1 when
 * something differs; it drops its tables at the end.
 *
 * Usage: orm_related [URL]   (default sqlite:///orm_related.db)
 */
#include <stdio.h>
#include <stdlib.h>
#include <uvsql.h>

#define USER_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(30), UVSQL_NOT_NULL)                                                              \
  X(fullname, TEXT, 0)
#define USER_RELS(X) X(addresses, MANY(address_t))
UVSQL_MODEL_REL(user_t, "user_account", USER_FIELDS, USER_RELS)

#define ADDRESS_FIELDS(X)                                                                          \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(email_address, STRING(100), UVSQL_NOT_NULL)                                                    \
  X(user_id, INT64, 0)
#define ADDRESS_RELS(X) X(user, ONE(user_t))
UVSQL_MODEL_REL(address_t, "address", ADDRESS_FIELDS, ADDRESS_RELS)

/* Waits for f: its value, or the program stops with the error. */
static void *wait_ok(uvsql_future_t *f, const char *what) {
  if (uvsql_future_wait(f) != 0) {
    fprintf(stderr, "%s: %s\n", what, uvsql_future_error(f)->message);
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
    fprintf(stderr, "orm_related: expected %s\n", what);
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

/* Runs an ORM query in the session and prints each object with print. */
static void query(uvsql_session_t *s, uvsql_orm_query_t *q, const uvsql_param_t *p, size_t n,
                  void (*print)(void *)) {
  uvsql_future_t *f = uvsql_session_execute_query(s, q, p, n, NULL, NULL);
  uvsql_orm_result_t *r = wait_ok(f, "query");
  for (size_t i = 0; i < uvsql_orm_result_count(r); i++)
    print(uvsql_orm_result_at(r, i));
  uvsql_future_unref(f);
  uvsql_orm_query_free(q);
}

static void print_user(void *obj) {
  user_t *u = obj;
  printf("%s (", u->name);
  for (size_t i = 0; i < u->addresses.n; i++)
    printf("%s%s", i ? ", " : "", ((address_t *)u->addresses.items[i])->email_address);
  printf(")\n");
}

static void print_address(void *obj) {
  address_t *a = obj;
  printf("%s %s\n", a->email_address, a->user->name);
}

int main(int argc, char **argv) {
  const char *url = argc > 1 ? argv[1] : "sqlite:///orm_related.db";
  uv_loop_t *loop = uv_default_loop();
  uvsql_engine_t *engine;
  uvsql_error_t err;
  if (uvsql_engine_new(&engine, loop, url, NULL, &err) != 0) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  /* snippet:orm_related.declare */
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  uvsql_mapper_t *users = uvsql_registry_map(reg, user_t_model(), &err);
  uvsql_mapper_t *addresses = users ? uvsql_registry_map(reg, address_t_model(), &err) : NULL;
  if (!addresses || !uvsql_mapper_relate(users, "addresses", addresses, "user_id", "user",
                                         UVSQL_CASCADE_ALL, &err)) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  /* end snippet */
  uvsql_metadata_t *md = uvsql_registry_metadata(reg);
  run(uvsql_metadata_drop_all(md, engine, NULL, NULL), "drop_all");
  run(uvsql_metadata_create_all(md, engine, NULL, NULL), "create_all");
  uvsql_session_t *session;
  uvsql_session_new(&session, engine, reg, NULL);

  /* Users of the earlier chapters, one with two addresses. */
  user_t *sandy = new_user(users, "sandy", "Sandy Cheeks");
  uvsql_orm_append(sandy, "addresses", new_address(addresses, "sandy@sqlalchemy.org"));
  uvsql_orm_append(sandy, "addresses", new_address(addresses, "sandy@squirrelpower.org"));
  uvsql_session_add(session, sandy);
  uvsql_session_add(session, new_user(users, "patrick", "Patrick Star"));

  /* Persisting: append on one side sets the other; adding the user adds its addresses. */
  /* snippet:orm_related.persist */
  user_t *u1 = new_user(users, "pkrabs", "Pearl Krabs");
  address_t *a1 = new_address(addresses, "pearl.krabs@gmail.com");
  uvsql_orm_append(u1, "addresses", a1);
  check(a1->user == u1, "a1.user to be u1");
  address_t *a2 = new_address(addresses, "pearl@aol.com");
  uvsql_orm_set_ref(a2, "user", u1);
  check(u1->addresses.n == 2, "u1.addresses to hold a1 and a2");
  uvsql_session_add(session, u1);
  check(uvsql_orm_state(a2) == UVSQL_OBJ_PENDING, "a2 pending (save-update cascade)");
  run(uvsql_session_commit(session, NULL, NULL), "commit");
  check(a1->user_id == u1->id && a2->user_id == u1->id, "the flush to fill user_id");
  /* end snippet */

  /* Loading: nothing loads behind a field access; uvsql_session_load is the lazy load. */
  /* snippet:orm_related.load */
  int64_t id = u1->id;
  run(uvsql_session_close(session, NULL, NULL), "close");
  uvsql_session_new(&session, engine, reg, NULL);
  uvsql_future_t *f = uvsql_session_get_int(session, users, id, NULL, NULL);
  u1 = wait_ok(f, "get");
  uvsql_future_unref(f);
  check(!uvsql_orm_is_loaded(u1, "addresses"), "u1.addresses not loaded yet");
  run(uvsql_session_load(session, u1, "addresses", NULL, NULL), "load");
  check(u1->addresses.n == 2, "two addresses loaded");
  /* end snippet */

  /* snippet:orm_related.loaders */
  uvsql_orm_query_t *q = uvsql_orm_query(users, &UVSQL_SELECTINLOAD("addresses"), 1, &err);
  uvsql_select_order_by(uvsql_orm_query_stmt(q), uvsql_mapper_col(users, "id"));
  query(session, q, NULL, 0, print_user);

  q = uvsql_orm_query(addresses, &UVSQL_JOINEDLOAD_INNER("user"), 1, &err);
  uvsql_select_order_by(uvsql_orm_query_stmt(q), uvsql_mapper_col(addresses, "id"));
  query(session, q, NULL, 0, print_address);

  q = uvsql_orm_query(addresses, &UVSQL_JOINEDLOAD("user"), 1, &err);
  uvsql_core_stmt_t *s = uvsql_orm_query_stmt(q);
  uvsql_where(s, uvsql_eq(s, uvsql_col(uvsql_orm_query_from(q, "user"), "name"),
                          uvsql_bindparam(s, "name")));
  uvsql_select_order_by(s, uvsql_mapper_col(addresses, "id"));
  query(session, q, &UVSQL_P_TEXT("name", "pkrabs"), 1, print_address);
  /* end snippet */

  /* snippet:orm_related.raiseload */
  uvsql_relationship_loader(uvsql_mapper_get_relationship(users, "addresses"), UVSQL_LOAD_RAISE);
  run(uvsql_session_close(session, NULL, NULL), "close");
  uvsql_session_new(&session, engine, reg, NULL);
  u1 = wait_ok(f = uvsql_session_get_int(session, users, id, NULL, NULL), "get");
  uvsql_future_unref(f);
  f = uvsql_session_load(session, u1, "addresses", NULL, NULL);
  check(uvsql_future_wait(f) == UVSQL_EINVALID_ARGUMENT, "raiseload to refuse the load");
  printf("raiseload: %s\n", uvsql_future_error(f)->message);
  uvsql_future_unref(f);
  /* end snippet */

  run(uvsql_session_close(session, NULL, NULL), "close");
  run(uvsql_metadata_drop_all(md, engine, NULL, NULL), "drop_all");
  uvsql_registry_free(reg);
  run(uvsql_engine_dispose(engine, NULL, NULL), "dispose");
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
