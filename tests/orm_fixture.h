/* tests/orm_fixture.h — the models and fixture the ORM I tests share (test_orm.c,
 * test_orm_uow.c): user_account / address / doc models, an echo-log capture to count and find
 * the SQL a session sent, and an engine + registry on unique table names, created on open and
 * dropped on close. */
#ifndef UVSQL_TEST_ORM_FIXTURE_H
#define UVSQL_TEST_ORM_FIXTURE_H

#include "backend.h"
#include "uvsql/orm.h"

#define USER_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(30), UVSQL_NOT_NULL | UVSQL_UNIQUE)                                               \
  X(fullname, TEXT, 0)
UVSQL_MODEL(user_t, "user_account", USER_FIELDS)

#define ADDRESS_FIELDS(X)                                                                          \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(email_address, STRING(100), UVSQL_NOT_NULL)                                                    \
  X(user_id, INT64, UVSQL_NOT_NULL)
UVSQL_MODEL(address_t, "address", ADDRESS_FIELDS)

#define DOC_FIELDS(X)                                                                              \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(title, TEXT, 0)                                                                                \
  X(version, INT64, UVSQL_VERSION_ID)
UVSQL_MODEL(doc_t, "doc", DOC_FIELDS)

/* ------------------------------------------------------------------ SQL capture */

typedef struct {
  char *lines[4096];
  size_t n;
} sqllog_t;

static inline void log_line(void *data, const char *line) {
  sqllog_t *log = data;
  if (strncmp(line, "[param", 6) == 0)
    return;
  if (log->n < 4096)
    log->lines[log->n++] = strdup(line);
}

static inline void log_clear(sqllog_t *log) {
  for (size_t i = 0; i < log->n; i++)
    free(log->lines[i]);
  log->n = 0;
}

static inline size_t log_count(const sqllog_t *log, const char *prefix) {
  size_t k = 0;
  for (size_t i = 0; i < log->n; i++)
    if (strncmp(log->lines[i], prefix, strlen(prefix)) == 0)
      k++;
  return k;
}

static inline const char *log_find(const sqllog_t *log, const char *prefix) {
  for (size_t i = 0; i < log->n; i++)
    if (strncmp(log->lines[i], prefix, strlen(prefix)) == 0)
      return log->lines[i];
  return NULL;
}

/* ------------------------------------------------------------------ fixture */

typedef struct {
  fixture_t fx;
  sqllog_t log;
  uvsql_registry_t *reg;
  uvsql_mapper_t *users, *addrs, *docs;
  char tu[64], ta[64], td[64];
} orm_t;

static inline void await_ok(uvsql_future_t *f) {
  AWAIT_OK(f);
  uvsql_future_unref(f);
}

static inline orm_t *orm_open(const char *url) {
  orm_t *o = calloc(1, sizeof *o);
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  uvsql_error_t err;
  char fk[100];
  opt.echo = 1;
  opt.log_cb = log_line;
  opt.log_data = &o->log;
  o->fx = fixture_open(url, &opt);
  snprintf(o->tu, sizeof o->tu, "%s", test_unique_name("user_account"));
  snprintf(o->ta, sizeof o->ta, "%s", test_unique_name("address"));
  snprintf(o->td, sizeof o->td, "%s", test_unique_name("doc"));
  o->reg = uvsql_registry_new(NULL);
  o->users = uvsql_registry_map_table(o->reg, user_t_model(), o->tu, &err);
  ASSERT(o->users);
  o->addrs = uvsql_registry_map_table(o->reg, address_t_model(), o->ta, &err);
  ASSERT(o->addrs);
  o->docs = uvsql_registry_map_table(o->reg, doc_t_model(), o->td, &err);
  ASSERT(o->docs);
  snprintf(fk, sizeof fk, "%s.id", o->tu);
  ASSERT(uvsql_mapper_references(o->addrs, "user_id", fk, UVSQL_FK_CASCADE));
  await_ok(uvsql_metadata_create_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  log_clear(&o->log);
  return o;
}

static inline void orm_close(orm_t *o) {
  await_ok(uvsql_metadata_drop_all(uvsql_registry_metadata(o->reg), o->fx.engine, NULL, NULL));
  uvsql_registry_free(o->reg);
  log_clear(&o->log);
  fixture_close(&o->fx);
  free(o);
}

static inline uvsql_session_t *session(orm_t *o) {
  uvsql_session_t *s;
  ASSERT_OK(uvsql_session_new(&s, o->fx.engine, o->reg, NULL), (uvsql_error_t *)NULL);
  return s;
}

static inline user_t *new_user(orm_t *o, const char *name, const char *fullname) {
  user_t *u = uvsql_orm_new(o->users);
  ASSERT_OK(uvsql_orm_set_text(u, &u->name, name), (uvsql_error_t *)NULL);
  ASSERT_OK(uvsql_orm_set_text(u, &u->fullname, fullname), (uvsql_error_t *)NULL);
  return u;
}

#endif
