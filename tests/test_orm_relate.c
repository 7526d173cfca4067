/* tests/test_orm_relate.c — uvsql_mapper_relate, one declaration per link from the models:
 * on PostgreSQL, MariaDB and SQLite a one-to-many declared from the "one" side (and a
 * many-to-one from the other) declares both sides, pairs them (append / set_ref change the
 * other side), declares the foreign key (ON DELETE CASCADE when asked) that create_all makes,
 * and loads, flushes and cascades as the long form does; then, without a server, every wrong
 * argument fails before anything is declared, with a message naming the model and the field. */
#include "backend.h"
#include "uvsql/orm.h"

#define RU_USER_FIELDS(X)                                                                          \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(30), UVSQL_NOT_NULL)                                                              \
  X(best_id, INT64, 0)
#define RU_USER_RELS(X)                                                                            \
  X(addresses, MANY(ru_address_t)) X(tags, MANY(ru_tag_t)) X(best, ONE(ru_address_t))
UVSQL_MODEL_REL(ru_user_t, "ru_user", RU_USER_FIELDS, RU_USER_RELS)

#define RU_ADDRESS_FIELDS(X)                                                                       \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(email, STRING(60), UVSQL_NOT_NULL)                                                             \
  X(user_id, INT64, 0)
#define RU_ADDRESS_RELS(X) X(user, ONE(ru_user_t)) X(owners, MANY(ru_user_t)) X(tag, ONE(ru_tag_t))
UVSQL_MODEL_REL(ru_address_t, "ru_address", RU_ADDRESS_FIELDS, RU_ADDRESS_RELS)

#define RU_TAG_FIELDS(X)                                                                           \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(user_id, INT64, 0)
UVSQL_MODEL(ru_tag_t, "ru_tag", RU_TAG_FIELDS)

#define NOERR ((uvsql_error_t *)NULL)

typedef struct {
  uvsql_registry_t *reg;
  uvsql_mapper_t *users, *addresses, *tags;
  char tu[64], ta[64], tt[64];
} ru_t;

static void ru_map(ru_t *o) {
  uvsql_error_t err;
  snprintf(o->tu, sizeof o->tu, "%s", test_unique_name("ru_user"));
  snprintf(o->ta, sizeof o->ta, "%s", test_unique_name("ru_address"));
  snprintf(o->tt, sizeof o->tt, "%s", test_unique_name("ru_tag"));
  o->reg = uvsql_registry_new(NULL);
  ASSERT(o->reg != NULL);
  o->users = uvsql_registry_map_table(o->reg, ru_user_t_model(), o->tu, &err);
  ASSERT(o->users != NULL);
  o->addresses = uvsql_registry_map_table(o->reg, ru_address_t_model(), o->ta, &err);
  ASSERT(o->addresses != NULL);
  o->tags = uvsql_registry_map_table(o->reg, ru_tag_t_model(), o->tt, &err);
  ASSERT(o->tags != NULL);
}

static void await_ok(uvsql_future_t *f) {
  AWAIT_OK(f);
  uvsql_future_unref(f);
}

static ru_user_t *new_user(ru_t *o, const char *name) {
  ru_user_t *u = uvsql_orm_new(o->users);
  uvsql_orm_set_text(u, &u->name, name);
  return u;
}

static ru_address_t *new_address(ru_t *o, const char *email) {
  ru_address_t *a = uvsql_orm_new(o->addresses);
  uvsql_orm_set_text(a, &a->email, email);
  return a;
}

/* The foreign key Core has on table t's column col: its referenced table and ON DELETE, or 0. */
static int fk_of(uvsql_mapper_t *m, const char *col, const char **reftable,
                 uvsql_fk_action_t *on_delete) {
  uvsql_table_t *t = uvsql_mapper_table(m);
  for (size_t i = 0; i < uvsql_table_nfks(t); i++) {
    uvsql_fk_info_t info;
    ASSERT_INT_EQ(uvsql_table_fk_at(t, i, &info), 0);
    if (info.ncols == 1 && strcmp(info.cols[0], col) == 0) {
      *reftable = info.reftable;
      *on_delete = info.on_delete;
      return 1;
    }
  }
  return 0;
}

static void one_to_many_in_one_call(const char *url) {
  fixture_t fx = fixture_open(url, NULL);
  ru_t o;
  ru_map(&o);
  uvsql_error_t err;
  uvsql_relationship_t *r = uvsql_mapper_relate(
      o.users, "addresses", o.addresses, "user_id", "user",
      UVSQL_CASCADE_ALL | UVSQL_CASCADE_DELETE_ORPHAN | UVSQL_REL_FK_ON_DELETE_CASCADE, &err);
  ASSERT_OK(r ? 0 : err.code, &err);
  /* both sides, paired; the foreign key declared, with its ON DELETE */
  ASSERT(uvsql_mapper_get_relationship(o.users, "addresses") == r);
  ASSERT(uvsql_mapper_get_relationship(o.addresses, "user") != NULL);
  const char *reftable = NULL;
  uvsql_fk_action_t on_delete = UVSQL_FK_NO_ACTION;
  ASSERT_INT_EQ(fk_of(o.addresses, "user_id", &reftable, &on_delete), 1);
  ASSERT_STR_EQ(reftable, o.tu);
  ASSERT_INT_EQ(on_delete, UVSQL_FK_CASCADE);
  ASSERT_INT_EQ(uvsql_table_nfks(uvsql_mapper_table(o.users)), 0);

  uvsql_metadata_t *md = uvsql_registry_metadata(o.reg);
  await_ok(uvsql_metadata_create_all(md, fx.engine, NULL, NULL));

  /* append changes the other side (back_populates) and the flush writes the key */
  uvsql_session_t *s;
  ASSERT_INT_EQ(uvsql_session_new(&s, fx.engine, o.reg, NULL), 0);
  ru_user_t *u = new_user(&o, "sandy");
  ru_address_t *a1 = new_address(&o, "sandy@example.org");
  ru_address_t *a2 = new_address(&o, "sandy@example.com");
  ASSERT_OK(uvsql_orm_append(u, "addresses", a1), NOERR);
  ASSERT_OK(uvsql_orm_append(u, "addresses", a2), NOERR);
  ASSERT(a1->user == u && a2->user == u);
  ASSERT_OK(uvsql_session_add(s, u), NOERR); /* save-update: its addresses too */
  await_ok(uvsql_session_commit(s, NULL, NULL));
  char where[64];
  snprintf(where, sizeof where, "user_id = %lld", (long long)u->id);
  ASSERT_INT_EQ(count_rows(&fx, o.ta, where), 2);
  int64_t uid = u->id;
  await_ok(uvsql_session_close(s, NULL, NULL));

  /* a fresh session: selectin loading of the collection, the many-to-one from the map */
  ASSERT_INT_EQ(uvsql_session_new(&s, fx.engine, o.reg, NULL), 0);
  uvsql_load_option_t opt[] = {UVSQL_SELECTINLOAD("addresses")};
  uvsql_orm_query_t *q = uvsql_orm_query(o.users, opt, 1, &err);
  ASSERT(q != NULL);
  uvsql_future_t *f = uvsql_session_execute_query(s, q, NULL, 0, NULL, NULL);
  uvsql_orm_result_t *res = AWAIT_OK(f);
  ASSERT_INT_EQ(uvsql_orm_result_count(res), 1);
  u = uvsql_orm_result_at(res, 0);
  ASSERT_INT_EQ(u->id, uid);
  ASSERT_INT_EQ(u->addresses.n, 2);
  ru_address_t *got = u->addresses.items[0];
  ASSERT(got->user == u); /* the back side, set by the loader */
  uvsql_future_unref(f);
  uvsql_orm_query_free(q);

  /* delete-orphan through the pair: remove one address, it is deleted */
  ASSERT_OK(uvsql_orm_remove(u, "addresses", got), NOERR);
  ASSERT(got->user == NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&fx, o.ta, NULL), 1);
  /* delete cascade: the user and its last address */
  u = AWAIT_OK(f = uvsql_session_get_int(s, o.users, uid, NULL, NULL));
  uvsql_future_unref(f);
  ASSERT_OK(uvsql_session_delete(s, u), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&fx, o.ta, NULL), 0);
  ASSERT_INT_EQ(count_rows(&fx, o.tu, NULL), 0);
  await_ok(uvsql_session_close(s, NULL, NULL));

  await_ok(uvsql_metadata_drop_all(md, fx.engine, NULL, NULL));
  uvsql_registry_free(o.reg);
  fixture_close(&fx);
}

TEST(orm_relate_one_to_many_in_one_call_pg) {
  one_to_many_in_one_call(test_pg_url());
}
TEST(orm_relate_one_to_many_in_one_call_mariadb) {
  one_to_many_in_one_call(test_mariadb_url());
}
TEST(orm_relate_one_to_many_in_one_call_sqlite) {
  one_to_many_in_one_call(test_sqlite_url());
}

/* Declared from the "many" side: a many-to-one whose other side is the collection. */
static void many_to_one_in_one_call(const char *url) {
  fixture_t fx = fixture_open(url, NULL);
  ru_t o;
  ru_map(&o);
  uvsql_error_t err;
  uvsql_relationship_t *r =
      uvsql_mapper_relate(o.addresses, "user", o.users, "user_id", "addresses", 0, &err);
  ASSERT_OK(r ? 0 : err.code, &err);
  ASSERT(uvsql_mapper_get_relationship(o.users, "addresses") != NULL);
  const char *reftable = NULL;
  uvsql_fk_action_t on_delete = UVSQL_FK_CASCADE;
  ASSERT_INT_EQ(fk_of(o.addresses, "user_id", &reftable, &on_delete), 1);
  ASSERT_STR_EQ(reftable, o.tu);
  ASSERT_INT_EQ(on_delete, UVSQL_FK_NO_ACTION);
  uvsql_metadata_t *md = uvsql_registry_metadata(o.reg);
  await_ok(uvsql_metadata_create_all(md, fx.engine, NULL, NULL));

  uvsql_session_t *s;
  ASSERT_INT_EQ(uvsql_session_new(&s, fx.engine, o.reg, NULL), 0);
  ru_user_t *u = new_user(&o, "patrick");
  ru_address_t *a = new_address(&o, "patrick@example.org");
  ASSERT_OK(uvsql_orm_set_ref(a, "user", u), NOERR);
  ASSERT_INT_EQ(u->addresses.n, 1); /* the other side, in memory */
  ASSERT_OK(uvsql_session_add(s, a), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT(u->id > 0);
  char where[64];
  snprintf(where, sizeof where, "user_id = %lld", (long long)u->id);
  ASSERT_INT_EQ(count_rows(&fx, o.ta, where), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));
  await_ok(uvsql_metadata_drop_all(md, fx.engine, NULL, NULL));
  uvsql_registry_free(o.reg);
  fixture_close(&fx);
}

TEST(orm_relate_many_to_one_in_one_call_pg) {
  many_to_one_in_one_call(test_pg_url());
}
TEST(orm_relate_many_to_one_in_one_call_mariadb) {
  many_to_one_in_one_call(test_mariadb_url());
}
TEST(orm_relate_many_to_one_in_one_call_sqlite) {
  many_to_one_in_one_call(test_sqlite_url());
}

/* A wrong argument: the code, the exact message, and nothing declared. */
static void expect_refused(ru_t *o, uvsql_mapper_t *m, const char *field, uvsql_mapper_t *target,
                           const char *fk, const char *back, const char *message) {
  uvsql_error_t err;
  uvsql_error_clear(&err);
  ASSERT(uvsql_mapper_relate(m, field, target, fk, back, 0, &err) == NULL);
  ASSERT_INT_EQ(err.code, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(err.message, message);
  ASSERT(uvsql_mapper_get_relationship(o->users, "addresses") == NULL);
  ASSERT(uvsql_mapper_get_relationship(o->users, "best") == NULL);
  ASSERT(uvsql_mapper_get_relationship(o->addresses, "user") == NULL);
  ASSERT_INT_EQ(uvsql_table_nfks(uvsql_mapper_table(o->addresses)), 0);
  ASSERT_INT_EQ(uvsql_table_nfks(uvsql_mapper_table(o->users)), 0);
}

TEST(orm_relate_wrong_arguments_name_the_model_and_field) {
  ru_t o;
  ru_map(&o);
  expect_refused(&o, o.users, "adresses", o.addresses, "user_id", "user",
                 "uvsql_mapper_relate: ru_user_t has no relationship field \"adresses\" (its "
                 "RELS: addresses, tags, best)");
  expect_refused(&o, o.users, "addresses", o.tags, "user_id", NULL,
                 "uvsql_mapper_relate: ru_user_t.addresses holds ru_address_t objects "
                 "(MANY(ru_address_t)), but the target mapper maps ru_tag_t: pass the mapper of "
                 "ru_address_t");
  expect_refused(&o, o.users, "addresses", o.addresses, "usr_id", "user",
                 "uvsql_mapper_relate: ru_user_t.addresses: a collection (MANY) is a "
                 "one-to-many, so its foreign key \"usr_id\" must be a field of ru_address_t, "
                 "which has none of that name (its fields: id, email, user_id)");
  expect_refused(&o, o.users, "best", o.addresses, "nope", NULL,
                 "uvsql_mapper_relate: ru_user_t.best: foreign key \"nope\" is a field of neither "
                 "ru_user_t (a many-to-one; its fields: id, name, best_id) nor ru_address_t (a "
                 "one-to-one; its fields: id, email, user_id)");
  expect_refused(&o, o.users, "addresses", o.addresses, "user_id", "usr",
                 "uvsql_mapper_relate: ru_user_t.addresses: back_populates \"usr\" is not a "
                 "relationship field of ru_address_t (its RELS: user, owners, tag)");
  expect_refused(&o, o.users, "addresses", o.addresses, "user_id", "tag",
                 "uvsql_mapper_relate: ru_user_t.addresses: back_populates ru_address_t.tag "
                 "holds ru_tag_t objects, not ru_user_t: it cannot be the other side of "
                 "ru_user_t.addresses");
  expect_refused(&o, o.users, "addresses", o.addresses, "user_id", "owners",
                 "uvsql_mapper_relate: ru_user_t.addresses is a collection (one-to-many), so its "
                 "other side is a reference, ONE(ru_user_t); back_populates ru_address_t.owners "
                 "is a collection, MANY(ru_user_t)");
  expect_refused(&o, o.tags, "user", o.users, "user_id", NULL,
                 "uvsql_mapper_relate: ru_tag_t has no relationship fields: declare it with "
                 "UVSQL_MODEL_REL and list user in its RELS, as X(user, ONE(ru_user_t)) or "
                 "X(user, MANY(ru_user_t))");
  expect_refused(&o, o.users, "addresses", o.addresses, NULL, "user",
                 "uvsql_mapper_relate: ru_user_t.addresses: a foreign key field is required "
                 "(many-to-many: use uvsql_mapper_relationship with "
                 "uvsql_relationship_secondary)");
  expect_refused(&o, o.users, NULL, o.addresses, "user_id", "user",
                 "uvsql_mapper_relate: a mapper, a relationship field and a target mapper are "
                 "required");

  /* then the right call works, and declaring it twice is refused */
  uvsql_error_t err;
  ASSERT(uvsql_mapper_relate(o.users, "addresses", o.addresses, "user_id", "user", 0, &err) !=
         NULL);
  ASSERT(uvsql_mapper_relate(o.users, "addresses", o.addresses, "user_id", "user", 0, &err) ==
         NULL);
  ASSERT_INT_EQ(err.code, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(err.message, "relationship ru_user_t.addresses is already declared");
  /* the other side already declared: the many-to-one "best" pairs with nothing; a second link
   * between the same models through another key is its own relationship */
  ASSERT(uvsql_mapper_relate(o.users, "best", o.addresses, "best_id", NULL, 0, &err) != NULL);
  ASSERT_INT_EQ(uvsql_table_nfks(uvsql_mapper_table(o.users)), 1);
  uvsql_registry_free(o.reg);
}
