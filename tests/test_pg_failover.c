/* tests/test_pg_failover.c — failover under load, on a throwaway primary + synchronous standby
 * pair of its own (scripts/pg_pair.sh; the PostgreSQL the other tests share is never stopped).
 *
 * 64 callers each run transactions in a loop through a router (connect, BEGIN, INSERT a row
 * with a unique id, read it back in the transaction, COMMIT), callback style. After a second
 * the primary is stopped with `pg_ctl stop -m immediate`, and the standby is promoted with
 * `pg_ctl promote` (both spawned, so the loop keeps running); the callers go on for 3 s more.
 * Then, on the new primary: every transaction reported committed has its row (none lost),
 * every row belongs to a transaction that was tried (none invented), every transaction was
 * reported to its caller, committed or failed with an error (EDISCONNECT for those in flight on
 * the dead primary, ECONNECT while there was none), and the first transaction committed within
 * 2 s of the promotion. The figures are printed. Its name says "deadline": it runs alone, and
 * not under valgrind (scripts/test.sh), where 64 callers are too slow for a 2 s bound. */
#include <sys/stat.h>
#include <unistd.h>
#include "backend.h"
#include "scaleout.h"
#include "uvsql/routing.h"

#define NCALLERS 64

typedef struct ft_s ft_t;
typedef struct {
  ft_t *t;
  int idx;
  int seq;
  int busy;
  int64_t id;
  uvsql_conn_t *conn;
  uv_timer_t backoff;
} caller_t;

struct ft_s {
  uv_loop_t *loop;
  uvsql_router_t *r;
  char table[64];
  caller_t callers[NCALLERS];
  int stop;
  int nbusy;
  uint64_t attempted;
  int64_t *committed;
  size_t ncommitted, capc;
  int64_t *failed;
  size_t nfailed, capf;
  int codes[64]; /* failures by error code (index: -code, bounded) */
  char first_disconnect[UVSQL_ERROR_MESSAGE_MAX];
  char first_connect[UVSQL_ERROR_MESSAGE_MAX];
  uint64_t t_start, t_stopped, t_promote_start, t_promoted, t_first_success;
  uint64_t committed_before_crash;
  int spawning;
};

static char pair_dir[256];
static char pair_script[512];

static void pair_stop(void) {
  if (!pair_dir[0])
    return;
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "bash '%s' stop '%s' >/dev/null 2>&1", pair_script, pair_dir);
  if (system(cmd) != 0)
    fprintf(stderr, "pg_pair.sh stop failed for %s\n", pair_dir);
  char parent[256];
  snprintf(parent, sizeof parent, "%.*s", (int)(strrchr(pair_dir, '/') - pair_dir), pair_dir);
  rmdir(parent);
  pair_dir[0] = '\0';
}

/* Starts the pair; fills the two URLs. */
static void pair_start(char *primary, char *standby, size_t size) {
  const char *here = __FILE__; /* absolute in a CMake build */
  snprintf(pair_script, sizeof pair_script, "%.*s/../scripts/pg_pair.sh",
           (int)(strrchr(here, '/') - here), here);
  char parent[] = "/tmp/uvsql-failover.XXXXXX";
  ASSERT(mkdtemp(parent) != NULL);
  chmod(parent, 0755); /* the server user must reach it */
  snprintf(pair_dir, sizeof pair_dir, "%s/pair", parent);
  atexit(pair_stop); /* a failed assertion exits: the servers go with it */
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "bash '%s' start '%s'", pair_script, pair_dir);
  FILE *p = popen(cmd, "r");
  ASSERT(p != NULL);
  char line[512];
  primary[0] = standby[0] = '\0';
  while (fgets(line, sizeof line, p)) {
    line[strcspn(line, "\n")] = '\0';
    if (strncmp(line, "PRIMARY_URL=", 12) == 0)
      snprintf(primary, size, "%.200s", line + 12);
    if (strncmp(line, "STANDBY_URL=", 12) == 0)
      snprintf(standby, size, "%.200s", line + 12);
  }
  int rc = pclose(p);
  if (rc != 0 || !primary[0] || !standby[0])
    FAILF("scripts/pg_pair.sh start %s failed (exit %d): see its output above", pair_dir, rc);
}

/* ------------------------------------------------------------------ the callers */

static void push(int64_t **v, size_t *n, size_t *cap, int64_t x) {
  if (*n == *cap) {
    *cap = *cap ? *cap * 2 : 1024;
    *v = realloc(*v, *cap * sizeof **v);
    ASSERT(*v != NULL);
  }
  (*v)[(*n)++] = x;
}

static void start_tx(caller_t *c);

static void backoff_done(uv_timer_t *h) {
  start_tx(h->data);
}

static void tx_failed(caller_t *c, const uvsql_error_t *err) {
  ft_t *t = c->t;
  push(&t->failed, &t->nfailed, &t->capf, c->id);
  int k = -err->code;
  t->codes[k >= 0 && k < 64 ? k : 63]++;
  if (err->code == UVSQL_EDISCONNECT && !t->first_disconnect[0])
    snprintf(t->first_disconnect, sizeof t->first_disconnect, "%s", err->message);
  if (err->code == UVSQL_ECONNECT && !t->first_connect[0])
    snprintf(t->first_connect, sizeof t->first_connect, "%s", err->message);
  if (c->conn)
    uvsql_conn_release(c->conn);
  c->conn = NULL;
  uv_timer_start(&c->backoff, backoff_done, 20, 0); /* no busy loop while there is no primary */
}

static void on_commit(uvsql_future_t *f, void *data) {
  caller_t *c = data;
  ft_t *t = c->t;
  if (uvsql_future_error(f)) {
    tx_failed(c, uvsql_future_error(f));
    return;
  }
  push(&t->committed, &t->ncommitted, &t->capc, c->id);
  if (t->t_promoted && !t->t_first_success)
    t->t_first_success = uv_hrtime();
  uvsql_conn_release(c->conn);
  c->conn = NULL;
  start_tx(c);
}

static void on_select(uvsql_future_t *f, void *data) {
  caller_t *c = data;
  if (uvsql_future_error(f)) {
    tx_failed(c, uvsql_future_error(f));
    return;
  }
  int64_t n = -1;
  ASSERT_OK(uvsql_result_int64(uvsql_future_value(f), 0, 0, &n), (uvsql_error_t *)NULL);
  ASSERT_INT_EQ(n, 1); /* the transaction reads its own write */
  uvsql_conn_commit(c->conn, on_commit, c);
}

static void on_insert(uvsql_future_t *f, void *data) {
  caller_t *c = data;
  if (uvsql_future_error(f)) {
    tx_failed(c, uvsql_future_error(f));
    return;
  }
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE id = :id", c->t->table);
  uvsql_param_t p[] = {UVSQL_P_INT64("id", c->id)};
  uvsql_conn_execute_sql(c->conn, sql, p, 1, on_select, c);
}

static void on_begin(uvsql_future_t *f, void *data) {
  caller_t *c = data;
  if (uvsql_future_error(f)) {
    tx_failed(c, uvsql_future_error(f));
    return;
  }
  char sql[128];
  snprintf(sql, sizeof sql, "INSERT INTO %s (id, caller) VALUES (:id, :caller)", c->t->table);
  uvsql_param_t p[] = {UVSQL_P_INT64("id", c->id), UVSQL_P_INT64("caller", c->idx)};
  uvsql_conn_execute_sql(c->conn, sql, p, 2, on_insert, c);
}

static void on_conn(uvsql_future_t *f, void *data) {
  caller_t *c = data;
  if (uvsql_future_error(f)) {
    tx_failed(c, uvsql_future_error(f));
    return;
  }
  c->conn = uvsql_future_value(f);
  uvsql_conn_begin(c->conn, UVSQL_ISOLATION_DEFAULT, on_begin, c);
}

static void start_tx(caller_t *c) {
  ft_t *t = c->t;
  if (t->stop) {
    c->busy = 0;
    t->nbusy--;
    return;
  }
  c->id = (int64_t)c->idx * 1000000 + ++c->seq;
  t->attempted++;
  ASSERT(uvsql_router_connect(t->r, UVSQL_ROUTE_AUTO, on_conn, c) != NULL);
}

/* ------------------------------------------------------------------ the crash and promotion */

static uv_process_t proc;
static uv_timer_t phase_timer;

static void spawn_step(ft_t *t, const char *step, uv_exit_cb on_exit) {
  char *args[] = {"bash", pair_script, (char *)step, pair_dir, NULL};
  uv_process_options_t o;
  memset(&o, 0, sizeof o);
  o.file = "bash";
  o.args = args;
  o.exit_cb = on_exit;
  proc.data = t;
  t->spawning = 1;
  int rc = uv_spawn(t->loop, &proc, &o);
  if (rc != 0)
    FAILF("could not spawn pg_pair.sh %s: %s", step, uv_strerror(rc));
}

static void proc_closed(uv_handle_t *h) {
  ((ft_t *)h->data)->spawning = 0;
}

static void end_run(uv_timer_t *h) {
  ((ft_t *)h->data)->stop = 1;
}

static void promoted(uv_process_t *p, int64_t status, int sig) {
  ft_t *t = p->data;
  if (status != 0 || sig != 0)
    FAILF("pg_pair.sh promote failed (exit %d, signal %d)", (int)status, sig);
  t->t_promoted = uv_hrtime();
  uv_close((uv_handle_t *)p, proc_closed);
  uv_timer_start(&phase_timer, end_run, 3000, 0);
}

static void crashed(uv_process_t *p, int64_t status, int sig) {
  ft_t *t = p->data;
  if (status != 0 || sig != 0)
    FAILF("pg_pair.sh stop-primary failed (exit %d, signal %d)", (int)status, sig);
  t->t_stopped = uv_hrtime();
  uv_close((uv_handle_t *)p, proc_closed); /* the test loop promotes once it has closed */
}

static void promote_now(uv_timer_t *h) {
  ft_t *t = h->data;
  t->t_promote_start = uv_hrtime();
  spawn_step(t, "promote", promoted);
}

static void crash_now(uv_timer_t *h) {
  ft_t *t = h->data;
  t->committed_before_crash = t->ncommitted;
  spawn_step(t, "stop-primary", crashed);
}

static int cmp64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static int has(const int64_t *v, size_t n, int64_t x) {
  return bsearch(&x, v, n, sizeof x, cmp64) != NULL;
}

TEST(failover_under_load_loses_no_commit_and_meets_the_2s_deadline_for_new_transactions) {
  test_require_backend("postgresql");
  char primary[256], standby[256];
  pair_start(primary, standby, sizeof primary);
  ft_t *t = calloc(1, sizeof *t);
  t->loop = test_loop();
  snprintf(t->table, sizeof t->table, "%s", test_unique_name("failover_rows"));
  const char *urls[] = {primary, standby};
  uvsql_engine_options_t eo = UVSQL_ENGINE_OPTIONS_INIT;
  eo.pool_size = 20;
  eo.max_overflow = 10;
  eo.connect_timeout = 2;
  uvsql_router_options_t ro = UVSQL_ROUTER_OPTIONS_INIT;
  ro.health_interval = 0.2;
  ro.check_timeout = 1;
  uvsql_error_t err;
  ASSERT_OK(uvsql_router_new(&t->r, t->loop, urls, 2, &eo, &ro, &err), &err);
  uvsql_future_t *f = uvsql_router_check(t->r, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  ASSERT_INT_EQ(uvsql_router_primary_index(t->r), 0);
  char sql[200];
  snprintf(sql, sizeof sql, "CREATE TABLE %s (id bigint PRIMARY KEY, caller int NOT NULL)",
           t->table);
  f = uvsql_router_execute_sql(t->r, sql, NULL, 0, UVSQL_ROUTE_AUTO, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);

  uv_timer_init(t->loop, &phase_timer);
  phase_timer.data = t;
  for (int i = 0; i < NCALLERS; i++) {
    caller_t *c = &t->callers[i];
    c->t = t;
    c->idx = i + 1;
    c->busy = 1;
    uv_timer_init(t->loop, &c->backoff);
    c->backoff.data = c;
    t->nbusy++;
  }
  t->t_start = uv_hrtime();
  for (int i = 0; i < NCALLERS; i++)
    start_tx(&t->callers[i]);
  uv_timer_start(&phase_timer, crash_now, 1000, 0);
  int phase = 0;
  uint64_t deadline = uv_hrtime() + 60ull * 1000000000ull;
  while (t->nbusy > 0 || t->spawning) {
    uv_run(t->loop, UV_RUN_ONCE);
    if (phase == 0 && t->t_stopped && !t->spawning) { /* crash done: promote */
      phase = 1;
      uv_timer_start(&phase_timer, promote_now, 0, 0);
    }
    if (uv_hrtime() > deadline)
      FAILF("the run did not end within 60 s (%d callers still busy)", t->nbusy);
  }
  for (int i = 0; i < NCALLERS; i++)
    uv_close((uv_handle_t *)&t->callers[i].backoff, NULL);
  uv_close((uv_handle_t *)&phase_timer, NULL);

  /* The figures. */
  double to_first = t->t_first_success ? (double)(t->t_first_success - t->t_promoted) / 1e6 : -1;
  printf("failover: %" PRIu64 " transactions tried by %d callers: %zu committed (%" PRIu64
         " before the crash), %zu failed (EDISCONNECT %d, ECONNECT %d, other %d)\n",
         t->attempted, NCALLERS, t->ncommitted, t->committed_before_crash, t->nfailed,
         t->codes[-UVSQL_EDISCONNECT], t->codes[-UVSQL_ECONNECT],
         (int)t->nfailed - t->codes[-UVSQL_EDISCONNECT] - t->codes[-UVSQL_ECONNECT]);
  printf("failover: crash (pg_ctl stop -m immediate) took %.0f ms, promotion (pg_ctl promote "
         "-w) %.0f ms; first commit on the new primary %.0f ms after the promotion\n",
         (double)(t->t_stopped - t->t_start) / 1e6 - 1000,
         (double)(t->t_promoted - t->t_promote_start) / 1e6, to_first);
  printf("failover: first EDISCONNECT: %s\nfailover: first ECONNECT: %s\n", t->first_disconnect,
         t->first_connect);

  /* Every transaction was reported to its caller. */
  ASSERT_INT_EQ(t->ncommitted + t->nfailed, t->attempted);
  ASSERT(t->committed_before_crash > 0);
  ASSERT(t->ncommitted > t->committed_before_crash); /* and after the promotion */
  /* Those in flight on the dead primary failed with EDISCONNECT; none was left hanging. */
  ASSERT(t->codes[-UVSQL_EDISCONNECT] > 0);
  ASSERT_INT_EQ(t->nfailed, t->codes[-UVSQL_EDISCONNECT] + t->codes[-UVSQL_ECONNECT]);
  ASSERT(to_first >= 0 && to_first < 2000);
  ASSERT_INT_EQ(uvsql_router_primary_index(t->r), 1);
  uvsql_router_stats_t st;
  uvsql_router_stats(t->r, &st);
  ASSERT_INT_EQ(st.failovers, 1);

  /* On the new primary: every committed row, and no row nobody tried. */
  snprintf(sql, sizeof sql, "SELECT id FROM %s ORDER BY id", t->table);
  f = uvsql_router_execute_sql(t->r, sql, NULL, 0, UVSQL_ROUTE_PRIMARY, NULL, NULL);
  const uvsql_result_t *rows = AWAIT_OK(f);
  size_t nrows = uvsql_result_nrows(rows);
  int64_t *present = calloc(nrows + 1, sizeof *present);
  for (size_t i = 0; i < nrows; i++)
    ASSERT_OK(uvsql_result_int64(rows, i, 0, &present[i]), (uvsql_error_t *)NULL);
  uvsql_future_unref(f);
  qsort(t->failed, t->nfailed, sizeof *t->failed, cmp64);
  size_t in_doubt = 0;
  for (size_t i = 0; i < t->ncommitted; i++)
    if (!has(present, nrows, t->committed[i]))
      FAILF("transaction %" PRId64 " was reported committed but its row is not on the new primary",
            t->committed[i]);
  qsort(t->committed, t->ncommitted, sizeof *t->committed, cmp64);
  for (size_t i = 0; i < nrows; i++) {
    if (has(t->committed, t->ncommitted, present[i]))
      continue;
    if (!has(t->failed, t->nfailed, present[i]))
      FAILF("row %" PRId64 " is on the new primary but no transaction wrote it", present[i]);
    in_doubt++; /* committed on the server, its reply lost in the crash: reported failed */
  }
  printf("failover: %zu rows on the new primary: %zu committed + %zu whose COMMIT reply was lost "
         "(reported as failed: EDISCONNECT)\n",
         nrows, t->ncommitted, in_doubt);
  ASSERT_INT_EQ(nrows, t->ncommitted + in_doubt);
  free(present);

  f = uvsql_router_dispose(t->r, NULL, NULL);
  AWAIT_OK(f);
  uvsql_future_unref(f);
  test_loop_close(t->loop);
  free(t->committed);
  free(t->failed);
  free(t);
  pair_stop();
}
