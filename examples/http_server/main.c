/* examples/http_server — a small HTTP/1.1 JSON server for a bookstore, on one libuv loop,
 * with uvsql underneath: nothing blocks, every database call is callback-style.
 *
 *   http_server [--port N] [--url URL] [--prefix P] [--drop]
 *
 *     --port N     listen on 127.0.0.1:N (default 8080; 0: a free port). Once ready it prints
 *                  "listening on 127.0.0.1:PORT" on stdout.
 *     --url URL    the database (default sqlite:///bookstore.db?journal_mode=wal)
 *     --prefix P   prefix of the table names (letters, digits, '_'; default none)
 *     --drop       drop the tables at shutdown (for tests on a shared database)
 *
 *   curl localhost:8080/authors/1
 *   curl 'localhost:8080/authors?limit=2'
 *   curl -d '{"author_id":1,"title":"Tales from Earthsea"}' localhost:8080/books
 *   curl localhost:8080/stats
 *
 * Start-up: tables created and, when empty, seeded (store.c); then the listener (http.c).
 * Shutdown on SIGINT/SIGTERM, in this order: stop accepting and finish the requests in flight
 * (http_server_stop), wait for their sessions to close, drop the tables if asked and dispose
 * the engine (store_close), close the signal handles; the loop then has nothing left and
 * uv_loop_close succeeds (the exit code is 0 only if it does).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server.h"

typedef struct {
  uv_loop_t *loop;
  uv_signal_t sigint, sigterm;
  store_t *store;
  http_server_t *http;
  int port;
  int starting; /* the store is being opened */
  int stopping;
  int failed;
} app_t;

static void shutdown_app(app_t *app);

static void on_store_closed(store_t *unused, int ok, void *data) {
  app_t *app = data;
  app->store = NULL;
  if (!ok)
    app->failed = 1;
  uv_close((uv_handle_t *)&app->sigint, NULL);
  uv_close((uv_handle_t *)&app->sigterm, NULL);
}

static void on_http_stopped(void *data) {
  app_t *app = data;
  app->http = NULL;
  store_close(app->store, on_store_closed, app);
}

static void shutdown_app(app_t *app) {
  app->stopping = 1;
  if (app->starting)
    return; /* on_store_open comes back here */
  if (app->http)
    http_server_stop(app->http, on_http_stopped, app);
  else
    on_http_stopped(app);
}

static void on_signal(uv_signal_t *h, int signum) {
  app_t *app = h->data;
  if (app->stopping)
    return;
  fprintf(stderr, "http_server: %s: shutting down\n", signum == SIGINT ? "SIGINT" : "SIGTERM");
  shutdown_app(app);
}

static void on_store_open(store_t *store, int ok, void *data) {
  app_t *app = data;
  app->starting = 0;
  if (!ok)
    app->failed = 1;
  if (ok && !app->stopping) {
    app->http = http_server_start(app->loop, app->port, store_handle, store);
    if (app->http) {
      printf("listening on 127.0.0.1:%d\n", http_server_port(app->http));
      fflush(stdout);
      return;
    }
    app->failed = 1;
  }
  shutdown_app(app);
}

static int usage(const char *argv0) {
  fprintf(stderr, "usage: %s [--port N] [--url URL] [--prefix P] [--drop]\n", argv0);
  return 2;
}

int main(int argc, char **argv) {
  const char *url = "sqlite:///bookstore.db?journal_mode=wal", *prefix = "";
  int drop = 0;
  app_t app = {0};
  app.port = 8080;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      char *end;
      long p = strtol(argv[++i], &end, 10);
      if (*end || p < 0 || p > 65535)
        return usage(argv[0]);
      app.port = (int)p;
    } else if (strcmp(argv[i], "--url") == 0 && i + 1 < argc) {
      url = argv[++i];
    } else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc) {
      prefix = argv[++i];
      if (strlen(prefix) > 32 ||
          strspn(prefix, "abcdefghijklmnopqrstuvwxyz"
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(prefix))
        return usage(argv[0]);
    } else if (strcmp(argv[i], "--drop") == 0) {
      drop = 1;
    } else {
      return usage(argv[0]);
    }
  }
  signal(SIGPIPE, SIG_IGN); /* a client that hangs up makes a write fail, not the process die */

  app.loop = uv_default_loop();
  uv_signal_init(app.loop, &app.sigint);
  uv_signal_init(app.loop, &app.sigterm);
  app.sigint.data = app.sigterm.data = &app;
  uv_signal_start(&app.sigint, on_signal, SIGINT);
  uv_signal_start(&app.sigterm, on_signal, SIGTERM);

  app.starting = 1;
  app.store = store_open(app.loop, url, prefix, drop, on_store_open, &app);
  if (!app.store) {
    app.failed = 1;
    uv_close((uv_handle_t *)&app.sigint, NULL);
    uv_close((uv_handle_t *)&app.sigterm, NULL);
  }
  uv_run(app.loop, UV_RUN_DEFAULT);
  int rc = uv_loop_close(app.loop);
  if (rc != 0)
    fprintf(stderr, "http_server: uv_loop_close: %s (a handle was left open)\n", uv_strerror(rc));
  return rc != 0 || app.failed ? 1 : 0;
}
