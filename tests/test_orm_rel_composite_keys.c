/* tests/test_orm_rel_composite_keys.c — the relationship tests of test_orm_rel.c (eager loading:
 * selectin, joined, lazy, identity map, loader defaults, a self-referential tree) and
 * test_orm_rel_cascade.c (one-to-one, many-to-many through a secondary table, cascades
 * save-update / delete / delete-orphan / moves), run again over models keyed by a composite primary
 * key (tenant_id, id): every foreign key is two fields ("tenant_id,author_id") sharing the tenant
 * column with the row's own key; the secondary table's rows hold (tenant_id, student_id, course_id)
 * (orm_rel_fixture.h, ORM_REL_KEYS 2), on PostgreSQL, MariaDB and SQLite. */
#define ORM_REL_KEYS 2
#include "test_orm_rel.c"
#include "test_orm_rel_cascade.c"

TEST(orm_rel_composite_keys_eager_graphs_pg) {
  eager_graphs(test_pg_url());
}

TEST(orm_rel_composite_keys_eager_graphs_mariadb) {
  eager_graphs(test_mariadb_url());
}

TEST(orm_rel_composite_keys_eager_graphs_sqlite) {
  eager_graphs(test_sqlite_url());
}

TEST(orm_rel_composite_keys_lazy_and_identity_pg) {
  lazy_and_identity(test_pg_url());
}

TEST(orm_rel_composite_keys_lazy_and_identity_mariadb) {
  lazy_and_identity(test_mariadb_url());
}

TEST(orm_rel_composite_keys_lazy_and_identity_sqlite) {
  lazy_and_identity(test_sqlite_url());
}

TEST(orm_rel_composite_keys_loader_defaults_pg) {
  loader_defaults(test_pg_url());
}

TEST(orm_rel_composite_keys_loader_defaults_mariadb) {
  loader_defaults(test_mariadb_url());
}

TEST(orm_rel_composite_keys_loader_defaults_sqlite) {
  loader_defaults(test_sqlite_url());
}

TEST(orm_rel_composite_keys_tree_pg) {
  tree(test_pg_url());
}

TEST(orm_rel_composite_keys_tree_mariadb) {
  tree(test_mariadb_url());
}

TEST(orm_rel_composite_keys_tree_sqlite) {
  tree(test_sqlite_url());
}

TEST(orm_rel_composite_keys_one_to_one_pg) {
  one_to_one(test_pg_url());
}

TEST(orm_rel_composite_keys_one_to_one_mariadb) {
  one_to_one(test_mariadb_url());
}

TEST(orm_rel_composite_keys_one_to_one_sqlite) {
  one_to_one(test_sqlite_url());
}

TEST(orm_rel_composite_keys_many_to_many_pg) {
  many_to_many(test_pg_url());
}

TEST(orm_rel_composite_keys_many_to_many_mariadb) {
  many_to_many(test_mariadb_url());
}

TEST(orm_rel_composite_keys_many_to_many_sqlite) {
  many_to_many(test_sqlite_url());
}

TEST(orm_rel_composite_keys_cascades_pg) {
  cascades(test_pg_url());
}

TEST(orm_rel_composite_keys_cascades_mariadb) {
  cascades(test_mariadb_url());
}

TEST(orm_rel_composite_keys_cascades_sqlite) {
  cascades(test_sqlite_url());
}

TEST(orm_rel_composite_keys_moves_and_nulls_pg) {
  moves_and_nulls(test_pg_url());
}

TEST(orm_rel_composite_keys_moves_and_nulls_mariadb) {
  moves_and_nulls(test_mariadb_url());
}

TEST(orm_rel_composite_keys_moves_and_nulls_sqlite) {
  moves_and_nulls(test_sqlite_url());
}

TEST(orm_rel_composite_keys_passive_deletes_pg) {
  passive_deletes(test_pg_url());
}

TEST(orm_rel_composite_keys_passive_deletes_mariadb) {
  passive_deletes(test_mariadb_url());
}

TEST(orm_rel_composite_keys_passive_deletes_sqlite) {
  passive_deletes(test_sqlite_url());
}

/* A foreign key that does not fit the key it points at is refused when it is declared, with
 * a message naming the key's parts; so is a secondary table with too few columns. */
TEST(orm_rel_composite_keys_declaration_errors) {
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  uvsql_error_t err;
  uvsql_mapper_t *ma = uvsql_registry_map_table(reg, author_t_model(), "kauthor", &err);
  uvsql_mapper_t *mb = uvsql_registry_map_table(reg, book_t_model(), "kbook", &err);
  uvsql_mapper_t *ms = uvsql_registry_map_table(reg, student_t_model(), "kstudent", &err);
  uvsql_mapper_t *mc = uvsql_registry_map_table(reg, course_t_model(), "kcourse", &err);
  ASSERT(ma && mb && ms && mc);
  const char *bad[] = {"author_id", "tenant_id,", "tenant_id,author_id,id", NULL};
  for (int i = 0; i < 4; i++) {
    ASSERT(!uvsql_mapper_relationship(mb, "author", UVSQL_MANY_TO_ONE, ma, offsetof(book_t, author),
                                      bad[i], 0, &err));
    ASSERT_INT_EQ(err.code, UVSQL_EINVALID_ARGUMENT);
    char want[400];
    snprintf(want, sizeof want,
             "relationship book_t.author: the foreign key \"%s\" must name 2 fields of book_t, "
             "one per part of author_t's primary key (tenant_id INT64, id INT64), in that "
             "order, separated by commas",
             bad[i] ? bad[i] : "(null)");
    ASSERT_STR_EQ(err.message, want);
  }
  ASSERT(!uvsql_mapper_relationship(mb, "author", UVSQL_MANY_TO_ONE, ma, offsetof(book_t, author),
                                    "tenant_id, title", 0, &err));
  ASSERT_INT_EQ(err.code, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(err.message, "relationship book_t.author: title is not a field of book_t of kind "
                             "INT64 (it holds author_t.id; author_t's primary key is tenant_id "
                             "INT64, id INT64)");
  ASSERT(!uvsql_mapper_relationship(ma, "books", UVSQL_ONE_TO_MANY, mb, offsetof(author_t, books),
                                    "tenant_id,nope", 0, &err));
  ASSERT_STR_EQ(err.message, "relationship author_t.books: nope is not a field of book_t of kind "
                             "INT64 (it holds author_t.id; author_t's primary key is tenant_id "
                             "INT64, id INT64)");
  /* the same relationship, declared right (spaces after the commas are fine) */
  uvsql_relationship_t *r =
      uvsql_mapper_relationship(mb, "author", UVSQL_MANY_TO_ONE, ma, offsetof(book_t, author),
                                "tenant_id, author_id", 0, &err);
  ASSERT(r);
  /* many-to-many: one secondary column per part of each key */
  uvsql_table_t *sec = uvsql_table(uvsql_registry_metadata(reg), "kenroll");
  uvsql_column(sec, "tenant_id", UVSQL_SQL_BIGINT, UVSQL_NOT_NULL);
  uvsql_column(sec, "student_id", UVSQL_SQL_BIGINT, UVSQL_NOT_NULL);
  uvsql_column(sec, "course_id", UVSQL_SQL_BIGINT, UVSQL_NOT_NULL);
  uvsql_relationship_t *sc = uvsql_mapper_relationship(ms, "courses", UVSQL_MANY_TO_MANY, mc,
                                                       offsetof(student_t, courses), NULL, 0, &err);
  ASSERT(sc);
  ASSERT(!uvsql_relationship_secondary(sc, sec, "student_id", "tenant_id,course_id"));
  ASSERT(!uvsql_relationship_secondary(sc, sec, "tenant_id,student_id", "tenant_id,nope"));
  ASSERT(uvsql_relationship_secondary(sc, sec, "tenant_id,student_id", "tenant_id,course_id"));
  uvsql_registry_free(reg);
}
