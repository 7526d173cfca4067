/* examples/http_server/server.h — the pieces of the bookstore HTTP server and how they meet.
 *
 *   main.c   command line, signals, start-up and the order of shutdown
 *   http.c   HTTP/1.1 over libuv TCP with http_parser: connections, keep-alive, HEAD,
 *            percent-decoding of the path, responses, the one JSON error shape
 *   store.c  the bookstore: models, schema and seed, the four routes (every DB call
 *            callback-style); JSON in and out through jansson
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

/* ------------------------------------------------------------------ http.c */

typedef struct http_conn_s http_conn_t;
typedef struct http_server_s http_server_t;

typedef struct http_request_s {
  const char *method;       /* "GET", "HEAD", "POST", ... */
  const char *path;         /* "/authors/7": percent-decoded, NUL-terminated, without the query */
  const char *query;        /* "limit=5", or "" (as received: decode values with http_query) */
  const char *content_type; /* the Content-Type header's value, or NULL when there is none */
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
 * the answer is dropped. To a HEAD request it sends the same status and headers (the same
 * Content-Length) without the body. */
void http_respond(http_conn_t *conn, int status, const char *body, size_t len);
/* The same with extra header lines, each ending in "\r\n" (e.g. "Allow: GET, HEAD\r\n"). */
void http_respond_headers(http_conn_t *conn, int status, const char *headers, const char *body,
                          size_t len);
/* Answers with the one error shape of this server, {"error":"<message>"} (jansson escapes the
 * message), and extra header lines (or ""). */
void http_respond_error(http_conn_t *conn, int status, const char *headers, const char *message);
/* The value of name=... in a query string, percent-decoded ('+' is a space) into out
 * (NUL-terminated, at most outsize - 1 bytes). 1 when found, 0 when absent, -1 when it is
 * malformed (a bad %XX escape, %00, or longer than out). */
int http_query(const char *query, const char *name, char *out, size_t outsize);
/* Whether a Content-Type value is JSON: "application/json" (any case), optionally followed by
 * parameters, of which a charset must be utf-8. 1 or 0; *why says what is wrong when 0. */
int http_is_json(const char *content_type, const char **why);

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
