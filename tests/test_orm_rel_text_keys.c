/* tests/test_orm_rel_text_keys.c — the relationship tests of test_orm_rel.c (eager loading:
 * selectin, joined, lazy, identity map, loader defaults, a self-referential tree) and
 * test_orm_rel_cascade.c (one-to-one, many-to-many through a secondary table, cascades
 * save-update / delete / delete-orphan / moves), run again over models keyed by a TEXT primary key
 * (id VARCHAR(24), foreign keys VARCHAR(24)) (orm_rel_fixture.h, ORM_REL_KEYS 1), on PostgreSQL,
 * MariaDB and SQLite. */
#define ORM_REL_KEYS 1
#include "test_orm_rel.c"
#include "test_orm_rel_cascade.c"

TEST(orm_rel_text_keys_eager_graphs_pg) {
  eager_graphs(test_pg_url());
}

TEST(orm_rel_text_keys_eager_graphs_mariadb) {
  eager_graphs(test_mariadb_url());
}

TEST(orm_rel_text_keys_eager_graphs_sqlite) {
  eager_graphs(test_sqlite_url());
}

TEST(orm_rel_text_keys_lazy_and_identity_pg) {
  lazy_and_identity(test_pg_url());
}

TEST(orm_rel_text_keys_lazy_and_identity_mariadb) {
  lazy_and_identity(test_mariadb_url());
}

TEST(orm_rel_text_keys_lazy_and_identity_sqlite) {
  lazy_and_identity(test_sqlite_url());
}

TEST(orm_rel_text_keys_loader_defaults_pg) {
  loader_defaults(test_pg_url());
}

TEST(orm_rel_text_keys_loader_defaults_mariadb) {
  loader_defaults(test_mariadb_url());
}

TEST(orm_rel_text_keys_loader_defaults_sqlite) {
  loader_defaults(test_sqlite_url());
}

TEST(orm_rel_text_keys_tree_pg) {
  tree(test_pg_url());
}

TEST(orm_rel_text_keys_tree_mariadb) {
  tree(test_mariadb_url());
}

TEST(orm_rel_text_keys_tree_sqlite) {
  tree(test_sqlite_url());
}

TEST(orm_rel_text_keys_one_to_one_pg) {
  one_to_one(test_pg_url());
}

TEST(orm_rel_text_keys_one_to_one_mariadb) {
  one_to_one(test_mariadb_url());
}

TEST(orm_rel_text_keys_one_to_one_sqlite) {
  one_to_one(test_sqlite_url());
}

TEST(orm_rel_text_keys_many_to_many_pg) {
  many_to_many(test_pg_url());
}

TEST(orm_rel_text_keys_many_to_many_mariadb) {
  many_to_many(test_mariadb_url());
}

TEST(orm_rel_text_keys_many_to_many_sqlite) {
  many_to_many(test_sqlite_url());
}

TEST(orm_rel_text_keys_cascades_pg) {
  cascades(test_pg_url());
}

TEST(orm_rel_text_keys_cascades_mariadb) {
  cascades(test_mariadb_url());
}

TEST(orm_rel_text_keys_cascades_sqlite) {
  cascades(test_sqlite_url());
}

TEST(orm_rel_text_keys_moves_and_nulls_pg) {
  moves_and_nulls(test_pg_url());
}

TEST(orm_rel_text_keys_moves_and_nulls_mariadb) {
  moves_and_nulls(test_mariadb_url());
}

TEST(orm_rel_text_keys_moves_and_nulls_sqlite) {
  moves_and_nulls(test_sqlite_url());
}

TEST(orm_rel_text_keys_passive_deletes_pg) {
  passive_deletes(test_pg_url());
}

TEST(orm_rel_text_keys_passive_deletes_mariadb) {
  passive_deletes(test_mariadb_url());
}

TEST(orm_rel_text_keys_passive_deletes_sqlite) {
  passive_deletes(test_sqlite_url());
}
