/* examples/http_server/server.h — the pieces of the bookstore HTTP server and how they meet.
 *
 *   main.c   command line, signals, start-up and the order of shutdown
 *   http.c   HTTP/1.1 over libuv TCP with http_parser: connections, keep-alive, responses
 *   store.c  the bookstore: models, schema and seed, the four routes (every DB call
 *            callback-style)
 *   json.c   a growable buffer, JSON string escaping, a small parser for request bodies
 *
 * Ownership: the http server owns its connections; a connection hands one request at a time
 * to the application and holds on to itself until the application answers it with
 * http_respond (exactly once), whatever happens to the socket meanwhile. Everything runs on
 * the loop thread.
 */
#ifndef HTTP_SERVER_SERVER_H
#define HTTP_SERVER_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include <uvsql.h>

/* ------------------------------------------------------------------ json.c */

typedef struct buf_s {
  char *p;
  size_t len, cap;
  int oom; /* an allocation failed: the content is incomplete */
} buf_t;

void buf_add(buf_t *b, const char *s, size_t n);
void buf_puts(buf_t *b, const char *s);
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(buf_t *b);
/* Appends s[0..n) as a quoted JSON string (", \ and control characters escaped). */
void json_string(buf_t *b, const char *s, size_t n);

typedef enum { JSON_INT = 1, JSON_STR } json_kind_t;
typedef struct json_field_s {
  const char *key;
  json_kind_t kind;
  int found;
  int64_t i;
  char *s; /* malloc'd, NUL-terminated UTF-8 (caller frees) */
} json_field_t;
/* Parses a flat JSON object; fills the fields named in f (other keys must hold scalars and
 * are ignored). Returns 0, or -1 with a message for the client in err. */
int json_parse_object(const char *s, size_t n, json_field_t *f, size_t nf, char *err,
                      size_t errsize);

/* ------------------------------------------------------------------ http.c */

typedef struct http_conn_s http_conn_t;
typedef struct http_server_s http_server_t;

typedef struct http_request_s {
  const char *method; /* "GET", "POST", ... */
  const char *path;   /* "/authors/7" (NUL-terminated, without the query) */
  const char *query;  /* "limit=5", or "" */
  const char *body;
  size_t body_len;
} http_request_t;

/* Called for each request; the request is valid only during the call. The application must
 * answer with http_respond exactly once, now or later. */
typedef void (*http_handler_cb)(void *app, http_conn_t *conn, const http_request_t *req);
typedef void (*http_stopped_cb)(void *data);

/* Listens on 127.0.0.1:port (0: a free one) and serves on loop. NULL with a message on stderr. */
http_server_t *http_server_start(uv_loop_t *loop, int port, http_handler_cb handler, void *app);
int http_server_port(const http_server_t *srv);
/* Stops accepting, closes idle connections, lets busy ones answer first, then frees the server
 * and calls cb (when not NULL). */
void http_server_stop(http_server_t *srv, http_stopped_cb cb, void *data);
/* Answers the connection's current request (body: JSON, copied). If the client has gone,
 * the answer is dropped. */
void http_respond(http_conn_t *conn, int status, const char *body, size_t len);
/* The same with extra header lines, each ending in "\r\n" (e.g. "Allow: GET\r\n"). */
void http_respond_headers(http_conn_t *conn, int status, const char *headers, const char *body,
                          size_t len);

/* ------------------------------------------------------------------ store.c */

typedef struct store_s store_t;
typedef void (*store_cb)(store_t *store, int ok, void *data);

/* Creates the engine, the schema (tables prefix + "authors", prefix + "books") and, when the
 * tables are empty, the seed rows; then calls cb (ok 0: the error is on stderr, and the store
 * must still be closed). prefix: letters, digits, '_'. NULL when it cannot start (the error
 * is on stderr; cb will not run): run the loop anyway, so that the engine it made is disposed. */
store_t *store_open(uv_loop_t *loop, const char *url, const char *prefix, int drop_at_close,
                    store_cb cb, void *data);
/* The http handler: routes a request. */
void store_handle(void *store, http_conn_t *conn, const http_request_t *req);
/* Waits for the requests in flight, drops the tables if asked, disposes the engine, frees
 * the store, then calls cb (ok 0 if something failed on the way). */
void store_close(store_t *store, store_cb cb, void *data);

#endif
