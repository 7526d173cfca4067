/* tests/test_orm_slab.c — the objects of a large ORM load carved from slabs (src/orm/slab.c):
 * each one still lives and dies on its own (expunge + uvsql_orm_free while its siblings live
 * on, an expunged one outliving its session), its TEXT fields stay malloc'd (a program may
 * free() one and assign its own, orm.h), a session close frees everything, a load of rows the
 * session already has gives its room back, memory stays flat across repeated loads, and a
 * closed session's slabs are unmapped after memory_idle_timeout (src/loop/bigblock.c).
 * Under AddressSanitizer and valgrind the slab's unused and freed parts are poisoned, so a use
 * after free of a slab object is reported there as for a malloc'd one. On the three backends. */
#include <unistd.h>
#include "orm_fixture.h"
#include "orm/internal.h"
#include "dialects/driver.h" /* uvsql__big_cached */

#define ROWS 6000 /* ~1.2 MB of user_t objects: past the slab threshold (1 MB) */

/* ROWS users named "u<i>" with fullname "Full Name <i>", committed. */
static void add_users(orm_t *o) {
  uvsql_session_t *s = session(o);
  char name[32], full[48];
  for (int i = 0; i < ROWS; i++) {
    snprintf(name, sizeof name, "u%d", i);
    snprintf(full, sizeof full, "Full Name %d", i);
    ASSERT_OK(uvsql_session_add(s, new_user(o, name, full)), (uvsql_error_t *)NULL);
  }
  await_ok(uvsql_session_commit(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));
  log_clear(&o->log);
}

/* Every user of s, ordered by id, into *f (the caller unrefs it). */
static uvsql_orm_result_t *load_all(orm_t *o, uvsql_session_t *s, uvsql_future_t **f) {
  uvsql_core_stmt_t *q = uvsql_orm_select(o->users);
  uvsql_select_order_by(q, uvsql_mapper_col(o->users, "id"));
  *f = uvsql_session_execute(s, o->users, q, NULL, 0, NULL, NULL);
  uvsql_orm_result_t *r = AWAIT_OK(*f);
  uvsql_core_stmt_free(q);
  ASSERT_INT_EQ(uvsql_orm_result_count(r), ROWS);
  return r;
}

static void check_user(const user_t *u, int i) {
  char name[32], full[48];
  snprintf(name, sizeof name, "u%d", i);
  snprintf(full, sizeof full, "Full Name %d", i);
  ASSERT_STR_EQ(u->name, name);
  ASSERT_STR_EQ(u->fullname, full);
}

static int from_slab(const void *obj) {
  return uvsql__hdr(obj)->slab != 0;
}

/* Objects of one load: expunged and freed one by one while the others live on; one expunged
 * outlives the session that loaded it; text fields replaced both ways are flushed. */
static void objects_live_and_die_alone(const char *url) {
  orm_t *o = orm_open(url);
  add_users(o);
  uvsql_session_t *s = session(o);
  uvsql_future_t *f;
  uvsql_orm_result_t *r = load_all(o, s, &f);
  user_t *u[ROWS];
  for (int i = 0; i < ROWS; i++) {
    u[i] = uvsql_orm_result_at(r, (size_t)i);
    ASSERT(from_slab(u[i]));
    check_user(u[i], i);
  }
  uvsql_future_unref(f);
  /* every third object expunged and freed at once; the rest still read right */
  for (int i = 0; i < ROWS; i += 3) {
    ASSERT_OK(uvsql_session_expunge(s, u[i]), (uvsql_error_t *)NULL);
    ASSERT_INT_EQ(uvsql_orm_state(u[i]), UVSQL_OBJ_DETACHED);
    if (i != 3000)
      uvsql_orm_free(u[i]);
  }
  for (int i = 1; i < ROWS; i += 3)
    check_user(u[i], i);
  /* a text field replaced by the program (free + strdup), another by the setter */
  free(u[1]->fullname);
  u[1]->fullname = strdup("Replaced By Hand");
  ASSERT_OK(uvsql_orm_set_text(u[2], &u[2]->fullname, "Replaced By Setter"), (uvsql_error_t *)NULL);
  ASSERT(uvsql_session_is_modified(s, u[1]) && uvsql_session_is_modified(s, u[2]));
  ASSERT(!uvsql_session_is_modified(s, u[4]));
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(log_count(&o->log, "UPDATE"), 2);
  await_ok(uvsql_session_close(s, NULL, NULL)); /* frees every object it still owns */
  /* the expunged object outlives the session and its slab siblings */
  check_user(u[3000], 3000);
  ASSERT_INT_EQ(uvsql_orm_state(u[3000]), UVSQL_OBJ_DETACHED);
  uvsql_orm_free(u[3000]);
  /* a new session reads what was flushed */
  s = session(o);
  r = load_all(o, s, &f);
  ASSERT_STR_EQ(((user_t *)uvsql_orm_result_at(r, 1))->fullname, "Replaced By Hand");
  ASSERT_STR_EQ(((user_t *)uvsql_orm_result_at(r, 2))->fullname, "Replaced By Setter");
  check_user(uvsql_orm_result_at(r, 3000), 3000);
  uvsql_future_unref(f);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_slab_objects_live_and_die_alone_pg) {
  objects_live_and_die_alone(test_pg_url());
}
TEST(orm_slab_objects_live_and_die_alone_mariadb) {
  objects_live_and_die_alone(test_mariadb_url());
}
TEST(orm_slab_objects_live_and_die_alone_sqlite) {
  objects_live_and_die_alone(test_sqlite_url());
}

/* A second load of the same rows in one session yields the objects it has (identity map):
 * the new ones are dropped at once and their slab given back; a change made in between stays
 * (the load does not overwrite persistent objects). A small load mallocs its objects. */
static void reload_keeps_identity(const char *url) {
  orm_t *o = orm_open(url);
  add_users(o);
  uvsql_session_t *s = session(o);
  uvsql_future_t *f1, *f2;
  uvsql_orm_result_t *r1 = load_all(o, s, &f1);
  user_t *first = uvsql_orm_result_at(r1, 0), *last = uvsql_orm_result_at(r1, ROWS - 1);
  ASSERT_OK(uvsql_orm_set_text(last, &last->fullname, "Changed"), (uvsql_error_t *)NULL);
  uvsql_orm_result_t *r2 = load_all(o, s, &f2);
  ASSERT(uvsql_orm_result_at(r2, 0) == first);
  ASSERT(uvsql_orm_result_at(r2, ROWS - 1) == last);
  ASSERT_STR_EQ(last->fullname, "Changed");
  check_user(uvsql_orm_result_at(r2, 17), 17);
  user_t *second = uvsql_orm_result_at(r1, 1);
  int64_t id0 = first->id;
  uvsql_future_unref(f1);
  uvsql_future_unref(f2);
  /* a get finds the loaded object */
  uvsql_future_t *g = uvsql_session_get_int(s, o->users, second->id, NULL, NULL);
  ASSERT(AWAIT_OK(g) == second);
  uvsql_future_unref(g);
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  await_ok(uvsql_session_close(s, NULL, NULL));
  s = session(o);
  g = uvsql_session_get_int(s, o->users, id0 + 5, NULL, NULL);
  user_t *one = AWAIT_OK(g);
  ASSERT(one != NULL && !from_slab(one));
  check_user(one, 5);
  uvsql_future_unref(g);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_slab_reload_keeps_identity_pg) {
  reload_keeps_identity(test_pg_url());
}
TEST(orm_slab_reload_keeps_identity_mariadb) {
  reload_keeps_identity(test_mariadb_url());
}
TEST(orm_slab_reload_keeps_identity_sqlite) {
  reload_keeps_identity(test_sqlite_url());
}

static long rss_kb(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f)
    return 0;
  if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
    resident = 0;
  fclose(f);
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* 30 loads of every row in fresh sessions: the resident size after the last is within 4 MB of
 * the one after the third (slabs go back to the big-block cache, and come from it). */
static void repeated_loads_memory_is_bounded(const char *url) {
  orm_t *o = orm_open(url);
  add_users(o);
  long after3 = 0;
  for (int k = 0; k < 30; k++) {
    uvsql_session_t *s = session(o);
    uvsql_future_t *f;
    uvsql_orm_result_t *r = load_all(o, s, &f);
    check_user(uvsql_orm_result_at(r, (size_t)(k * 97 % ROWS)), k * 97 % ROWS);
    uvsql_future_unref(f);
    await_ok(uvsql_session_close(s, NULL, NULL));
    if (k == 2)
      after3 = rss_kb();
  }
  long last = rss_kb();
#if !defined(__SANITIZE_ADDRESS__) /* ASan's quarantine keeps freed memory resident */
  if (last > after3 + 4096)
    FAILF("resident size grew from %ld KB (after 3 loads) to %ld KB (after 30)", after3, last);
#else
  (void)last;
  (void)after3;
#endif
  orm_close(o);
}

TEST(orm_slab_repeated_loads_memory_is_bounded_pg) {
  repeated_loads_memory_is_bounded(test_pg_url());
}
TEST(orm_slab_repeated_loads_memory_is_bounded_mariadb) {
  repeated_loads_memory_is_bounded(test_mariadb_url());
}
TEST(orm_slab_repeated_loads_memory_is_bounded_sqlite) {
  repeated_loads_memory_is_bounded(test_sqlite_url());
}

/* A load that fails part way (SQLite keeps a blob in a TEXT column): the error names the
 * column and the field; the objects built before it are the session's, freed with it. */
TEST(orm_slab_failed_load_frees_its_objects_sqlite) {
  orm_t *o = orm_open(test_sqlite_url());
  add_users(o);
  char sql[160];
  snprintf(sql, sizeof sql, "UPDATE %s SET fullname = x'00ff' WHERE name = 'u5000'", o->tu);
  exec_ok(&o->fx, sql);
  uvsql_session_t *s = session(o);
  uvsql_core_stmt_t *q = uvsql_orm_select(o->users);
  uvsql_select_order_by(q, uvsql_mapper_col(o->users, "name"));
  uvsql_future_t *f = uvsql_session_execute(s, o->users, q, NULL, 0, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EDATA);
  ASSERT(strstr(e->message,
                "cannot load column \"fullname\" (server type bytes) into "
                "field user_t.fullname of kind TEXT: declare the field as BYTES") != NULL);
  uvsql_future_unref(f);
  uvsql_core_stmt_free(q);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

/* The slabs of a closed session's load go to the big-block cache, and are unmapped after
 * memory_idle_timeout by the housekeeping of any engine: here a second engine on the same loop
 * with 0.3 s (the cache is process-wide; the fixture's engine has the default 30 s). */
static void slabs_given_back_after_idle_timeout(const char *url) {
  orm_t *o = orm_open(url);
  add_users(o);
  uvsql_release_memory();
  uvsql_session_t *s = session(o);
  uvsql_future_t *f;
  uvsql_orm_result_t *r = load_all(o, s, &f);
  ASSERT(from_slab(uvsql_orm_result_at(r, 0)));
  check_user(uvsql_orm_result_at(r, ROWS - 1), ROWS - 1);
  uvsql_future_unref(f);
  long rss_held = rss_kb();
  await_ok(uvsql_session_close(s, NULL, NULL));
  size_t cached = uvsql__big_cached();
  if (cached == 0) {
    printf("SKIP (the rest): big blocks are plain malloc here (AddressSanitizer or valgrind): "
           "nothing is cached\n");
    orm_close(o);
    return;
  }
  ASSERT(cached >= ((size_t)2 << 20)); /* the slab: one 2 MB block at least */
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.memory_idle_timeout = 0.3;
  uvsql_engine_t *e2;
  uvsql_error_t err;
  ASSERT_OK(uvsql_engine_new(&e2, o->fx.loop, url, &opt, &err), &err);
  uint64_t start = uv_hrtime();
  while (uvsql__big_cached() > 0 && uv_hrtime() - start < (uint64_t)5e9)
    test_sleep(o->fx.loop, 10);
  double ms = (double)(uv_hrtime() - start) / 1e6;
  if (uvsql__big_cached() != 0 || ms > 1000)
    FAILF("%zu bytes still cached %.0f ms after the session closed (memory_idle_timeout 0.3 s)",
          uvsql__big_cached(), ms);
  long rss_after = rss_kb();
  if (rss_held - rss_after < (long)(cached / 1024 / 2))
    FAILF("resident size %ld KB with the objects, %ld KB after their %zu KB were given back",
          rss_held, rss_after, cached / 1024);
  uvsql_future_t *d = uvsql_engine_dispose(e2, NULL, NULL);
  AWAIT_OK(d);
  uvsql_future_unref(d);
  orm_close(o);
}

TEST(orm_slab_given_back_after_idle_timeout_memory_is_bounded_pg) {
  slabs_given_back_after_idle_timeout(test_pg_url());
}
TEST(orm_slab_given_back_after_idle_timeout_memory_is_bounded_mariadb) {
  slabs_given_back_after_idle_timeout(test_mariadb_url());
}
TEST(orm_slab_given_back_after_idle_timeout_memory_is_bounded_sqlite) {
  slabs_given_back_after_idle_timeout(test_sqlite_url());
}
