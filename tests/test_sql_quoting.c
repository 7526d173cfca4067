/* tests/test_sql_quoting.c — identifiers that are words of the dialect, or not of the plain
 * lower-case shape, through Core and the ORM on PostgreSQL, MariaDB and SQLite:
 *  - every keyword the server or library lists (pg_get_keywords(), MariaDB's
 *    information_schema.KEYWORDS, sqlite3_keyword_name()), 50 per table, as columns: CREATE,
 *    INSERT, UPDATE, SELECT ... WHERE ... ORDER BY, DELETE, DROP through Core. On PostgreSQL
 *    the compiled SQL quotes exactly the words that are not "unreserved", on SQLite every
 *    keyword, on MariaDB at least its documented reserved words;
 *  - names with capitals, spaces, a leading digit and the quote characters inside;
 *  - blob, int, order and group as table and column names: Core (a foreign key, an index, a
 *    join, GROUP BY, ORDER BY) and the ORM (add, commit, get, update, select, delete).
 * The word tables have unique names; the blob/int/order/group tables are these exact names
 * (Core uses "order" and "group", the ORM "blob" and "int"), dropped first and at the end. */
#include "backend.h"
#include "uvsql/sql.h"
#include "uvsql/orm.h"
#if !defined(UVSQL_WITH_SQLITE) || UVSQL_WITH_SQLITE
#include <sqlite3.h>
#endif

static void await_free(uvsql_future_t *f) {
  AWAIT_OK(f);
  uvsql_future_unref(f);
}

static void run(fixture_t *fx, uvsql_core_stmt_t *s) {
  uvsql_future_t *f = uvsql_engine_execute_core(fx->engine, s, NULL, 0, NULL, NULL);
  uvsql_core_stmt_free(s);
  await_free(f);
}

static uvsql_result_t *rows(fixture_t *fx, uvsql_core_stmt_t *s) {
  uvsql_future_t *f = uvsql_engine_execute_core(fx->engine, s, NULL, 0, NULL, NULL);
  AWAIT_OK(f);
  uvsql_result_t *r = uvsql_future_take(f);
  uvsql_future_unref(f);
  return r;
}

static int64_t int_at(const uvsql_result_t *r, size_t row, size_t col) {
  int64_t v = -1;
  ASSERT_OK(uvsql_result_int64(r, row, col, &v), (uvsql_error_t *)NULL);
  return v;
}

static const char *text_at(const uvsql_result_t *r, size_t row, size_t col) {
  const char *t = NULL;
  ASSERT_OK(uvsql_result_text(r, row, col, &t, NULL), (uvsql_error_t *)NULL);
  return t;
}

/* ------------------------------------------------------------------ keyword lists */

typedef struct {
  char *w[1024];
  signed char quote[1024]; /* 1 must be quoted, 0 must be bare, -1 the server does not say */
  size_t n;
} words_t;

static void words_add(words_t *ws, const char *w, size_t len, int quote) {
  char buf[80];
  if (len == 0 || len >= sizeof buf || ws->n == 1024)
    return;
  for (size_t i = 0; i < len; i++) {
    char ch = (char)((w[i] >= 'A' && w[i] <= 'Z') ? w[i] - 'A' + 'a' : w[i]);
    /* a symbol (MariaDB lists <=> and ||) is no identifier */
    if (!((ch >= 'a' && ch <= 'z') || ch == '_' || (i && ch >= '0' && ch <= '9')))
      return;
    buf[i] = ch;
  }
  buf[len] = '\0';
  ws->quote[ws->n] = (signed char)quote;
  ws->w[ws->n++] = strdup(buf);
}

static void words_free(words_t *ws) {
  for (size_t i = 0; i < ws->n; i++)
    free(ws->w[i]);
  free(ws);
}

static words_t *keywords(fixture_t *fx, const char *backend) {
  words_t *ws = calloc(1, sizeof *ws);
  if (strcmp(backend, "sqlite") == 0) {
#if !defined(UVSQL_WITH_SQLITE) || UVSQL_WITH_SQLITE
    int n = sqlite3_keyword_count();
    for (int i = 0; i < n; i++) {
      const char *z;
      int len;
      ASSERT_INT_EQ(sqlite3_keyword_name(i, &z, &len), SQLITE_OK);
      words_add(ws, z, (size_t)len, 1);
    }
#endif
    return ws;
  }
  int pg = strcmp(backend, "postgresql") == 0;
  uvsql_result_t *r =
      query(fx,
            pg ? "SELECT word, catcode FROM pg_get_keywords() ORDER BY word"
               : "SELECT lower(word), NULL FROM information_schema.KEYWORDS ORDER BY 1",
            NULL, 0);
  for (size_t i = 0; i < uvsql_result_nrows(r); i++) {
    const char *w = text_at(r, i, 0);
    words_add(ws, w, strlen(w), pg ? strcmp(text_at(r, i, 1), "U") != 0 : -1);
  }
  uvsql_result_free(r);
  return ws;
}

/* ------------------------------------------------------------------ the keyword walk */

/* Whether sql holds name as a quoted identifier. */
static int has_quoted(const char *sql, char q, const char *name) {
  char want[100];
  snprintf(want, sizeof want, "%c%s%c", q, name, q);
  return strstr(sql, want) != NULL;
}

/* One table with words w[0..k) as INTEGER columns, after a tq_id key. */
static void walk_batch(fixture_t *fx, const char *dialect, char **w, const signed char *quote,
                       size_t k) {
  char q = strcmp(dialect, "mariadb") == 0 ? '`' : '"';
  char tname[64];
  snprintf(tname, sizeof tname, "%s", test_unique_name("tq_kw"));
  uvsql_metadata_t *md = uvsql_metadata_new();
  uvsql_table_t *t = uvsql_table(md, tname);
  uvsql_column(t, "tq_id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY | UVSQL_NO_AUTOINCREMENT);
  for (size_t i = 0; i < k; i++)
    uvsql_column(t, w[i], UVSQL_SQL_INTEGER, 0);
  ASSERT(uvsql_metadata_error(md) == NULL);
  await_free(uvsql_metadata_create_all(md, fx->engine, NULL, NULL));

  /* INSERT (tq_id, w...) VALUES (1, 100, 101, ...) */
  const char *cols[64];
  uvsql_expr_t *e[64];
  uvsql_core_stmt_t *s = uvsql_insert(t);
  cols[0] = "tq_id";
  e[0] = uvsql_lit_int64(s, 1);
  for (size_t i = 0; i < k; i++) {
    cols[i + 1] = w[i];
    e[i + 1] = uvsql_lit_int64(s, 100 + (int64_t)i);
  }
  cols[k + 1] = NULL;
  uvsql_insert_columns(s, cols);
  uvsql_insert_row(s, e, k + 1);
  run(fx, s);

  /* UPDATE: every word += 1000 WHERE w0 = 100 */
  s = uvsql_update(t);
  for (size_t i = 0; i < k; i++)
    uvsql_update_set(s, w[i], uvsql_add(s, uvsql_col(t, w[i]), uvsql_lit_int64(s, 1000)));
  uvsql_where(s, uvsql_eq(s, uvsql_col(t, w[0]), uvsql_lit_int64(s, 100)));
  run(fx, s);

  /* SELECT w... FROM t WHERE w[k-1] = 1100 + k-1 ORDER BY every word */
  s = uvsql_select_new();
  for (size_t i = 0; i < k; i++)
    e[i] = uvsql_col(t, w[i]);
  uvsql_select_columns(s, e, k);
  uvsql_select_from(s, t);
  uvsql_where(s, uvsql_eq(s, uvsql_col(t, w[k - 1]), uvsql_lit_int64(s, 1100 + (int64_t)k - 1)));
  uvsql_select_order_by_n(s, e, k);
  const char *sql;
  const uvsql_param_t *vals;
  size_t nvals;
  uvsql_error_t err;
  ASSERT_OK(uvsql_core_compile(s, dialect, NULL, 0, &sql, &vals, &nvals, &err), &err);
  for (size_t i = 0; i < k; i++) {
    int quoted = has_quoted(sql, q, w[i]);
    if (quote[i] >= 0 && quoted != quote[i])
      FAILF("%s: the word %s is %s in: %s", dialect, w[i], quoted ? "quoted" : "not quoted", sql);
  }
  uvsql_result_t *r = rows(fx, s);
  uvsql_core_stmt_free(s);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 1);
  ASSERT_INT_EQ(uvsql_result_ncols(r), k);
  for (size_t i = 0; i < k; i++) {
    ASSERT_STR_EQ(uvsql_result_colname(r, i), w[i]);
    ASSERT_INT_EQ(int_at(r, 0, i), 1100 + (int64_t)i);
  }
  uvsql_result_free(r);

  /* DELETE WHERE w[k/2] = ...; then nothing is left */
  s = uvsql_delete(t);
  uvsql_where(s, uvsql_eq(s, uvsql_col(t, w[k / 2]), uvsql_lit_int64(s, 1100 + (int64_t)(k / 2))));
  run(fx, s);
  ASSERT_INT_EQ(count_rows(fx, tname, NULL), 0);
  await_free(uvsql_metadata_drop_all(md, fx->engine, NULL, NULL));
  uvsql_metadata_free(md);
}

static void every_keyword_is_a_column(const char *url, const char *dialect) {
  fixture_t fx = fixture_open(url, NULL);
  words_t *ws = keywords(&fx, dialect);
  ASSERT(ws->n >= 140); /* SQLite 3.40: 147, PostgreSQL 15: 460, MariaDB 10.11: 680 */
  size_t quoted = 0;
  for (size_t b = 0; b < ws->n; b += 50) {
    size_t k = ws->n - b < 50 ? ws->n - b : 50;
    walk_batch(&fx, dialect, ws->w + b, ws->quote + b, k);
    for (size_t i = b; i < b + k; i++)
      quoted += ws->quote[i] == 1;
  }
  if (strcmp(dialect, "postgresql") == 0)
    ASSERT(quoted >= 150); /* R, T and C words of PostgreSQL 15 */
  words_free(ws);
  fixture_close(&fx);
}

TEST(every_keyword_is_a_column_sqlite) {
  every_keyword_is_a_column(test_sqlite_url(), "sqlite");
}

TEST(every_keyword_is_a_column_pg) {
  every_keyword_is_a_column(test_pg_url(), "postgresql");
}

TEST(every_keyword_is_a_column_mariadb) {
  every_keyword_is_a_column(test_mariadb_url(), "mariadb");
}

/* MariaDB's server lists keywords but not which are reserved: the words its docs list as
 * reserved (a sample across the alphabet) are quoted, unreserved keywords are not. */
TEST(mariadb_quotes_its_reserved_words_only) {
  const char *reserved[] = {"accessible",     "blob",     "current_role", "div",
                            "group",          "int",      "int8",         "key",
                            "long",           "mod",      "order",        "rlike",
                            "sql_big_result", "utc_time", "zerofill",     "year_month"};
  const char *bare[] = {"database", "schema", "window", "option", "name", "status", "data"};
  for (int pass = 0; pass < 2; pass++) {
    const char *const *list = pass ? bare : reserved;
    size_t n = pass ? sizeof bare / sizeof *bare : sizeof reserved / sizeof *reserved;
    for (size_t i = 0; i < n; i++) {
      uvsql_metadata_t *md = uvsql_metadata_new();
      uvsql_table_t *t = uvsql_table(md, "tq_t");
      uvsql_column(t, list[i], UVSQL_SQL_INTEGER, 0);
      uvsql_core_stmt_t *s = uvsql_select_new();
      uvsql_select_cols(s, uvsql_col(t, list[i]));
      uvsql_select_from(s, t);
      const char *sql;
      const uvsql_param_t *vals;
      size_t nvals;
      uvsql_error_t err;
      char want[120];
      ASSERT_OK(uvsql_core_compile(s, "mariadb", NULL, 0, &sql, &vals, &nvals, &err), &err);
      if (pass)
        snprintf(want, sizeof want, "SELECT tq_t.%s FROM tq_t", list[i]);
      else
        snprintf(want, sizeof want, "SELECT tq_t.`%s` FROM tq_t", list[i]);
      ASSERT_STR_EQ(sql, want);
      uvsql_core_stmt_free(s);
      uvsql_metadata_free(md);
    }
  }
}

/* ------------------------------------------------------------------ odd names */

static void odd_names_round_trip(const char *url, const char *dialect) {
  fixture_t fx = fixture_open(url, NULL);
  char tname[64];
  snprintf(tname, sizeof tname, "Tq Odd\"`%s", test_unique_name("x"));
  const char *names[] = {"Select",    "has space", "quo\"te", "back`tick",
                         "MixedCase", "9lives",    "a-b"};
  enum { N = sizeof names / sizeof *names };
  uvsql_metadata_t *md = uvsql_metadata_new();
  uvsql_table_t *t = uvsql_table(md, tname);
  uvsql_column(t, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY | UVSQL_NO_AUTOINCREMENT);
  for (size_t i = 0; i < N; i++)
    uvsql_column(t, names[i], UVSQL_SQL_STRING(20), 0);
  ASSERT(uvsql_metadata_error(md) == NULL);
  await_free(uvsql_metadata_drop_all(md, fx.engine, NULL, NULL));
  await_free(uvsql_metadata_create_all(md, fx.engine, NULL, NULL));

  uvsql_core_stmt_t *s = uvsql_insert(t);
  const char *cols[N + 2] = {"id"};
  for (size_t i = 0; i < N; i++)
    cols[i + 1] = names[i];
  uvsql_insert_columns(s, cols);
  uvsql_expr_t *e[N + 1];
  e[0] = uvsql_lit_int64(s, 7);
  for (size_t i = 0; i < N; i++)
    e[i + 1] = uvsql_lit_text(s, names[i]);
  uvsql_insert_row(s, e, N + 1);
  run(&fx, s);

  s = uvsql_update(t);
  uvsql_update_set(s, "MixedCase", uvsql_lit_text(s, "changed"));
  uvsql_where(s, uvsql_eq(s, uvsql_col(t, "quo\"te"), uvsql_lit_text(s, "quo\"te")));
  run(&fx, s);

  s = uvsql_select_new();
  for (size_t i = 0; i < N; i++)
    e[i] = uvsql_col(t, names[i]);
  uvsql_select_columns(s, e, N);
  uvsql_select_from(s, t);
  uvsql_where(s, uvsql_eq(s, uvsql_col(t, "back`tick"), uvsql_lit_text(s, "back`tick")));
  uvsql_select_order_by(s, uvsql_col(t, "has space"));
  const char *sql;
  const uvsql_param_t *vals;
  size_t nvals;
  uvsql_error_t err;
  ASSERT_OK(uvsql_core_compile(s, dialect, NULL, 0, &sql, &vals, &nvals, &err), &err);
  /* the quote character inside a name is doubled */
  ASSERT_STR_CONTAINS(sql, strcmp(dialect, "mariadb") == 0 ? "`back``tick`" : "\"quo\"\"te\"");
  ASSERT_STR_CONTAINS(sql, strcmp(dialect, "mariadb") == 0 ? "`quo\"te`" : "\"back`tick\"");
  uvsql_result_t *r = rows(&fx, s);
  uvsql_core_stmt_free(s);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 1);
  for (size_t i = 0; i < N; i++) {
    ASSERT_STR_EQ(uvsql_result_colname(r, i), names[i]);
    ASSERT_STR_EQ(text_at(r, 0, i), i == 4 ? "changed" : names[i]);
  }
  uvsql_result_free(r);
  await_free(uvsql_metadata_drop_all(md, fx.engine, NULL, NULL));
  uvsql_metadata_free(md);
  fixture_close(&fx);
}

TEST(odd_names_round_trip_sqlite) {
  odd_names_round_trip(test_sqlite_url(), "sqlite");
}

TEST(odd_names_round_trip_pg) {
  odd_names_round_trip(test_pg_url(), "postgresql");
}

TEST(odd_names_round_trip_mariadb) {
  odd_names_round_trip(test_mariadb_url(), "mariadb");
}

/* ------------------------------------------------------------------ blob, int, order, group */

/* Tables "order" and "group", each with the columns blob, int, order/group; "group"."order"
 * references "order".id and "group"."int" is indexed. A join, GROUP BY and ORDER BY. */
static void core_words_as_tables(const char *url) {
  fixture_t fx = fixture_open(url, NULL);
  uvsql_metadata_t *md = uvsql_metadata_new();
  uvsql_table_t *o = uvsql_table(md, "order");
  uvsql_column(o, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY | UVSQL_NO_AUTOINCREMENT);
  uvsql_column(o, "int", UVSQL_SQL_INTEGER, UVSQL_NOT_NULL);
  uvsql_column(o, "blob", UVSQL_SQL_BINARY, 0);
  uvsql_column(o, "group", UVSQL_SQL_STRING(20), 0);
  uvsql_table_t *g = uvsql_table(md, "group");
  uvsql_column(g, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY | UVSQL_NO_AUTOINCREMENT);
  uvsql_column_references(uvsql_column(g, "order", UVSQL_SQL_INTEGER, UVSQL_NOT_NULL), "order.id",
                          UVSQL_FK_CASCADE, UVSQL_FK_NO_ACTION);
  uvsql_column(g, "int", UVSQL_SQL_INTEGER, UVSQL_INDEX);
  uvsql_column(g, "blob", UVSQL_SQL_BINARY, 0);
  ASSERT(uvsql_metadata_error(md) == NULL);
  await_free(uvsql_metadata_drop_all(md, fx.engine, NULL, NULL));
  await_free(uvsql_metadata_create_all(md, fx.engine, NULL, NULL));

  uvsql_core_stmt_t *s = uvsql_insert(o);
  uvsql_insert_columns(s, UVSQL_NAMES("id", "int", "blob", "group"));
  for (int i = 1; i <= 2; i++)
    uvsql_insert_values(s, uvsql_lit_int64(s, i), uvsql_lit_int64(s, 10 * i),
                        uvsql_lit(s, UVSQL_V_BYTES("\0\1", 2)),
                        uvsql_lit_text(s, i == 1 ? "first" : "second"));
  run(&fx, s);
  s = uvsql_insert(g);
  uvsql_insert_columns(s, UVSQL_NAMES("id", "order", "int", "blob"));
  for (int i = 1; i <= 3; i++)
    uvsql_insert_values(s, uvsql_lit_int64(s, i), uvsql_lit_int64(s, i == 3 ? 2 : 1),
                        uvsql_lit_int64(s, i), uvsql_lit(s, UVSQL_V_BYTES("b\0b", 3)));
  run(&fx, s);
  s = uvsql_update(o);
  uvsql_update_set(s, "group", uvsql_lit_text(s, "one"));
  uvsql_where(s, uvsql_eq(s, uvsql_col(o, "int"), uvsql_lit_int64(s, 10)));
  run(&fx, s);

  /* SELECT "order"."group", count("group".id), max("group"."int") FROM "order" JOIN "group"
   * ON ... GROUP BY "order"."group" ORDER BY "order"."group" */
  s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_col(o, "group"), uvsql_func(s, "count", uvsql_col(g, "id")),
                    uvsql_func(s, "max", uvsql_col(g, "int")));
  uvsql_select_from(s, o);
  uvsql_select_join(s, g, uvsql_eq(s, uvsql_col(g, "order"), uvsql_col(o, "id")));
  uvsql_select_group_by(s, uvsql_col(o, "group"));
  uvsql_select_order_by(s, uvsql_col(o, "group"));
  uvsql_result_t *r = rows(&fx, s);
  uvsql_core_stmt_free(s);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 2);
  ASSERT_STR_EQ(text_at(r, 0, 0), "one");
  ASSERT_INT_EQ(int_at(r, 0, 1), 2);
  ASSERT_INT_EQ(int_at(r, 0, 2), 2);
  ASSERT_STR_EQ(text_at(r, 1, 0), "second");
  ASSERT_INT_EQ(int_at(r, 1, 1), 1);
  ASSERT_INT_EQ(int_at(r, 1, 2), 3);
  uvsql_result_free(r);

  s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_col(g, "blob"));
  uvsql_select_from(s, g);
  uvsql_where(s, uvsql_eq(s, uvsql_col(g, "int"), uvsql_lit_int64(s, 3)));
  r = rows(&fx, s);
  uvsql_core_stmt_free(s);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 1);
  const void *p;
  size_t len;
  ASSERT_OK(uvsql_result_bytes(r, 0, 0, &p, &len), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(len, 3);
  ASSERT(memcmp(p, "b\0b", 3) == 0);
  uvsql_result_free(r);

  /* the foreign key cascades: deleting "order" 1 deletes two "group" rows */
  s = uvsql_delete(o);
  uvsql_where(s, uvsql_eq(s, uvsql_col(o, "id"), uvsql_lit_int64(s, 1)));
  run(&fx, s);
  s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_func(s, "count", uvsql_col(g, "id")));
  uvsql_select_from(s, g);
  r = rows(&fx, s);
  uvsql_core_stmt_free(s);
  ASSERT_INT_EQ(int_at(r, 0, 0), 1);
  uvsql_result_free(r);
  await_free(uvsql_metadata_drop_all(md, fx.engine, NULL, NULL));
  uvsql_metadata_free(md);
  fixture_close(&fx);
}

TEST(order_and_group_tables_in_core_sqlite) {
  core_words_as_tables(test_sqlite_url());
}

TEST(order_and_group_tables_in_core_pg) {
  core_words_as_tables(test_pg_url());
}

TEST(order_and_group_tables_in_core_mariadb) {
  core_words_as_tables(test_mariadb_url());
}

/* The ORM: a model whose fields are the columns int, blob, order and group (written by hand:
 * `int` cannot name a C struct member), mapped to the tables "blob" and "int". */
typedef struct kw_obj {
  int64_t id;
  int64_t int_;
  uvsql_bytes_t blob;
  char *order;
  int64_t group;
  uint64_t uvsql_nulls;
} kw_obj_t;

static const uvsql_field_t kw_fields[] = {
    {"id", UVSQL_FIELD_INT64, 0, 0, NULL, UVSQL_PRIMARY_KEY, offsetof(kw_obj_t, id)},
    {"int", UVSQL_FIELD_INT64, 0, 0, NULL, 0, offsetof(kw_obj_t, int_)},
    {"blob", UVSQL_FIELD_BYTES, 0, 0, NULL, 0, offsetof(kw_obj_t, blob)},
    {"order", UVSQL_FIELD_TEXT, 0, 0, NULL, 0, offsetof(kw_obj_t, order)},
    {"group", UVSQL_FIELD_INT64, 0, 0, NULL, 0, offsetof(kw_obj_t, group)},
};
static const uvsql_model_t kw_blob_model = {
    "kw_blob_t", "blob", sizeof(kw_obj_t), offsetof(kw_obj_t, uvsql_nulls), kw_fields, 5, NULL, 0};
static const uvsql_model_t kw_int_model = {
    "kw_int_t", "int", sizeof(kw_obj_t), offsetof(kw_obj_t, uvsql_nulls), kw_fields, 5, NULL, 0};

static void orm_words_as_tables(const char *url) {
  fixture_t fx = fixture_open(url, NULL);
  uvsql_error_t err;
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  uvsql_mapper_t *mb = uvsql_registry_map_table(reg, &kw_blob_model, "blob", &err);
  ASSERT(mb);
  uvsql_mapper_t *mi = uvsql_registry_map_table(reg, &kw_int_model, "int", &err);
  ASSERT(mi);
  uvsql_metadata_t *md = uvsql_registry_metadata(reg);
  await_free(uvsql_metadata_drop_all(md, fx.engine, NULL, NULL));
  await_free(uvsql_metadata_create_all(md, fx.engine, NULL, NULL));

  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, fx.engine, reg, NULL), (uvsql_error_t *)NULL);
  const uvsql_mapper_t *ms[2] = {mb, mi};
  for (int m = 0; m < 2; m++)
    for (int i = 0; i < 3; i++) {
      kw_obj_t *x = uvsql_orm_new(ms[m]);
      ASSERT_OK(uvsql_orm_set_int64(x, &x->int_, 10 * i + m), (uvsql_error_t *)NULL);
      ASSERT_OK(uvsql_orm_set_bytes(x, &x->blob, "x\0y", 3), (uvsql_error_t *)NULL);
      ASSERT_OK(uvsql_orm_set_text(x, &x->order,
                                   i == 1 ? "b"
                                   : i    ? "c"
                                          : "a"),
                (uvsql_error_t *)NULL);
      ASSERT_OK(uvsql_orm_set_int64(x, &x->group, i % 2), (uvsql_error_t *)NULL);
      ASSERT_OK(uvsql_session_add(s, x), (uvsql_error_t *)NULL);
    }
  await_free(uvsql_session_commit(s, NULL, NULL));

  /* get (expired at commit: SELECTed again), change order and group, commit */
  uvsql_future_t *f = uvsql_session_get_int(s, mi, 2, NULL, NULL);
  kw_obj_t *x = AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT(x);
  ASSERT_INT_EQ(x->int_, 11);
  ASSERT_STR_EQ(x->order, "b");
  ASSERT_INT_EQ(x->group, 1);
  ASSERT_INT_EQ(x->blob.len, 3);
  ASSERT(memcmp(x->blob.ptr, "x\0y", 3) == 0);
  ASSERT_OK(uvsql_orm_set_text(x, &x->order, "z"), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_set_int64(x, &x->group, 0), (uvsql_error_t *)NULL);
  await_free(uvsql_session_commit(s, NULL, NULL));

  /* SELECT ... FROM "int" WHERE "group" = 0 ORDER BY "order" DESC */
  uvsql_table_t *ti = uvsql_mapper_table(mi);
  uvsql_core_stmt_t *q = uvsql_orm_select(mi);
  uvsql_where(q, uvsql_eq(q, uvsql_col(ti, "group"), uvsql_lit_int64(q, 0)));
  uvsql_select_order_by(q, uvsql_col(ti, "order"));
  f = uvsql_session_execute(s, mi, q, NULL, 0, NULL, NULL);
  uvsql_orm_result_t *r = AWAIT_OK(f);
  ASSERT_INT_EQ(uvsql_orm_result_count(r), 3);
  const char *want[3] = {"a", "c", "z"};
  for (size_t i = 0; i < 3; i++) {
    kw_obj_t *y = uvsql_orm_result_at(r, i);
    ASSERT_STR_EQ(y->order, want[i]);
    ASSERT_INT_EQ(y->group, 0);
  }
  uvsql_future_unref(f);
  uvsql_core_stmt_free(q);

  /* delete from "blob" */
  f = uvsql_session_get_int(s, mb, 1, NULL, NULL);
  x = AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT(x);
  ASSERT_INT_EQ(x->int_, 0);
  ASSERT_OK(uvsql_session_delete(s, x), (uvsql_error_t *)NULL);
  await_free(uvsql_session_commit(s, NULL, NULL));
  await_free(uvsql_session_close(s, NULL, NULL));
  ASSERT_INT_EQ(query_int(&fx, strstr(url, "mariadb") ? "SELECT count(*) FROM `blob`"
                                                      : "SELECT count(*) FROM \"blob\""),
                2);
  await_free(uvsql_metadata_drop_all(md, fx.engine, NULL, NULL));
  uvsql_registry_free(reg);
  fixture_close(&fx);
}

TEST(blob_and_int_tables_in_the_orm_sqlite) {
  orm_words_as_tables(test_sqlite_url());
}

TEST(blob_and_int_tables_in_the_orm_pg) {
  orm_words_as_tables(test_pg_url());
}

TEST(blob_and_int_tables_in_the_orm_mariadb) {
  orm_words_as_tables(test_mariadb_url());
}
