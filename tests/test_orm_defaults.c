/* tests/test_orm_defaults.c — SQLAlchemy's defaults in the ORM, on PostgreSQL, MariaDB and
 * SQLite: an unset field takes its client default (constant or function), is left out of the
 * INSERT for a server default (whose value comes back into the struct by RETURNING: eager
 * defaults) or a foreign key (NULL: a tree root, by uvsql_mapper_references or by a
 * relationship), and is sent as it is otherwise; explicit NULL and explicit zero win over
 * defaults; a DEFAULT the mapping did not create, declared with uvsql_mapper_fetched; a row
 * of server defaults only is a DEFAULT VALUES insert; onupdate values; a
 * rollback makes filled fields unset again; 10,000 objects of two shapes take two runs of
 * multi-row INSERTs. Also: a column loaded into a field of another kind fails with
 * UVSQL_EDATA naming the column, the field, the server type and the kind (never ENOMEM), and
 * lossless loads keep working. Each behaviour is one function taking a URL; each backend one
 * TEST. */
#include <time.h>
#include "orm_fixture.h"

#define ITEM_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(40), UVSQL_NOT_NULL)                                                              \
  X(status, STRING(20), 0) /* server default 'active' */                                           \
  X(qty, INT64, 0)         /* client default 10 */                                                 \
  X(created, TIMESTAMP, 0) /* server default CURRENT_TIMESTAMP */                                  \
  X(code, TEXT, 0)         /* default function: "code-<name>" */                                   \
  X(note, TEXT, 0)         /* onupdate "edited" */                                                 \
  X(touched, INT64, 0)     /* onupdate function: a counter */                                      \
  X(plain, INT64, 0)       /* no default at all */
UVSQL_MODEL(item_t, "item", ITEM_FIELDS)

#define NODE_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(parent_id, INT64, 0)                                                                           \
  X(label, STRING(30), 0)
UVSQL_MODEL(node_t, "node", NODE_FIELDS)

/* a tree through a relationship only (no Core foreign key) */
#define TNODE_FIELDS(X)                                                                            \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(parent_id, INT64, 0)                                                                           \
  X(label, STRING(30), 0)
#define TNODE_RELS(X) X(parent, ONE(tnode_t))
UVSQL_MODEL_REL(tnode_t, "tnode", TNODE_FIELDS, TNODE_RELS)

#define STAMP_FIELDS(X)                                                                            \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(kind, STRING(20), 0)   /* server default 'plain' */                                            \
  X(created, TIMESTAMP, 0) /* server default CURRENT_TIMESTAMP */
UVSQL_MODEL(stamp_t, "stamp", STAMP_FIELDS)

typedef struct {
  fixture_t fx;
  sqllog_t log;
  uvsql_registry_t *reg;
  uvsql_mapper_t *items, *nodes, *stamps;
  char ti[64], tn[64], ts[64];
  int64_t touches; /* the onupdate function's counter */
  int fail_code;   /* the default function fails with this when not 0 */
} dfx_t;

static int code_default(void *obj, void *field, void *data) {
  item_t *it = obj;
  dfx_t *d = data;
  char buf[64];
  if (d->fail_code)
    return d->fail_code;
  snprintf(buf, sizeof buf, "code-%s", it->name ? it->name : "?");
  return uvsql_orm_set_text(obj, field, buf);
}

static int touch(void *obj, void *field, void *data) {
  dfx_t *d = data;
  return uvsql_orm_set_int64(obj, field, ++d->touches);
}

static const char *now_sql(const char *url) {
  return strncmp(url, "mariadb", 7) == 0 ? "CURRENT_TIMESTAMP(6)" : "CURRENT_TIMESTAMP";
}

static dfx_t *dfx_open(const char *url) {
  dfx_t *d = calloc(1, sizeof *d);
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  uvsql_error_t err;
  char fk[100];
  opt.echo = 1;
  opt.log_cb = log_line;
  opt.log_data = &d->log;
  d->fx = fixture_open(url, &opt);
  snprintf(d->ti, sizeof d->ti, "%s", test_unique_name("item"));
  snprintf(d->tn, sizeof d->tn, "%s", test_unique_name("node"));
  snprintf(d->ts, sizeof d->ts, "%s", test_unique_name("stamp"));
  d->reg = uvsql_registry_new(NULL);
  d->items = uvsql_registry_map_table(d->reg, item_t_model(), d->ti, &err);
  ASSERT(d->items);
  d->nodes = uvsql_registry_map_table(d->reg, node_t_model(), d->tn, &err);
  ASSERT(d->nodes);
  d->stamps = uvsql_registry_map_table(d->reg, stamp_t_model(), d->ts, &err);
  ASSERT(d->stamps);
  ASSERT(uvsql_mapper_server_default(d->stamps, "kind", "'plain'", &err));
  ASSERT(uvsql_mapper_server_default(d->stamps, "created", now_sql(url), &err));
  ASSERT(uvsql_mapper_server_default(d->items, "status", "'active'", &err));
  ASSERT(uvsql_mapper_default(d->items, "qty", UVSQL_V_INT64(10), &err));
  ASSERT(uvsql_mapper_server_default(d->items, "created", now_sql(url), &err));
  ASSERT(uvsql_mapper_default_fn(d->items, "code", code_default, d, &err));
  ASSERT(uvsql_mapper_onupdate(d->items, "note", UVSQL_V_TEXT("edited"), &err));
  ASSERT(uvsql_mapper_onupdate_fn(d->items, "touched", touch, d, &err));
  snprintf(fk, sizeof fk, "%s.id", d->tn);
  ASSERT(uvsql_mapper_references(d->nodes, "parent_id", fk, UVSQL_FK_CASCADE));
  await_ok(uvsql_metadata_create_all(uvsql_registry_metadata(d->reg), d->fx.engine, NULL, NULL));
  log_clear(&d->log);
  return d;
}

static void dfx_close(dfx_t *d) {
  await_ok(uvsql_metadata_drop_all(uvsql_registry_metadata(d->reg), d->fx.engine, NULL, NULL));
  uvsql_registry_free(d->reg);
  log_clear(&d->log);
  fixture_close(&d->fx);
  free(d);
}

static uvsql_session_t *dsession(dfx_t *d) {
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, d->fx.engine, d->reg, NULL), (uvsql_error_t *)NULL);
  return s;
}

static item_t *new_item(dfx_t *d, const char *name) {
  item_t *it = uvsql_orm_new(d->items);
  ASSERT_OK(uvsql_orm_set_text(it, &it->name, name), (uvsql_error_t *)NULL);
  return it;
}

/* The row of item `id` as the database has it: status, qty, created, code, plain. */
typedef struct {
  int status_null;
  char status[32];
  int64_t qty, created, plain;
  char code[64];
} item_row_t;

static item_row_t item_row(dfx_t *d, int64_t id) {
  char sql[256];
  item_row_t row;
  memset(&row, 0, sizeof row);
  snprintf(sql, sizeof sql, "SELECT status, qty, created, code, plain FROM %s WHERE id = %lld",
           d->ti, (long long)id);
  uvsql_result_t *r = query(&d->fx, sql, NULL, 0);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 1);
  const char *t;
  row.status_null = uvsql_result_is_null(r, 0, 0);
  if (!row.status_null) {
    ASSERT_OK(uvsql_result_text(r, 0, 0, &t, NULL), (uvsql_error_t *)NULL);
    snprintf(row.status, sizeof row.status, "%s", t);
  }
  ASSERT_OK(uvsql_result_int64(r, 0, 1, &row.qty), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_result_timestamp(r, 0, 2, &row.created), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_result_text(r, 0, 3, &t, NULL), (uvsql_error_t *)NULL);
  snprintf(row.code, sizeof row.code, "%s", t);
  ASSERT_OK(uvsql_result_int64(r, 0, 4, &row.plain), (uvsql_error_t *)NULL);
  uvsql_result_free(r);
  return row;
}

/* ------------------------------------------------------------------ INSERT defaults */

static void insert_defaults(const char *url) {
  dfx_t *d = dfx_open(url);
  uvsql_session_t *s = dsession(d);
  item_t *a = new_item(d, "a");
  ASSERT_INT_EQ(uvsql_orm_is_set(a, &a->qty), 0);
  ASSERT_INT_EQ(uvsql_orm_is_set(a, &a->name), 1);
  ASSERT_OK(uvsql_session_add(s, a), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  /* the INSERT leaves out the server-defaulted columns and fetches them back (eager
   * defaults); the client defaults are sent */
  const char *ins = log_find(&d->log, "INSERT");
  ASSERT(ins);
  ASSERT_STR_CONTAINS(ins, " (name, qty, code, note, touched, plain) VALUES (");
  ASSERT_STR_CONTAINS(ins, ") RETURNING id, status, created");
  /* in the struct after the flush */
  ASSERT(a->id > 0);
  ASSERT_STR_EQ(a->status, "active");
  ASSERT_INT_EQ(a->qty, 10);
  ASSERT_STR_EQ(a->code, "code-a");
  ASSERT_INT_EQ(a->plain, 0);
  ASSERT(a->note == NULL && uvsql_orm_is_null(a, &a->note));
  int64_t now = (int64_t)time(NULL) * 1000000;
  if (a->created < now - INT64_C(86400000000) || a->created > now + INT64_C(86400000000))
    FAILF("created is %lld, not about now (%lld)", (long long)a->created, (long long)now);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  /* and in the row */
  item_row_t row = item_row(d, a->id);
  ASSERT_INT_EQ(row.status_null, 0);
  ASSERT_STR_EQ(row.status, "active");
  ASSERT_INT_EQ(row.qty, 10);
  ASSERT_INT_EQ(row.created, a->created);
  ASSERT_STR_EQ(row.code, "code-a");
  ASSERT_INT_EQ(row.plain, 0);
  await_ok(uvsql_session_close(s, NULL, NULL));
  dfx_close(d);
}

TEST(orm_default_insert_pg) {
  insert_defaults(test_pg_url());
}
TEST(orm_default_insert_mariadb) {
  insert_defaults(test_mariadb_url());
}
TEST(orm_default_insert_sqlite) {
  insert_defaults(test_sqlite_url());
}

/* Explicit NULL beats a server default; explicit zero (setter or mark) beats a client
 * default; a value assigned directly is sent; a value set for a default function wins. */
static void explicit_values(const char *url) {
  dfx_t *d = dfx_open(url);
  uvsql_session_t *s = dsession(d);
  item_t *b = new_item(d, "b"), *c = new_item(d, "c"), *e = new_item(d, "e");
  ASSERT_OK(uvsql_orm_set_null(b, &b->status, 1), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_set_int64(b, &b->qty, 0), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(uvsql_orm_is_set(b, &b->qty), 1);
  c->qty = 0;
  ASSERT_OK(uvsql_orm_mark_set(c, &c->qty), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_set_text(c, &c->status, "closed"), (uvsql_error_t *)NULL);
  e->qty = 5;
  e->plain = 7;
  ASSERT_OK(uvsql_orm_set_text(e, &e->code, "mine"), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_session_add(s, b), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_session_add(s, c), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_session_add(s, e), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  item_row_t rb = item_row(d, b->id), rc = item_row(d, c->id), re = item_row(d, e->id);
  ASSERT_INT_EQ(rb.status_null, 1);
  ASSERT(uvsql_orm_is_null(b, &b->status));
  ASSERT_INT_EQ(rb.qty, 0);
  ASSERT_INT_EQ(b->qty, 0);
  ASSERT_INT_EQ(rc.qty, 0);
  ASSERT_STR_EQ(rc.status, "closed");
  ASSERT_STR_EQ(c->status, "closed");
  ASSERT_INT_EQ(re.qty, 5);
  ASSERT_INT_EQ(re.plain, 7);
  ASSERT_STR_EQ(re.code, "mine");
  ASSERT_STR_EQ(re.status, "active"); /* unset: the server's */
  ASSERT_STR_EQ(e->status, "active");
  await_ok(uvsql_session_close(s, NULL, NULL));
  dfx_close(d);
}

/* Every column generated or defaulted by the server: one DEFAULT VALUES row per INSERT. */
static void all_server_defaults(const char *url) {
  dfx_t *d = dfx_open(url);
  uvsql_session_t *s = dsession(d);
  stamp_t *st[3];
  for (int i = 0; i < 3; i++) {
    st[i] = uvsql_orm_new(d->stamps);
    ASSERT_OK(uvsql_session_add(s, st[i]), (uvsql_error_t *)NULL);
  }
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(log_count(&d->log, "INSERT"), 3);
  const char *ins = log_find(&d->log, "INSERT");
  ASSERT_STR_CONTAINS(ins, strncmp(url, "mariadb", 7) == 0
                               ? " () VALUES () RETURNING id, kind, created"
                               : " DEFAULT VALUES RETURNING id, kind, created");
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT id, kind, created FROM %s ORDER BY id", d->ts);
  uvsql_result_t *r = query(&d->fx, sql, NULL, 0);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 3);
  for (size_t i = 0; i < 3; i++) {
    int64_t id, created;
    const char *kind;
    ASSERT_OK(uvsql_result_int64(r, i, 0, &id), (uvsql_error_t *)NULL);
    ASSERT_OK(uvsql_result_text(r, i, 1, &kind, NULL), (uvsql_error_t *)NULL);
    ASSERT_OK(uvsql_result_timestamp(r, i, 2, &created), (uvsql_error_t *)NULL);
    ASSERT_INT_EQ(st[i]->id, id);
    ASSERT_STR_EQ(st[i]->kind, "plain");
    ASSERT_STR_EQ(kind, "plain");
    ASSERT_INT_EQ(st[i]->created, created);
    ASSERT(created > 0);
  }
  uvsql_result_free(r);
  await_ok(uvsql_session_close(s, NULL, NULL));
  dfx_close(d);
}

TEST(orm_default_all_server_pg) {
  all_server_defaults(test_pg_url());
}
TEST(orm_default_all_server_mariadb) {
  all_server_defaults(test_mariadb_url());
}
TEST(orm_default_all_server_sqlite) {
  all_server_defaults(test_sqlite_url());
}

TEST(orm_default_explicit_pg) {
  explicit_values(test_pg_url());
}
TEST(orm_default_explicit_mariadb) {
  explicit_values(test_mariadb_url());
}
TEST(orm_default_explicit_sqlite) {
  explicit_values(test_sqlite_url());
}

/* ------------------------------------------------------------------ foreign keys */

static void tree_without_parent(const char *url) {
  dfx_t *d = dfx_open(url);
  uvsql_session_t *s = dsession(d);
  node_t *root = uvsql_orm_new(d->nodes), *kid = uvsql_orm_new(d->nodes);
  ASSERT_OK(uvsql_orm_set_text(root, &root->label, "root"), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_set_text(kid, &kid->label, "kid"), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_link(kid, &kid->parent_id, root), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_session_add(s, root), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_session_add(s, kid), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT(uvsql_orm_is_null(root, &root->parent_id));
  ASSERT_INT_EQ(kid->parent_id, root->id);
  char where[64];
  snprintf(where, sizeof where, "id = %lld AND parent_id IS NULL", (long long)root->id);
  ASSERT_INT_EQ(count_rows(&d->fx, d->tn, where), 1);
  snprintf(where, sizeof where, "id = %lld AND parent_id = %lld", (long long)kid->id,
           (long long)root->id);
  ASSERT_INT_EQ(count_rows(&d->fx, d->tn, where), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));
  dfx_close(d);
}

static void rel_tree_without_parent(const char *url) {
  dfx_t *d = dfx_open(url);
  uvsql_error_t err;
  char tt[64];
  snprintf(tt, sizeof tt, "%s", test_unique_name("tnode"));
  uvsql_mapper_t *tm = uvsql_registry_map_table(d->reg, tnode_t_model(), tt, &err);
  ASSERT(tm);
  ASSERT(uvsql_mapper_relationship(tm, "parent", UVSQL_MANY_TO_ONE, tm, offsetof(tnode_t, parent),
                                   "parent_id", 0, &err));
  uvsql_core_stmt_t *ddl = uvsql_create_table(uvsql_mapper_table(tm));
  uvsql_future_t *f = uvsql_engine_execute_core(d->fx.engine, ddl, NULL, 0, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  uvsql_core_stmt_free(ddl);
  uvsql_session_t *s = dsession(d);
  tnode_t *root = uvsql_orm_new(tm), *kid = uvsql_orm_new(tm);
  ASSERT_OK(uvsql_orm_set_text(root, &root->label, "root"), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_set_text(kid, &kid->label, "kid"), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_set_ref(kid, "parent", root), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_session_add(s, kid), (uvsql_error_t *)NULL); /* root by save-update */
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT(uvsql_orm_is_null(root, &root->parent_id));
  ASSERT_INT_EQ(kid->parent_id, root->id);
  char where[64];
  snprintf(where, sizeof where, "id = %lld AND parent_id IS NULL", (long long)root->id);
  ASSERT_INT_EQ(count_rows(&d->fx, tt, where), 1);
  snprintf(where, sizeof where, "parent_id = %lld", (long long)root->id);
  ASSERT_INT_EQ(count_rows(&d->fx, tt, where), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));
  dfx_close(d); /* drop_all drops tnode too: it is in the registry's metadata */
}

TEST(orm_default_rel_tree_root_pg) {
  rel_tree_without_parent(test_pg_url());
}
TEST(orm_default_rel_tree_root_mariadb) {
  rel_tree_without_parent(test_mariadb_url());
}
TEST(orm_default_rel_tree_root_sqlite) {
  rel_tree_without_parent(test_sqlite_url());
}

TEST(orm_default_tree_root_pg) {
  tree_without_parent(test_pg_url());
}
TEST(orm_default_tree_root_mariadb) {
  tree_without_parent(test_mariadb_url());
}
TEST(orm_default_tree_root_sqlite) {
  tree_without_parent(test_sqlite_url());
}

/* ------------------------------------------------------------------ onupdate */

static void onupdate(const char *url) {
  dfx_t *d = dfx_open(url);
  uvsql_session_t *s = dsession(d);
  item_t *a = new_item(d, "a");
  ASSERT_OK(uvsql_session_add(s, a), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT(a->note == NULL);
  ASSERT_INT_EQ(d->touches, 0); /* onupdate is not an INSERT default */
  /* nothing changed: no UPDATE, no onupdate */
  log_clear(&d->log);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  ASSERT_INT_EQ(log_count(&d->log, "UPDATE"), 0);
  /* a change: the onupdate fields the program left alone take their values */
  ASSERT_OK(uvsql_orm_set_text(a, &a->name, "a2"), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_STR_EQ(a->note, "edited");
  ASSERT_INT_EQ(a->touched, 1);
  char where[128];
  snprintf(where, sizeof where, "id = %lld AND note = 'edited' AND touched = 1 AND name = 'a2'",
           (long long)a->id);
  ASSERT_INT_EQ(count_rows(&d->fx, d->ti, where), 1);
  /* the program's own value wins: a changed field, and a field given by a setter even when
   * it holds the value it had */
  ASSERT_OK(uvsql_orm_set_text(a, &a->name, "a3"), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_set_text(a, &a->note, "by hand"), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_set_int64(a, &a->touched, 1), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(d->touches, 1);
  snprintf(where, sizeof where, "id = %lld AND note = 'by hand' AND touched = 1 AND name = 'a3'",
           (long long)a->id);
  ASSERT_INT_EQ(count_rows(&d->fx, d->ti, where), 1);
  /* and the next change gets the onupdate values again */
  ASSERT_OK(uvsql_orm_set_text(a, &a->name, "a4"), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  snprintf(where, sizeof where, "id = %lld AND note = 'edited' AND touched = 2", (long long)a->id);
  ASSERT_INT_EQ(count_rows(&d->fx, d->ti, where), 1);
  /* a change rolled back takes its setter mark with it */
  ASSERT_INT_EQ(a->touched, 2);
  ASSERT_OK(uvsql_orm_set_int64(a, &a->touched, 2), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  ASSERT_OK(uvsql_orm_set_text(a, &a->name, "a5"), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(a->touched, 3);
  snprintf(where, sizeof where, "id = %lld AND touched = 3 AND name = 'a5'", (long long)a->id);
  ASSERT_INT_EQ(count_rows(&d->fx, d->ti, where), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));
  dfx_close(d);
}

TEST(orm_default_onupdate_pg) {
  onupdate(test_pg_url());
}
TEST(orm_default_onupdate_mariadb) {
  onupdate(test_mariadb_url());
}
TEST(orm_default_onupdate_sqlite) {
  onupdate(test_sqlite_url());
}

/* ------------------------------------------------------------------ rollback, failures */

static void rollback_unfills(const char *url) {
  dfx_t *d = dfx_open(url);
  uvsql_session_t *s = dsession(d);
  item_t *a = new_item(d, "a");
  ASSERT_OK(uvsql_orm_set_int64(a, &a->plain, 0), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_session_add(s, a), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  ASSERT_STR_EQ(a->status, "active");
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  ASSERT_INT_EQ(uvsql_orm_state(a), UVSQL_OBJ_TRANSIENT);
  /* what the flush filled in is unset again; what the program gave stays */
  ASSERT_INT_EQ(a->id, 0);
  ASSERT(a->status == NULL && a->code == NULL);
  ASSERT_INT_EQ(a->qty, 0);
  ASSERT_INT_EQ(a->created, 0);
  ASSERT_INT_EQ(uvsql_orm_is_set(a, &a->qty), 0);
  ASSERT_INT_EQ(uvsql_orm_is_set(a, &a->status), 0);
  ASSERT_INT_EQ(uvsql_orm_is_set(a, &a->plain), 1);
  ASSERT_STR_EQ(a->name, "a");
  /* a default function that fails fails the flush, naming the field */
  d->fail_code = UVSQL_EDATA;
  ASSERT_OK(uvsql_session_add(s, a), (uvsql_error_t *)NULL);
  uvsql_future_t *f = uvsql_session_flush(s, NULL, NULL);
  const uvsql_error_t *err = AWAIT_ERR(f, UVSQL_EDATA);
  ASSERT_STR_CONTAINS(err->message, "the default function of item_t.code failed (UVSQL_EDATA)");
  uvsql_future_unref(f);
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  ASSERT(a->status == NULL);
  ASSERT_INT_EQ(a->qty, 0);
  /* added again, it flushes as it was first added */
  d->fail_code = 0;
  ASSERT_OK(uvsql_session_add(s, a), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  item_row_t row = item_row(d, a->id);
  ASSERT_STR_EQ(row.status, "active");
  ASSERT_INT_EQ(row.qty, 10);
  ASSERT_STR_EQ(row.code, "code-a");
  ASSERT_INT_EQ(count_rows(&d->fx, d->ti, NULL), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));
  dfx_close(d);
}

TEST(orm_default_rollback_pg) {
  rollback_unfills(test_pg_url());
}
TEST(orm_default_rollback_mariadb) {
  rollback_unfills(test_mariadb_url());
}
TEST(orm_default_rollback_sqlite) {
  rollback_unfills(test_sqlite_url());
}

/* Declarations that cannot work say why, at once. */
TEST(orm_default_bad_declarations) {
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  uvsql_error_t err;
  uvsql_mapper_t *m = uvsql_registry_map(reg, item_t_model(), &err);
  ASSERT(m);
  ASSERT(!uvsql_mapper_default(m, "qty", UVSQL_V_TEXT("ten"), &err));
  ASSERT_INT_EQ(err.code, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(
      err.message,
      "uvsql_mapper_default: a text value does not fit item_t.qty, a field of kind INT64");
  ASSERT(!uvsql_mapper_onupdate(m, "name", UVSQL_V_INT64(1), &err));
  ASSERT_STR_EQ(err.message, "uvsql_mapper_onupdate: a int64 value does not fit item_t.name, a "
                             "field of kind STRING(40)");
  ASSERT(!uvsql_mapper_default(m, "nope", UVSQL_V_INT64(1), &err));
  ASSERT_STR_EQ(err.message, "uvsql_mapper_default: item_t has no field \"nope\"");
  ASSERT(!uvsql_mapper_server_default(m, "status", "", &err));
  ASSERT_STR_EQ(err.message,
                "uvsql_mapper_server_default: item_t.status: the DEFAULT's SQL is empty");
  ASSERT(!uvsql_mapper_default_fn(m, "code", NULL, NULL, &err));
  ASSERT_STR_EQ(err.message, "uvsql_mapper_default_fn: item_t.code: fn is NULL");
  /* a default on the Core column is the ORM's too */
  ASSERT(uvsql_mapper_column(m, "qty") == uvsql_table_column(uvsql_mapper_table(m), "qty"));
  ASSERT(uvsql_mapper_column(m, "nope") == NULL);
  item_t *it = uvsql_orm_new(m);
  ASSERT_ERR(uvsql_orm_set_int64(it, (int64_t *)(void *)&it->name, 1), UVSQL_EINVALID_ARGUMENT);
  ASSERT_ERR(uvsql_orm_set_double(it, (double *)(void *)&it->qty, 1), UVSQL_EINVALID_ARGUMENT);
  ASSERT_OK(uvsql_orm_set_int64(it, &it->created, 5), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_unset(it, &it->created), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(it->created, 0);
  ASSERT_INT_EQ(uvsql_orm_is_set(it, &it->created), 0);
  uvsql_orm_free(it);
  uvsql_registry_free(reg);
}

/* ------------------------------------------------------------------ batching */

#define NMANY 10000

static void many_two_shapes(const char *url) {
  dfx_t *d = dfx_open(url);
  uvsql_session_t *s = dsession(d);
  item_t **its = malloc(NMANY * sizeof *its);
  char name[32], sql[160];
  for (int i = 0; i < NMANY; i++) {
    snprintf(name, sizeof name, "i%d", i);
    its[i] = new_item(d, name);
    if (i % 2) /* the other half leaves status to the server */
      ASSERT_OK(uvsql_orm_set_text(its[i], &its[i]->status, "odd"), (uvsql_error_t *)NULL);
    if (i % 4 == 1) /* and qty sometimes given, sometimes defaulted: still one shape */
      its[i]->qty = 3;
    ASSERT_OK(uvsql_session_add(s, its[i]), (uvsql_error_t *)NULL);
  }
  log_clear(&d->log);
  uint64_t before = uvsql_session_statement_count(s);
  await_ok(uvsql_session_flush(s, NULL, NULL));
  /* two shapes, 1,000 rows per INSERT: 2 x 5 INSERTs (at most 2 x ceil(10,000 / 1,000)) */
  ASSERT_INT_EQ(log_count(&d->log, "INSERT"), 10);
  ASSERT_INT_EQ(uvsql_session_statement_count(s) - before, 10 + 1); /* + BEGIN */
  await_ok(uvsql_session_commit(s, NULL, NULL));
  snprintf(sql, sizeof sql, "SELECT id, name, status, qty FROM %s", d->ti);
  uvsql_result_t *r = query(&d->fx, sql, NULL, 0);
  ASSERT_INT_EQ(uvsql_result_nrows(r), NMANY);
  for (size_t row = 0; row < NMANY; row++) {
    int64_t id, qty;
    const char *n, *st;
    ASSERT_OK(uvsql_result_int64(r, row, 0, &id), (uvsql_error_t *)NULL);
    ASSERT_OK(uvsql_result_text(r, row, 1, &n, NULL), (uvsql_error_t *)NULL);
    ASSERT_OK(uvsql_result_text(r, row, 2, &st, NULL), (uvsql_error_t *)NULL);
    ASSERT_OK(uvsql_result_int64(r, row, 3, &qty), (uvsql_error_t *)NULL);
    int i = atoi(n + 1);
    item_t *it = its[i];
    if (it->id != id || strcmp(it->status, st) != 0 || it->qty != qty)
      FAILF("row %s (id %lld, %s, qty %lld) vs its struct (id %lld, %s, qty %lld)", n,
            (long long)id, st, (long long)qty, (long long)it->id, it->status, (long long)it->qty);
    if (strcmp(st, i % 2 ? "odd" : "active") != 0 || qty != (i % 4 == 1 ? 3 : 10))
      FAILF("row %s has status %s and qty %lld", n, st, (long long)qty);
  }
  uvsql_result_free(r);
  free(its);
  await_ok(uvsql_session_close(s, NULL, NULL));
  dfx_close(d);
}

TEST(orm_default_many_pg) {
  many_two_shapes(test_pg_url());
}
TEST(orm_default_many_mariadb) {
  many_two_shapes(test_mariadb_url());
}
TEST(orm_default_many_sqlite) {
  many_two_shapes(test_sqlite_url());
}

/* ------------------------------------------------------------------ fetched values */

#define TAGGED_FIELDS(X)                                                                           \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(20), 0)                                                                           \
  X(tag, STRING(20), 0)
UVSQL_MODEL(tagged_t, "tagged", TAGGED_FIELDS)

/* One tagged_t named name through a new registry onto table (tag fetched or not); the tag
 * the struct has after the commit is copied to out ("" for NULL). */
static void add_tagged(fixture_t *fx, const char *table, int fetched, const char *name, char *out,
                       size_t len) {
  uvsql_error_t err;
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  uvsql_mapper_t *m = uvsql_registry_map_table(reg, tagged_t_model(), table, &err);
  ASSERT(m);
  if (fetched)
    ASSERT(uvsql_mapper_fetched(m, "tag", &err));
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, fx->engine, reg, NULL), (uvsql_error_t *)NULL);
  tagged_t *t = uvsql_orm_new(m);
  ASSERT_OK(uvsql_orm_set_text(t, &t->name, name), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_session_add(s, t), (uvsql_error_t *)NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  snprintf(out, len, "%s", t->tag ? t->tag : "");
  await_ok(uvsql_session_close(s, NULL, NULL));
  uvsql_registry_free(reg);
}

/* A DEFAULT the mapping did not create (a table made elsewhere): uvsql_mapper_fetched. */
static void fetched_value(const char *url) {
  fixture_t fx = fixture_open(url, NULL);
  char table[64], sql[1024], tag[32];
  const char *key = strncmp(url, "postgres", 8) == 0  ? "BIGSERIAL PRIMARY KEY"
                    : strncmp(url, "mariadb", 7) == 0 ? "BIGINT AUTO_INCREMENT PRIMARY KEY"
                                                      : "INTEGER PRIMARY KEY";
  snprintf(table, sizeof table, "%s", test_unique_name("tagged"));
  snprintf(sql, sizeof sql,
           "CREATE TABLE %s (id %s, name VARCHAR(20), tag VARCHAR(20) DEFAULT 'from-db')", table,
           key);
  exec_ok(&fx, sql);
  add_tagged(&fx, table, 1, "fetched", tag, sizeof tag);
  ASSERT_STR_EQ(tag, "from-db");
  add_tagged(&fx, table, 0, "unknown", tag, sizeof tag); /* not declared: sent as NULL */
  ASSERT_STR_EQ(tag, "");
  ASSERT_INT_EQ(count_rows(&fx, table, "name = 'fetched' AND tag = 'from-db'"), 1);
  ASSERT_INT_EQ(count_rows(&fx, table, "name = 'unknown' AND tag IS NULL"), 1);
  snprintf(sql, sizeof sql, "DROP TABLE %s", table);
  exec_ok(&fx, sql);
  fixture_close(&fx);
}

TEST(orm_default_fetched_pg) {
  fetched_value(test_pg_url());
}
TEST(orm_default_fetched_mariadb) {
  fetched_value(test_mariadb_url());
}
TEST(orm_default_fetched_sqlite) {
  fetched_value(test_sqlite_url());
}

/* ------------------------------------------------------------------ type mismatches */

#define VTEXT_FIELDS(X)                                                                            \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(v, TEXT, 0)
UVSQL_MODEL(vtext_t, "vtext", VTEXT_FIELDS)
#define VINT_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(v, INT64, 0)
UVSQL_MODEL(vint_t, "vint", VINT_FIELDS)
#define VDBL_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(v, DOUBLE, 0)
UVSQL_MODEL(vdbl_t, "vdbl", VDBL_FIELDS)

typedef struct {
  const char *sqltype, *value;
} coldef_t;

/* A table (id, v sqltype) holding (1, value), made with plain SQL; its name in out. */
static void make_table(fixture_t *fx, const coldef_t *c, char *out, size_t len) {
  char sql[1024];
  snprintf(out, len, "%s", test_unique_name("vt"));
  snprintf(sql, sizeof sql, "CREATE TABLE %s (id BIGINT PRIMARY KEY, v %s)", out, c->sqltype);
  exec_ok(fx, sql);
  snprintf(sql, sizeof sql, "INSERT INTO %s (id, v) VALUES (1, %s)", out, c->value);
  exec_ok(fx, sql);
}

/* Loads row 1 of `table` as a new session over a new registry mapping `model` onto it does,
 * by a query (get: by uvsql_session_get). Returns the object's field v as text in out, or
 * the error's code (message in err). */
static int load_v(fixture_t *fx, const uvsql_model_t *model, const char *table, int get, char *out,
                  size_t len, uvsql_error_t *err) {
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  uvsql_mapper_t *m = uvsql_registry_map_table(reg, model, table, err);
  ASSERT(m);
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, fx->engine, reg, NULL), (uvsql_error_t *)NULL);
  uvsql_core_stmt_t *sel = uvsql_orm_select(m);
  uvsql_future_t *f = get ? uvsql_session_get_int(s, m, 1, NULL, NULL)
                          : uvsql_session_execute(s, m, sel, NULL, 0, NULL, NULL);
  uvsql_future_wait(f);
  const uvsql_error_t *e = uvsql_future_error(f);
  int rc = e ? e->code : 0;
  if (e) {
    *err = *e;
  } else {
    void *obj = get ? uvsql_future_value(f) : uvsql_orm_result_first(uvsql_future_value(f));
    ASSERT(obj);
    const vtext_t *t = obj;
    const vint_t *i = obj;
    const vdbl_t *d = obj;
    if (model == vtext_t_model())
      snprintf(out, len, "%s", t->v);
    else if (model == vint_t_model())
      snprintf(out, len, "%lld", (long long)i->v);
    else
      snprintf(out, len, "%g", d->v);
  }
  uvsql_future_unref(f);
  uvsql_core_stmt_free(sel);
  await_ok(uvsql_session_close(s, NULL, NULL));
  uvsql_registry_free(reg);
  return rc;
}

typedef struct {
  int col;           /* into cols[] */
  int kind;          /* 0 TEXT, 1 INT64, 2 DOUBLE */
  const char *want;  /* the loaded value, or NULL: fails */
  const char *stype; /* when it fails: the server type the message names */
} case_t;

static void mismatch(const char *url) {
  fixture_t fx = fixture_open(url, NULL);
  int sqlite = strncmp(url, "sqlite", 6) == 0;
  static const coldef_t cols[] = {{"INTEGER", "42"},           {"NUMERIC(10, 2)", "12.50"},
                                  {"DOUBLE PRECISION", "2.5"}, {"BOOLEAN", "TRUE"},
                                  {"DATE", "'2024-01-02'"},    {"TIME", "'10:11:12'"},
                                  {"TEXT", "'abc'"},           {"BIGINT", "7"}};
  static const char *const kinds[] = {"TEXT", "INT64", "DOUBLE"};
  const uvsql_model_t *models[] = {vtext_t_model(), vint_t_model(), vdbl_t_model()};
  /* Fails everywhere: a number, bool, date or time into TEXT; text into a number. Works
   * where nothing is lost: integers into INT64 and DOUBLE, a bool into INT64. SQLite keeps
   * dates and times as ISO text (a TEXT field takes them as they are) and NUMERIC 12.50 (in
   * a table made by raw DDL: NUMERIC affinity) as a REAL; PostgreSQL and MariaDB send NUMERIC
   * as exact decimal text, which a TEXT field takes, and a DOUBLE field rounds. */
  const case_t cases[] = {
      {0, 0, NULL, "int64"},
      {0, 1, "42", NULL},
      {0, 2, "42", NULL},
      {1, 0, sqlite ? NULL : "12.50", "double"},
      {1, 2, "12.5", NULL}, /* NUMERIC into DOUBLE: rounded, as uvsql_result_double reads it */
      {2, 0, NULL, "double"},
      {2, 1, NULL, "double"},
      {3, 0, NULL, "bool"},
      {3, 1, "1", NULL},
      {4, 0, sqlite ? "2024-01-02" : NULL, "date"},
      {4, 1, NULL, sqlite ? "text" : "date"},
      {5, 0, sqlite ? "10:11:12" : NULL, "time"},
      {6, 1, NULL, "text"},
      {6, 2, NULL, "text"},
      {7, 0, NULL, "int64"},
      {7, 1, "7", NULL},
  };
  char names[8][64];
  for (int i = 0; i < 8; i++)
    make_table(&fx, &cols[i], names[i], sizeof names[i]);
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    const case_t *k = &cases[c];
    for (int get = 0; get < 2; get++) {
      char got[64] = "", want[512];
      uvsql_error_t err;
      uvsql_error_clear(&err);
      int rc = load_v(&fx, models[k->kind], names[k->col], get, got, sizeof got, &err);
      if (k->want) {
        if (rc)
          FAILF("%s into %s: %s", cols[k->col].sqltype, kinds[k->kind], err.message);
        ASSERT_STR_EQ(got, k->want);
        continue;
      }
      if (rc != UVSQL_EDATA)
        FAILF("%s into %s: %s (%s), not UVSQL_EDATA", cols[k->col].sqltype, kinds[k->kind],
              uvsql_err_name(rc), rc ? err.message : got);
      snprintf(want, sizeof want,
               "cannot load column \"v\" (server type %s) into field %s.v of kind %s: declare "
               "the field as ",
               k->stype, models[k->kind]->type_name, kinds[k->kind]);
      ASSERT_STR_CONTAINS(err.message, want);
      ASSERT_STR_CONTAINS(err.message, ", or convert the column in the query (CAST)");
    }
  }
  char sql[1024];
  for (int i = 0; i < 8; i++) {
    snprintf(sql, sizeof sql, "DROP TABLE %s", names[i]);
    exec_ok(&fx, sql);
  }
  fixture_close(&fx);
}

TEST(orm_type_mismatch_pg) {
  mismatch(test_pg_url());
}
TEST(orm_type_mismatch_mariadb) {
  mismatch(test_mariadb_url());
}
TEST(orm_type_mismatch_sqlite) {
  mismatch(test_sqlite_url());
}
