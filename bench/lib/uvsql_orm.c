/* bench/lib/uvsql_orm.c — the ORM workloads through uvsql (contract: bench.h), for any URL:
 * orm_large_resultset and orm_get on the bench_row model, eager_load on author/book models
 * with selectinload / joinedload, orm_bulk_insert of new objects. Each function makes its own
 * loop, engine and registry; the tables must already exist (the raw sides' setup makes them). */
#include <stdlib.h>
#include <string.h>
#include <uvsql.h>
#include "bench.h"
#include "uvsql_env.h"

#define ROW_FIELDS(X)                                                                              \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, TEXT, 0)                                                                                 \
  X(x, DOUBLE, 0)                                                                                  \
  X(ts, TIMESTAMP, 0)                                                                              \
  X(flag, BOOL, 0)
UVSQL_MODEL(bench_row_t, BENCH_TABLE, ROW_FIELDS)

#define AUTHOR_FIELDS(X)                                                                           \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(50), UVSQL_NOT_NULL)
#define AUTHOR_RELS(X) X(books, MANY(book_t))
UVSQL_MODEL_REL(author_t, "bench_eager_author", AUTHOR_FIELDS, AUTHOR_RELS)

#define BOOK_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(title, STRING(100), UVSQL_NOT_NULL)                                                            \
  X(author_id, INT64, 0)
#define BOOK_RELS(X) X(author, ONE(author_t))
UVSQL_MODEL_REL(book_t, "bench_eager_book", BOOK_FIELDS, BOOK_RELS)

#define INSERT_FIELDS(X)                                                                           \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(30), UVSQL_NOT_NULL)                                                              \
  X(fullname, TEXT, 0)
UVSQL_MODEL(insert_row_t, "bench_orm_rows", INSERT_FIELDS)

/* A loop, an engine and a registry with one model mapped. */
typedef struct {
  bench_env_t env;
  uvsql_registry_t *reg;
  uvsql_mapper_t *m;
} orm_t;

static int orm_open(orm_t *o, const char *url, const uvsql_model_t *model) {
  uvsql_error_t err;
  if (bench_env_open(&o->env, url, 1) != 0)
    return -1;
  o->reg = uvsql_registry_new(NULL);
  if (!(o->m = uvsql_registry_map(o->reg, model, &err))) {
    fprintf(stderr, "map %s: %s\n", model->table, err.message);
    return -1;
  }
  return 0;
}

static void orm_close(orm_t *o) {
  bench_env_close(&o->env);
  uvsql_registry_free(o->reg);
}

static uvsql_session_t *session(orm_t *o, const uvsql_session_options_t *opt) {
  uvsql_session_t *s = NULL;
  if (uvsql_session_new(&s, o->env.engine, o->reg, opt) != 0)
    fprintf(stderr, "uvsql_session_new failed\n");
  return s;
}

static double row_sum(const bench_row_t *r) {
  return BENCH_ROW_SUM(r->id, r->x, r->flag, strlen(r->name), r->ts);
}

/* ------------------------------------------------------------------ orm_large_resultset */

typedef struct {
  orm_t o;
  uvsql_core_stmt_t *sel;
} large_t;

/* One load of every row in a fresh session (closed after the clock stops). */
static int large_once(void *ctx, bench_run_t *run) {
  large_t *l = ctx;
  uvsql_session_t *s = session(&l->o, NULL);
  if (!s)
    return -1;
  double t0 = bench_now();
  uvsql_future_t *f = uvsql_session_execute(s, l->o.m, l->sel, NULL, 0, NULL, NULL);
  if (uvsql_future_wait(f) != 0)
    return bench_failed(f, "orm_large_resultset");
  const uvsql_orm_result_t *r = uvsql_future_value(f);
  size_t n = uvsql_orm_result_count(r);
  for (size_t i = 0; i < n; i++)
    run->checksum += row_sum(uvsql_orm_result_at(r, i));
  run->rows = (int64_t)n;
  run->seconds = bench_now() - t0;
  uvsql_future_unref(f);
  return bench_wait(uvsql_session_close(s, NULL, NULL), "session close");
}

int uvsql_orm_large_resultset(const char *url, bench_run_t *out) {
  large_t l;
  if (orm_open(&l.o, url, bench_row_t_model()) != 0)
    return -1;
  l.sel = uvsql_orm_select(l.o.m);
  if (bench_best_of(3, large_once, &l, out) != 0)
    return -1;
  uvsql_core_stmt_free(l.sel);
  orm_close(&l.o);
  return 0;
}

/* ------------------------------------------------------------------ orm_get */

/* get of keys BENCH_KEY(from..to-1) in a fresh session, added to run. */
static int gets(orm_t *o, int from, int to, int64_t nkeys, bench_run_t *run) {
  uvsql_session_t *s = session(o, NULL);
  if (!s)
    return -1;
  for (int i = from; i < to; i++) {
    uvsql_future_t *f = uvsql_session_get_int(s, o->m, BENCH_KEY(i, nkeys), NULL, NULL);
    if (uvsql_future_wait(f) != 0)
      return bench_failed(f, "orm_get");
    const bench_row_t *row = uvsql_future_value(f);
    if (!row) {
      fprintf(stderr, "orm_get: no row %lld\n", (long long)BENCH_KEY(i, nkeys));
      return -1;
    }
    run->checksum += row_sum(row);
    run->rows++;
    uvsql_future_unref(f);
  }
  return bench_wait(uvsql_session_close(s, NULL, NULL), "session close");
}

int uvsql_orm_get(const char *url, int n, int64_t nkeys, bench_run_t *out) {
  orm_t o;
  bench_run_t run = {0};
  if (orm_open(&o, url, bench_row_t_model()) != 0 || gets(&o, -100, 0, nkeys, &run) != 0)
    return -1;
  memset(&run, 0, sizeof run);
  double t0 = bench_now();
  for (int i = 0; i < n; i += BENCH_GET_SESSION)
    if (gets(&o, i, i + BENCH_GET_SESSION < n ? i + BENCH_GET_SESSION : n, nkeys, &run) != 0)
      return -1;
  run.seconds = bench_now() - t0;
  *out = run;
  orm_close(&o);
  return 0;
}

/* ------------------------------------------------------------------ eager_load */

typedef struct {
  orm_t o;
  uvsql_mapper_t *books;
  uvsql_orm_query_t *q;
} eager_t;

static int eager_open(eager_t *e, const char *url, uvsql_load_option_t opt) {
  uvsql_error_t err;
  if (orm_open(&e->o, url, author_t_model()) != 0)
    return -1;
  if (!(e->books = uvsql_registry_map(e->o.reg, book_t_model(), &err))) {
    fprintf(stderr, "map: %s\n", err.message);
    return -1;
  }
  uvsql_relationship_t *ab =
      uvsql_mapper_relationship(e->o.m, "books", UVSQL_ONE_TO_MANY, e->books,
                                offsetof(author_t, books), "author_id", 0, &err);
  uvsql_relationship_t *ba =
      uvsql_mapper_relationship(e->books, "author", UVSQL_MANY_TO_ONE, e->o.m,
                                offsetof(book_t, author), "author_id", 0, &err);
  if (!ab || !ba || !uvsql_relationship_back_populates(ab, ba)) {
    fprintf(stderr, "relationship: %s\n", err.message);
    return -1;
  }
  if (!(e->q = uvsql_orm_query(e->o.m, &opt, 1, &err))) {
    fprintf(stderr, "query: %s\n", err.message);
    return -1;
  }
  uvsql_select_order_by(uvsql_orm_query_stmt(e->q), uvsql_mapper_col(e->o.m, "id"));
  return 0;
}

/* One load of the graph in a fresh session (closed after the clock stops). */
static int eager_once(void *ctx, bench_run_t *run) {
  eager_t *e = ctx;
  uvsql_session_t *s = session(&e->o, NULL);
  if (!s)
    return -1;
  double t0 = bench_now();
  uvsql_future_t *f = uvsql_session_execute_query(s, e->q, NULL, 0, NULL, NULL);
  if (uvsql_future_wait(f) != 0)
    return bench_failed(f, "eager_load");
  const uvsql_orm_result_t *r = uvsql_future_value(f);
  for (size_t i = 0; i < uvsql_orm_result_count(r); i++) {
    author_t *a = uvsql_orm_result_at(r, i);
    run->checksum += (double)a->id;
    for (size_t k = 0; k < a->books.n; k++) {
      book_t *b = a->books.items[k];
      run->checksum += (double)b->id + (double)strlen(b->title);
    }
    run->rows += 1 + (int64_t)a->books.n;
  }
  run->seconds = bench_now() - t0;
  uvsql_future_unref(f);
  return bench_wait(uvsql_session_close(s, NULL, NULL), "session close");
}

/* A warm-up run, then the best of BENCH_EAGER_RUNS. */
static int eager(const char *url, uvsql_load_option_t opt, bench_run_t *out) {
  eager_t e;
  if (eager_open(&e, url, opt) != 0)
    return -1;
  if (bench_best_of(BENCH_EAGER_RUNS, eager_once, &e, out) != 0)
    return -1;
  uvsql_orm_query_free(e.q);
  orm_close(&e.o);
  return 0;
}

int uvsql_eager_selectin(const char *url, bench_run_t *out) {
  return eager(url, (uvsql_load_option_t)UVSQL_SELECTINLOAD("books"), out);
}

int uvsql_eager_joined(const char *url, bench_run_t *out) {
  return eager(url, (uvsql_load_option_t)UVSQL_JOINEDLOAD("books"), out);
}

/* ------------------------------------------------------------------ orm_bulk_insert */

/* One run: n objects built before the clock, then add_all + commit, keys written back. */
int uvsql_bulk_insert(const char *url, int n, bench_run_t *out) {
  orm_t o;
  if (orm_open(&o, url, insert_row_t_model()) != 0)
    return -1;
  uvsql_future_t *f = uvsql_engine_execute_sql(o.env.engine, "SELECT 1", NULL, 0, NULL, NULL);
  if (bench_wait(f, "connect") != 0) /* the connection is open before the clock starts */
    return -1;
  insert_row_t **objs = malloc((size_t)n * sizeof *objs);
  char name[32];
  for (int i = 0; i < n; i++) {
    objs[i] = uvsql_orm_new(o.m);
    snprintf(name, sizeof name, "user%d", i);
    uvsql_orm_set_text(objs[i], &objs[i]->name, name);
    uvsql_orm_set_text(objs[i], &objs[i]->fullname, "Full Name");
  }
  uvsql_session_options_t so = UVSQL_SESSION_OPTIONS_INIT;
  so.insert_batch_rows = BENCH_INSERT_BATCH;
  uvsql_session_t *s = session(&o, &so);
  if (!s)
    return -1;
  double t0 = bench_now();
  if (uvsql_session_add_all(s, (void *const *)objs, (size_t)n) != 0) {
    fprintf(stderr, "add_all failed\n");
    return -1;
  }
  if (bench_wait(uvsql_session_commit(s, NULL, NULL), "commit") != 0)
    return -1;
  out->seconds = bench_now() - t0;
  out->rows = n;
  out->checksum = 0;
  for (int i = 0; i < n; i++)
    out->checksum += (double)objs[i]->id;
  free(objs);
  if (bench_wait(uvsql_session_close(s, NULL, NULL), "session close") != 0)
    return -1;
  orm_close(&o);
  return 0;
}
