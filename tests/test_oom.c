/* tests/test_oom.c — the allocation-failure loop: every allocation failure inside uvsql is an
 * error to its caller, never a hang, a crash or a leak.
 *
 * A scenario (engine, connect, create_all, Core insert, text select, ORM add + flush + commit,
 * get, session close, drop_all, dispose) runs once per N = 1, 2, ... with the Nth allocation
 * made by uvsql failing (one-shot: later ones succeed), until a run ends without reaching the
 * Nth allocation. Each run is a forked child, so a crash, an ASan report or a leak (LSan runs
 * at the child's exit) fails that N alone, and the parent goes on and lists every bad N.
 *
 * How allocations fail: this program is linked with -Wl,--wrap=malloc,calloc,realloc,strdup,
 * strndup (CMakeLists.txt), so every call to them from the objects linked in statically —
 * libuvsql.a, the harness and this file — goes through the __wrap_ functions below. libuv,
 * libpq, libmariadb, sqlite3 and libc are shared libraries, so their own allocations are left
 * out: the loop tests uvsql's own error paths. Works under ASan (__real_malloc is ASan's).
 *
 * A run must: settle every future (a ref'd watchdog timer on the loop, and the parent's
 * timeout, report a hang), fail an operation with a nonzero code and a message or succeed with
 * the right values, hand back everything (LSan under --asan), and close its loop cleanly.
 * A bad N is reported with the call chain of the failed allocation (addr2line on the
 * executable). Left out under valgrind (scripts/test.sh: "allocation_failure"): each N is a
 * whole scenario, and the ASan pass already counts leaks.
 */
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"
#include "uvsql/orm.h"

#define ITEM_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(30), UVSQL_NOT_NULL)
UVSQL_MODEL(item_t, "oom_item", ITEM_FIELDS)

/* ------------------------------------------------------------------ the injected failure */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static atomic_int armed;
static atomic_long alloc_count;
static long fail_at;
static int report_fd = -1; /* the child's end of the pipe to the parent */

/* Writes the failed allocation's call chain (offsets in this executable) to the parent. */
static void record_site(void) {
  void *frames[16];
  char buf[400];
  int n = backtrace(frames, 16), len = snprintf(buf, sizeof buf, "S");
  Dl_info self, di;
  if (!dladdr((void *)record_site, &self))
    return;
  for (int i = 2; i < n && len < (int)sizeof buf - 24; i++) /* 0, 1: here and the wrapper */
    if (dladdr(frames[i], &di) && di.dli_fbase == self.dli_fbase)
      len += snprintf(buf + len, sizeof buf - len, " 0x%lx",
                      (unsigned long)((uintptr_t)frames[i] - (uintptr_t)self.dli_fbase - 1));
  buf[len++] = '\n';
  if (write(report_fd, buf, len) < 0)
    return;
}

static int inject(void) {
  if (!atomic_load(&armed) || atomic_fetch_add(&alloc_count, 1) + 1 != fail_at)
    return 0;
  record_site();
  errno = ENOMEM;
  return 1;
}

void *__wrap_malloc(size_t n) {
  return inject() ? NULL : __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t size) {
  return inject() ? NULL : __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t n) {
  return inject() ? NULL : __real_realloc(p, n);
}
char *__wrap_strdup(const char *s) {
  return inject() ? NULL : __real_strdup(s);
}
char *__wrap_strndup(const char *s, size_t n) {
  return inject() ? NULL : __real_strndup(s, n);
}

/* ------------------------------------------------------------------ the scenario (child) */

enum { RUN_INJECTED = 0, RUN_HANG = 2, RUN_UNCLEAN_LOOP = 3, RUN_BAD = 4, RUN_DONE = 10 };

static const char *step = "start";
static int first_code;
static const char *first_step;
static int bad; /* a wrong value, or an error without code or message */
static char first_message[200];

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
  char buf[400];
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (len > (int)sizeof buf - 1)
    len = (int)sizeof buf - 1;
  if (len > 0 && write(report_fd, buf, (size_t)len) < 0)
    return;
}

static void failed(int code, const char *message) {
  if (!first_code) {
    first_code = code ? code : -1;
    first_step = step;
    snprintf(first_message, sizeof first_message, "%.*s", (int)sizeof first_message - 1,
             message ? message : ""); /* the start is enough to name it */
  }
  if (!code || !message || !message[0]) {
    say("B %s: an error without code or message (code %d)\n", step, code);
    bad = 1;
  }
}

static void wrong(const char *what) {
  say("B %s: wrong value\n", what);
  bad = 1;
}

static void on_watchdog(uv_timer_t *t) {
  say("H %s: the loop did not finish in time (first error: %s in %s)\n", step,
      first_code ? uvsql_err_name(first_code) : "none", first_step ? first_step : "-");
  _exit(RUN_HANG);
}

/* Waits for f; returns its code (UVSQL_ENOMEM when there is no future: it could not be made).
 * A future still pending once the loop has nothing left to run is a hang. */
static int await(uvsql_future_t *f) {
  if (!f) {
    failed(UVSQL_ENOMEM, "no future");
    return UVSQL_ENOMEM;
  }
  int rc = uvsql_future_wait(f);
  if (uvsql_future_state(f) == UVSQL_FUTURE_PENDING) {
    say("H %s: the future is still pending and nothing is left on the loop\n", step);
    _exit(RUN_HANG);
  }
  if (rc) {
    const uvsql_error_t *e = uvsql_future_error(f);
    failed(rc, e ? e->message : NULL);
  }
  return rc;
}

static int await_unref(uvsql_future_t *f) {
  int rc = await(f);
  uvsql_future_unref(f);
  return rc;
}

/* A cleanup call that could not even be queued (no future, or UVSQL_ENOMEM: close and
 * dispose leave their object as it was then) is called again: the failure is one-shot. */
#define CLEANUP(call)                                                                              \
  do {                                                                                             \
    uvsql_future_t *f_ = (call);                                                                   \
    if (await_unref(f_) == UVSQL_ENOMEM)                                                           \
      await_unref(call);                                                                           \
  } while (0)

static void scenario(uv_loop_t *loop, const char *url, const char *table) {
  uvsql_engine_t *engine = NULL;
  uvsql_registry_t *reg = NULL;
  uvsql_mapper_t *items = NULL;
  uvsql_session_t *s = NULL;
  uvsql_error_t err;
  int created = 0;

  step = "engine_new";
  if (uvsql_engine_new(&engine, loop, url, NULL, &err)) {
    failed(err.code, err.message);
    return;
  }

  step = "connect";
  uvsql_future_t *f = uvsql_engine_connect(engine, NULL, NULL);
  if (await(f) == 0) {
    uvsql_conn_t *c = uvsql_future_value(f);
    step = "conn_execute";
    uvsql_future_t *q = uvsql_conn_execute_sql(c, "SELECT 1", NULL, 0, NULL, NULL);
    int rc = await(q);
    uvsql_future_unref(q);
    uvsql_conn_release(c);
    uvsql_future_unref(f);
    if (rc)
      goto dispose;
  } else {
    uvsql_future_unref(f);
    goto dispose;
  }

  step = "registry";
  reg = uvsql_registry_new(NULL);
  if (!reg) {
    failed(UVSQL_ENOMEM, "uvsql_registry_new returned NULL");
    goto dispose;
  }
  items = uvsql_registry_map_table(reg, item_t_model(), table, &err);
  if (!items) {
    failed(err.code, err.message);
    goto registry;
  }

  step = "create_all";
  created = 1;
  if (await_unref(uvsql_metadata_create_all(uvsql_registry_metadata(reg), engine, NULL, NULL)))
    goto registry;

  step = "core_insert";
  uvsql_core_stmt_t *ins = uvsql_insert(uvsql_mapper_table(items));
  uvsql_insert_columns(ins, UVSQL_NAMES("id", "name"));
  uvsql_insert_values(ins, uvsql_lit_int64(ins, 1), uvsql_lit_text(ins, "core"));
  f = uvsql_engine_execute_core(engine, ins, NULL, 0, NULL, NULL);
  uvsql_core_stmt_free(ins);
  if (await_unref(f))
    goto registry;

  step = "select";
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT name FROM %s WHERE id = :id", table);
  uvsql_param_t p[] = {UVSQL_P_INT64("id", 1)};
  f = uvsql_engine_execute_sql(engine, sql, p, 1, NULL, NULL);
  if (await(f) == 0) {
    const char *name = NULL;
    uvsql_result_t *r = uvsql_future_value(f);
    if (uvsql_result_nrows(r) != 1 || uvsql_result_text(r, 0, 0, &name, NULL) != 0 ||
        strcmp(name, "core") != 0)
      wrong("select");
    uvsql_future_unref(f);
  } else {
    uvsql_future_unref(f);
    goto registry;
  }

  step = "session_new";
  if (uvsql_session_new(&s, engine, reg, NULL)) {
    failed(UVSQL_ENOMEM, "uvsql_session_new failed");
    s = NULL;
    goto registry;
  }
  step = "orm_new";
  item_t *it = uvsql_orm_new(items);
  if (!it) {
    failed(UVSQL_ENOMEM, "uvsql_orm_new returned NULL");
    goto session;
  }
  step = "set_text";
  int rc = uvsql_orm_set_int64(it, &it->id, 2);
  if (!rc)
    rc = uvsql_orm_set_text(it, &it->name, "orm");
  if (!rc) {
    step = "session_add";
    rc = uvsql_session_add(s, it);
  }
  if (rc) {
    failed(rc, "set or add failed");
    uvsql_orm_free(it); /* not the session's: still ours */
    goto session;
  }
  step = "flush";
  if (await_unref(uvsql_session_flush(s, NULL, NULL)))
    goto session;
  step = "commit";
  if (await_unref(uvsql_session_commit(s, NULL, NULL)))
    goto session;
  step = "get";
  f = uvsql_session_get_int(s, items, 2, NULL, NULL);
  if (await(f) == 0) {
    item_t *got = uvsql_future_value(f);
    if (!got || got->id != 2 || !got->name || strcmp(got->name, "orm") != 0)
      wrong("get");
  }
  uvsql_future_unref(f);

session:
  step = "session_close";
  CLEANUP(uvsql_session_close(s, NULL, NULL));
registry:
  if (created) {
    step = "drop_all";
    uvsql_future_t *d = uvsql_metadata_drop_all(uvsql_registry_metadata(reg), engine, NULL, NULL);
    if (await_unref(d)) /* the tables must go: once more (the failure is one-shot) */
      await_unref(uvsql_metadata_drop_all(uvsql_registry_metadata(reg), engine, NULL, NULL));
  }
  uvsql_registry_free(reg);
dispose:
  step = "dispose";
  CLEANUP(uvsql_engine_dispose(engine, NULL, NULL));
}

static int child(const char *backend, long n) {
  const char *url = strcmp(backend, "sqlite") == 0       ? test_sqlite_url()
                    : strcmp(backend, "postgresql") == 0 ? test_pg_url()
                                                         : test_mariadb_url();
  char table[64];
  uv_loop_t loop;
  uv_timer_t watchdog;
  snprintf(table, sizeof table, "oom_item_%ld", (long)getpid());
  uv_loop_init(&loop);
  uv_timer_init(&loop, &watchdog);
  uv_timer_start(&watchdog, on_watchdog, 5000, 0);

  fail_at = n;
  atomic_store(&alloc_count, 0);
  atomic_store(&armed, 1);
  scenario(&loop, url, table);
  atomic_store(&armed, 0);

  step = "after dispose";
  uv_unref((uv_handle_t *)&watchdog); /* still fires if something else keeps the loop going */
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_close((uv_handle_t *)&watchdog, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0) {
    uv_print_all_handles(&loop, stderr);
    say("U %s: uv_loop_close failed: handles left open\n", step);
    return RUN_UNCLEAN_LOOP;
  }
  if (bad)
    return RUN_BAD;
  if (atomic_load(&alloc_count) < n) { /* no injected failure: no error either */
    if (!first_code)
      return RUN_DONE;
    say("B %s: failed without an injected failure: %s: %s\n", first_step,
        uvsql_err_name(first_code), first_message);
    return RUN_BAD;
  }
  if (first_code)
    say("E %s %d\n", first_step, first_code);
  return RUN_INJECTED;
}

/* ------------------------------------------------------------------ the loop (parent) */

/* The source lines of the offsets in a site line ("S 0x.. 0x.."), one frame per line. */
static void symbolize(const char *site, char *out, size_t cap) {
  char cmd[1000], exe[300];
  ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
  out[0] = 0;
  if (k <= 0 || !site[0])
    return;
  exe[k] = 0;
  snprintf(cmd, sizeof cmd, "addr2line -f -s -p -e '%s' %s 2>/dev/null | head -n 6", exe, site + 1);
  FILE *p = popen(cmd, "r");
  if (!p)
    return;
  size_t len = 0;
  char line[300];
  while (fgets(line, sizeof line, p) && len < cap - 1)
    len += (size_t)snprintf(out + len, cap - len, "      at %s", line);
  pclose(p);
}

static void allocation_failure_loop(const char *backend) {
  long n, injected = 0, errors = 0, absorbed = 0, nbad = 0;
  char report[16384] = "";
  size_t rlen = 0;
  void *prime[2];
  backtrace(prime, 2); /* loads the unwinder before any allocation can fail */
  if (strcmp(backend, "sqlite") == 0)
    test_require_backend("sqlite");
  else if (strcmp(backend, "postgresql") == 0)
    (void)test_pg_url();
  else
    (void)test_mariadb_url();
  const char *only = getenv("UVSQL_TEST_OOM_ONLY"); /* debugging: run N in this process */
  if (only) {
    report_fd = 2;
    exit(child(backend, atol(only)));
  }
  const char *max_env = getenv("UVSQL_TEST_OOM_MAX");
  long max_n = max_env ? atol(max_env) : 100000;
  time_t start = time(NULL);

  for (n = 1; n <= max_n; n++) {
    int fds[2];
    ASSERT(pipe(fds) == 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      report_fd = fds[1];
      exit(child(backend, n)); /* exit, not _exit: LSan checks for leaks at exit */
    }
    close(fds[1]);
    char msg[2048] = "";
    size_t mlen = 0;
    int timed_out = 0;
    struct pollfd pfd = {fds[0], POLLIN, 0};
    for (;;) {
      int pr = poll(&pfd, 1, 15000);
      if (pr == 0) {
        timed_out = 1;
        kill(pid, SIGKILL);
        break;
      }
      if (pr < 0 && errno == EINTR)
        continue;
      ssize_t got = read(fds[0], msg + mlen, sizeof msg - 1 - mlen);
      if (got <= 0)
        break;
      mlen += (size_t)got;
    }
    msg[mlen] = 0;
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == RUN_DONE)
      break;
    char site[400] = "", *s = strstr(msg, "S ");
    if (s && (s == msg || s[-1] == '\n')) {
      size_t l = strcspn(s, "\n");
      snprintf(site, sizeof site, "%.*s", (int)(l < sizeof site - 1 ? l : sizeof site - 1), s);
    }
    if (code == RUN_INJECTED && !timed_out) {
      injected++;
      if (strstr(msg, "\nE ") || strncmp(msg, "E ", 2) == 0)
        errors++;
      else
        absorbed++;
      continue;
    }
    nbad++;
    char where[1200];
    symbolize(site, where, sizeof where);
    const char *what = timed_out                  ? "hang (killed after 15 s)"
                       : code == RUN_HANG         ? "hang"
                       : code == RUN_UNCLEAN_LOOP ? "loop not closed cleanly"
                       : code == RUN_BAD          ? "bad error or wrong value"
                       : WIFSIGNALED(status)      ? "crash (signal)"
                       : code == 23               ? "leak (LSan)"
                                                  : "failure (ASan/UBSan or exit)";
    fprintf(stderr, "%s N=%ld: %s (exit %d)\n    %s%s", backend, n, what, code, msg, where);
    if (rlen < sizeof report - 2000)
      rlen += (size_t)snprintf(report + rlen, sizeof report - rlen,
                               "  N=%ld: %s (exit %d, signal %d)\n    %s%s", n, what, code,
                               WIFSIGNALED(status) ? WTERMSIG(status) : 0, msg, where);
  }
  printf("%s: %ld allocation points, %ld failures injected: %ld clean errors, %ld absorbed, "
         "%ld bad; %lds\n",
         backend, n - 1, injected + nbad, errors, absorbed, nbad, (long)(time(NULL) - start));
  if (nbad)
    FAILF("%s: %ld allocation failure(s) were not clean errors:\n%s", backend, nbad, report);
  ASSERT(n > 50);     /* the scenario does allocate through the wrappers */
  ASSERT(n <= max_n); /* and a run without a failure was reached */
}

/* The wrappers do intercept uvsql's allocations: the first one fails uvsql_engine_new. */
TEST(first_allocation_failure_fails_engine_new) {
  uv_loop_t *loop = test_loop();
  uvsql_engine_t *engine = NULL;
  uvsql_error_t err;
  const char *url = test_sqlite_url();
  fail_at = 1;
  atomic_store(&alloc_count, 0);
  atomic_store(&armed, 1);
  int rc = uvsql_engine_new(&engine, loop, url, NULL, &err);
  atomic_store(&armed, 0);
  ASSERT_ERR(rc, UVSQL_ENOMEM);
  ASSERT(engine == NULL);
  ASSERT_STR_CONTAINS(err.message, "memory");
  test_loop_close(loop);
}

TEST(sqlite_allocation_failures_are_errors) {
  allocation_failure_loop("sqlite");
}

TEST(postgresql_allocation_failures_are_errors) {
  allocation_failure_loop("postgresql");
}

TEST(mariadb_allocation_failures_are_errors) {
  allocation_failure_loop("mariadb");
}

/* One backend by hand (debugging), e.g. with UVSQL_TEST_OOM_ONLY=N to run N in this process:
 *   UVSQL_TEST_OOM_BACKEND=mariadb ./test_oom any_backend_allocation_failures_are_errors */
TEST(any_backend_allocation_failures_are_errors) {
  const char *backend = getenv("UVSQL_TEST_OOM_BACKEND");
  if (!backend)
    exit(77); /* skipped: run by hand */
  allocation_failure_loop(backend);
}
