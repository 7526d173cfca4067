/* tests/test_orm_rel_move.c — relationships that keep data, and cycles, on PostgreSQL, MariaDB
 * and SQLite: a child moved between parents is one UPDATE of its key (remove + append in
 * either order, set_ref, one flush or two); delete-orphan deletes only a child without a
 * parent at flush; deleting a parent without delete cascade sets its children's key NULL
 * (loading them first), a NOT NULL key fails naming the relationship, passive_deletes leaves
 * it to the database's ON DELETE; two tables referencing each other (post_update on either
 * side) and a ring of rows of one versioned table flush and delete with post_update, and
 * create_all / drop_all them with a use_alter foreign key; a cycle without post_update names
 * both mappers. Rows are checked with plain SQL, statements counted with
 * uvsql_session_statement_count and the engine's echo log. */
#include "orm_rel_fixture.h"

/* ------------------------------------------------------------------ models of this file */

/* box.items: delete-orphan, no back_populates (so remove after append still runs) */
#define BOX_FIELDS(X)                                                                              \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(50), UVSQL_NOT_NULL)
#define BOX_RELS(X) X(items, MANY(item_t))
UVSQL_MODEL_REL(box_t, "box", BOX_FIELDS, BOX_RELS)

#define ITEM_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(50), UVSQL_NOT_NULL)                                                              \
  X(box_id, INT64, 0)
#define ITEM_RELS(X) X(box, ONE(box_t))
UVSQL_MODEL_REL(item_t, "item", ITEM_FIELDS, ITEM_RELS)

/* owner.pets: no delete cascade, pet.owner_id NOT NULL */
#define OWNER_FIELDS(X)                                                                            \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(50), UVSQL_NOT_NULL)
#define OWNER_RELS(X) X(pets, MANY(pet_t))
UVSQL_MODEL_REL(owner_t, "owner", OWNER_FIELDS, OWNER_RELS)

#define PET_FIELDS(X)                                                                              \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(50), UVSQL_NOT_NULL)                                                              \
  X(owner_id, INT64, UVSQL_NOT_NULL)
UVSQL_MODEL(pet_t, "pet", PET_FIELDS)

/* folder.docs: passive_deletes, doc.folder_id NOT NULL ... ON DELETE CASCADE */
#define FOLDER_FIELDS(X)                                                                           \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(50), UVSQL_NOT_NULL)
#define FOLDER_RELS(X) X(docs, MANY(doc_t))
UVSQL_MODEL_REL(folder_t, "folder", FOLDER_FIELDS, FOLDER_RELS)

#define DOC_FIELDS(X)                                                                              \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(50), UVSQL_NOT_NULL)                                                              \
  X(folder_id, INT64, UVSQL_NOT_NULL)
UVSQL_MODEL(doc_t, "doc", DOC_FIELDS)

/* the cycle: user.favorite_address_id -> address.id, address.user_id -> user.id */
#define USER_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(50), UVSQL_NOT_NULL)                                                              \
  X(favorite_address_id, INT64, 0)
#define USER_RELS(X) X(addresses, MANY(address_t)) X(favorite, ONE(address_t))
UVSQL_MODEL_REL(user_t, "user_account", USER_FIELDS, USER_RELS)

#define ADDRESS_FIELDS(X)                                                                          \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(email, STRING(50), UVSQL_NOT_NULL)                                                             \
  X(user_id, INT64, 0)
#define ADDRESS_RELS(X) X(user, ONE(user_t))
UVSQL_MODEL_REL(address_t, "address", ADDRESS_FIELDS, ADDRESS_RELS)

/* team.members: no cascade but save-update, member.team_id nullable */
#define TEAM_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(50), UVSQL_NOT_NULL)
#define TEAM_RELS(X) X(members, MANY(member_t))
UVSQL_MODEL_REL(team_t, "team", TEAM_FIELDS, TEAM_RELS)

#define MEMBER_FIELDS(X)                                                                           \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(50), UVSQL_NOT_NULL)                                                              \
  X(team_id, INT64, 0)
UVSQL_MODEL(member_t, "member", MEMBER_FIELDS)

/* a ring of nodes, with a version counter: node.next_id -> node.id */
#define NODE_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(50), UVSQL_NOT_NULL)                                                              \
  X(next_id, INT64, 0)                                                                             \
  X(version, INT64, UVSQL_VERSION_ID)
#define NODE_RELS(X) X(next, ONE(node_t))
UVSQL_MODEL_REL(node_t, "node", NODE_FIELDS, NODE_RELS)

/* ------------------------------------------------------------------ fixture of this file */

typedef struct {
  size_t inserts, updates, deletes, selects, alters;
  char last_alter[512];
} kinds_t;

static void count_kinds(void *data, const char *line) {
  kinds_t *k = data;
  if (strncmp(line, "INSERT", 6) == 0)
    k->inserts++;
  else if (strncmp(line, "UPDATE", 6) == 0)
    k->updates++;
  else if (strncmp(line, "DELETE", 6) == 0)
    k->deletes++;
  else if (strncmp(line, "SELECT", 6) == 0)
    k->selects++;
  else if (strncmp(line, "ALTER TABLE", 11) == 0) {
    k->alters++;
    snprintf(k->last_alter, sizeof k->last_alter, "%s", line);
  }
}

typedef struct {
  fixture_t fx;
  kinds_t log;
  uvsql_registry_t *reg;
  uvsql_mapper_t *boxes, *items, *owners, *pets, *folders, *docs, *users, *addrs, *nodes;
  uvsql_mapper_t *teams, *members;
  char tbox[64], titem[64], towner[64], tpet[64], tfolder[64], tdoc[64], tuser[64], taddr[64];
  char tnode[64], tteam[64], tmember[64];
} mv_t;

static void reset(kinds_t *k) {
  memset(k, 0, sizeof *k);
}

/* post_update: 0 none, 1 user.favorite (many-to-one), 2 user.addresses (one-to-many) is
 * declared UVSQL_REL_POST_UPDATE. */
static mv_t *mv_open(const char *url, int post_update) {
  mv_t *o = calloc(1, sizeof *o);
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  uvsql_error_t err;
  char fk[100];
  opt.echo = 1;
  opt.log_cb = count_kinds;
  opt.log_data = &o->log;
  o->fx = fixture_open(url, &opt);
  snprintf(o->tbox, sizeof o->tbox, "%s", test_unique_name("box"));
  snprintf(o->titem, sizeof o->titem, "%s", test_unique_name("item"));
  snprintf(o->towner, sizeof o->towner, "%s", test_unique_name("owner"));
  snprintf(o->tpet, sizeof o->tpet, "%s", test_unique_name("pet"));
  snprintf(o->tfolder, sizeof o->tfolder, "%s", test_unique_name("folder"));
  snprintf(o->tdoc, sizeof o->tdoc, "%s", test_unique_name("doc"));
  snprintf(o->tuser, sizeof o->tuser, "%s", test_unique_name("user_account"));
  snprintf(o->taddr, sizeof o->taddr, "%s", test_unique_name("address"));
  snprintf(o->tnode, sizeof o->tnode, "%s", test_unique_name("node"));
  snprintf(o->tteam, sizeof o->tteam, "%s", test_unique_name("team"));
  snprintf(o->tmember, sizeof o->tmember, "%s", test_unique_name("member"));
  o->reg = uvsql_registry_new(NULL);
  ASSERT(o->boxes = uvsql_registry_map_table(o->reg, box_t_model(), o->tbox, &err));
  ASSERT(o->items = uvsql_registry_map_table(o->reg, item_t_model(), o->titem, &err));
  ASSERT(o->owners = uvsql_registry_map_table(o->reg, owner_t_model(), o->towner, &err));
  ASSERT(o->pets = uvsql_registry_map_table(o->reg, pet_t_model(), o->tpet, &err));
  ASSERT(o->folders = uvsql_registry_map_table(o->reg, folder_t_model(), o->tfolder, &err));
  ASSERT(o->docs = uvsql_registry_map_table(o->reg, doc_t_model(), o->tdoc, &err));
  /* users before addresses: without post_update, that order cannot insert the cycle */
  ASSERT(o->users = uvsql_registry_map_table(o->reg, user_t_model(), o->tuser, &err));
  ASSERT(o->addrs = uvsql_registry_map_table(o->reg, address_t_model(), o->taddr, &err));
  ASSERT(o->nodes = uvsql_registry_map_table(o->reg, node_t_model(), o->tnode, &err));
  ASSERT(o->teams = uvsql_registry_map_table(o->reg, team_t_model(), o->tteam, &err));
  ASSERT(o->members = uvsql_registry_map_table(o->reg, member_t_model(), o->tmember, &err));
  ASSERT(uvsql_mapper_references(o->members, "team_id", ref(fk, o->tteam), UVSQL_FK_NO_ACTION));
  ASSERT(uvsql_mapper_relationship(o->teams, "members", UVSQL_ONE_TO_MANY, o->members,
                                   offsetof(team_t, members), "team_id", 0, &err));
  ASSERT(uvsql_mapper_references(o->nodes, "next_id", ref(fk, o->tnode), UVSQL_FK_NO_ACTION));
  ASSERT(uvsql_mapper_references(o->items, "box_id", ref(fk, o->tbox), UVSQL_FK_NO_ACTION));
  ASSERT(uvsql_mapper_references(o->pets, "owner_id", ref(fk, o->towner), UVSQL_FK_NO_ACTION));
  ASSERT(uvsql_mapper_references(o->docs, "folder_id", ref(fk, o->tfolder), UVSQL_FK_CASCADE));
  ASSERT(uvsql_mapper_references(o->addrs, "user_id", ref(fk, o->tuser), UVSQL_FK_NO_ACTION));
  ASSERT(uvsql_column_references_use_alter(
      uvsql_table_column(uvsql_mapper_table(o->users), "favorite_address_id"), ref(fk, o->taddr),
      UVSQL_FK_NO_ACTION, UVSQL_FK_NO_ACTION));

  uvsql_relationship_t *bi = uvsql_mapper_relationship(
      o->boxes, "items", UVSQL_ONE_TO_MANY, o->items, offsetof(box_t, items), "box_id",
      UVSQL_CASCADE_ALL | UVSQL_CASCADE_DELETE_ORPHAN, &err);
  ASSERT(bi && uvsql_relationship_order_by(bi, "id"));
  ASSERT(uvsql_mapper_relationship(o->items, "box", UVSQL_MANY_TO_ONE, o->boxes,
                                   offsetof(item_t, box), "box_id", 0, &err));
  ASSERT(uvsql_mapper_relationship(o->owners, "pets", UVSQL_ONE_TO_MANY, o->pets,
                                   offsetof(owner_t, pets), "owner_id", 0, &err));
  ASSERT(uvsql_mapper_relationship(o->folders, "docs", UVSQL_ONE_TO_MANY, o->docs,
                                   offsetof(folder_t, docs), "folder_id", UVSQL_REL_PASSIVE_DELETES,
                                   &err));
  uvsql_relationship_t *ua = uvsql_mapper_relationship(
      o->users, "addresses", UVSQL_ONE_TO_MANY, o->addrs, offsetof(user_t, addresses), "user_id",
      UVSQL_CASCADE_ALL | (post_update == 2 ? UVSQL_REL_POST_UPDATE : 0), &err);
  uvsql_relationship_t *au = uvsql_mapper_relationship(
      o->addrs, "user", UVSQL_MANY_TO_ONE, o->users, offsetof(address_t, user), "user_id", 0, &err);
  ASSERT(ua && au && uvsql_relationship_back_populates(ua, au));
  ASSERT(uvsql_relationship_order_by(ua, "id"));
  ASSERT(uvsql_mapper_relationship(o->users, "favorite", UVSQL_MANY_TO_ONE, o->addrs,
                                   offsetof(user_t, favorite), "favorite_address_id",
                                   post_update == 1 ? UVSQL_REL_POST_UPDATE : 0, &err));
  ASSERT(uvsql_mapper_relationship(o->nodes, "next", UVSQL_MANY_TO_ONE, o->nodes,
                                   offsetof(node_t, next), "next_id",
                                   post_update ? UVSQL_REL_POST_UPDATE : 0, &err));
  await_ok(uvsql_metadata_create_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  return o;
}

static void mv_close(mv_t *o) {
  await_ok(uvsql_metadata_drop_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  uvsql_registry_free(o->reg);
  fixture_close(&o->fx);
  free(o);
}

static uvsql_session_t *mv_session(mv_t *o) {
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, o->fx.engine, o->reg, NULL), NOERR);
  return s;
}

/* A new user without a favorite address yet (NULL, not 0). */
static user_t *new_user(mv_t *o, const char *name) {
  user_t *u = named(o->users, name);
  ASSERT_OK(uvsql_orm_set_null(u, &u->favorite_address_id, 1), NOERR);
  return u;
}

static void flush_ok(uvsql_session_t *s) {
  await_ok(uvsql_session_flush(s, NULL, NULL));
}

static int64_t where_count(fixture_t *fx, const char *table, const char *fmt, long long v) {
  char where[128];
  snprintf(where, sizeof where, fmt, v);
  return count_rows(fx, table, where);
}

static int64_t one_int(fixture_t *fx, const char *col, const char *table, long long id) {
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE id = %lld", col, table, id);
  return query_int(fx, sql);
}

/* Whether column col of row id is NULL. */
static int is_null(fixture_t *fx, const char *col, const char *table, long long id) {
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE id = %lld AND %s IS NULL", table, id,
           col);
  return (int)query_int(fx, sql);
}

/* ------------------------------------------------------------------ moving a child */

static void clear(sqllog_t *log) {
  memset(log, 0, sizeof *log);
}

/* Exactly one statement, an UPDATE, went out since clear(log). */
#define ASSERT_ONE_UPDATE(log)                                                                     \
  do {                                                                                             \
    ASSERT_INT_EQ((log).updates, 1);                                                               \
    ASSERT_INT_EQ((log).inserts + (log).deletes + (log).selects, 0);                               \
  } while (0)

/* author.books: delete-orphan and back_populates (orm_rel_fixture.h) */
static void move_between_authors(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  author_t *a = named(o->authors, "ann"), *b = named(o->authors, "bob");
  book_t *k1 = named(o->books, "k1"), *k2 = named(o->books, "k2");
  ASSERT_OK(uvsql_orm_append(a, "books", k1), NOERR);
  ASSERT_OK(uvsql_orm_append(a, "books", k2), NOERR);
  ASSERT_OK(uvsql_session_add(s, a), NOERR);
  ASSERT_OK(uvsql_session_add(s, b), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  int64_t id1 = k1->id;

  /* remove, then append: one UPDATE, the row kept with b's key */
  ASSERT_OK(uvsql_orm_remove(a, "books", k1), NOERR);
  ASSERT_OK(uvsql_orm_append(b, "books", k1), NOERR);
  uint64_t before = uvsql_session_statement_count(s);
  clear(&o->log);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  ASSERT_INT_EQ(uvsql_session_statement_count(s) - before, 2); /* BEGIN, the UPDATE */
  ASSERT_ONE_UPDATE(o->log);
  ASSERT_INT_EQ(uvsql_orm_state(k1), UVSQL_OBJ_PERSISTENT);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(one_int(&o->fx, "author_id", o->tb, id1), b->id);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tb, NULL), 2);
  ASSERT(k1->author == b);
  ASSERT_INT_EQ(a->books.n, 1);
  ASSERT_INT_EQ(b->books.n, 1);

  /* append to the new parent first (back_populates takes it out of b), then remove: the
   * remove finds nothing; still one UPDATE */
  ASSERT_OK(uvsql_orm_append(a, "books", k1), NOERR);
  ASSERT_OK(uvsql_orm_remove(b, "books", k1), NOERR);
  clear(&o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_ONE_UPDATE(o->log);
  ASSERT_INT_EQ(one_int(&o->fx, "author_id", o->tb, id1), a->id);

  /* set_ref on the many-to-one side: one UPDATE */
  ASSERT_OK(uvsql_orm_set_ref(k1, "author", b), NOERR);
  ASSERT_INT_EQ(a->books.n, 1);
  clear(&o->log);
  flush_ok(s);
  ASSERT_ONE_UPDATE(o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(one_int(&o->fx, "author_id", o->tb, id1), b->id);

  /* delete-orphan: removed and not given another parent, it is deleted at the flush */
  int64_t id2 = k2->id;
  ASSERT_OK(uvsql_orm_remove(a, "books", k2), NOERR);
  ASSERT_INT_EQ(uvsql_orm_state(k2), UVSQL_OBJ_PERSISTENT); /* nothing decided before */
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(uvsql_orm_state(k2), UVSQL_OBJ_DETACHED);
  ASSERT_INT_EQ(where_count(&o->fx, o->tb, "id = %lld", id2), 0);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tb, NULL), 1);
  /* set_ref(NULL) on the many-to-one side makes an orphan too */
  ASSERT_OK(uvsql_orm_set_ref(k1, "author", NULL), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&o->fx, o->tb, NULL), 0);
  ASSERT_INT_EQ(uvsql_orm_state(k1), UVSQL_OBJ_DETACHED);
  await_ok(uvsql_session_close(s, NULL, NULL));

  /* without delete-orphan (author.profile, one-to-one): two flushes, one UPDATE each, and the
   * row is kept with NULL in between */
  s = session(o);
  profile_t *p = named(o->profiles, "p");
  a = named(o->authors, "cat");
  b = named(o->authors, "dan");
  ASSERT_OK(uvsql_orm_set_ref(a, "profile", p), NOERR);
  ASSERT_OK(uvsql_session_add(s, a), NOERR);
  ASSERT_OK(uvsql_session_add(s, b), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_OK(uvsql_orm_set_ref(a, "profile", NULL), NOERR);
  clear(&o->log);
  flush_ok(s);
  ASSERT_ONE_UPDATE(o->log);
  ASSERT_OK(uvsql_orm_set_ref(b, "profile", p), NOERR);
  before = uvsql_session_statement_count(s);
  clear(&o->log);
  flush_ok(s);
  ASSERT_INT_EQ(uvsql_session_statement_count(s) - before, 1); /* in the same transaction */
  ASSERT_ONE_UPDATE(o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(one_int(&o->fx, "author_id", o->tp, p->id), b->id);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tp, NULL), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_rel_move_between_authors_pg) {
  move_between_authors(test_pg_url());
}
TEST(orm_rel_move_between_authors_mariadb) {
  move_between_authors(test_mariadb_url());
}
TEST(orm_rel_move_between_authors_sqlite) {
  move_between_authors(test_sqlite_url());
}

/* student.courses is many-to-many with delete-orphan: a course moved from one student to
 * another keeps its row (the secondary row moves: one DELETE, one INSERT); one removed and
 * not appended again is deleted. */
static void move_many_to_many(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  student_t *s1 = named(o->students, "s1"), *s2 = named(o->students, "s2");
  course_t *c1 = named(o->courses, "c1"), *c2 = named(o->courses, "c2");
  ASSERT_OK(uvsql_orm_append(s1, "courses", c1), NOERR);
  ASSERT_OK(uvsql_orm_append(s1, "courses", c2), NOERR);
  ASSERT_OK(uvsql_session_add(s, s1), NOERR);
  ASSERT_OK(uvsql_session_add(s, s2), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_OK(uvsql_orm_remove(s1, "courses", c1), NOERR);
  ASSERT_OK(uvsql_orm_append(s2, "courses", c1), NOERR);
  clear(&o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(o->log.deletes, 1); /* the secondary row of (s1, c1) */
  ASSERT_INT_EQ(o->log.inserts, 1); /* the one of (s2, c1) */
  ASSERT_INT_EQ(uvsql_orm_state(c1), UVSQL_OBJ_PERSISTENT);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tco, NULL), 2);
  ASSERT_INT_EQ(where_count(&o->fx, o->te, "course_id = %lld", c1->id), 1);
  ASSERT_INT_EQ(count_rows(&o->fx, o->te, NULL), 2);
  int64_t id2 = c2->id;
  ASSERT_OK(uvsql_orm_remove(s1, "courses", c2), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(where_count(&o->fx, o->tco, "id = %lld", id2), 0);
  ASSERT_INT_EQ(count_rows(&o->fx, o->te, NULL), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_rel_move_many_to_many_pg) {
  move_many_to_many(test_pg_url());
}
TEST(orm_rel_move_many_to_many_mariadb) {
  move_many_to_many(test_mariadb_url());
}
TEST(orm_rel_move_many_to_many_sqlite) {
  move_many_to_many(test_sqlite_url());
}

/* box.items: delete-orphan without back_populates, so the order of remove and append matters
 * to the in-memory side; either way the row is kept. */
static void move_without_back(const char *url) {
  mv_t *o = mv_open(url, 1);
  uvsql_session_t *s = mv_session(o);
  box_t *a = named(o->boxes, "a"), *b = named(o->boxes, "b");
  item_t *i1 = named(o->items, "i1"), *i2 = named(o->items, "i2"), *i3 = named(o->items, "i3");
  ASSERT_OK(uvsql_orm_append(a, "items", i1), NOERR);
  ASSERT_OK(uvsql_orm_append(a, "items", i2), NOERR);
  ASSERT_OK(uvsql_orm_append(a, "items", i3), NOERR);
  ASSERT_OK(uvsql_session_add(s, a), NOERR);
  ASSERT_OK(uvsql_session_add(s, b), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));

  /* append to b first, then remove from a (the remove leaves b's link alone) */
  ASSERT_OK(uvsql_orm_append(b, "items", i1), NOERR);
  ASSERT_OK(uvsql_orm_remove(a, "items", i1), NOERR);
  /* remove first, then append */
  ASSERT_OK(uvsql_orm_remove(a, "items", i2), NOERR);
  ASSERT_OK(uvsql_orm_append(b, "items", i2), NOERR);
  reset(&o->log);
  flush_ok(s);
  ASSERT_INT_EQ(o->log.updates, 2);
  ASSERT_INT_EQ(o->log.deletes, 0);
  ASSERT_INT_EQ(o->log.inserts, 0);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(where_count(&o->fx, o->titem, "box_id = %lld", b->id), 2);
  ASSERT_INT_EQ(where_count(&o->fx, o->titem, "box_id = %lld", a->id), 1);
  ASSERT_INT_EQ(count_rows(&o->fx, o->titem, NULL), 3);
  ASSERT_INT_EQ(a->items.n, 1);
  ASSERT_INT_EQ(b->items.n, 2);

  /* two flushes: appended to a (one UPDATE), removed from b later (nothing to send: its key
   * is a's, so it is no orphan) */
  ASSERT_OK(uvsql_orm_append(a, "items", i1), NOERR);
  reset(&o->log);
  flush_ok(s);
  ASSERT_INT_EQ(o->log.updates, 1);
  ASSERT_INT_EQ(o->log.inserts + o->log.deletes, 0);
  ASSERT_OK(uvsql_orm_remove(b, "items", i1), NOERR);
  reset(&o->log);
  flush_ok(s);
  ASSERT_INT_EQ(o->log.updates + o->log.inserts + o->log.deletes, 0);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(one_int(&o->fx, "box_id", o->titem, i1->id), a->id);
  ASSERT_INT_EQ(uvsql_orm_state(i1), UVSQL_OBJ_PERSISTENT);

  /* a new box taking an item in the same flush that inserts it: INSERT, then one UPDATE */
  box_t *c = named(o->boxes, "c");
  ASSERT_OK(uvsql_session_add(s, c), NOERR);
  ASSERT_OK(uvsql_orm_remove(a, "items", i3), NOERR);
  ASSERT_OK(uvsql_orm_append(c, "items", i3), NOERR);
  reset(&o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(o->log.inserts, 1);
  ASSERT_INT_EQ(o->log.updates, 1);
  ASSERT_INT_EQ(o->log.deletes, 0);
  ASSERT_INT_EQ(one_int(&o->fx, "box_id", o->titem, i3->id), c->id);

  /* the orphan is deleted: removed from b, given to no one */
  int64_t gone = i2->id;
  ASSERT_OK(uvsql_orm_remove(b, "items", i2), NOERR);
  reset(&o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(o->log.deletes, 1);
  ASSERT_INT_EQ(where_count(&o->fx, o->titem, "id = %lld", gone), 0);
  ASSERT_INT_EQ(count_rows(&o->fx, o->titem, NULL), 2);
  /* a new item removed before its first flush is never inserted */
  item_t *tmp = named(o->items, "tmp");
  ASSERT_OK(uvsql_orm_append(b, "items", tmp), NOERR);
  ASSERT_OK(uvsql_orm_remove(b, "items", tmp), NOERR);
  reset(&o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(o->log.inserts, 0);
  ASSERT_INT_EQ(count_rows(&o->fx, o->titem, NULL), 2);
  await_ok(uvsql_session_close(s, NULL, NULL));
  mv_close(o);
}

TEST(orm_rel_move_without_back_populates_pg) {
  move_without_back(test_pg_url());
}
TEST(orm_rel_move_without_back_populates_mariadb) {
  move_without_back(test_mariadb_url());
}
TEST(orm_rel_move_without_back_populates_sqlite) {
  move_without_back(test_sqlite_url());
}

/* ------------------------------------------------------------------ deleting a parent */

/* author.profile has no delete cascade: deleting the author sets profile.author_id NULL,
 * also when the profile was not loaded (the flush loads it). */
static void parent_delete_nulls(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  author_t *a = named(o->authors, "ann"), *b = named(o->authors, "bob");
  profile_t *pa = named(o->profiles, "pa"), *pb = named(o->profiles, "pb");
  ASSERT_OK(uvsql_orm_set_ref(a, "profile", pa), NOERR);
  ASSERT_OK(uvsql_orm_set_ref(b, "profile", pb), NOERR);
  ASSERT_OK(uvsql_session_add(s, a), NOERR);
  ASSERT_OK(uvsql_session_add(s, b), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  int64_t ida = a->id, idb = b->id, idpa = pa->id, idpb = pb->id;
  /* loaded: the profile's key becomes NULL before the author's DELETE */
  ASSERT_OK(uvsql_session_delete(s, a), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(where_count(&o->fx, o->ta, "id = %lld", ida), 0);
  ASSERT_INT_EQ(is_null(&o->fx, "author_id", o->tp, idpa), 1);
  ASSERT(uvsql_orm_is_null(pa, &pa->author_id));
  ASSERT(pa->author == NULL);
  await_ok(uvsql_session_close(s, NULL, NULL));

  /* not loaded: loaded by the flush first (one SELECT), then nulled */
  s = session(o);
  uvsql_future_t *f = uvsql_session_get_int(s, o->authors, idb, NULL, NULL);
  author_t *bb = AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(uvsql_orm_is_loaded(bb, "profile"), 0);
  ASSERT_OK(uvsql_session_delete(s, bb), NOERR);
  clear(&o->log);
  uint64_t before = uvsql_session_statement_count(s);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  ASSERT_INT_EQ(o->log.selects, 2); /* his books (delete cascade) and his profile */
  /* the two loads, the profile's UPDATE, the author's DELETE */
  ASSERT_INT_EQ(uvsql_session_statement_count(s) - before, 4);
  ASSERT_INT_EQ(o->log.updates, 1);
  ASSERT_INT_EQ(o->log.deletes, 1);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&o->fx, o->ta, NULL), 0);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tp, NULL), 2);
  ASSERT_INT_EQ(is_null(&o->fx, "author_id", o->tp, idpb), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

/* One-to-many without cascade (team.members), collection not loaded: one SELECT of the
 * members, one UPDATE each, then the team's DELETE. */
static void parent_delete_nulls_collection(const char *url) {
  mv_t *o = mv_open(url, 1);
  uvsql_session_t *s = mv_session(o);
  team_t *t = named(o->teams, "t");
  for (int k = 0; k < 2; k++)
    ASSERT_OK(uvsql_orm_append(t, "members", named(o->members, "m")), NOERR);
  ASSERT_OK(uvsql_session_add(s, t), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  int64_t id = t->id;
  await_ok(uvsql_session_close(s, NULL, NULL));
  s = mv_session(o);
  uvsql_future_t *f = uvsql_session_get_int(s, o->teams, id, NULL, NULL);
  team_t *tt = AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT_OK(uvsql_session_delete(s, tt), NOERR);
  reset(&o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(o->log.selects, 1);
  ASSERT_INT_EQ(o->log.updates, 2);
  ASSERT_INT_EQ(o->log.deletes, 1);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tteam, NULL), 0);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tmember, "team_id IS NULL"), 2);
  await_ok(uvsql_session_close(s, NULL, NULL));
  mv_close(o);
}

TEST(orm_rel_parent_delete_nulls_collection_pg) {
  parent_delete_nulls_collection(test_pg_url());
}
TEST(orm_rel_parent_delete_nulls_collection_mariadb) {
  parent_delete_nulls_collection(test_mariadb_url());
}
TEST(orm_rel_parent_delete_nulls_collection_sqlite) {
  parent_delete_nulls_collection(test_sqlite_url());
}

TEST(orm_rel_parent_delete_nulls_children_pg) {
  parent_delete_nulls(test_pg_url());
}
TEST(orm_rel_parent_delete_nulls_children_mariadb) {
  parent_delete_nulls(test_mariadb_url());
}
TEST(orm_rel_parent_delete_nulls_children_sqlite) {
  parent_delete_nulls(test_sqlite_url());
}

/* owner.pets: no delete cascade and pet.owner_id NOT NULL: a clear error, nothing sent. A
 * child moved to another owner first is no longer the deleted owner's: that works. */
static void not_null_key(const char *url) {
  mv_t *o = mv_open(url, 1);
  uvsql_session_t *s = mv_session(o);
  owner_t *a = named(o->owners, "ann"), *b = named(o->owners, "bob");
  pet_t *p = named(o->pets, "rex");
  ASSERT_OK(uvsql_orm_append(a, "pets", p), NOERR);
  ASSERT_OK(uvsql_session_add(s, a), NOERR);
  ASSERT_OK(uvsql_session_add(s, b), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_OK(uvsql_session_delete(s, a), NOERR);
  reset(&o->log);
  uvsql_future_t *f = uvsql_session_flush(s, NULL, NULL);
  const uvsql_error_t *err = AWAIT_ERR(f, UVSQL_EINTEGRITY);
  ASSERT_STR_CONTAINS(err->message, "deleting a owner_t would set");
  ASSERT_STR_CONTAINS(err->message, ".owner_id of its pet_t (relationship owner_t.pets) to NULL");
  ASSERT_STR_CONTAINS(err->message, "that column is NOT NULL");
  ASSERT_STR_CONTAINS(err->message, "UVSQL_CASCADE_DELETE");
  ASSERT_STR_CONTAINS(err->message, "UVSQL_REL_PASSIVE_DELETES");
  uvsql_future_unref(f);
  ASSERT_INT_EQ(o->log.updates + o->log.deletes, 0);
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  int64_t ida = a->id, idb = b->id;
  ASSERT_INT_EQ(count_rows(&o->fx, o->towner, NULL), 2);
  ASSERT_INT_EQ(where_count(&o->fx, o->tpet, "owner_id = %lld", ida), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));

  /* the pet moves to bob, then ann goes: one UPDATE, one DELETE */
  s = mv_session(o);
  f = uvsql_session_get_int(s, o->owners, ida, NULL, NULL);
  owner_t *aa = AWAIT_OK(f);
  uvsql_future_unref(f);
  f = uvsql_session_get_int(s, o->owners, idb, NULL, NULL);
  owner_t *bb = AWAIT_OK(f);
  uvsql_future_unref(f);
  f = uvsql_session_load(s, aa, "pets", NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  pet_t *pp = aa->pets.items[0];
  ASSERT_OK(uvsql_orm_remove(aa, "pets", pp), NOERR);
  ASSERT_OK(uvsql_orm_append(bb, "pets", pp), NOERR);
  ASSERT_OK(uvsql_session_delete(s, aa), NOERR);
  reset(&o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(o->log.updates, 1);
  ASSERT_INT_EQ(o->log.deletes, 1);
  ASSERT_INT_EQ(one_int(&o->fx, "owner_id", o->tpet, pp->id), bb->id);
  ASSERT_INT_EQ(count_rows(&o->fx, o->towner, NULL), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));
  mv_close(o);
}

TEST(orm_rel_parent_delete_not_null_key_fails_pg) {
  not_null_key(test_pg_url());
}
TEST(orm_rel_parent_delete_not_null_key_fails_mariadb) {
  not_null_key(test_mariadb_url());
}
TEST(orm_rel_parent_delete_not_null_key_fails_sqlite) {
  not_null_key(test_sqlite_url());
}

/* folder.docs is passive_deletes and doc.folder_id is ON DELETE CASCADE: deleting a folder
 * sends its DELETE alone; the database removes the documents. */
static void passive_deletes(const char *url) {
  mv_t *o = mv_open(url, 1);
  uvsql_session_t *s = mv_session(o);
  folder_t *d = named(o->folders, "d");
  for (int k = 0; k < 3; k++)
    ASSERT_OK(uvsql_orm_append(d, "docs", named(o->docs, "doc")), NOERR);
  ASSERT_OK(uvsql_session_add(s, d), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  int64_t id = d->id;
  await_ok(uvsql_session_close(s, NULL, NULL));
  ASSERT_INT_EQ(where_count(&o->fx, o->tdoc, "folder_id = %lld", id), 3);

  s = mv_session(o);
  uvsql_future_t *f = uvsql_session_get_int(s, o->folders, id, NULL, NULL);
  folder_t *dd = AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT_OK(uvsql_session_delete(s, dd), NOERR);
  reset(&o->log);
  uint64_t before = uvsql_session_statement_count(s);
  flush_ok(s);
  ASSERT_INT_EQ(uvsql_session_statement_count(s) - before, 1);
  ASSERT_INT_EQ(o->log.selects + o->log.updates, 0);
  ASSERT_INT_EQ(o->log.deletes, 1);
  ASSERT_INT_EQ(uvsql_orm_is_loaded(dd, "docs"), 0);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&o->fx, o->tfolder, NULL), 0);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tdoc, NULL), 0);
  await_ok(uvsql_session_close(s, NULL, NULL));
  mv_close(o);
}

TEST(orm_rel_passive_deletes_pg) {
  passive_deletes(test_pg_url());
}
TEST(orm_rel_passive_deletes_mariadb) {
  passive_deletes(test_mariadb_url());
}
TEST(orm_rel_passive_deletes_sqlite) {
  passive_deletes(test_sqlite_url());
}

/* ------------------------------------------------------------------ cycles */

static void cycle_post_update(const char *url) {
  mv_t *o = mv_open(url, 1);
  uvsql_session_t *s = mv_session(o);
  user_t *u = new_user(o, "ann");
  address_t *home = named(o->addrs, "home@x"), *work = named(o->addrs, "work@x");
  ASSERT_OK(uvsql_orm_append(u, "addresses", home), NOERR);
  ASSERT_OK(uvsql_orm_append(u, "addresses", work), NOERR);
  ASSERT_OK(uvsql_orm_set_ref(u, "favorite", work), NOERR);
  ASSERT_OK(uvsql_session_add(s, u), NOERR);
  reset(&o->log);
  uint64_t before = uvsql_session_statement_count(s);
  flush_ok(s);
  /* BEGIN, INSERT the user (favorite NULL), INSERT both addresses, UPDATE the favorite */
  ASSERT_INT_EQ(uvsql_session_statement_count(s) - before, 4);
  ASSERT_INT_EQ(o->log.inserts, 2);
  ASSERT_INT_EQ(o->log.updates, 1);
  ASSERT_INT_EQ(u->favorite_address_id, work->id);
  ASSERT(!uvsql_orm_is_null(u, &u->favorite_address_id));
  ASSERT(!uvsql_session_is_modified(s, u));
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(one_int(&o->fx, "favorite_address_id", o->tuser, u->id), work->id);
  ASSERT_INT_EQ(one_int(&o->fx, "user_id", o->taddr, home->id), u->id);
  ASSERT_INT_EQ(one_int(&o->fx, "user_id", o->taddr, work->id), u->id);

  /* a persistent user's favorite changes to a new address: INSERT, then the user's UPDATE */
  address_t *third = named(o->addrs, "third@x");
  ASSERT_OK(uvsql_orm_append(u, "addresses", third), NOERR);
  ASSERT_OK(uvsql_orm_set_ref(u, "favorite", third), NOERR);
  reset(&o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(o->log.inserts, 1);
  ASSERT_INT_EQ(o->log.updates, 1);
  ASSERT_INT_EQ(one_int(&o->fx, "favorite_address_id", o->tuser, u->id), third->id);

  /* delete the user (cascading to the addresses): the favorite is cleared by an UPDATE, the
   * addresses go, then the user */
  int64_t uid = u->id;
  ASSERT_OK(uvsql_session_delete(s, u), NOERR);
  reset(&o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(o->log.updates, 1);
  ASSERT_INT_EQ(o->log.deletes, 2);
  ASSERT_INT_EQ(where_count(&o->fx, o->tuser, "id = %lld", uid), 0);
  ASSERT_INT_EQ(count_rows(&o->fx, o->taddr, NULL), 0);
  ASSERT_INT_EQ(uvsql_orm_state(u), UVSQL_OBJ_DETACHED);
  ASSERT_INT_EQ(uvsql_orm_state(work), UVSQL_OBJ_DETACHED);
  await_ok(uvsql_session_close(s, NULL, NULL));
  mv_close(o);
}

/* post_update on the one-to-many side: addresses go first with user_id NULL, the user with
 * its favorite, then one UPDATE per address; deleting clears the addresses' keys first. */
static void cycle_post_update_one_to_many(const char *url) {
  mv_t *o = mv_open(url, 2);
  uvsql_session_t *s = mv_session(o);
  user_t *u = new_user(o, "ann");
  address_t *home = named(o->addrs, "home@x"), *work = named(o->addrs, "work@x");
  ASSERT_OK(uvsql_orm_append(u, "addresses", home), NOERR);
  ASSERT_OK(uvsql_orm_append(u, "addresses", work), NOERR);
  ASSERT_OK(uvsql_orm_set_ref(u, "favorite", home), NOERR);
  ASSERT_OK(uvsql_session_add(s, u), NOERR);
  reset(&o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(o->log.inserts, 2);
  ASSERT_INT_EQ(o->log.updates, 2);
  ASSERT_INT_EQ(one_int(&o->fx, "favorite_address_id", o->tuser, u->id), home->id);
  ASSERT_INT_EQ(one_int(&o->fx, "user_id", o->taddr, home->id), u->id);
  ASSERT_INT_EQ(one_int(&o->fx, "user_id", o->taddr, work->id), u->id);
  ASSERT_OK(uvsql_session_delete(s, u), NOERR);
  reset(&o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(o->log.updates, 2);
  ASSERT_INT_EQ(o->log.deletes, 2);
  ASSERT_INT_EQ(count_rows(&o->fx, o->tuser, NULL), 0);
  ASSERT_INT_EQ(count_rows(&o->fx, o->taddr, NULL), 0);
  await_ok(uvsql_session_close(s, NULL, NULL));
  mv_close(o);
}

TEST(orm_rel_cycle_post_update_one_to_many_pg) {
  cycle_post_update_one_to_many(test_pg_url());
}
TEST(orm_rel_cycle_post_update_one_to_many_mariadb) {
  cycle_post_update_one_to_many(test_mariadb_url());
}
TEST(orm_rel_cycle_post_update_one_to_many_sqlite) {
  cycle_post_update_one_to_many(test_sqlite_url());
}

TEST(orm_rel_cycle_post_update_pg) {
  cycle_post_update(test_pg_url());
}
TEST(orm_rel_cycle_post_update_mariadb) {
  cycle_post_update(test_mariadb_url());
}
TEST(orm_rel_cycle_post_update_sqlite) {
  cycle_post_update(test_sqlite_url());
}

/* Without post_update: new rows of both mappers linked to each other cannot be flushed; the
 * error names both mappers and says what to declare. Rows that do not form a cycle still
 * flush, whatever the registry order. */
static void cycle_without_post_update(const char *url) {
  mv_t *o = mv_open(url, 0);
  uvsql_session_t *s = mv_session(o);
  user_t *u = new_user(o, "ann");
  address_t *home = named(o->addrs, "home@x");
  ASSERT_OK(uvsql_orm_append(u, "addresses", home), NOERR);
  ASSERT_OK(uvsql_session_add(s, u), NOERR);
  reset(&o->log);
  await_ok(uvsql_session_commit(s, NULL, NULL)); /* no favorite: no cycle among the rows */
  ASSERT_INT_EQ(o->log.inserts, 2);
  ASSERT_INT_EQ(one_int(&o->fx, "user_id", o->taddr, home->id), u->id);
  /* an address without a user whose user is its favorite: the other way round */
  user_t *v = new_user(o, "bob");
  address_t *lone = named(o->addrs, "lone@x");
  ASSERT_OK(uvsql_orm_set_null(lone, &lone->user_id, 1), NOERR);
  ASSERT_OK(uvsql_orm_set_ref(v, "favorite", lone), NOERR);
  ASSERT_OK(uvsql_session_add(s, v), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(one_int(&o->fx, "favorite_address_id", o->tuser, v->id), lone->id);

  user_t *w = new_user(o, "cat");
  address_t *a = named(o->addrs, "cat@x");
  ASSERT_OK(uvsql_orm_append(w, "addresses", a), NOERR);
  ASSERT_OK(uvsql_orm_set_ref(w, "favorite", a), NOERR);
  ASSERT_OK(uvsql_session_add(s, w), NOERR);
  reset(&o->log);
  uvsql_future_t *f = uvsql_session_flush(s, NULL, NULL);
  const uvsql_error_t *err = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(err->message, "user_t and address_t reference each other");
  ASSERT_STR_CONTAINS(err->message, o->tuser);
  ASSERT_STR_CONTAINS(err->message, o->taddr);
  ASSERT_STR_CONTAINS(err->message, "UVSQL_REL_POST_UPDATE");
  uvsql_future_unref(f);
  ASSERT_INT_EQ(o->log.inserts, 0); /* found before anything was sent */
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&o->fx, o->tuser, NULL), 2);
  await_ok(uvsql_session_close(s, NULL, NULL));
  char sql[160]; /* SQLite's DROP TABLE empties the table first, which the cycle forbids */
  snprintf(sql, sizeof sql, "UPDATE %s SET favorite_address_id = NULL", o->tuser);
  exec_ok(&o->fx, sql);
  mv_close(o);
}

TEST(orm_rel_cycle_without_post_update_fails_pg) {
  cycle_without_post_update(test_pg_url());
}
TEST(orm_rel_cycle_without_post_update_fails_mariadb) {
  cycle_without_post_update(test_mariadb_url());
}
TEST(orm_rel_cycle_without_post_update_fails_sqlite) {
  cycle_without_post_update(test_sqlite_url());
}

/* A ring of new rows of one table: with post_update, one INSERT then one UPDATE per row; the
 * version counter is left as it is by these UPDATEs (and by the clearing ones before the
 * DELETEs, which match the version loaded). Without it, the flush names the cycle. */
static void self_ring(const char *url) {
  for (int post = 1; post >= 0; post--) {
    mv_t *o = mv_open(url, post);
    uvsql_session_t *s = mv_session(o);
    node_t *n[3];
    for (int k = 0; k < 3; k++)
      n[k] = named(o->nodes, "n");
    for (int k = 0; k < 3; k++)
      ASSERT_OK(uvsql_orm_set_ref(n[k], "next", n[(k + 1) % 3]), NOERR);
    ASSERT_OK(uvsql_session_add(s, n[0]), NOERR);
    ASSERT_INT_EQ(uvsql_orm_state(n[2]), UVSQL_OBJ_PENDING); /* save-update along the ring */
    reset(&o->log);
    uvsql_future_t *f = uvsql_session_flush(s, NULL, NULL);
    if (!post) {
      const uvsql_error_t *err = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
      ASSERT_STR_CONTAINS(err->message, "new objects of node_t are linked to each other in a "
                                        "cycle");
      ASSERT_STR_CONTAINS(err->message, "UVSQL_REL_POST_UPDATE");
      uvsql_future_unref(f);
      ASSERT_INT_EQ(o->log.inserts, 0);
      await_ok(uvsql_session_close(s, NULL, NULL));
      mv_close(o);
      continue;
    }
    AWAIT_OK(f);
    uvsql_future_unref(f);
    ASSERT_INT_EQ(o->log.inserts, 1);
    ASSERT_INT_EQ(o->log.updates, 3);
    await_ok(uvsql_session_commit(s, NULL, NULL));
    for (int k = 0; k < 3; k++) {
      ASSERT_INT_EQ(one_int(&o->fx, "next_id", o->tnode, n[k]->id), n[(k + 1) % 3]->id);
      ASSERT_INT_EQ(one_int(&o->fx, "version", o->tnode, n[k]->id), 1);
      ASSERT_INT_EQ(n[k]->version, 1);
    }
    /* an ordinary change bumps it */
    ASSERT_OK(uvsql_orm_set_text(n[1], &n[1]->name, "renamed"), NOERR);
    await_ok(uvsql_session_commit(s, NULL, NULL));
    ASSERT_INT_EQ(one_int(&o->fx, "version", o->tnode, n[1]->id), 2);
    for (int k = 0; k < 3; k++)
      ASSERT_OK(uvsql_session_delete(s, n[k]), NOERR);
    reset(&o->log);
    await_ok(uvsql_session_commit(s, NULL, NULL));
    ASSERT_INT_EQ(o->log.updates, 3);
    ASSERT_INT_EQ(o->log.deletes, 3); /* versioned: one per row */
    ASSERT_INT_EQ(count_rows(&o->fx, o->tnode, NULL), 0);
    await_ok(uvsql_session_close(s, NULL, NULL));
    mv_close(o);
  }
}

TEST(orm_rel_self_ring_post_update_pg) {
  self_ring(test_pg_url());
}
TEST(orm_rel_self_ring_post_update_mariadb) {
  self_ring(test_mariadb_url());
}
TEST(orm_rel_self_ring_post_update_sqlite) {
  self_ring(test_sqlite_url());
}

/* ------------------------------------------------------------------ use_alter DDL */

static void use_alter_ddl(const char *url, int alter) {
  mv_t *o = mv_open(url, 1);
  /* create_all made the tables, then added the use_alter key (not on SQLite: inline) */
  reset(&o->log);
  await_ok(uvsql_metadata_create_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  ASSERT_INT_EQ(o->log.alters, alter ? 1 : 0); /* again: idempotent */
  if (alter) {
    ASSERT_STR_CONTAINS(o->log.last_alter, "ALTER TABLE ");
    ASSERT_STR_CONTAINS(o->log.last_alter, o->tuser);
    ASSERT_STR_CONTAINS(o->log.last_alter, "FOREIGN KEY");
    ASSERT_STR_CONTAINS(o->log.last_alter, o->taddr);
  }
  /* the key is enforced */
  char sql[256];
  snprintf(sql, sizeof sql, "INSERT INTO %s (name, favorite_address_id) VALUES ('x', 424242)",
           o->tuser);
  uvsql_future_t *f = uvsql_engine_execute_sql(o->fx.engine, sql, NULL, 0, NULL, NULL);
  AWAIT_ERR(f, UVSQL_EINTEGRITY);
  uvsql_future_unref(f);
  /* rows that reference each other, through the ORM */
  uvsql_session_t *s = mv_session(o);
  user_t *u = new_user(o, "ann");
  address_t *a = named(o->addrs, "a@x");
  ASSERT_OK(uvsql_orm_append(u, "addresses", a), NOERR);
  ASSERT_OK(uvsql_orm_set_ref(u, "favorite", a), NOERR);
  ASSERT_OK(uvsql_session_add(s, u), NOERR);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));
  if (!alter) { /* SQLite empties a dropped table first, which the other key forbids */
    snprintf(sql, sizeof sql, "UPDATE %s SET favorite_address_id = NULL", o->tuser);
    exec_ok(&o->fx, sql);
  }
  /* drop_all: the key first, then the tables; again: nothing left, no error */
  reset(&o->log);
  await_ok(uvsql_metadata_drop_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  ASSERT_INT_EQ(o->log.alters, alter ? 1 : 0);
  if (alter)
    ASSERT_STR_CONTAINS(o->log.last_alter, "ALTER TABLE IF EXISTS ");
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", o->tuser);
  f = uvsql_engine_execute_sql(o->fx.engine, sql, NULL, 0, NULL, NULL);
  AWAIT_ERR(f, UVSQL_EPROGRAMMING);
  uvsql_future_unref(f);
  mv_close(o); /* drops everything a second time */
}

TEST(orm_rel_use_alter_create_drop_pg) {
  use_alter_ddl(test_pg_url(), 1);
}
TEST(orm_rel_use_alter_create_drop_mariadb) {
  use_alter_ddl(test_mariadb_url(), 1);
}
TEST(orm_rel_use_alter_create_drop_sqlite) {
  use_alter_ddl(test_sqlite_url(), 0);
}

/* A cycle between tables without a use_alter key: create_all says what to do, and creates
 * nothing. */
static void cycle_without_use_alter(const char *url) {
  fixture_t fx = fixture_open(url, NULL);
  uvsql_metadata_t *md = uvsql_metadata_new();
  char ta[64], tb[64], target[100];
  snprintf(ta, sizeof ta, "%s", test_unique_name("cyc_a"));
  snprintf(tb, sizeof tb, "%s", test_unique_name("cyc_b"));
  uvsql_table_t *a = uvsql_table(md, ta), *b = uvsql_table(md, tb);
  uvsql_column(a, "id", UVSQL_SQL_BIGINT, UVSQL_PRIMARY_KEY);
  uvsql_column(b, "id", UVSQL_SQL_BIGINT, UVSQL_PRIMARY_KEY);
  snprintf(target, sizeof target, "%s.id", tb);
  uvsql_column_references(uvsql_column(a, "b_id", UVSQL_SQL_BIGINT, 0), target, UVSQL_FK_NO_ACTION,
                          UVSQL_FK_NO_ACTION);
  snprintf(target, sizeof target, "%s.id", ta);
  uvsql_column_references(uvsql_column(b, "a_id", UVSQL_SQL_BIGINT, 0), target, UVSQL_FK_NO_ACTION,
                          UVSQL_FK_NO_ACTION);
  uvsql_future_t *f = uvsql_metadata_create_all(md, fx.engine, NULL, NULL);
  const uvsql_error_t *err = AWAIT_ERR(f, UVSQL_ENOT_SUPPORTED);
  ASSERT_STR_CONTAINS(err->message, "form a cycle");
  ASSERT_STR_CONTAINS(err->message, "uvsql_column_references_use_alter");
  uvsql_future_unref(f);
  /* with the key of b declared use_alter, the same schema is made and dropped */
  uvsql_metadata_free(md);
  md = uvsql_metadata_new();
  a = uvsql_table(md, ta);
  b = uvsql_table(md, tb);
  uvsql_column(a, "id", UVSQL_SQL_BIGINT, UVSQL_PRIMARY_KEY);
  uvsql_column(b, "id", UVSQL_SQL_BIGINT, UVSQL_PRIMARY_KEY);
  snprintf(target, sizeof target, "%s.id", tb);
  uvsql_column_references(uvsql_column(a, "b_id", UVSQL_SQL_BIGINT, 0), target, UVSQL_FK_NO_ACTION,
                          UVSQL_FK_NO_ACTION);
  snprintf(target, sizeof target, "%s.id", ta);
  ASSERT(uvsql_column_references_use_alter(uvsql_column(b, "a_id", UVSQL_SQL_BIGINT, 0), target,
                                           UVSQL_FK_SET_NULL, UVSQL_FK_NO_ACTION));
  uvsql_fk_info_t info;
  ASSERT_OK(uvsql_table_fk_at(b, 0, &info), NOERR);
  ASSERT_INT_EQ(info.use_alter, 1);
  ASSERT_INT_EQ(info.on_delete, UVSQL_FK_SET_NULL);
  await_ok(uvsql_metadata_create_all(md, fx.engine, NULL, NULL));
  await_ok(uvsql_metadata_drop_all(md, fx.engine, NULL, NULL));
  uvsql_metadata_free(md);
  fixture_close(&fx);
}

TEST(sql_create_all_cycle_needs_use_alter_pg) {
  cycle_without_use_alter(test_pg_url());
}
TEST(sql_create_all_cycle_needs_use_alter_mariadb) {
  cycle_without_use_alter(test_mariadb_url());
}
TEST(sql_create_all_cycle_needs_use_alter_sqlite) {
  cycle_without_use_alter(test_sqlite_url());
}
