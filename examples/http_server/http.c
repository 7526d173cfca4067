/* examples/http_server/http.c — HTTP/1.1 on libuv: a TCP listener, one http_conn_t per client,
 * requests parsed by http_parser (Debian's libhttp-parser), the path percent-decoded, the
 * Content-Type header kept, JSON responses with a Content-Length (HEAD: the same headers, no
 * body), keep-alive, and the server's one error shape {"error":"..."} built with jansson.
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
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "server.h"

#define MAX_URL          8192
#define MAX_BODY         (64 * 1024)
#define MAX_CONTENT_TYPE 256

/* A growable byte buffer, always NUL-terminated once it holds anything. */
typedef struct buf_s {
  char *p;
  size_t len, cap;
  int oom; /* an allocation failed: the content is incomplete */
} buf_t;

static void buf_add(buf_t *b, const char *s, size_t n) {
  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void buf_free(buf_t *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

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
  int head;       /* the current request is a HEAD: answer without the body */
  int too_large;  /* 0, or 413/414/431 for the current request */
  buf_t in;       /* received bytes; in.p[in_off..in.len) not yet parsed */
  size_t in_off;
  buf_t url, body;
  buf_t field;    /* the header name being received */
  buf_t ctype;    /* the Content-Type value */
  int in_value;   /* the last header callback was on_header_value */
  int is_ctype;   /* the header being received is Content-Type */
  int have_ctype; /* the current request has a Content-Type */
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
  case 415:
    return "Unsupported Media Type";
  case 431:
    return "Request Header Fields Too Large";
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
  buf_free(&c->field);
  buf_free(&c->ctype);
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
  c->url.len = c->body.len = c->field.len = c->ctype.len = 0;
  /* a failed allocation refuses that request, not the next ones */
  c->url.oom = c->body.oom = c->field.oom = c->ctype.oom = 0;
  c->too_large = 0;
  c->in_value = c->is_ctype = c->have_ctype = 0;
  return 0;
}

/* Header names and values may arrive in pieces: a name is complete when its value begins. */
static int on_header_field(http_parser *p, const char *at, size_t n) {
  http_conn_t *c = p->data;
  if (c->in_value) {
    c->in_value = 0;
    c->field.len = 0;
    c->field.oom = 0;
  }
  if (c->field.len + n <= 64)
    buf_add(&c->field, at, n);
  else
    c->field.oom = 1; /* a longer name is not Content-Type: stop collecting it */
  return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n) {
  http_conn_t *c = p->data;
  if (!c->in_value) {
    c->in_value = 1;
    c->is_ctype =
        !c->field.oom && c->field.len == 12 && strncasecmp(c->field.p, "content-type", 12) == 0;
    if (c->is_ctype) {
      c->have_ctype = 1;
      c->ctype.len = 0; /* a repeated header: the last one counts */
    }
  }
  if (!c->is_ctype)
    return 0;
  if (c->ctype.len + n > MAX_CONTENT_TYPE)
    c->too_large = 431;
  else
    buf_add(&c->ctype, at, n);
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
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ------------------------------------------------------------------ requests and responses */

static int hexval(char h) {
  return h >= '0' && h <= '9'   ? h - '0'
         : h >= 'a' && h <= 'f' ? h - 'a' + 10
         : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                : -1;
}

/* Decodes the %XX escapes of s[0..n) into out (room for n + 1 bytes; NUL-terminated); with
 * plus, '+' is a space (query strings). 0, or -1 for a '%' not followed by two hex digits, or
 * %00 (a NUL would cut the string short). */
static int pct_decode(const char *s, size_t n, char *out, int plus) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '%') {
      out[o++] = plus && s[i] == '+' ? ' ' : s[i];
      continue;
    }
    int hi = i + 2 < n ? hexval(s[i + 1]) : -1, lo = i + 2 < n ? hexval(s[i + 2]) : -1;
    if (hi < 0 || lo < 0 || (hi | lo) == 0)
      return -1;
    out[o++] = (char)(hi << 4 | lo);
    i += 2;
  }
  out[o] = '\0';
  return 0;
}

int http_query(const char *q, const char *name, char *out, size_t outsize) {
  size_t len = strlen(name);
  while (*q) {
    size_t item = strcspn(q, "&");
    if (item > len && strncmp(q, name, len) == 0 && q[len] == '=') {
      size_t n = item - len - 1;
      if (n + 1 > outsize)
        return -1;
      return pct_decode(q + len + 1, n, out, 1) == 0 ? 1 : -1;
    }
    q += item + (q[item] == '&');
  }
  return 0;
}

int http_is_json(const char *ct, const char **why) {
  static const char json[] = "application/json";
  *why = "Content-Type must be application/json";
  if (!ct) {
    *why = "a JSON body needs the header Content-Type: application/json";
    return 0;
  }
  ct += strspn(ct, " \t");
  if (strncasecmp(ct, json, sizeof json - 1) != 0)
    return 0;
  ct += sizeof json - 1;
  while (*ct) { /* parameters: ; name=value */
    ct += strspn(ct, " \t");
    if (*ct == '\0')
      break;
    if (*ct++ != ';')
      return 0;
    ct += strspn(ct, " \t");
    if (*ct == '\0' || *ct == ';')
      continue; /* an empty parameter ("application/json;") is allowed */
    size_t nlen = strcspn(ct, "=; \t");
    const char *name = ct;
    ct += nlen;
    if (*ct != '=' || nlen == 0)
      return 0;
    ct++;
    int quoted = *ct == '"';
    const char *v = ct + quoted;
    size_t vlen = quoted ? strcspn(v, "\"") : strcspn(v, "; \t");
    if (quoted && v[vlen] != '"')
      return 0;
    ct = v + vlen + quoted;
    if (nlen == 7 && strncasecmp(name, "charset", 7) == 0 &&
        !(vlen == 5 && strncasecmp(v, "utf-8", 5) == 0)) {
      *why = "a JSON body must be UTF-8 (charset=utf-8, or no charset)";
      return 0;
    }
  }
  return 1;
}

void http_respond_error(http_conn_t *c, int status, const char *headers, const char *message) {
  static const char oom[] = "{\"error\":\"out of memory\"}";
  json_t *doc = json_pack("{s:s}", "error", message);
  char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
  if (text)
    http_respond_headers(c, status, headers, text, strlen(text));
  else
    http_respond(c, 503, oom, sizeof oom - 1);
  free(text);
  json_decref(doc);
}

static void dispatch(http_conn_t *c) {
  c->busy = 1;
  c->refs++; /* the application's hold, released when the response is written or dropped */
  c->head = c->parser.method == HTTP_HEAD;
  if (c->too_large || c->url.oom || c->body.oom || c->ctype.oom) {
    http_respond_error(c, c->too_large ? c->too_large : 503, "",
                       c->too_large == 431 ? "the Content-Type header is too long"
                                           : "request too large");
    return;
  }
  buf_add(&c->url, "", 0); /* NUL-terminated even when empty */
  buf_add(&c->body, "", 0);
  buf_add(&c->ctype, "", 0);
  if (c->url.oom || c->body.oom || c->ctype.oom) {
    http_respond_error(c, 503, "", "out of memory");
    return;
  }
  char *query = strchr(c->url.p, '?');
  if (query)
    *query++ = '\0';
  /* Decoded in place (never longer than the original). Routing sees "/authors/1" for
   * "/authors/%31"; a malformed escape is the client's error. */
  if (pct_decode(c->url.p, strlen(c->url.p), c->url.p, 0) != 0) {
    http_respond_error(c, 400, "",
                       "malformed percent-encoding in the path: '%' must be followed by two "
                       "hex digits, and %00 is not allowed");
    return;
  }
  http_request_t req = {http_method_str((enum http_method)c->parser.method),
                        c->url.p,
                        query ? query : "",
                        c->have_ctype ? c->ctype.p : NULL,
                        c->body.p,
                        c->body.len};
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
      c->head = 0;
      c->in_off = c->in.len;
      char msg[128];
      snprintf(msg, sizeof msg, "malformed HTTP request (%s)", http_errno_name(e));
      http_respond_error(c, 400, "", msg);
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
  size_t blen = c->head ? 0 : len + 1; /* HEAD: the headers of the GET, no body */
  write_t *w = malloc(sizeof *w + (size_t)hn + blen);
  if (!w) {
    c->busy = 0;
    conn_close(c);
    conn_unref(c);
    return;
  }
  memcpy(w->data, head, (size_t)hn);
  if (blen) {
    memcpy(w->data + hn, body, len);
    w->data[(size_t)hn + len] = '\n'; /* counted in Content-Length; friendlier in a terminal */
  }
  w->conn = c;
  uv_buf_t ub = uv_buf_init(w->data, (unsigned)((size_t)hn + blen));
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
