/* tests/test_types_uuid_json.c — the UUID and JSON kinds: the text helpers (uvsql_uuid_parse,
 * uvsql_uuid_format, uvsql_json_validate), the JSON operators as each dialect compiles them,
 * and round trips through Core and the ORM on PostgreSQL, MariaDB and SQLite (nil and max
 * UUIDs, JSON with unicode, escapes and deep nesting, a broken document refused before it
 * reaches a server, json_get / json_get_text). Each behaviour is one function taking a URL;
 * each backend one TEST. Table names are unique per run (prefix uj_), so servers can be shared.
 */
#include <inttypes.h>
#include "backend.h"
#include "uvsql/orm.h"
#include "uvsql/sql.h"

static const uvsql_uuid_t nil_id = {{0}};
static const uvsql_uuid_t max_id = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
static const uvsql_uuid_t some_id = {{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d,
                                      0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}};

/* A document as PostgreSQL's jsonb writes it back (keys sorted, ", " and ": "), so that the
 * three backends give the same bytes: unicode as it is, and the escapes jsonb keeps. */
static const char unicode_doc[] = "{\"a\": \"héllo ☃ 😀\", \"b\": \"q\\\"\\\\\\n\\t\\u0001 end\"}";

/* [[[ ... [1] ... ]]], depth arrays deep (caller frees). */
static char *nested(int depth) {
  char *s = malloc((size_t)depth * 2 + 2);
  memset(s, '[', (size_t)depth);
  s[depth] = '1';
  memset(s + depth + 1, ']', (size_t)depth);
  s[depth * 2 + 1] = '\0';
  return s;
}

static void await_free(uvsql_future_t *f) {
  AWAIT_OK(f);
  uvsql_future_unref(f);
}

static uvsql_result_t *run_core(fixture_t *fx, uvsql_core_stmt_t *s, const uvsql_param_t *p,
                                size_t n) {
  uvsql_future_t *f = uvsql_engine_execute_core(fx->engine, s, p, n, NULL, NULL);
  uvsql_core_stmt_free(s);
  AWAIT_OK(f);
  uvsql_result_t *r = uvsql_future_take(f);
  uvsql_future_unref(f);
  return r;
}

static const char *dialect_of(const char *url) {
  return !strncmp(url, "postgresql", 10) ? "postgresql"
         : !strncmp(url, "sqlite", 6)    ? "sqlite"
                                         : "mariadb";
}

/* ------------------------------------------------------------------ text helpers */

TEST(uuid_parse_reads_the_canonical_and_the_compact_form_in_either_case) {
  uvsql_uuid_t id;
  char buf[37];
  ASSERT_OK(uvsql_uuid_parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 36, &id), NULL);
  ASSERT(memcmp(&id, &some_id, 16) == 0);
  ASSERT_OK(uvsql_uuid_parse("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", 36, &id), NULL);
  ASSERT(memcmp(&id, &some_id, 16) == 0);
  ASSERT_OK(uvsql_uuid_parse("a0eebc999c0b4ef8bb6d6bb9bd380a11", 32, &id), NULL);
  ASSERT(memcmp(&id, &some_id, 16) == 0);
  ASSERT_INT_EQ(uvsql_uuid_format(&some_id, buf), 36);
  ASSERT_STR_EQ(buf, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  uvsql_uuid_format(&nil_id, buf);
  ASSERT_STR_EQ(buf, "00000000-0000-0000-0000-000000000000");
  uvsql_uuid_format(&max_id, buf);
  ASSERT_STR_EQ(buf, "ffffffff-ffff-ffff-ffff-ffffffffffff");
  ASSERT_OK(uvsql_uuid_parse(buf, 36, &id), NULL);
  ASSERT(memcmp(&id, &max_id, 16) == 0);
}

TEST(uuid_parse_refuses_every_other_text_and_leaves_the_output_alone) {
  static const char *const bad[] = {
      "",
      "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",   /* 35 */
      "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111", /* 37 */
      "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
      "a0eebc999-c0b-4ef8-bb6d-6bb9bd380a11", /* hyphen moved */
      "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g", /* not hex */
      "a0eebc99 9c0b 4ef8 bb6d 6bb9bd380a11",
      "urn:uuid:a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
      "a0eebc99-9c0b4ef8bb6d6bb9bd380a11xxx",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uvsql_uuid_t id = max_id;
    ASSERT_ERR(uvsql_uuid_parse(bad[i], strlen(bad[i]), &id), UVSQL_EDATA);
    ASSERT(memcmp(&id, &max_id, 16) == 0);
  }
  uvsql_uuid_t id;
  ASSERT_ERR(uvsql_uuid_parse(NULL, 36, &id), UVSQL_EDATA);
}

static void json_ok(const char *doc) {
  uvsql_error_t err;
  if (uvsql_json_validate(doc, strlen(doc), &err) != 0)
    FAILF("%s: %s", doc, err.message);
}

static void json_bad(const char *doc, size_t len, const char *message) {
  uvsql_error_t err;
  ASSERT_ERR(uvsql_json_validate(doc, len, &err), UVSQL_EDATA);
  ASSERT_INT_EQ(err.code, UVSQL_EDATA);
  ASSERT_STR_EQ(err.message, message);
}

TEST(json_validate_accepts_rfc_8259_documents) {
  json_ok("{}");
  json_ok(" [ ] ");
  json_ok("0");
  json_ok("-0.5e+10");
  json_ok("\"\"");
  json_ok("true");
  json_ok("null");
  json_ok(unicode_doc);
  json_ok("{\"a\": [1, 2.5, null, false, {\"b\": \"\\ud83d\\ude00 \\/\"}]}");
  json_ok("{\"dup\": 1, \"dup\": 2}");
  char *deep = nested(UVSQL_JSON_MAX_DEPTH);
  json_ok(deep);
  free(deep);
}

TEST(json_validate_names_the_byte_and_the_problem) {
  json_bad("", 0, "invalid JSON at byte 0 of 0: expected a value, found the end of the document");
  json_bad("{\"a\": }", 7,
           "invalid JSON at byte 6 of 7: expected a value (an object, array, string, number, "
           "true, false or null)");
  json_bad("{\"a\": 1,}", 9,
           "invalid JSON at byte 8 of 9: expected a string key (in double "
           "quotes) in an object");
  json_bad("[1 2]", 5, "invalid JSON at byte 3 of 5: expected ',' or ']' in an array");
  json_bad("{'a': 1}", 8,
           "invalid JSON at byte 1 of 8: expected a string key (in double quotes) in an object");
  json_bad("01", 2, "invalid JSON at byte 1 of 2: a number with a leading zero");
  json_bad("1.", 2, "invalid JSON at byte 2 of 2: a number needs a digit after the '.'");
  json_bad("NaN", 3,
           "invalid JSON at byte 0 of 3: expected a value (an object, array, string, number, "
           "true, false or null)");
  json_bad("{} {}", 5,
           "invalid JSON at byte 3 of 5: text after the JSON value (a document holds one value)");
  json_bad("\"a\nb\"", 5,
           "invalid JSON at byte 2 of 5: a control character in a string must be "
           "escaped (\\n, \\t, \\u00XX)");
  json_bad("\"\\x\"", 4,
           "invalid JSON at byte 1 of 4: an unknown escape (only \\\" \\\\ \\/ \\b "
           "\\f \\n \\r \\t \\uXXXX)");
  json_bad("\"\xff\"", 3,
           "invalid JSON at byte 1 of 3: invalid UTF-8 (a byte that cannot start a character)");
  json_bad("\"\xc0\xaf\"", 4,
           "invalid JSON at byte 1 of 4: invalid UTF-8 (a byte that cannot start a character)");
  json_bad("\"\xe0\x80\xaf\"", 5, "invalid JSON at byte 1 of 5: invalid UTF-8 (an overlong form)");
  json_bad("\"\xed\xa0\x80\"", 5,
           "invalid JSON at byte 1 of 5: invalid UTF-8 (a UTF-16 surrogate)");
  json_bad("\"\xe2\x98\"", 4, "invalid JSON at byte 1 of 4: invalid UTF-8 (a character cut short)");
  json_bad("\"\\ud83d\"", 8,
           "invalid JSON at byte 1 of 8: a \\u escape of a high surrogate "
           "without a low one after it");
  json_bad("\"abc", 4, "invalid JSON at byte 4 of 4: a string is not closed");
  json_bad("[1]\0", 4,
           "invalid JSON at byte 3 of 4: text after the JSON value (a document holds one value)");
  char *deep = nested(UVSQL_JSON_MAX_DEPTH + 1);
  char want[200];
  snprintf(want, sizeof want,
           "invalid JSON at byte %d of %zu: nested deeper than UVSQL_JSON_MAX_DEPTH (512) arrays "
           "and objects",
           UVSQL_JSON_MAX_DEPTH, strlen(deep));
  json_bad(deep, strlen(deep), want);
  free(deep);
}

/* ------------------------------------------------------------------ compiled operators */

static void expect_sql(uvsql_core_stmt_t *s, const char *dialect, const char *want,
                       const char *want_param) {
  const char *sql;
  const uvsql_param_t *v;
  size_t n;
  uvsql_error_t err;
  ASSERT_OK(uvsql_core_compile(s, dialect, NULL, 0, &sql, &v, &n, &err), &err);
  if (strcmp(sql, want) != 0)
    FAILF("%s:\n  got  %s\n  want %s", dialect, sql, want);
  ASSERT_INT_EQ(n, 1);
  if (v[0].value.type == UVSQL_TYPE_INT64) {
    char num[32];
    snprintf(num, sizeof num, "%" PRId64, v[0].value.u.i64);
    ASSERT_STR_EQ(num, want_param);
  } else {
    ASSERT_INT_EQ(v[0].value.type, UVSQL_TYPE_TEXT);
    ASSERT_STR_EQ(v[0].value.u.s.ptr, want_param);
  }
}

static uvsql_core_stmt_t *select_key(uvsql_table_t *t, uvsql_value_t key, int as_text) {
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_expr_t *doc = uvsql_col(t, "doc");
  uvsql_select_cols(s, as_text ? uvsql_json_get_text(s, doc, key) : uvsql_json_get(s, doc, key));
  uvsql_select_from(s, t);
  return s;
}

TEST(json_get_compiles_to_each_dialects_operator_with_the_key_bound) {
  uvsql_metadata_t *md = uvsql_metadata_new();
  uvsql_table_t *t = uvsql_table(md, "docs");
  uvsql_column(t, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY);
  uvsql_column(t, "doc", UVSQL_SQL_JSON, 0);
  uvsql_core_stmt_t *s = select_key(t, UVSQL_V_TEXT("a.b"), 0);
  expect_sql(s, "postgresql", "SELECT (docs.doc -> CAST(:param_1 AS TEXT)) FROM docs", "a.b");
  expect_sql(s, "mariadb", "SELECT JSON_EXTRACT(docs.doc, :param_1) FROM docs", "$.\"a.b\"");
  expect_sql(s, "sqlite", "SELECT (docs.doc -> :param_1) FROM docs", "$.\"a.b\"");
  uvsql_core_stmt_free(s);
  s = select_key(t, UVSQL_V_TEXT("it's \"q\" \\"), 1);
  expect_sql(s, "postgresql", "SELECT (docs.doc ->> CAST(:param_1 AS TEXT)) FROM docs",
             "it's \"q\" \\");
  expect_sql(s, "mariadb", "SELECT JSON_UNQUOTE(JSON_EXTRACT(docs.doc, :param_1)) FROM docs",
             "$.\"it's \\\"q\\\" \\\\\"");
  const char *sql;
  const uvsql_param_t *v;
  size_t n;
  uvsql_error_t err;
  ASSERT_ERR(uvsql_core_compile(s, "sqlite", NULL, 0, &sql, &v, &n, &err), UVSQL_ENOT_SUPPORTED);
  ASSERT_STR_EQ(err.message, "sqlite: the JSON key \"it's \"q\" \\\" holds '\"' or '\\', which "
                             "SQLite's JSON paths cannot name: rename the key, or read the "
                             "document and look it up in C");
  uvsql_core_stmt_free(s);
  s = select_key(t, UVSQL_V_INT64(2), 1);
  expect_sql(s, "postgresql", "SELECT (docs.doc ->> CAST(:param_1 AS INTEGER)) FROM docs", "2");
  expect_sql(s, "mariadb", "SELECT JSON_UNQUOTE(JSON_EXTRACT(docs.doc, :param_1)) FROM docs",
             "$[2]");
  expect_sql(s, "sqlite", "SELECT (docs.doc ->> :param_1) FROM docs", "$[2]");
  uvsql_core_stmt_free(s);
  s = select_key(t, UVSQL_V_INT64(-1), 0);
  expect_sql(s, "postgresql", "SELECT (docs.doc -> CAST(:param_1 AS INTEGER)) FROM docs", "-1");
  expect_sql(s, "mariadb", "SELECT JSON_EXTRACT(docs.doc, :param_1) FROM docs", "$[last-0]");
  expect_sql(s, "sqlite", "SELECT (docs.doc -> :param_1) FROM docs", "$[#-1]");
  uvsql_core_stmt_free(s);
  /* a key of another type is refused when the expression is built */
  s = select_key(t, UVSQL_V_DOUBLE(1.5), 0);
  ASSERT_ERR(uvsql_core_compile(s, "postgresql", NULL, 0, &sql, &v, &n, &err),
             UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(err.message, "uvsql_json_get: the key is a double value: give a member name "
                             "(UVSQL_V_TEXT) or an array index (UVSQL_V_INT64)");
  uvsql_core_stmt_free(s);
  uvsql_metadata_free(md);
}

/* ------------------------------------------------------------------ Core round trips */

typedef struct {
  fixture_t fx;
  uvsql_metadata_t *md;
  uvsql_table_t *t;
  const char *dialect;
} core_t;

/* uj_core_N (id UUID primary key, other UUID, doc JSON). */
static core_t core_open(const char *url) {
  core_t c;
  c.fx = fixture_open(url, NULL);
  c.dialect = dialect_of(url);
  c.md = uvsql_metadata_new();
  c.t = uvsql_table(c.md, test_unique_name("uj_core"));
  uvsql_column(c.t, "id", UVSQL_SQL_UUID, UVSQL_PRIMARY_KEY);
  uvsql_column(c.t, "other", UVSQL_SQL_UUID, 0);
  uvsql_column(c.t, "doc", UVSQL_SQL_JSON, 0);
  ASSERT(uvsql_metadata_error(c.md) == NULL);
  await_free(uvsql_metadata_create_all(c.md, c.fx.engine, NULL, NULL));
  return c;
}

static void core_close(core_t *c) {
  await_free(uvsql_metadata_drop_all(c->md, c->fx.engine, NULL, NULL));
  uvsql_metadata_free(c->md);
  fixture_close(&c->fx);
}

static void insert_row(core_t *c, const uvsql_uuid_t *id, const char *doc) {
  uvsql_core_stmt_t *s = uvsql_insert(c->t);
  uvsql_insert_columns(s, UVSQL_NAMES("id", "other", "doc"));
  uvsql_insert_values(s, uvsql_bindparam(s, "id"), uvsql_bindparam(s, "other"),
                      uvsql_bindparam(s, "doc"));
  uvsql_param_t p[] = {UVSQL_P_UUID("id", id), UVSQL_P_UUID("other", id),
                       doc ? UVSQL_P_JSON("doc", doc) : UVSQL_P_NULL("doc")};
  uvsql_result_free(run_core(&c->fx, s, p, 3));
}

static void uuid_nil_and_max_round_trip_through_core(const char *url) {
  core_t c = core_open(url);
  insert_row(&c, &max_id, NULL);
  insert_row(&c, &nil_id, NULL);
  insert_row(&c, &some_id, NULL);
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_col(c.t, "id"), uvsql_col(c.t, "other"));
  uvsql_select_from(s, c.t);
  uvsql_select_order_by(s, uvsql_col(c.t, "id"));
  uvsql_result_t *r = run_core(&c.fx, s, NULL, 0);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 3);
  /* nil first and max last on every backend (MariaDB's UUID type orders the groups its own
   * way, but not these three differently) */
  const uvsql_uuid_t *want[3] = {&nil_id, &some_id, &max_id};
  for (size_t row = 0; row < 3; row++) {
    uvsql_uuid_t id;
    const char *text;
    char canon[37];
    ASSERT_INT_EQ(uvsql_result_coltype(r, 0), UVSQL_TYPE_UUID);
    ASSERT_INT_EQ(uvsql_result_value(r, row, 0)->type, UVSQL_TYPE_UUID);
    ASSERT_OK(uvsql_result_uuid(r, row, 0, &id), NULL);
    ASSERT(memcmp(&id, want[row], 16) == 0);
    ASSERT_OK(uvsql_result_uuid(r, row, 1, &id), NULL);
    ASSERT(memcmp(&id, want[row], 16) == 0);
    ASSERT_OK(uvsql_result_text(r, row, 0, &text, NULL), NULL);
    uvsql_uuid_format(want[row], canon);
    ASSERT_STR_EQ(text, canon);
  }
  uvsql_result_free(r);
  /* WHERE id = :id finds each by its bound value */
  const uvsql_uuid_t *ids[2] = {&nil_id, &max_id};
  for (int k = 0; k < 2; k++) {
    s = uvsql_select_new();
    uvsql_select_cols(s, uvsql_col(c.t, "other"));
    uvsql_select_from(s, c.t);
    uvsql_select_where(s, uvsql_eq(s, uvsql_col(c.t, "id"), uvsql_bindparam(s, "id")));
    uvsql_param_t p[] = {UVSQL_P_UUID("id", ids[k])};
    r = run_core(&c.fx, s, p, 1);
    uvsql_uuid_t id;
    ASSERT_INT_EQ(uvsql_result_nrows(r), 1);
    ASSERT_OK(uvsql_result_uuid(r, 0, 0, &id), NULL);
    ASSERT(memcmp(&id, ids[k], 16) == 0);
    uvsql_result_free(r);
  }
  core_close(&c);
}

TEST(uuid_nil_and_max_round_trip_through_core_pg) {
  uuid_nil_and_max_round_trip_through_core(test_pg_url());
}
TEST(uuid_nil_and_max_round_trip_through_core_mariadb) {
  uuid_nil_and_max_round_trip_through_core(test_mariadb_url());
}
TEST(uuid_nil_and_max_round_trip_through_core_sqlite) {
  uuid_nil_and_max_round_trip_through_core(test_sqlite_url());
}

/* create_all then reflect: the UUID and JSON columns come back as UUID and JSON (on MariaDB a
 * JSON column is a LONGTEXT with a json_valid CHECK; on SQLite the declared type). */
static void uuid_and_json_columns_reflect_as_themselves(const char *url) {
  core_t c = core_open(url);
  uvsql_metadata_t *md = uvsql_metadata_new();
  const char *names[] = {uvsql_table_name(c.t), NULL};
  await_free(uvsql_metadata_reflect(md, c.fx.engine, names, NULL, NULL));
  uvsql_table_t *t = uvsql_metadata_table(md, uvsql_table_name(c.t));
  ASSERT(t != NULL);
  ASSERT_INT_EQ(uvsql_column_type(uvsql_table_column(t, "id")).kind, UVSQL_SQLT_UUID);
  ASSERT_INT_EQ(uvsql_column_type(uvsql_table_column(t, "other")).kind, UVSQL_SQLT_UUID);
  ASSERT_INT_EQ(uvsql_column_type(uvsql_table_column(t, "doc")).kind, UVSQL_SQLT_JSON);
  uvsql_metadata_free(md);
  core_close(&c);
}

TEST(uuid_and_json_columns_reflect_as_themselves_pg) {
  uuid_and_json_columns_reflect_as_themselves(test_pg_url());
}
TEST(uuid_and_json_columns_reflect_as_themselves_mariadb) {
  uuid_and_json_columns_reflect_as_themselves(test_mariadb_url());
}
TEST(uuid_and_json_columns_reflect_as_themselves_sqlite) {
  uuid_and_json_columns_reflect_as_themselves(test_sqlite_url());
}

/* A text that is not a UUID: the getter says so; a BYTES cell of another length too. */
static void malformed_uuid_text_is_edata(const char *url) {
  fixture_t fx = fixture_open(url, NULL);
  uvsql_param_t p[] = {UVSQL_P_TEXT("t", "not-a-uuid"), UVSQL_P_BYTES("b", "abc", 3),
                       UVSQL_P_TEXT("c", "A0EEBC999C0B4EF8BB6D6BB9BD380A11")};
  uvsql_result_t *r = query(&fx, "SELECT :t AS t, :b AS b, :c AS c", p, 3);
  uvsql_uuid_t id = max_id;
  ASSERT_ERR(uvsql_result_uuid(r, 0, 0, &id), UVSQL_EDATA);
  ASSERT_STR_EQ(uvsql_result_last_error(r), "column \"t\" holds text \"not-a-uuid\", which is not "
                                            "a UUID (8-4-4-4-12 hex digits, or 32 without "
                                            "hyphens)");
  ASSERT(memcmp(&id, &max_id, 16) == 0);
  ASSERT_ERR(uvsql_result_uuid(r, 0, 1, &id), UVSQL_EDATA);
  ASSERT_STR_EQ(uvsql_result_last_error(r),
                "column \"b\" holds 3 bytes, which is not a UUID (16 bytes)");
  ASSERT_OK(uvsql_result_uuid(r, 0, 2, &id), NULL); /* the compact form is read */
  ASSERT(memcmp(&id, &some_id, 16) == 0);
  uvsql_result_free(r);
  fixture_close(&fx);
}

TEST(malformed_uuid_text_is_edata_pg) {
  malformed_uuid_text_is_edata(test_pg_url());
}
TEST(malformed_uuid_text_is_edata_mariadb) {
  malformed_uuid_text_is_edata(test_mariadb_url());
}
TEST(malformed_uuid_text_is_edata_sqlite) {
  malformed_uuid_text_is_edata(test_sqlite_url());
}

static char *read_doc(core_t *c, const uvsql_uuid_t *id) {
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_col(c->t, "doc"));
  uvsql_select_from(s, c->t);
  uvsql_select_where(s, uvsql_eq(s, uvsql_col(c->t, "id"), uvsql_bindparam(s, "id")));
  uvsql_param_t p[] = {UVSQL_P_UUID("id", id)};
  uvsql_result_t *r = run_core(&c->fx, s, p, 1);
  const char *text;
  size_t len;
  ASSERT_INT_EQ(uvsql_result_nrows(r), 1);
  ASSERT_INT_EQ(uvsql_result_coltype(r, 0), UVSQL_TYPE_JSON);
  ASSERT_INT_EQ(uvsql_result_value(r, 0, 0)->type, UVSQL_TYPE_JSON);
  ASSERT_OK(uvsql_result_text(r, 0, 0, &text, &len), NULL);
  ASSERT_INT_EQ(strlen(text), len);
  char *copy = strdup(text);
  uvsql_result_free(r);
  return copy;
}

/* MariaDB's JSON columns check json_valid(), which refuses documents nested 32 levels deep or
 * more: there the 50-deep document goes through a SELECT of the parameter, and the column
 * is shown to refuse it with the server's own error. */
static void json_round_trips_unicode_escapes_and_nesting(const char *url) {
  core_t c = core_open(url);
  int mariadb = !strcmp(c.dialect, "mariadb");
  char *deep = nested(50), *d31 = nested(31);
  insert_row(&c, &nil_id, unicode_doc);
  insert_row(&c, &max_id, mariadb ? d31 : deep);
  insert_row(&c, &some_id, "12"); /* SQLite's NUMERIC affinity keeps it as the integer 12 */
  char *got = read_doc(&c, &nil_id);
  ASSERT_STR_EQ(got, unicode_doc);
  free(got);
  got = read_doc(&c, &some_id);
  ASSERT_STR_EQ(got, "12");
  free(got);
  got = read_doc(&c, &max_id);
  ASSERT_STR_EQ(got, mariadb ? d31 : deep);
  free(got);
  /* the 50-deep document as a parameter and back, on every backend */
  uvsql_param_t p[] = {UVSQL_P_JSON("d", deep)};
  uvsql_result_t *r = query(&c.fx, "SELECT :d AS d", p, 1);
  const char *text;
  ASSERT_OK(uvsql_result_text(r, 0, 0, &text, NULL), NULL);
  ASSERT_STR_EQ(text, deep);
  uvsql_result_free(r);
  if (mariadb) {
    static const uvsql_uuid_t fresh = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}};
    uvsql_param_t q[] = {UVSQL_P_UUID("id", &fresh), UVSQL_P_JSON("doc", deep)};
    uvsql_core_stmt_t *ins = uvsql_insert(c.t);
    uvsql_insert_columns(ins, UVSQL_NAMES("id", "other", "doc"));
    uvsql_insert_values(ins, uvsql_bindparam(ins, "id"), uvsql_lit_null(ins),
                        uvsql_bindparam(ins, "doc"));
    uvsql_future_t *f = uvsql_engine_execute_core(c.fx.engine, ins, q, 2, NULL, NULL);
    uvsql_core_stmt_free(ins);
    const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EINTEGRITY);
    ASSERT_STR_CONTAINS(e->message, "CONSTRAINT");
    uvsql_future_unref(f);
  }
  free(deep);
  free(d31);
  core_close(&c);
}

TEST(json_round_trips_unicode_escapes_and_nesting_pg) {
  json_round_trips_unicode_escapes_and_nesting(test_pg_url());
}
TEST(json_round_trips_unicode_escapes_and_nesting_mariadb) {
  json_round_trips_unicode_escapes_and_nesting(test_mariadb_url());
}
TEST(json_round_trips_unicode_escapes_and_nesting_sqlite) {
  json_round_trips_unicode_escapes_and_nesting(test_sqlite_url());
}

static void invalid_json_is_refused_before_the_server(const char *url) {
  core_t c = core_open(url);
  static const struct {
    const char *doc;
    const char *message;
  } bad[] = {
      {"{\"a\": }", "parameter 3 is not a JSON document: invalid JSON at byte 6 of 7: expected a "
                    "value (an object, array, string, number, true, false or null)"},
      {"\"\xff\"", "parameter 3 is not a JSON document: invalid JSON at byte 1 of 3: invalid "
                   "UTF-8 (a byte that cannot start a character)"},
      {"{\"a\": 1} x", "parameter 3 is not a JSON document: invalid JSON at byte 9 of 10: text "
                       "after the JSON value (a document holds one value)"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uvsql_core_stmt_t *s = uvsql_insert(c.t);
    uvsql_insert_columns(s, UVSQL_NAMES("id", "other", "doc"));
    uvsql_insert_values(s, uvsql_bindparam(s, "id"), uvsql_bindparam(s, "other"),
                        uvsql_bindparam(s, "doc"));
    uvsql_param_t p[] = {UVSQL_P_UUID("id", &some_id), UVSQL_P_NULL("other"),
                         UVSQL_P_JSON("doc", bad[i].doc)};
    uvsql_future_t *f = uvsql_engine_execute_core(c.fx.engine, s, p, 3, NULL, NULL);
    uvsql_core_stmt_free(s);
    const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EDATA);
    ASSERT_STR_EQ(e->message, bad[i].message);
    ASSERT_STR_EQ(e->sqlstate, ""); /* ours, not a server's */
    uvsql_future_unref(f);
  }
  /* a text statement too */
  uvsql_param_t p[] = {UVSQL_P_JSON("d", "[1, 2")};
  uvsql_future_t *f = uvsql_engine_execute_sql(c.fx.engine, "SELECT :d", p, 1, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EDATA);
  ASSERT_STR_EQ(e->message, "parameter 1 is not a JSON document: invalid JSON at byte 5 of 5: "
                            "expected ',' or ']' in an array");
  uvsql_future_unref(f);
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", uvsql_table_name(c.t));
  ASSERT_INT_EQ(query_int(&c.fx, sql), 0);
  core_close(&c);
}

TEST(invalid_json_is_refused_before_the_server_pg) {
  invalid_json_is_refused_before_the_server(test_pg_url());
}
TEST(invalid_json_is_refused_before_the_server_mariadb) {
  invalid_json_is_refused_before_the_server(test_mariadb_url());
}
TEST(invalid_json_is_refused_before_the_server_sqlite) {
  invalid_json_is_refused_before_the_server(test_sqlite_url());
}

/* One cell of SELECT expr FROM t WHERE id = nil, as text ("NULL" for SQL NULL). */
static char *get_one(core_t *c, uvsql_core_stmt_t *s) {
  uvsql_select_from(s, c->t);
  uvsql_select_where(s, uvsql_eq(s, uvsql_col(c->t, "id"), uvsql_bindparam(s, "id")));
  uvsql_param_t p[] = {UVSQL_P_UUID("id", &nil_id)};
  uvsql_result_t *r = run_core(&c->fx, s, p, 1);
  const char *text = "NULL";
  ASSERT_INT_EQ(uvsql_result_nrows(r), 1);
  if (!uvsql_result_is_null(r, 0, 0))
    ASSERT_OK(uvsql_result_text(r, 0, 0, &text, NULL), NULL);
  char *copy = strdup(text);
  uvsql_result_free(r);
  return copy;
}

static void expect_get(core_t *c, uvsql_value_t key, int as_text, const char *want) {
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_expr_t *doc = uvsql_col(c->t, "doc");
  uvsql_select_cols(s, as_text ? uvsql_json_get_text(s, doc, key) : uvsql_json_get(s, doc, key));
  char *got = get_one(c, s);
  ASSERT_STR_EQ(got, want);
  free(got);
}

static void json_get_and_get_text_on_the_server(const char *url) {
  core_t c = core_open(url);
  int sqlite = !strcmp(c.dialect, "sqlite");
  insert_row(&c, &nil_id,
             "{\"name\": \"ann ☃\", \"a.b\": \"dotted\", \"$x\": \"dollar\", \"q\\\"x\": "
             "\"quoted\", \"tags\": [\"x\", \"y\", \"z\"], \"n\": {\"k\": \"v\"}}");
  insert_row(&c, &max_id, "{\"name\": \"bob\"}");
  expect_get(&c, UVSQL_V_TEXT("name"), 1, "ann ☃");
  expect_get(&c, UVSQL_V_TEXT("name"), 0, "\"ann ☃\"");
  expect_get(&c, UVSQL_V_TEXT("a.b"), 1, "dotted");
  expect_get(&c, UVSQL_V_TEXT("$x"), 1, "dollar");
  expect_get(&c, UVSQL_V_TEXT("missing"), 1, "NULL");
  expect_get(&c, UVSQL_V_TEXT("n"), 0, sqlite ? "{\"k\":\"v\"}" : "{\"k\": \"v\"}");
  expect_get(&c, UVSQL_V_TEXT("tags"), 0, sqlite ? "[\"x\",\"y\",\"z\"]" : "[\"x\", \"y\", \"z\"]");
  if (!sqlite)
    expect_get(&c, UVSQL_V_TEXT("q\"x"), 1, "quoted");
  /* nested: tags[1], tags[-1], n.k */
  uvsql_core_stmt_t *s = uvsql_select_new();
  uvsql_select_cols(
      s, uvsql_json_get_text(s, uvsql_json_get(s, uvsql_col(c.t, "doc"), UVSQL_V_TEXT("tags")),
                             UVSQL_V_INT64(1)));
  char *got = get_one(&c, s);
  ASSERT_STR_EQ(got, "y");
  free(got);
  s = uvsql_select_new();
  uvsql_select_cols(
      s, uvsql_json_get_text(s, uvsql_json_get(s, uvsql_col(c.t, "doc"), UVSQL_V_TEXT("tags")),
                             UVSQL_V_INT64(-1)));
  got = get_one(&c, s);
  ASSERT_STR_EQ(got, "z");
  free(got);
  s = uvsql_select_new();
  uvsql_select_cols(
      s, uvsql_json_get_text(s, uvsql_json_get(s, uvsql_col(c.t, "doc"), UVSQL_V_TEXT("n")),
                             UVSQL_V_TEXT("k")));
  got = get_one(&c, s);
  ASSERT_STR_EQ(got, "v");
  free(got);
  /* in a WHERE: the rows whose name is bob */
  s = uvsql_select_new();
  uvsql_select_cols(s, uvsql_col(c.t, "id"));
  uvsql_select_from(s, c.t);
  uvsql_select_where(
      s, uvsql_eq(s, uvsql_json_get_text(s, uvsql_col(c.t, "doc"), UVSQL_V_TEXT("name")),
                  uvsql_bindparam(s, "name")));
  uvsql_param_t p[] = {UVSQL_P_TEXT("name", "bob")};
  uvsql_result_t *r = run_core(&c.fx, s, p, 1);
  uvsql_uuid_t id;
  ASSERT_INT_EQ(uvsql_result_nrows(r), 1);
  ASSERT_OK(uvsql_result_uuid(r, 0, 0, &id), NULL);
  ASSERT(memcmp(&id, &max_id, 16) == 0);
  uvsql_result_free(r);
  core_close(&c);
}

TEST(json_get_and_get_text_on_the_server_pg) {
  json_get_and_get_text_on_the_server(test_pg_url());
}
TEST(json_get_and_get_text_on_the_server_mariadb) {
  json_get_and_get_text_on_the_server(test_mariadb_url());
}
TEST(json_get_and_get_text_on_the_server_sqlite) {
  json_get_and_get_text_on_the_server(test_sqlite_url());
}

/* ------------------------------------------------------------------ the ORM */

#define THING_FIELDS(X)                                                                            \
  X(id, UUID, UVSQL_PRIMARY_KEY)                                                                   \
  X(owner, UUID, 0)                                                                                \
  X(doc, JSON, 0)
UVSQL_MODEL(thing_t, "uj_thing", THING_FIELDS)

typedef struct {
  fixture_t fx;
  uvsql_registry_t *reg;
  uvsql_mapper_t *things;
  char name[64];
  int inserts; /* INSERT statements in the echo log */
} orm_t;

static void count_inserts(void *data, const char *line) {
  if (!strncmp(line, "INSERT", 6))
    ((orm_t *)data)->inserts++;
}

static orm_t *orm_open(const char *url) {
  orm_t *o = calloc(1, sizeof *o);
  uvsql_error_t err;
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.echo = 1;
  opt.log_cb = count_inserts;
  opt.log_data = o;
  o->fx = fixture_open(url, &opt);
  snprintf(o->name, sizeof o->name, "%s", test_unique_name("uj_thing"));
  o->reg = uvsql_registry_new(NULL);
  o->things = uvsql_registry_map_table(o->reg, thing_t_model(), o->name, &err);
  ASSERT(o->things);
  await_free(uvsql_metadata_create_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  return o;
}

static void orm_close(orm_t *o) {
  await_free(uvsql_metadata_drop_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  uvsql_registry_free(o->reg);
  fixture_close(&o->fx);
  free(o);
}

static uvsql_session_t *session(orm_t *o) {
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, o->fx.engine, o->reg, NULL), (uvsql_error_t *)NULL);
  return s;
}

static thing_t *new_thing(orm_t *o, const uvsql_uuid_t *id, const uvsql_uuid_t *owner,
                          const char *doc) {
  thing_t *t = uvsql_orm_new(o->things);
  uvsql_error_t err;
  ASSERT_OK(uvsql_orm_set_uuid(t, &t->id, id), NULL);
  if (owner)
    ASSERT_OK(uvsql_orm_set_uuid(t, &t->owner, owner), NULL);
  else /* unset, it would be stored as it is: the nil UUID */
    ASSERT_OK(uvsql_orm_set_null(t, &t->owner, 1), NULL);
  ASSERT_OK(uvsql_orm_set_json(t, &t->doc, doc, &err), &err);
  return t;
}

static thing_t *get_thing(uvsql_session_t *s, orm_t *o, const uvsql_uuid_t *id,
                          uvsql_future_t **fout) {
  uvsql_value_t key = uvsql_v_uuid(id);
  uvsql_future_t *f = uvsql_session_get(s, o->things, &key, 1, NULL, NULL);
  thing_t *t = AWAIT_OK(f);
  *fout = f;
  return t;
}

static void uuid_keys_and_json_fields_round_trip_through_the_orm(const char *url) {
  orm_t *o = orm_open(url);
  int mariadb = !strcmp(dialect_of(url), "mariadb");
  char *deep = nested(mariadb ? 31 : 50);
  uvsql_session_t *s = session(o);
  thing_t *a = new_thing(o, &nil_id, &max_id, unicode_doc);
  thing_t *b = new_thing(o, &max_id, NULL, deep);
  ASSERT_OK(uvsql_session_add(s, a), NULL);
  ASSERT_OK(uvsql_session_add(s, b), NULL);
  await_free(uvsql_session_commit(s, NULL, NULL));
  /* the identity map is keyed by the UUID: a get in the same session is the same object */
  uvsql_future_t *f;
  ASSERT(get_thing(s, o, &max_id, &f) == b);
  uvsql_future_unref(f);
  await_free(uvsql_session_close(s, NULL, NULL));

  s = session(o);
  thing_t *a2 = get_thing(s, o, &nil_id, &f);
  uvsql_future_unref(f);
  ASSERT(a2 != NULL);
  ASSERT(memcmp(&a2->id, &nil_id, 16) == 0);
  ASSERT(memcmp(&a2->owner, &max_id, 16) == 0);
  ASSERT_STR_EQ(a2->doc, unicode_doc);
  thing_t *b2 = get_thing(s, o, &max_id, &f);
  uvsql_future_unref(f);
  ASSERT(memcmp(&b2->id, &max_id, 16) == 0);
  ASSERT(uvsql_orm_is_null(b2, &b2->owner));
  ASSERT_STR_EQ(b2->doc, deep);
  ASSERT(get_thing(s, o, &nil_id, &f) == a2); /* from the identity map */
  uvsql_future_unref(f);
  /* change the UUID and the document; one flush writes both */
  uvsql_error_t err;
  ASSERT_OK(uvsql_orm_set_uuid(b2, &b2->owner, &some_id), NULL);
  ASSERT_OK(uvsql_orm_set_json(b2, &b2->doc, "{\"v\": 2}", &err), &err);
  ASSERT(uvsql_session_is_modified(s, b2));
  await_free(uvsql_session_commit(s, NULL, NULL));
  await_free(uvsql_session_close(s, NULL, NULL));

  s = session(o);
  b2 = get_thing(s, o, &max_id, &f);
  uvsql_future_unref(f);
  ASSERT(memcmp(&b2->owner, &some_id, 16) == 0);
  ASSERT_STR_EQ(b2->doc, "{\"v\": 2}");
  await_free(uvsql_session_close(s, NULL, NULL));
  free(deep);
  orm_close(o);
}

TEST(uuid_keys_and_json_fields_round_trip_through_the_orm_pg) {
  uuid_keys_and_json_fields_round_trip_through_the_orm(test_pg_url());
}
TEST(uuid_keys_and_json_fields_round_trip_through_the_orm_mariadb) {
  uuid_keys_and_json_fields_round_trip_through_the_orm(test_mariadb_url());
}
TEST(uuid_keys_and_json_fields_round_trip_through_the_orm_sqlite) {
  uuid_keys_and_json_fields_round_trip_through_the_orm(test_sqlite_url());
}

/* A broken document in a JSON field: the setter refuses it; assigned directly, the flush
 * refuses it before it sends anything, naming the field. */
static void invalid_json_field_fails_the_flush_before_any_sql(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  thing_t *t = new_thing(o, &some_id, NULL, "[]");
  uvsql_error_t err;
  ASSERT_ERR(uvsql_orm_set_json(t, &t->doc, "{\"a\" 1}", &err), UVSQL_EDATA);
  ASSERT_STR_EQ(err.message, "thing_t.doc: invalid JSON at byte 5 of 7: expected ':' after an "
                             "object key");
  ASSERT_STR_EQ(t->doc, "[]");                            /* unchanged */
  ASSERT_OK(uvsql_orm_set_text(t, &t->doc, "[1,"), NULL); /* unchecked: the flush checks */
  ASSERT_OK(uvsql_session_add(s, t), NULL);
  o->inserts = 0;
  uvsql_future_t *f = uvsql_session_commit(s, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EDATA);
  ASSERT_STR_EQ(e->message, "flush: thing_t.doc is not a JSON document: invalid JSON at byte 3 "
                            "of 3: expected a value, found the end of the document");
  uvsql_future_unref(f);
  ASSERT_INT_EQ(o->inserts, 0);
  await_free(uvsql_session_close(s, NULL, NULL));
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", o->name);
  ASSERT_INT_EQ(query_int(&o->fx, sql), 0);
  orm_close(o);
}

TEST(invalid_json_field_fails_the_flush_before_any_sql_pg) {
  invalid_json_field_fails_the_flush_before_any_sql(test_pg_url());
}
TEST(invalid_json_field_fails_the_flush_before_any_sql_mariadb) {
  invalid_json_field_fails_the_flush_before_any_sql(test_mariadb_url());
}
TEST(invalid_json_field_fails_the_flush_before_any_sql_sqlite) {
  invalid_json_field_fails_the_flush_before_any_sql(test_sqlite_url());
}
