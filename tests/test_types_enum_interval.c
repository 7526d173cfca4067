/* tests/test_types_enum_interval.c — ENUM, INTERVAL and TIMESTAMPTZ columns on PostgreSQL,
 * MariaDB and SQLite, through Core (create_all, parameters, getters) and the ORM (fields,
 * setters, flush, load):
 *   - every label of an enum (quotes, a backslash, a comma, unicode) goes in and comes back,
 *     as its index; an unknown label is refused by the server (PostgreSQL 22P02, MariaDB 1265
 *     in strict mode, SQLite's CHECK) and by the getter (UVSQL_EDATA naming label, column and
 *     type); PostgreSQL's CREATE TYPE runs once per type, create_all twice is fine, drop_all
 *     drops the type;
 *   - intervals with months, days and negative parts keep each part (PostgreSQL: binary and
 *     text results; MariaDB and SQLite: ISO 8601 text);
 *   - timestamptz values before 1970 and across a DST change are the same UTC microseconds
 *     whatever the session's time zone (PostgreSQL Europe/Berlin and America/St_Johns, text
 *     and binary results; MariaDB with a session time_zone of +05:30).
 * Table and type names are unique per run, so the servers can be shared. */
#include <libpq-fe.h>
#include "backend.h"
#include "uvsql/orm.h"
#include "uvsql/sql.h"
#include "dialects/postgresql/pg.h" /* uvsql__pg_decode: a result in a chosen format */
#include "sql/dialect.h"            /* uvsql__enum_type_ddl: PostgreSQL's CREATE TYPE */

static const char *const labels[] = {"sad", "ok", "it's", "back\\slash", "a,b \"q\"", "ünï"};
#define NLABELS 6

/* The enum type with a per-run name (PostgreSQL types are shared by the database). */
static uvsql_enum_type_t mood;

static void init_mood(void) {
  static char name[64];
  snprintf(name, sizeof name, "%s", test_unique_name("ei_mood"));
  mood.name = name;
  mood.labels = labels;
  mood.nlabels = NLABELS;
}

static int is_pg(const char *url) {
  return strncmp(url, "postgres", 8) == 0;
}
static int is_mariadb(const char *url) {
  return strncmp(url, "mariadb", 7) == 0 || strncmp(url, "mysql", 5) == 0;
}

typedef struct {
  fixture_t fx;
  uvsql_metadata_t *md;
  uvsql_table_t *t;
  char name[64];
} core_t;

static core_t core_open(const char *url) {
  core_t c;
  init_mood();
  c.fx = fixture_open(url, NULL);
  snprintf(c.name, sizeof c.name, "%s", test_unique_name("ei_t"));
  c.md = uvsql_metadata_new();
  c.t = uvsql_table(c.md, c.name);
  uvsql_column(c.t, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY | UVSQL_NO_AUTOINCREMENT);
  uvsql_column(c.t, "mood", UVSQL_SQL_ENUM(&mood), 0);
  uvsql_column(c.t, "iv", UVSQL_SQL_INTERVAL, 0);
  uvsql_column(c.t, "ts", UVSQL_SQL_TIMESTAMPTZ, 0);
  ASSERT(uvsql_metadata_error(c.md) == NULL);
  uvsql_future_t *f = uvsql_metadata_create_all(c.md, c.fx.engine, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  return c;
}

static void core_close(core_t *c) {
  uvsql_future_t *f = uvsql_metadata_drop_all(c->md, c->fx.engine, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  uvsql_metadata_free(c->md);
  fixture_close(&c->fx);
}

/* Runs sql with params and returns the error it failed with (copied). */
static uvsql_error_t exec_err(fixture_t *fx, const char *sql, const uvsql_param_t *p, size_t n,
                              int code) {
  uvsql_future_t *f = uvsql_engine_execute_sql(fx->engine, sql, p, n, NULL, NULL);
  uvsql_error_t e = *AWAIT_ERR(f, code);
  uvsql_future_unref(f);
  return e;
}

static void exec_params(fixture_t *fx, const char *sql, const uvsql_param_t *p, size_t n) {
  uvsql_result_t *r = query(fx, sql, p, n);
  uvsql_result_free(r);
}

/* ------------------------------------------------------------------ ENUM through Core */

static void enum_core(const char *url) {
  core_t c = core_open(url);
  char sql[256];
  if (is_pg(url)) { /* a second create_all finds the type and the table there: no error */
    uvsql_future_t *f = uvsql_metadata_create_all(c.md, c.fx.engine, NULL, NULL);
    AWAIT_OK(f);
    uvsql_future_unref(f);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_type WHERE typname = '%s'", mood.name);
    ASSERT_INT_EQ(query_int(&c.fx, sql), 1);
  }
  snprintf(sql, sizeof sql, "INSERT INTO %s (id, mood) VALUES (:id, :mood)", c.name);
  for (int i = 0; i < NLABELS; i++) {
    uvsql_param_t p[] = {UVSQL_P_INT64("id", i), UVSQL_P_ENUM("mood", labels[i])};
    exec_params(&c.fx, sql, p, 2);
  }
  snprintf(sql, sizeof sql, "SELECT mood FROM %s ORDER BY id", c.name);
  for (int pass = 0; pass < 2; pass++) { /* PostgreSQL: text results, then binary */
    uvsql_result_t *r = query(&c.fx, sql, NULL, 0);
    ASSERT_INT_EQ(uvsql_result_nrows(r), NLABELS);
    for (int i = 0; i < NLABELS; i++) {
      int index = -1;
      const char *text;
      ASSERT_OK(uvsql_result_enum(r, (size_t)i, 0, &mood, &index), (uvsql_error_t *)NULL);
      ASSERT_INT_EQ(index, i);
      ASSERT_OK(uvsql_result_text(r, (size_t)i, 0, &text, NULL), (uvsql_error_t *)NULL);
      ASSERT_STR_EQ(text, labels[i]);
    }
    uvsql_result_free(r);
  }

  /* an unknown label: the getter names the label, the column and the type */
  uvsql_result_t *r = query(&c.fx, "SELECT 'angry' AS mood", NULL, 0);
  int index = 42;
  ASSERT_ERR(uvsql_result_enum(r, 0, 0, &mood, &index), UVSQL_EDATA);
  ASSERT_INT_EQ(index, 42);
  char want[200];
  snprintf(want, sizeof want,
           "column \"mood\" holds \"angry\", which is not a label of enum type %s (6 labels)",
           mood.name);
  ASSERT_STR_CONTAINS(uvsql_result_last_error(r), want);
  uvsql_result_free(r);

  /* ... and the server refuses to store it */
  snprintf(sql, sizeof sql, "INSERT INTO %s (id, mood) VALUES (:id, :mood)", c.name);
  uvsql_param_t bad[] = {UVSQL_P_INT64("id", 100), UVSQL_P_ENUM("mood", "angry")};
  if (is_pg(url)) {
    uvsql_error_t e = exec_err(&c.fx, sql, bad, 2, UVSQL_EDATA);
    ASSERT_STR_EQ(e.sqlstate, "22P02");
    ASSERT_STR_CONTAINS(e.message, "invalid input value for enum");
    ASSERT_STR_CONTAINS(e.message, "\"angry\"");
  } else if (is_mariadb(url)) {
    uvsql_error_t e = exec_err(&c.fx, sql, bad, 2, UVSQL_EDATA);
    ASSERT_INT_EQ(e.native_code, 1265);
    ASSERT_STR_CONTAINS(e.message, "Data truncated for column 'mood'");
  } else {
    uvsql_error_t e = exec_err(&c.fx, sql, bad, 2, UVSQL_EINTEGRITY);
    ASSERT_STR_CONTAINS(e.message, "CHECK constraint failed");
  }
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", c.name);
  ASSERT_INT_EQ(query_int(&c.fx, sql), NLABELS);

  core_close(&c);
  if (is_pg(url)) { /* drop_all dropped the type after the table */
    fixture_t fx = fixture_open(url, NULL);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_type WHERE typname = '%s'", mood.name);
    ASSERT_INT_EQ(query_int(&fx, sql), 0);
    fixture_close(&fx);
  }
}

TEST(enum_core_pg) {
  enum_core(test_pg_url());
}
TEST(enum_core_mariadb) {
  enum_core(test_mariadb_url());
}
TEST(enum_core_sqlite) {
  enum_core(test_sqlite_url());
}

/* The DDL each dialect writes, labels escaped. */
TEST(enum_ddl_per_dialect) {
  static const char *const l[] = {"it's", "back\\slash"};
  static const uvsql_enum_type_t e = {"ei_ddl_mood", l, 2};
  uvsql_metadata_t *md = uvsql_metadata_new();
  uvsql_table_t *t = uvsql_table(md, "ei_ddl");
  uvsql_column(t, "m", UVSQL_SQL_ENUM(&e), UVSQL_NOT_NULL);
  uvsql_core_stmt_t *s = uvsql_create_table(t);
  const char *sql = NULL;
  uvsql_error_t err;
  ASSERT_OK(uvsql_core_compile(s, "mariadb", NULL, 0, &sql, NULL, NULL, &err), &err);
  ASSERT_STR_EQ(sql,
                "CREATE TABLE IF NOT EXISTS ei_ddl (m ENUM('it''s', 'back\\\\slash') NOT NULL)");
  ASSERT_OK(uvsql_core_compile(s, "sqlite", NULL, 0, &sql, NULL, NULL, &err), &err);
  ASSERT_STR_EQ(sql, "CREATE TABLE IF NOT EXISTS ei_ddl (m VARCHAR(10) NOT NULL CHECK (m IN "
                     "('it''s', 'back\\slash')))");
  ASSERT_OK(uvsql_core_compile(s, "postgresql", NULL, 0, &sql, NULL, NULL, &err), &err);
  ASSERT_STR_EQ(sql, "CREATE TABLE IF NOT EXISTS ei_ddl (m ei_ddl_mood NOT NULL)");
  uvsql_core_stmt_free(s);
  /* PostgreSQL's type: idempotent, labels quoted inside the DO block */
  s = uvsql__enum_type_ddl(t, 0, 1);
  ASSERT_OK(uvsql_core_compile(s, "postgresql", NULL, 0, &sql, NULL, NULL, &err), &err);
  ASSERT_STR_EQ(sql, "DO $uvsql$ BEGIN CREATE TYPE ei_ddl_mood AS ENUM ('it''s', 'back\\slash'); "
                     "EXCEPTION WHEN duplicate_object THEN NULL; END $uvsql$");
  ASSERT_ERR(uvsql_core_compile(s, "mariadb", NULL, 0, &sql, NULL, NULL, &err),
             UVSQL_ENOT_SUPPORTED);
  ASSERT_STR_CONTAINS(err.message, "the mariadb dialect has no CREATE TYPE for ENUM ei_ddl_mood");
  uvsql_core_stmt_free(s);

  /* a type without labels is refused when the column is declared */
  static const uvsql_enum_type_t empty = {"ei_empty", l, 0};
  uvsql_column(t, "e", UVSQL_SQL_ENUM(&empty), 0);
  const uvsql_error_t *me = uvsql_metadata_error(md);
  ASSERT(me != NULL);
  ASSERT_INT_EQ(me->code, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_CONTAINS(me->message, "ei_ddl.e: an ENUM needs a uvsql_enum_type_t with a name and "
                                   "at least one label");
  uvsql_metadata_free(md);
}

/* ------------------------------------------------------------------ INTERVAL through Core */

static const uvsql_interval_t intervals[] = {
    {-(INT64_C(4) * 3600 + 5 * 60 + 6) * 1000000 - 500000, -3, 14}, /* 1 year 2 mons -3 days */
    {0, 0, 0},
    {0, 0, -1},
    {1, 0, 0},
    {-1, 1, -25},
    {INT64_C(100) * 3600 * 1000000 + 123456, 45, 1200},
};
#define NIV (sizeof intervals / sizeof intervals[0])

static void interval_core(const char *url) {
  core_t c = core_open(url);
  char sql[256];
  snprintf(sql, sizeof sql, "INSERT INTO %s (id, iv) VALUES (:id, :iv)", c.name);
  for (size_t i = 0; i < NIV; i++) {
    uvsql_param_t p[] = {
        UVSQL_P_INT64("id", (int64_t)i),
        UVSQL_P_INTERVAL("iv", intervals[i].months, intervals[i].days, intervals[i].us)};
    exec_params(&c.fx, sql, p, 2);
  }
  snprintf(sql, sizeof sql, "SELECT iv FROM %s ORDER BY id", c.name);
  for (int pass = 0; pass < 2; pass++) { /* PostgreSQL: text results, then binary */
    uvsql_result_t *r = query(&c.fx, sql, NULL, 0);
    ASSERT_INT_EQ(uvsql_result_nrows(r), NIV);
    for (size_t i = 0; i < NIV; i++) {
      uvsql_interval_t got = {7, 7, 7};
      ASSERT_OK(uvsql_result_interval(r, i, 0, &got), (uvsql_error_t *)NULL);
      ASSERT_INT_EQ(got.months, intervals[i].months);
      ASSERT_INT_EQ(got.days, intervals[i].days);
      ASSERT_INT_EQ(got.us, intervals[i].us);
    }
    uvsql_result_free(r);
  }
  /* what the server stored, as text */
  if (is_pg(url))
    snprintf(sql, sizeof sql, "SELECT iv::text FROM %s WHERE id = 0", c.name);
  else
    snprintf(sql, sizeof sql, "SELECT CAST(iv AS CHAR) FROM %s WHERE id = 0", c.name);
  uvsql_result_t *r = query(&c.fx, sql, NULL, 0);
  const char *text;
  ASSERT_OK(uvsql_result_text(r, 0, 0, &text, NULL), (uvsql_error_t *)NULL);
  ASSERT_STR_EQ(text, is_pg(url) ? "1 year 2 mons -3 days -04:05:06.5" : "P1Y2M-3DT-4H-5M-6.5S");
  uvsql_result_free(r);
  /* text that is no interval: the getter says what it expected */
  r = query(&c.fx, "SELECT 'soon' AS iv", NULL, 0);
  uvsql_interval_t iv = {0, 0, 0};
  ASSERT_ERR(uvsql_result_interval(r, 0, 0, &iv), UVSQL_ETYPE);
  ASSERT_STR_CONTAINS(uvsql_result_last_error(r),
                      "column \"iv\" holds text \"soon\", which is not an ISO 8601 duration");
  uvsql_result_free(r);
  core_close(&c);
}

TEST(interval_core_pg) {
  interval_core(test_pg_url());
}
TEST(interval_core_mariadb) {
  interval_core(test_mariadb_url());
}
TEST(interval_core_sqlite) {
  interval_core(test_sqlite_url());
}

/* The ISO 8601 form, both ways, and what the parser refuses. */
TEST(interval_iso8601_text) {
  char buf[80];
  uvsql_interval_t iv = {-(INT64_C(4) * 3600 + 5 * 60 + 6) * 1000000 - 500000, -3, 14}, back;
  ASSERT_INT_EQ(uvsql_format_interval(&iv, buf, sizeof buf), 20);
  ASSERT_STR_EQ(buf, "P1Y2M-3DT-4H-5M-6.5S");
  uvsql_interval_t zero = {0, 0, 0};
  uvsql_format_interval(&zero, buf, sizeof buf);
  ASSERT_STR_EQ(buf, "PT0S");
  uvsql_interval_t extreme = {INT64_MIN, INT32_MIN, INT32_MIN};
  size_t n = uvsql_format_interval(&extreme, buf, sizeof buf);
  ASSERT(n < 64);
  ASSERT_STR_EQ(buf, "P-178956970Y-8M-2147483648DT-2562047788H-54.775808S");
  ASSERT_OK(uvsql_parse_interval(buf, n, &back), (uvsql_error_t *)NULL);
  ASSERT(back.us == INT64_MIN && back.days == INT32_MIN && back.months == INT32_MIN);
  uvsql_interval_t top = {INT64_MAX, INT32_MAX, INT32_MAX};
  n = uvsql_format_interval(&top, buf, sizeof buf);
  ASSERT_OK(uvsql_parse_interval(buf, n, &back), (uvsql_error_t *)NULL);
  ASSERT(back.us == INT64_MAX && back.days == INT32_MAX && back.months == INT32_MAX);
  for (size_t i = 0; i < NIV; i++) {
    n = uvsql_format_interval(&intervals[i], buf, sizeof buf);
    ASSERT_OK(uvsql_parse_interval(buf, n, &back), (uvsql_error_t *)NULL);
    ASSERT(back.us == intervals[i].us && back.days == intervals[i].days &&
           back.months == intervals[i].months);
  }
  /* other spellings the parser takes */
  ASSERT_OK(uvsql_parse_interval("-P1Y2W", 6, &back), (uvsql_error_t *)NULL);
  ASSERT(back.months == -12 && back.days == -14 && back.us == 0);
  ASSERT_OK(uvsql_parse_interval("PT1,25S", 7, &back), (uvsql_error_t *)NULL);
  ASSERT(back.us == 1250000);
  static const char *const bad[] = {
      "",      "P",     "PT",           "P1",           "1Y",   "P1S",   "PT1D",
      "P1M1Y", "P1.5D", "PT1.1234567S", "P3000000000D", "P1DT", "P1Y x", "PT--1S"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (uvsql_parse_interval(bad[i], strlen(bad[i]), &back) != UVSQL_EDATA)
      FAILF("uvsql_parse_interval accepted \"%s\"", bad[i]);
}

/* PostgreSQL's own text forms (IntervalStyle postgres, the default, and iso_8601) and binary
 * form decode to the same value. */
TEST(interval_pg_text_and_binary) {
  PGconn *pg = PQconnectdb(test_pg_url());
  ASSERT(PQstatus(pg) == CONNECTION_OK);
  static const struct {
    const char *sql;
    uvsql_interval_t want;
  } cases[] = {
      {"SELECT '1 year 2 mons -3 days -04:05:06.5'::interval",
       {-(INT64_C(4) * 3600 + 5 * 60 + 6) * 1000000 - 500000, -3, 14}},
      {"SELECT '-1 days +02:03:00'::interval", {(2 * 3600 + 3 * 60) * INT64_C(1000000), -1, 0}},
      {"SELECT '100 hours 0.000001 seconds'::interval", {INT64_C(360000000001), 0, 0}},
      {"SELECT '-3 years -1 mon'::interval", {0, 0, -37}},
      {"SELECT '0'::interval", {0, 0, 0}},
  };
  for (int style = 0; style < 2; style++) {
    PQclear(PQexec(pg, style ? "SET IntervalStyle = iso_8601" : "SET IntervalStyle = postgres"));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      for (int format = 0; format < 2; format++) {
        PGresult *res = PQexecParams(pg, cases[i].sql, 0, NULL, NULL, NULL, NULL, format);
        ASSERT_INT_EQ(PQresultStatus(res), PGRES_TUPLES_OK);
        uvsql_result_t *r = NULL;
        uvsql_error_t err;
        ASSERT_OK(uvsql__pg_decode(res, &r, &err), &err);
        ASSERT_INT_EQ(uvsql_result_value(r, 0, 0)->type, UVSQL_TYPE_INTERVAL);
        uvsql_interval_t got;
        ASSERT_OK(uvsql_result_interval(r, 0, 0, &got), (uvsql_error_t *)NULL);
        if (got.us != cases[i].want.us || got.days != cases[i].want.days ||
            got.months != cases[i].want.months)
          FAILF("%s (style %d, format %d): {%" PRId64 ", %d, %d}", cases[i].sql, style, format,
                got.us, got.days, got.months);
        uvsql_result_free(r);
      }
    }
  }
  PQfinish(pg);
}

/* ------------------------------------------------------------------ TIMESTAMPTZ */

#define US INT64_C(1000000)
static const int64_t stamps[] = {
    -1,                           /* 1969-12-31 23:59:59.999999 UTC */
    -INT64_C(2208988800) * US,    /* 1900-01-01 00:00:00 UTC: LMT offsets with seconds */
    INT64_C(1711846799) * US,     /* 2024-03-31 00:59:59 UTC: Berlin's last second of CET */
    INT64_C(1711846800) * US,     /* 2024-03-31 01:00:00 UTC: the first of CEST */
    INT64_C(1730595599) * US + 5, /* 2024-11-03 00:59:59.000005 UTC, St. John's DST end */
    INT64_C(1730599200) * US,     /* 2024-11-03 02:00:00 UTC */
    0,
};
#define NSTAMPS (sizeof stamps / sizeof stamps[0])

static void check_stamps(uvsql_result_t *r, const char *what) {
  ASSERT_INT_EQ(uvsql_result_nrows(r), NSTAMPS);
  for (size_t i = 0; i < NSTAMPS; i++) {
    int64_t got = 0;
    ASSERT_OK(uvsql_result_timestamp(r, i, 0, &got), (uvsql_error_t *)NULL);
    if (got != stamps[i])
      FAILF("%s: row %zu: %" PRId64 " != %" PRId64, what, i, got, stamps[i]);
  }
}

static void timestamptz_core(const char *url) {
  core_t c = core_open(url);
  char sql[256];
  snprintf(sql, sizeof sql, "INSERT INTO %s (id, ts) VALUES (:id, :ts)", c.name);
  for (size_t i = 0; i < NSTAMPS; i++) {
    uvsql_param_t p[] = {UVSQL_P_INT64("id", (int64_t)i), UVSQL_P_TIMESTAMPTZ("ts", stamps[i])};
    exec_params(&c.fx, sql, p, 2);
  }
  snprintf(sql, sizeof sql, "SELECT ts FROM %s ORDER BY id", c.name);
  uvsql_conn_t *conn = checkout(&c.fx);
  static const char *const zones[] = {"Europe/Berlin", "America/St_Johns", "UTC"};
  for (size_t z = 0; z < 3; z++) {
    char set[80];
    if (is_pg(url))
      snprintf(set, sizeof set, "SET TimeZone = '%s'", zones[z]);
    else if (is_mariadb(url))
      snprintf(set, sizeof set, "SET time_zone = '%s'", z == 0 ? "+05:30" : "-03:30");
    else
      break;
    conn_exec_ok(conn, set);
    for (int pass = 0; pass < 2; pass++) { /* PostgreSQL: text results, then binary */
      uvsql_future_t *f = uvsql_conn_execute_sql(conn, sql, NULL, 0, NULL, NULL);
      uvsql_result_t *r = AWAIT_OK(f);
      check_stamps(r, zones[z]);
      uvsql_future_unref(f);
    }
  }
  uvsql_conn_release(conn);
  /* the same values, read through a fresh connection in the default zone */
  uvsql_result_t *r = query(&c.fx, sql, NULL, 0);
  check_stamps(r, "default");
  uvsql_result_free(r);
  core_close(&c);
}

TEST(timestamptz_core_pg) {
  timestamptz_core(test_pg_url());
}
TEST(timestamptz_core_mariadb) {
  timestamptz_core(test_mariadb_url());
}
TEST(timestamptz_core_sqlite) {
  timestamptz_core(test_sqlite_url());
}

/* PostgreSQL's text results carry the session's offset: half hours, and seconds for old
 * dates (local mean time); each is read back as UTC, as the binary result is. */
TEST(timestamptz_pg_text_offsets) {
  PGconn *pg = PQconnectdb(test_pg_url());
  ASSERT(PQstatus(pg) == CONNECTION_OK);
  static const char *const zones[] = {"Europe/Berlin", "America/St_Johns", "Asia/Kolkata",
                                      "Europe/Amsterdam"};
  for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
    char set[80];
    snprintf(set, sizeof set, "SET TimeZone = '%s'", zones[z]);
    PQclear(PQexec(pg, set));
    for (size_t i = 0; i < NSTAMPS; i++) {
      char sql[120];
      snprintf(sql, sizeof sql, "SELECT 'epoch'::timestamptz + interval '%" PRId64 " microseconds'",
               stamps[i]);
      for (int format = 0; format < 2; format++) {
        PGresult *res = PQexecParams(pg, sql, 0, NULL, NULL, NULL, NULL, format);
        ASSERT_INT_EQ(PQresultStatus(res), PGRES_TUPLES_OK);
        char text[64] = "";
        if (format == 0)
          snprintf(text, sizeof text, "%s", PQgetvalue(res, 0, 0));
        uvsql_result_t *r = NULL;
        uvsql_error_t err;
        ASSERT_OK(uvsql__pg_decode(res, &r, &err), &err);
        int64_t got = 0;
        ASSERT_OK(uvsql_result_timestamp(r, 0, 0, &got), (uvsql_error_t *)NULL);
        if (got != stamps[i])
          FAILF("%s, format %d, \"%s\": %" PRId64 " != %" PRId64, zones[z], format, text, got,
                stamps[i]);
        uvsql_result_free(r);
      }
    }
  }
  /* the forms asked for: a half-hour offset and an offset with seconds */
  PQclear(PQexec(pg, "SET TimeZone = 'America/St_Johns'"));
  PGresult *res = PQexec(pg, "SELECT '1900-01-01 00:00:00+00'::timestamptz::text");
  ASSERT_STR_EQ(PQgetvalue(res, 0, 0), "1899-12-31 20:29:08-03:30:52");
  PQclear(res);
  res = PQexec(pg, "SELECT '2024-07-01 12:00:00+00'::timestamptz::text");
  ASSERT_STR_EQ(PQgetvalue(res, 0, 0), "2024-07-01 09:30:00-02:30");
  PQclear(res);
  PQfinish(pg);
}

/* ------------------------------------------------------------------ the ORM */

static uvsql_enum_type_t orm_mood; /* the model's type_info: named at run time */

#define EI_FIELDS(X)                                                                               \
  X(id, INT64, UVSQL_PRIMARY_KEY | UVSQL_NO_AUTOINCREMENT)                                         \
  X(mood, ENUM(orm_mood), 0)                                                                       \
  X(iv, INTERVAL, 0)                                                                               \
  X(ts, TIMESTAMPTZ, 0)
UVSQL_MODEL(ei_row_t, "ei_row", EI_FIELDS)

static void orm_roundtrip(const char *url) {
  init_mood();
  orm_mood = mood;
  uvsql_error_t err;
  fixture_t fx = fixture_open(url, NULL);
  uvsql_registry_t *reg = uvsql_registry_new(NULL);
  char table[64];
  snprintf(table, sizeof table, "%s", test_unique_name("ei_orm"));
  uvsql_mapper_t *m = uvsql_registry_map_table(reg, ei_row_t_model(), table, &err);
  ASSERT(m);
  uvsql_future_t *f =
      uvsql_metadata_create_all(uvsql_registry_metadata(reg), fx.engine, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);

  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, fx.engine, reg, NULL), (uvsql_error_t *)NULL);
  for (int i = 0; i < NLABELS; i++) {
    ei_row_t *o = uvsql_orm_new(m);
    o->id = i + 1;
    ASSERT_OK(uvsql_orm_set_enum(o, &o->mood, i), (uvsql_error_t *)NULL);
    ASSERT_OK(uvsql_orm_set_interval(o, &o->iv, intervals[(size_t)i % NIV]), (uvsql_error_t *)NULL);
    ASSERT_OK(uvsql_orm_set_int64(o, &o->ts, stamps[(size_t)i % NSTAMPS]), (uvsql_error_t *)NULL);
    /* an index out of range is refused and leaves the field as it was */
    ASSERT_ERR(uvsql_orm_set_enum(o, &o->mood, NLABELS), UVSQL_EINVALID_ARGUMENT);
    ASSERT_ERR(uvsql_orm_set_enum(o, &o->mood, -1), UVSQL_EINVALID_ARGUMENT);
    ASSERT_INT_EQ(o->mood, i);
    ASSERT_OK(uvsql_session_add(s, o), (uvsql_error_t *)NULL);
  }
  f = uvsql_session_commit(s, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  f = uvsql_session_close(s, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);

  /* a new session loads them back; a change of each kind is flushed as an UPDATE */
  ASSERT_OK(uvsql_session_new(&s, fx.engine, reg, NULL), (uvsql_error_t *)NULL);
  for (int i = 0; i < NLABELS; i++) {
    f = uvsql_session_get_int(s, m, i + 1, NULL, NULL);
    ei_row_t *o = AWAIT_OK(f);
    uvsql_future_unref(f);
    ASSERT(o);
    ASSERT_INT_EQ(o->mood, i);
    const uvsql_interval_t *want = &intervals[(size_t)i % NIV];
    ASSERT(o->iv.months == want->months && o->iv.days == want->days && o->iv.us == want->us);
    ASSERT_INT_EQ(o->ts, stamps[(size_t)i % NSTAMPS]);
    ASSERT_INT_EQ(uvsql_session_is_modified(s, o), 0);
    ASSERT_OK(uvsql_orm_set_enum(o, &o->mood, (i + 1) % NLABELS), (uvsql_error_t *)NULL);
    o->iv.days += 1;
    ASSERT_INT_EQ(uvsql_session_is_modified(s, o), 1);
  }
  f = uvsql_session_commit(s, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  f = uvsql_session_close(s, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);

  char sql[160];
  snprintf(sql, sizeof sql, "SELECT mood, iv FROM %s ORDER BY id", table);
  uvsql_result_t *r = query(&fx, sql, NULL, 0);
  for (int i = 0; i < NLABELS; i++) {
    int index;
    uvsql_interval_t iv;
    ASSERT_OK(uvsql_result_enum(r, (size_t)i, 0, &orm_mood, &index), (uvsql_error_t *)NULL);
    ASSERT_INT_EQ(index, (i + 1) % NLABELS);
    ASSERT_OK(uvsql_result_interval(r, (size_t)i, 1, &iv), (uvsql_error_t *)NULL);
    ASSERT_INT_EQ(iv.days, intervals[(size_t)i % NIV].days + 1);
  }
  uvsql_result_free(r);

  /* a label the C enum does not know: loading it is UVSQL_EDATA naming it */
  static const char *const fewer[] = {"sad", "ok"};
  orm_mood.labels = fewer;
  orm_mood.nlabels = 2;
  ASSERT_OK(uvsql_session_new(&s, fx.engine, reg, NULL), (uvsql_error_t *)NULL);
  f = uvsql_session_get_int(s, m, 3, NULL, NULL); /* now labels[3], "back\slash" */
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EDATA);
  ASSERT_STR_CONTAINS(e->message, "holds \"back\\slash\", which is not a label of enum type");
  ASSERT_STR_CONTAINS(e->message, "field ei_row_t.mood of kind ENUM");
  uvsql_future_unref(f);
  f = uvsql_session_close(s, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  orm_mood = mood;

  f = uvsql_metadata_drop_all(uvsql_registry_metadata(reg), fx.engine, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  uvsql_registry_free(reg);
  fixture_close(&fx);
}

TEST(enum_interval_timestamptz_orm_pg) {
  orm_roundtrip(test_pg_url());
}
TEST(enum_interval_timestamptz_orm_mariadb) {
  orm_roundtrip(test_mariadb_url());
}
TEST(enum_interval_timestamptz_orm_sqlite) {
  orm_roundtrip(test_sqlite_url());
}
