/* tests/orm_ev_fixture.h — the model and fixture of the ORM events / merge / stream tests
 * (test_orm_events.c, test_orm_merge.c, test_orm_stream.c): an oev_item table (unique name
 * per test) on an engine whose echo log is captured (orm_fixture.h's sqllog_t), created on
 * open and dropped on close, plus a filler that inserts n rows with one SQL statement. */
#ifndef UVSQL_TEST_ORM_EV_FIXTURE_H
#define UVSQL_TEST_ORM_EV_FIXTURE_H

#include "orm_fixture.h"

#define EV_ITEM_FIELDS(X)                                                                          \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(40), UVSQL_NOT_NULL)                                                              \
  X(qty, INT64, 0)                                                                                 \
  X(updated_at, INT64, 0)
UVSQL_MODEL(ev_item_t, "oev_item", EV_ITEM_FIELDS)

typedef struct {
  fixture_t fx;
  sqllog_t log;
  uvsql_registry_t *reg;
  uvsql_mapper_t *items;
  char ti[64];
} evfx_t;

static inline evfx_t *evfx_open(const char *url) {
  evfx_t *e = calloc(1, sizeof *e);
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  uvsql_error_t err;
  opt.echo = 1;
  opt.log_cb = log_line;
  opt.log_data = &e->log;
  e->fx = fixture_open(url, &opt);
  snprintf(e->ti, sizeof e->ti, "%s", test_unique_name("oev_item"));
  e->reg = uvsql_registry_new(NULL);
  e->items = uvsql_registry_map_table(e->reg, ev_item_t_model(), e->ti, &err);
  ASSERT(e->items);
  await_ok(uvsql_metadata_create_all(uvsql_registry_metadata(e->reg), e->fx.engine, NULL, NULL));
  log_clear(&e->log);
  return e;
}

static inline void evfx_close(evfx_t *e) {
  await_ok(uvsql_metadata_drop_all(uvsql_registry_metadata(e->reg), e->fx.engine, NULL, NULL));
  uvsql_registry_free(e->reg);
  log_clear(&e->log);
  fixture_close(&e->fx);
  free(e);
}

static inline uvsql_session_t *evsession(evfx_t *e) {
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, e->fx.engine, e->reg, NULL), (uvsql_error_t *)NULL);
  return s;
}

static inline void evsession_close(uvsql_session_t *s) {
  await_ok(uvsql_session_close(s, NULL, NULL));
}

/* Rows 1..n: name 'n<id>', qty id, updated_at 0 (one INSERT ... SELECT; the numbers are three
 * digits of base 1000 from a recursive CTE of 1000 rows, as MariaDB allows 1000 iterations). */
static inline void evfx_fill(evfx_t *e, long n) {
  char sql[1024];
  int maria = strcmp(uvsql_engine_dialect(e->fx.engine), "mariadb") == 0;
  const char *num = "(a.n + 1000 * b.n + 1000000 * d.n + 1)";
  char name[160];
  snprintf(name, sizeof name, maria ? "CONCAT('n', %s)" : "'n' || %s", num);
  snprintf(sql, sizeof sql,
           "INSERT INTO %s (id, name, qty, updated_at) WITH RECURSIVE c(n) AS (SELECT 0 UNION "
           "ALL SELECT n + 1 FROM c WHERE n < 999) SELECT %s, %s, %s, 0 FROM c a, c b, c d WHERE "
           "b.n <= %ld AND d.n <= %ld AND %s <= %ld",
           e->ti, num, name, num, n / 1000, n / 1000000, num, n);
  exec_ok(&e->fx, sql);
  log_clear(&e->log);
}

/* The one int64 of `SELECT col FROM items WHERE id = id`. */
static inline int64_t evfx_col(evfx_t *e, const char *col, int64_t id) {
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE id = %lld", col, e->ti, (long long)id);
  return query_int(&e->fx, sql);
}

#endif
