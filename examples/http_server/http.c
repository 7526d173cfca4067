/* examples/http_server/http.c — HTTP/1.1 on libuv: a TCP listener, one http_conn_t per client,
 * requests parsed by http_parser (Debian's libhttp-parser), JSON responses with a
 * Content-Length, keep-alive.
 *
 * A connection serves one request at a time, in order, and pipelined requests wait their
 * turn: when http_parser completes a message it is paused, the request goes to the
 * application and reading stops (backpressure) until the response has been written; then the
 * rest of the input is parsed.
 *
 *   reading --message complete--> busy (app has the request) --http_respond--> writing
 *      ^                                                                          |
 *      +------------------------ write done, keep-alive -------------------------+
 *   any state --EOF, error, "Connection: close", server stopping--> closing --> freed
 *
 * Invariants:
 *   1. refs counts the owners of a connection: the TCP handle (until its close callback) and
 *      the application while it holds a request (until the response has been written or
 *      dropped). The connection is freed when both are gone, so a database callback that
 *      answers after the client went away finds its connection still allocated.
 *   2. At most one request is with the application; no input is parsed while one is.
 *   3. The server frees itself (and calls its stop callback) once it is stopping, its
 *      listener is closed, and its last connection is freed.
 */
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server.h"

#define MAX_URL  8192
#define MAX_BODY (64 * 1024)

struct http_server_s {
  uv_tcp_t listener;
  uv_loop_t *loop;
  http_handler_cb handler;
  void *app;
  http_conn_t *conns; /* open connections (a list through prev/next) */
  size_t nconns;      /* allocated connections, open or not */
  int port;
  int stopping, listener_closed;
  http_stopped_cb stopped_cb;
  void *stopped_data;
};

struct http_conn_s {
  uv_tcp_t tcp;
  http_parser parser;
  http_server_t *srv;
  http_conn_t *prev, *next;
  int refs;       /* invariant 1 */
  int busy;       /* a request is with the application or its response is being written */
  int reading;    /* uv_read_start is in effect */
  int keep_alive; /* of the current request */
  int too_large;  /* 0, or 413/414 for the current request */
  buf_t in;       /* received bytes; in.p[in_off..in.len) not yet parsed */
  size_t in_off;
  buf_t url, body;
};

typedef struct {
  uv_write_t req;
  http_conn_t *conn;
  char data[];
} write_t;

static const char *reason(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 400:
    return "Bad Request";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 413:
    return "Payload Too Large";
  case 414:
    return "URI Too Long";
  case 503:
    return "Service Unavailable";
  default:
    return status >= 500 ? "Internal Server Error" : "Unknown";
  }
}

static void server_maybe_done(http_server_t *srv) {
  if (srv->stopping && srv->listener_closed && srv->nconns == 0) {
    http_stopped_cb cb = srv->stopped_cb;
    void *data = srv->stopped_data;
    free(srv);
    if (cb)
      cb(data);
  }
}

static void conn_unref(http_conn_t *c) {
  if (--c->refs > 0)
    return;
  http_server_t *srv = c->srv;
  buf_free(&c->in);
  buf_free(&c->url);
  buf_free(&c->body);
  free(c);
  srv->nconns--;
  server_maybe_done(srv);
}

static void on_conn_closed(uv_handle_t *h) {
  http_conn_t *c = h->data;
  if (c->prev)
    c->prev->next = c->next;
  else
    c->srv->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  conn_unref(c);
}

static void conn_close(http_conn_t *c) {
  if (!uv_is_closing((uv_handle_t *)&c->tcp))
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

/* ------------------------------------------------------------------ parser callbacks */

static int on_message_begin(http_parser *p) {
  http_conn_t *c = p->data;
  c->url.len = c->body.len = 0;
  c->url.oom = c->body.oom = 0; /* a failed allocation refuses that request, not the next ones */
  c->too_large = 0;
  return 0;
}

static int on_url(http_parser *p, const char *at, size_t n) {
  http_conn_t *c = p->data;
  if (c->url.len + n > MAX_URL)
    c->too_large = 414;
  else
    buf_add(&c->url, at, n);
  return 0;
}

static int on_body(http_parser *p, const char *at, size_t n) {
  http_conn_t *c = p->data;
  if (c->body.len + n > MAX_BODY)
    c->too_large = 413; /* the rest of the body is read and dropped */
  else if (!c->too_large)
    buf_add(&c->body, at, n);
  return 0;
}

static int on_message_complete(http_parser *p) {
  http_conn_t *c = p->data;
  c->keep_alive = http_should_keep_alive(p);
  http_parser_pause(p, 1); /* http_parser_execute returns here: one request at a time */
  return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ------------------------------------------------------------------ requests and responses */

static void respond_error(http_conn_t *c, int status, const char *msg) {
  buf_t b = {0};
  buf_puts(&b, "{\"error\":");
  json_string(&b, msg, strlen(msg));
  buf_puts(&b, "}");
  http_respond(c, b.oom ? 500 : status, b.oom ? "{}" : b.p, b.oom ? 2 : b.len);
  buf_free(&b);
}

static void dispatch(http_conn_t *c) {
  c->busy = 1;
  c->refs++; /* the application's hold, released when the response is written or dropped */
  if (c->too_large || c->url.oom || c->body.oom) {
    respond_error(c, c->too_large ? c->too_large : 503, "request too large");
    return;
  }
  buf_add(&c->url, "", 0); /* NUL-terminated even when empty */
  buf_add(&c->body, "", 0);
  char *query = strchr(c->url.p, '?');
  if (query)
    *query++ = '\0';
  http_request_t req = {http_method_str((enum http_method)c->parser.method), c->url.p,
                        query ? query : "", c->body.p, c->body.len};
  c->srv->handler(c->srv->app, c, &req);
}

static void update_reading(http_conn_t *c);

/* Parses what has been received until a request is complete (then hands it over) or the
 * input is used up. */
static void process(http_conn_t *c) {
  while (!c->busy && c->in_off < c->in.len && !uv_is_closing((uv_handle_t *)&c->tcp)) {
    size_t n =
        http_parser_execute(&c->parser, &settings, c->in.p + c->in_off, c->in.len - c->in_off);
    c->in_off += n;
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    if (e == HPE_PAUSED) {
      http_parser_pause(&c->parser, 0);
      dispatch(c);
    } else if (e != HPE_OK) {
      c->busy = 1;
      c->refs++;
      c->keep_alive = 0;
      c->in_off = c->in.len;
      char msg[128];
      snprintf(msg, sizeof msg, "malformed HTTP request (%s)", http_errno_name(e));
      respond_error(c, 400, msg);
    }
  }
  if (c->in_off == c->in.len)
    c->in.len = c->in_off = 0;
  update_reading(c);
}

static void on_written(uv_write_t *req, int status) {
  write_t *w = (write_t *)req;
  http_conn_t *c = w->conn;
  free(w);
  c->busy = 0;
  if (status < 0 || !c->keep_alive || c->srv->stopping)
    conn_close(c);
  else
    process(c); /* a pipelined request may be waiting */
  conn_unref(c);
}

void http_respond(http_conn_t *c, int status, const char *body, size_t len) {
  http_respond_headers(c, status, "", body, len);
}

void http_respond_headers(http_conn_t *c, int status, const char *headers, const char *body,
                          size_t len) {
  if (uv_is_closing((uv_handle_t *)&c->tcp)) { /* the client went away: nobody to answer */
    c->busy = 0;
    conn_unref(c);
    return;
  }
  if (c->srv->stopping)
    c->keep_alive = 0;
  char head[512];
  int keep10 = c->keep_alive && c->parser.http_major == 1 && c->parser.http_minor == 0;
  int hn = snprintf(head, sizeof head,
                    "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                    "Content-Length: %zu\r\n%.200s%s\r\n",
                    status, reason(status), len + 1, headers,
                    !c->keep_alive ? "Connection: close\r\n"
                    : keep10       ? "Connection: keep-alive\r\n"
                                   : "");
  write_t *w = malloc(sizeof *w + (size_t)hn + len + 1);
  if (!w) {
    c->busy = 0;
    conn_close(c);
    conn_unref(c);
    return;
  }
  memcpy(w->data, head, (size_t)hn);
  memcpy(w->data + hn, body, len);
  w->data[(size_t)hn + len] = '\n'; /* counted in Content-Length; friendlier in a terminal */
  w->conn = c;
  uv_buf_t ub = uv_buf_init(w->data, (unsigned)((size_t)hn + len + 1));
  if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &ub, 1, on_written) != 0) {
    free(w);
    c->busy = 0;
    conn_close(c);
    conn_unref(c);
  }
}

/* ------------------------------------------------------------------ reading */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out) {
  http_conn_t *c = h->data;
  buf_t *in = &c->in;
  const size_t room = 16384 + 1; /* + 1: buf_t keeps a byte for a NUL */
  if (in->cap - in->len < room) {
    char *p = in->len + room <= MAX_URL + MAX_BODY + 65536 ? realloc(in->p, in->len + room) : NULL;
    if (!p) {
      *out = uv_buf_init(NULL, 0); /* UV_ENOBUFS: the connection is closed */
      return;
    }
    in->p = p;
    in->cap = in->len + room;
  }
  *out = uv_buf_init(in->p + in->len, (unsigned)(in->cap - in->len - 1));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  http_conn_t *c = s->data;
  if (n < 0) {
    conn_close(c); /* EOF or error; reading is stopped while busy, so nothing is pending */
    return;
  }
  c->in.len += (size_t)n;
  process(c);
}

static void update_reading(http_conn_t *c) {
  if (uv_is_closing((uv_handle_t *)&c->tcp))
    return;
  int want = !c->busy;
  if (want && !c->reading) {
    if (c->in_off > 0) { /* keep the unparsed rest at the front */
      memmove(c->in.p, c->in.p + c->in_off, c->in.len - c->in_off);
      c->in.len -= c->in_off;
      c->in_off = 0;
    }
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
      c->reading = 1;
    else
      conn_close(c);
  } else if (!want && c->reading) {
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = 0;
  }
}

/* ------------------------------------------------------------------ the listener */

static void on_connection(uv_stream_t *l, int status) {
  http_server_t *srv = l->data;
  if (status < 0 || srv->stopping)
    return;
  http_conn_t *c = calloc(1, sizeof *c);
  if (!c || uv_tcp_init(srv->loop, &c->tcp) != 0) {
    free(c);
    return;
  }
  c->tcp.data = c;
  c->parser.data = c;
  c->srv = srv;
  c->refs = 1; /* the handle */
  c->next = srv->conns;
  if (c->next)
    c->next->prev = c;
  srv->conns = c;
  srv->nconns++;
  http_parser_init(&c->parser, HTTP_REQUEST);
  if (uv_accept(l, (uv_stream_t *)&c->tcp) != 0) {
    conn_close(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1); /* small responses on kept-alive connections: no Nagle delay */
  update_reading(c);
}

http_server_t *http_server_start(uv_loop_t *loop, int port, http_handler_cb handler, void *app) {
  http_server_t *srv = calloc(1, sizeof *srv);
  struct sockaddr_in addr;
  struct sockaddr_storage bound;
  int len = sizeof bound, rc;
  if (!srv)
    return NULL;
  srv->loop = loop;
  srv->handler = handler;
  srv->app = app;
  uv_tcp_init(loop, &srv->listener);
  srv->listener.data = srv;
  uv_ip4_addr("127.0.0.1", port, &addr);
  if ((rc = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&addr, 0)) != 0 ||
      (rc = uv_listen((uv_stream_t *)&srv->listener, 511, on_connection)) != 0 ||
      (rc = uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&bound, &len)) != 0) {
    fprintf(stderr, "http_server: cannot listen on 127.0.0.1:%d: %s\n", port, uv_strerror(rc));
    http_server_stop(srv, NULL, NULL); /* frees srv once the handle is closed */
    return NULL;
  }
  srv->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
  return srv;
}

int http_server_port(const http_server_t *srv) {
  return srv->port;
}

static void on_listener_closed(uv_handle_t *h) {
  http_server_t *srv = h->data;
  srv->listener_closed = 1;
  server_maybe_done(srv);
}

void http_server_stop(http_server_t *srv, http_stopped_cb cb, void *data) {
  srv->stopping = 1;
  srv->stopped_cb = cb;
  srv->stopped_data = data;
  for (http_conn_t *c = srv->conns; c; c = c->next)
    if (!c->busy) /* busy ones close after their response (it says "Connection: close") */
      conn_close(c);
  uv_close((uv_handle_t *)&srv->listener, on_listener_closed);
}
