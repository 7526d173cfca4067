/* tests/test_orm_session_core.c — the session's own Core statements on PostgreSQL, MariaDB and
 * SQLite: a select of count(*) / of columns / SQL text in the session's transaction (after
 * autoflush), scalar and scalars; bulk UPDATE and DELETE by criteria with each
 * synchronize_session mode (evaluate, fetch, none, auto, and evaluate refusing what it cannot
 * check); and a failed statement leaving the session demanding a rollback (PendingRollback),
 * with the same message and code on every backend, until rollback makes it work again.
 * Each behaviour is one function taking a URL; each backend one TEST. */
#include "orm_fixture.h"

static void *await_val(uvsql_future_t *f) {
  void *v = AWAIT_OK(f);
  uvsql_future_unref(f);
  return v;
}

/* The result of f, taken from it (the caller frees it with uvsql_result_free). */
static uvsql_result_t *take_result(uvsql_future_t *f) {
  AWAIT_OK(f);
  uvsql_result_t *r = uvsql_future_take(f);
  uvsql_future_unref(f);
  return r;
}

static user_t *add_user(orm_t *o, uvsql_session_t *s, const char *name, const char *fullname) {
  user_t *u = new_user(o, name, fullname);
  ASSERT_OK(uvsql_session_add(s, u), (uvsql_error_t *)NULL);
  return u;
}

/* ------------------------------------------------------------------ selects in the session */

static void selects(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  add_user(o, s, "b", "B");
  add_user(o, s, "a", "A");
  add_user(o, s, "c", NULL);

  /* SELECT count(*): autoflush first, in the session's transaction */
  uvsql_core_stmt_t *cnt = uvsql_select_new();
  uvsql_select_cols(cnt, uvsql_count(cnt, NULL));
  uvsql_select_from(cnt, uvsql_mapper_table(o->users));
  log_clear(&o->log);
  uvsql_future_t *f = uvsql_session_scalar(s, cnt, NULL, 0, NULL, NULL);
  const uvsql_value_t *v = AWAIT_OK(f);
  ASSERT(v);
  ASSERT_INT_EQ(v->type, UVSQL_TYPE_INT64);
  ASSERT_INT_EQ(v->u.i64, 3);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(log_count(&o->log, "BEGIN") + log_count(&o->log, "START TRANSACTION"), 1);
  ASSERT_INT_EQ(log_count(&o->log, "INSERT"), 1);

  /* the same select as a result */
  f = uvsql_session_execute_core(s, cnt, NULL, 0, NULL, NULL, NULL);
  uvsql_result_t *r = AWAIT_OK(f);
  int64_t n = 0;
  ASSERT_OK(uvsql_result_int64(r, 0, 0, &n), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(n, 3);
  uvsql_future_unref(f);
  uvsql_core_stmt_free(cnt);

  /* scalars: a column of every row */
  uvsql_core_stmt_t *names = uvsql_select_new();
  uvsql_select_cols(names, uvsql_mapper_col(o->users, "name"));
  uvsql_select_order_by(names, uvsql_mapper_col(o->users, "name"));
  f = uvsql_session_scalars(s, names, NULL, 0, NULL, NULL);
  const uvsql_scalars_t *sc = AWAIT_OK(f);
  ASSERT_INT_EQ(sc->n, 3);
  ASSERT_STR_EQ(sc->values[0].u.s.ptr, "a");
  ASSERT_STR_EQ(sc->values[1].u.s.ptr, "b");
  ASSERT_STR_EQ(sc->values[2].u.s.ptr, "c");
  uvsql_future_unref(f);

  /* a select of columns with a bound parameter */
  uvsql_core_stmt_t *full = uvsql_select_new();
  uvsql_select_cols(full, uvsql_mapper_col(o->users, "fullname"));
  uvsql_where(full, uvsql_eq(full, uvsql_mapper_col(o->users, "name"), uvsql_bindparam(full, "n")));
  uvsql_param_t p = UVSQL_P("n", UVSQL_V_TEXT("c"));
  f = uvsql_session_scalar(s, full, &p, 1, NULL, NULL);
  v = AWAIT_OK(f);
  ASSERT_INT_EQ(v->type, UVSQL_TYPE_NULL); /* SQL NULL */
  uvsql_future_unref(f);
  p = UVSQL_P("n", UVSQL_V_TEXT("nobody"));
  f = uvsql_session_scalar(s, full, &p, 1, NULL, NULL);
  ASSERT(AWAIT_OK(f) == NULL); /* no row */
  uvsql_future_unref(f);
  uvsql_core_stmt_free(full);

  /* SQL text in the same transaction sees the unflushed-then-flushed rows */
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT name FROM %s WHERE fullname = :f", o->tu);
  p = UVSQL_P("f", UVSQL_V_TEXT("B"));
  f = uvsql_session_execute_sql(s, sql, &p, 1, NULL, NULL);
  r = AWAIT_OK(f);
  ASSERT_INT_EQ(uvsql_result_nrows(r), 1);
  const char *t;
  ASSERT_OK(uvsql_result_text(r, 0, 0, &t, NULL), (uvsql_error_t *)NULL);
  ASSERT_STR_EQ(t, "b");
  uvsql_future_unref(f);
  /* all of it in one transaction */
  ASSERT_INT_EQ(log_count(&o->log, "BEGIN") + log_count(&o->log, "START TRANSACTION"), 1);

  /* a statement without columns asked for a scalar */
  uvsql_core_stmt_t *del = uvsql_delete(uvsql_mapper_table(o->users));
  uvsql_where(del, uvsql_eq(del, uvsql_mapper_col(o->users, "name"), uvsql_lit_text(del, "x")));
  f = uvsql_session_scalar(s, del, NULL, 0, NULL, NULL);
  const uvsql_error_t *err = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(err->message, "uvsql_session_scalar/scalars: the statement returns no columns "
                              "(use uvsql_session_execute_core for a statement without rows)");
  uvsql_future_unref(f);
  uvsql_core_stmt_free(del);
  await_ok(uvsql_session_rollback(s, NULL, NULL)); /* that error failed the transaction */
  uvsql_core_stmt_free(names);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_session_core_selects_pg) {
  selects(test_pg_url());
}
TEST(orm_session_core_selects_mariadb) {
  selects(test_mariadb_url());
}
TEST(orm_session_core_selects_sqlite) {
  selects(test_sqlite_url());
}

/* ------------------------------------------------------------------ pending rollback */

static void pending_rollback(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  user_t *u = add_user(o, s, "taken", "First");
  await_ok(uvsql_session_commit(s, NULL, NULL));

  /* a Core INSERT that violates the unique name, inside the session's transaction */
  uvsql_core_stmt_t *ins = uvsql_insert(uvsql_mapper_table(o->users));
  uvsql_insert_columns(ins, UVSQL_NAMES("name"));
  uvsql_insert_values(ins, uvsql_lit_text(ins, "taken"));
  uvsql_future_t *f = uvsql_session_execute_core(s, ins, NULL, 0, NULL, NULL, NULL);
  uvsql_error_t orig = *AWAIT_ERR(f, UVSQL_EINTEGRITY);
  uvsql_future_unref(f);
  char want[1024];
  snprintf(want, sizeof want,
           "This session's transaction has been rolled back due to a previous error. Call "
           "uvsql_session_rollback() first. Original error (UVSQL_EINTEGRITY): %s",
           orig.message);
  want[UVSQL_ERROR_MESSAGE_MAX - 1] = '\0';

  /* every operation but rollback/close now fails at once, without SQL */
  log_clear(&o->log);
  uint64_t before = uvsql_session_statement_count(s);
  ASSERT_OK(uvsql_orm_set_text(u, &u->fullname, "changed"), (uvsql_error_t *)NULL);
  uvsql_future_t *fs[8];
  uvsql_core_stmt_t *sel = uvsql_orm_select(o->users);
  uvsql_error_t qerr;
  uvsql_orm_query_t *q = uvsql_orm_query(o->users, NULL, 0, &qerr);
  fs[0] = uvsql_session_flush(s, NULL, NULL);
  fs[1] = uvsql_session_get_int(s, o->users, u->id, NULL, NULL);
  fs[2] = uvsql_session_execute(s, o->users, sel, NULL, 0, NULL, NULL);
  fs[3] = uvsql_session_execute_core(s, ins, NULL, 0, NULL, NULL, NULL);
  fs[4] = uvsql_session_commit(s, NULL, NULL);
  fs[5] = uvsql_session_refresh(s, u, NULL, NULL);
  fs[6] = uvsql_session_execute_query(s, q, NULL, 0, NULL, NULL);
  fs[7] = uvsql_session_begin_nested(s, NULL, NULL);
  for (int i = 0; i < 8; i++) {
    const uvsql_error_t *err = AWAIT_ERR(fs[i], UVSQL_EINTERFACE);
    ASSERT_STR_EQ(err->message, want);
    uvsql_future_unref(fs[i]);
  }
  ASSERT_INT_EQ(uvsql_session_statement_count(s), before);
  ASSERT_INT_EQ(o->log.n, 0);
  uvsql_orm_query_free(q);

  /* after the rollback the session works again */
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  ASSERT_STR_EQ(u->fullname, "First"); /* the unflushed change is gone with the transaction */
  ASSERT(await_val(uvsql_session_get_int(s, o->users, u->id, NULL, NULL)) == u);
  add_user(o, s, "second", NULL);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(count_rows(&o->fx, o->tu, NULL), 2);

  /* a failed ORM select (SQL error) does the same */
  uvsql_core_stmt_t *bad = uvsql_orm_select(o->users);
  uvsql_where(
      bad, uvsql_eq(bad, uvsql_func_n(bad, "no_such_function", NULL, 0), uvsql_lit_int64(bad, 1)));
  f = uvsql_session_execute(s, o->users, bad, NULL, 0, NULL, NULL);
  uvsql_future_wait(f);
  ASSERT(uvsql_future_error(f) != NULL);
  orig = *uvsql_future_error(f);
  uvsql_future_unref(f);
  f = uvsql_session_get_int(s, o->users, u->id, NULL, NULL);
  const uvsql_error_t *err = AWAIT_ERR(f, UVSQL_EINTERFACE);
  snprintf(want, sizeof want,
           "This session's transaction has been rolled back due to a previous error. Call "
           "uvsql_session_rollback() first. Original error (%s): %s",
           uvsql_err_name(orig.code), orig.message);
  want[UVSQL_ERROR_MESSAGE_MAX - 1] = '\0';
  ASSERT_STR_EQ(err->message, want);
  uvsql_future_unref(f);
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  ASSERT(await_val(uvsql_session_get_int(s, o->users, u->id, NULL, NULL)) == u);
  uvsql_core_stmt_free(bad);
  uvsql_core_stmt_free(sel);
  uvsql_core_stmt_free(ins);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_session_core_pending_rollback_pg) {
  pending_rollback(test_pg_url());
}
TEST(orm_session_core_pending_rollback_mariadb) {
  pending_rollback(test_mariadb_url());
}
TEST(orm_session_core_pending_rollback_sqlite) {
  pending_rollback(test_sqlite_url());
}

/* ------------------------------------------------------------------ bulk UPDATE */

typedef struct {
  user_t *a, *b, *c;
} abc_t;

static abc_t load_abc(orm_t *o, uvsql_session_t *s) {
  abc_t x;
  x.a = add_user(o, s, "a", "A");
  x.b = add_user(o, s, "b", "B");
  x.c = add_user(o, s, "c", "C");
  await_ok(uvsql_session_flush(s, NULL, NULL));
  return x;
}

static int64_t db_count(orm_t *o, const char *where) {
  return count_rows(&o->fx, o->tu, where);
}

static uvsql_exec_options_t sync_opt(uvsql_sync_t how) {
  uvsql_exec_options_t opt = UVSQL_EXEC_OPTIONS_INIT;
  opt.synchronize_session = how;
  return opt;
}

static void bulk_update(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  abc_t x = load_abc(o, s);
  uvsql_mapper_t *m = o->users;

  /* EVALUATE: name = :n AND id > 0 checked on each object in memory */
  uvsql_core_stmt_t *up = uvsql_update(uvsql_mapper_table(m));
  uvsql_update_set(up, "fullname", uvsql_bindparam(up, "f"));
  uvsql_where(up, uvsql_and(up, uvsql_eq(up, uvsql_mapper_col(m, "name"), uvsql_bindparam(up, "n")),
                            uvsql_gt(up, uvsql_mapper_col(m, "id"), uvsql_lit_int64(up, 0))));
  uvsql_param_t p[2] = {UVSQL_P("f", UVSQL_V_TEXT("A!")), UVSQL_P("n", UVSQL_V_TEXT("a"))};
  uvsql_exec_options_t opt = sync_opt(UVSQL_SYNC_EVALUATE);
  log_clear(&o->log);
  uvsql_result_t *r = take_result(uvsql_session_execute_core(s, up, p, 2, &opt, NULL, NULL));
  ASSERT_INT_EQ(uvsql_result_rows_affected(r), 1);
  uvsql_result_free(r);
  ASSERT_INT_EQ(log_count(&o->log, "UPDATE"), 1);
  ASSERT_STR_EQ(x.a->fullname, "A!");
  ASSERT_STR_EQ(x.b->fullname, "B");
  ASSERT_INT_EQ(uvsql_session_is_modified(s, x.a), 0); /* the database has it already */

  /* FETCH: the matched keys come back (RETURNING, or a SELECT first on MariaDB) */
  opt = sync_opt(UVSQL_SYNC_FETCH);
  p[0] = UVSQL_P("f", UVSQL_V_TEXT("B!"));
  p[1] = UVSQL_P("n", UVSQL_V_TEXT("b"));
  log_clear(&o->log);
  await_val(uvsql_session_execute_core(s, up, p, 2, &opt, NULL, NULL));
  ASSERT_INT_EQ(log_count(&o->log, "UPDATE"), 1);
  ASSERT_INT_EQ(log_count(&o->log, "SELECT"), strcmp(url, test_mariadb_url()) == 0 ? 1 : 0);
  ASSERT_STR_EQ(x.b->fullname, "B!");
  ASSERT_STR_EQ(x.a->fullname, "A!");
  ASSERT_INT_EQ(uvsql_session_is_modified(s, x.b), 0);

  /* NONE: the objects are left as they are */
  opt = sync_opt(UVSQL_SYNC_NONE);
  p[0] = UVSQL_P("f", UVSQL_V_TEXT("C!"));
  p[1] = UVSQL_P("n", UVSQL_V_TEXT("c"));
  await_val(uvsql_session_execute_core(s, up, p, 2, &opt, NULL, NULL));
  ASSERT_STR_EQ(x.c->fullname, "C");
  ASSERT_INT_EQ(db_count(o, "name = 'c' AND fullname = 'C!'"), 0); /* not committed yet */
  uvsql_core_stmt_free(up);

  /* EVALUATE refuses what it cannot check in memory, before any SQL; the session goes on */
  uvsql_core_stmt_t *like = uvsql_update(uvsql_mapper_table(m));
  uvsql_update_set(like, "fullname", uvsql_lit_text(like, "L"));
  uvsql_where(like, uvsql_like(like, uvsql_mapper_col(m, "name"), uvsql_lit_text(like, "%a%")));
  opt = sync_opt(UVSQL_SYNC_EVALUATE);
  log_clear(&o->log);
  uvsql_future_t *f = uvsql_session_execute_core(s, like, NULL, 0, &opt, NULL, NULL);
  const uvsql_error_t *err = AWAIT_ERR(f, UVSQL_ENOT_SUPPORTED);
  ASSERT_STR_EQ(err->message, "synchronize_session EVALUATE cannot check the LIKE operator in "
                              "memory: use synchronize_session UVSQL_SYNC_FETCH (or "
                              "UVSQL_SYNC_NONE and expire the objects yourself)");
  uvsql_future_unref(f);
  ASSERT_INT_EQ(o->log.n, 0);
  /* ... a subquery, a function call, a column of another table likewise */
  uvsql_core_stmt_t *sub = uvsql_select_new();
  uvsql_select_cols(sub, uvsql_mapper_col(o->addrs, "user_id"));
  uvsql_core_stmt_t *odd[3];
  for (int i = 0; i < 3; i++) {
    odd[i] = uvsql_delete(uvsql_mapper_table(m));
    uvsql_expr_t *id = uvsql_mapper_col(m, "id");
    uvsql_where(odd[i], i == 0 ? uvsql_in_select(odd[i], id, sub)
                        : i == 1
                            ? uvsql_eq(odd[i], uvsql_lower(odd[i], uvsql_mapper_col(m, "name")),
                                       uvsql_lit_text(odd[i], "a"))
                            : uvsql_eq(odd[i], id, uvsql_mapper_col(o->addrs, "user_id")));
  }
  static const char *const why[] = {"a subquery", "the function \"lower\"",
                                    "a column of another table or alias \"user_id\""};
  for (int i = 0; i < 3; i++) {
    char want[300];
    snprintf(want, sizeof want,
             "synchronize_session EVALUATE cannot check %s in memory: use synchronize_session "
             "UVSQL_SYNC_FETCH (or UVSQL_SYNC_NONE and expire the objects yourself)",
             why[i]);
    f = uvsql_session_execute_core(s, odd[i], NULL, 0, &opt, NULL, NULL);
    ASSERT_STR_EQ(AWAIT_ERR(f, UVSQL_ENOT_SUPPORTED)->message, want);
    uvsql_future_unref(f);
    uvsql_core_stmt_free(odd[i]);
  }
  uvsql_core_stmt_free(sub);
  ASSERT_INT_EQ(o->log.n, 0);
  /* AUTO falls back to FETCH for it */
  opt = sync_opt(UVSQL_SYNC_AUTO);
  await_val(uvsql_session_execute_core(s, like, NULL, 0, &opt, NULL, NULL));
  ASSERT_STR_EQ(x.a->fullname, "L");
  ASSERT_STR_EQ(x.b->fullname, "B!");
  uvsql_core_stmt_free(like);

  /* a SET value computed by the database (upper()): the matched object is expired and read
   * again by the next query */
  uvsql_core_stmt_t *upper = uvsql_update(uvsql_mapper_table(m));
  uvsql_update_set(upper, "fullname", uvsql_upper(upper, uvsql_mapper_col(m, "name")));
  uvsql_where(upper, uvsql_eq(upper, uvsql_mapper_col(m, "id"), uvsql_lit_int64(upper, x.b->id)));
  await_val(uvsql_session_execute_core(s, upper, NULL, 0, NULL, NULL, NULL));
  ASSERT_INT_EQ(uvsql_orm_is_expired(x.b), 1);
  ASSERT_INT_EQ(uvsql_orm_is_expired(x.a), 0);
  ASSERT(await_val(uvsql_session_get_int(s, m, x.b->id, NULL, NULL)) == x.b);
  ASSERT_STR_EQ(x.b->fullname, "B");
  uvsql_core_stmt_free(upper);

  /* arithmetic in SET is evaluated: id stays, a numeric column would grow; here on the
   * primary key it is refused with a clear error */
  uvsql_core_stmt_t *pk = uvsql_update(uvsql_mapper_table(m));
  uvsql_update_set(pk, "id", uvsql_add(pk, uvsql_mapper_col(m, "id"), uvsql_lit_int64(pk, 100)));
  f = uvsql_session_execute_core(s, pk, NULL, 0, NULL, NULL, NULL);
  err = AWAIT_ERR(f, UVSQL_EINVALID_ARGUMENT);
  ASSERT_STR_EQ(err->message, "a bulk UPDATE of user_t sets its primary key column \"id\": the "
                              "session cannot follow the objects to their new keys; use "
                              "synchronize_session UVSQL_SYNC_NONE and expunge or expire them");
  uvsql_future_unref(f);
  uvsql_core_stmt_free(pk);

  /* commit: the database has what the objects show; a rollback would have put them back */
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(db_count(o, "name = 'a' AND fullname = 'L'"), 1);
  ASSERT_INT_EQ(db_count(o, "name = 'b' AND fullname = 'B'"), 1);
  ASSERT_INT_EQ(db_count(o, "name = 'c' AND fullname = 'C!'"), 1);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_session_core_bulk_update_pg) {
  bulk_update(test_pg_url());
}
TEST(orm_session_core_bulk_update_mariadb) {
  bulk_update(test_mariadb_url());
}
TEST(orm_session_core_bulk_update_sqlite) {
  bulk_update(test_sqlite_url());
}

/* ------------------------------------------------------------------ bulk DELETE */

static void bulk_delete_mode(const char *url, uvsql_sync_t how) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  abc_t x = load_abc(o, s);
  uvsql_mapper_t *m = o->users;
  uvsql_core_stmt_t *del = uvsql_delete(uvsql_mapper_table(m));
  uvsql_where(del,
              uvsql_or(del, uvsql_eq(del, uvsql_mapper_col(m, "name"), uvsql_bindparam(del, "n")),
                       uvsql_is_null(del, uvsql_mapper_col(m, "fullname"))));
  uvsql_param_t p = UVSQL_P("n", UVSQL_V_TEXT("b"));
  uvsql_exec_options_t opt = sync_opt(how);
  uvsql_result_t *r = take_result(uvsql_session_execute_core(s, del, &p, 1, &opt, NULL, NULL));
  if (how == UVSQL_SYNC_FETCH) { /* DELETE ... RETURNING id: the deleted keys */
    int64_t id = 0;
    ASSERT_INT_EQ(uvsql_result_nrows(r), 1);
    ASSERT_OK(uvsql_result_int64(r, 0, uvsql_result_ncols(r) - 1, &id), (uvsql_error_t *)NULL);
    ASSERT_INT_EQ(id, x.b->id);
  } else {
    ASSERT_INT_EQ(uvsql_result_rows_affected(r), 1);
  }
  if (how == UVSQL_SYNC_NONE) {
    ASSERT_INT_EQ(uvsql_orm_state(x.b), UVSQL_OBJ_PERSISTENT); /* left as it was */
  } else {
    ASSERT_INT_EQ(uvsql_orm_state(x.b), UVSQL_OBJ_DELETED);
    ASSERT(await_val(uvsql_session_get_int(s, m, x.b->id, NULL, NULL)) == NULL);
  }
  ASSERT_INT_EQ(uvsql_orm_state(x.a), UVSQL_OBJ_PERSISTENT);
  ASSERT_INT_EQ(uvsql_orm_state(x.c), UVSQL_OBJ_PERSISTENT);
  uvsql_result_free(r);

  /* a rollback brings the row and the object back */
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  ASSERT_INT_EQ(uvsql_orm_state(x.b), UVSQL_OBJ_TRANSIENT); /* its INSERT was rolled back too */

  /* committed rows this time */
  x = load_abc(o, s);
  await_ok(uvsql_session_commit(s, NULL, NULL));
  r = take_result(uvsql_session_execute_core(s, del, &p, 1, &opt, NULL, NULL));
  ASSERT_INT_EQ(
      how == UVSQL_SYNC_FETCH ? (int64_t)uvsql_result_nrows(r) : uvsql_result_rows_affected(r), 1);
  uvsql_result_free(r);
  await_ok(uvsql_session_rollback(s, NULL, NULL));
  ASSERT_INT_EQ(uvsql_orm_state(x.b), UVSQL_OBJ_PERSISTENT);
  ASSERT(await_val(uvsql_session_get_int(s, m, x.b->id, NULL, NULL)) == x.b);
  await_val(uvsql_session_execute_core(s, del, &p, 1, &opt, NULL, NULL));
  await_ok(uvsql_session_commit(s, NULL, NULL));
  ASSERT_INT_EQ(uvsql_orm_state(x.b),
                how == UVSQL_SYNC_NONE ? UVSQL_OBJ_PERSISTENT : UVSQL_OBJ_DETACHED);
  ASSERT_INT_EQ(db_count(o, NULL), 2);
  uvsql_core_stmt_free(del);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

static void bulk_delete(const char *url) {
  bulk_delete_mode(url, UVSQL_SYNC_EVALUATE);
  bulk_delete_mode(url, UVSQL_SYNC_FETCH);
  bulk_delete_mode(url, UVSQL_SYNC_NONE);
}

TEST(orm_session_core_bulk_delete_pg) {
  bulk_delete(test_pg_url());
}
TEST(orm_session_core_bulk_delete_mariadb) {
  bulk_delete(test_mariadb_url());
}
TEST(orm_session_core_bulk_delete_sqlite) {
  bulk_delete(test_sqlite_url());
}

/* ------------------------------------------------------------------ EVALUATE agrees with SQL */

typedef uvsql_expr_t *(*crit_fn)(uvsql_core_stmt_t *st, uvsql_mapper_t *m, const abc_t *x);

static uvsql_expr_t *c_ne(uvsql_core_stmt_t *st, uvsql_mapper_t *m, const abc_t *x) {
  (void)x; /* NULL <> 'A' is unknown: b does not match */
  return uvsql_ne(st, uvsql_mapper_col(m, "fullname"), uvsql_lit_text(st, "A"));
}
static uvsql_expr_t *c_not(uvsql_core_stmt_t *st, uvsql_mapper_t *m, const abc_t *x) {
  (void)x;
  return uvsql_not(st, uvsql_eq(st, uvsql_mapper_col(m, "fullname"), uvsql_lit_text(st, "A")));
}
static uvsql_expr_t *c_in(uvsql_core_stmt_t *st, uvsql_mapper_t *m, const abc_t *x) {
  (void)x;
  return uvsql_in_list(st, uvsql_mapper_col(m, "fullname"), uvsql_lit_text(st, "A"),
                       uvsql_lit_null(st));
}
static uvsql_expr_t *c_or(uvsql_core_stmt_t *st, uvsql_mapper_t *m, const abc_t *x) {
  (void)x;
  return uvsql_or(st, uvsql_is_null(st, uvsql_mapper_col(m, "fullname")),
                  uvsql_eq(st, uvsql_mapper_col(m, "name"), uvsql_lit_text(st, "c")));
}
static uvsql_expr_t *c_between(uvsql_core_stmt_t *st, uvsql_mapper_t *m, const abc_t *x) {
  return uvsql_between(st, uvsql_mapper_col(m, "id"), uvsql_lit_int64(st, x->a->id),
                       uvsql_lit_int64(st, x->b->id));
}
static uvsql_expr_t *c_arith(uvsql_core_stmt_t *st, uvsql_mapper_t *m, const abc_t *x) {
  return uvsql_and(st,
                   uvsql_ge(st, uvsql_mul(st, uvsql_mapper_col(m, "id"), uvsql_lit_int64(st, 2)),
                            uvsql_lit_int64(st, 2 * x->b->id)),
                   uvsql_is_not_null(st, uvsql_mapper_col(m, "name")));
}

static void evaluate_agrees(const char *url) {
  orm_t *o = orm_open(url);
  uvsql_session_t *s = session(o);
  abc_t x;
  x.a = add_user(o, s, "a", "A");
  x.b = add_user(o, s, "b", NULL);
  x.c = add_user(o, s, "c", "C");
  await_ok(uvsql_session_commit(s, NULL, NULL));
  uvsql_mapper_t *m = o->users;
  uvsql_core_stmt_t *all = uvsql_orm_select(m);
  await_val(uvsql_session_execute(s, m, all, NULL, 0, NULL, NULL)); /* loaded, not expired */
  uvsql_core_stmt_free(all);
  static const crit_fn crits[] = {c_ne, c_not, c_in, c_or, c_between, c_arith};
  static const char *const want[] = {"c", "c", "a", "bc", "ab", "bc"};
  for (size_t k = 0; k < sizeof crits / sizeof crits[0]; k++) {
    /* what the database says */
    uvsql_core_stmt_t *sel = uvsql_select_new();
    uvsql_select_cols(sel, uvsql_mapper_col(m, "name"));
    uvsql_where(sel, crits[k](sel, m, &x));
    uvsql_select_order_by(sel, uvsql_mapper_col(m, "name"));
    uvsql_future_t *f = uvsql_session_scalars(s, sel, NULL, 0, NULL, NULL);
    const uvsql_scalars_t *sc = AWAIT_OK(f);
    char db[8] = "";
    for (size_t i = 0; i < sc->n && i < 7; i++)
      strncat(db, sc->values[i].u.s.ptr, 1);
    uvsql_future_unref(f);
    uvsql_core_stmt_free(sel);
    ASSERT_STR_EQ(db, want[k]);
    /* what EVALUATE decides, in a savepoint rolled back afterwards */
    await_ok(uvsql_session_begin_nested(s, NULL, NULL));
    uvsql_core_stmt_t *del = uvsql_delete(uvsql_mapper_table(m));
    uvsql_where(del, crits[k](del, m, &x));
    uvsql_exec_options_t opt = sync_opt(UVSQL_SYNC_EVALUATE);
    await_val(uvsql_session_execute_core(s, del, NULL, 0, &opt, NULL, NULL));
    uvsql_core_stmt_free(del);
    char mem[8] = "";
    user_t *us[3] = {x.a, x.b, x.c};
    for (int i = 0; i < 3; i++)
      if (uvsql_orm_state(us[i]) == UVSQL_OBJ_DELETED)
        strncat(mem, us[i]->name, 1);
    ASSERT_STR_EQ(mem, want[k]);
    await_ok(uvsql_session_rollback(s, NULL, NULL)); /* to the savepoint */
    for (int i = 0; i < 3; i++)
      ASSERT_INT_EQ(uvsql_orm_state(us[i]), UVSQL_OBJ_PERSISTENT);
  }
  ASSERT_INT_EQ(count_rows(&o->fx, o->tu, NULL), 3);
  await_ok(uvsql_session_close(s, NULL, NULL));
  orm_close(o);
}

TEST(orm_session_core_evaluate_agrees_pg) {
  evaluate_agrees(test_pg_url());
}
TEST(orm_session_core_evaluate_agrees_mariadb) {
  evaluate_agrees(test_mariadb_url());
}
TEST(orm_session_core_evaluate_agrees_sqlite) {
  evaluate_agrees(test_sqlite_url());
}
