/* examples/http_server/store.c — the bookstore behind the HTTP server: two models (author,
 * book, author.books one-to-many), the schema created and seeded at start, and the routes:
 *
 *   GET  /authors/:id       one Core SELECT on the engine        -> {"id":..,"name":..}
 *   GET  /authors?limit=N   an ORM query with selectinload(books) -> [{..,"books":[..]}, ..]
 *   POST /books             {"author_id":..,"title":..}: add the book and commit, in one
 *                           session transaction (404 when the foreign key says there is no
 *                           such author)                          -> 201 {"id":..,...}
 *   GET  /stats             uvsql_pool_stats                     -> {"size":..,...}
 *
 * Every database call is callback-style: a request becomes a job_t (the one owner of what the
 * request needs while it waits: its session, its query, the connection to answer), the
 * callbacks pass it along, and job_end answers nothing but releases it all. The store counts
 * its jobs so that shutdown waits for them before disposing the engine.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server.h"

#define AUTHOR_FIELDS(X)                                                                           \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(name, STRING(100), UVSQL_NOT_NULL)
#define AUTHOR_RELS(X) X(books, MANY(book_t))
UVSQL_MODEL_REL(author_t, "authors", AUTHOR_FIELDS, AUTHOR_RELS)

#define BOOK_FIELDS(X)                                                                             \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(title, STRING(100), UVSQL_NOT_NULL)                                                            \
  X(author_id, INT64, UVSQL_NOT_NULL | UVSQL_INDEX)
UVSQL_MODEL(book_t, "books", BOOK_FIELDS)

#define SEED_AUTHORS    100
#define SEED_BOOKS      3 /* per author: 400 rows in all */
#define MAX_LIMIT       500
#define MAX_TITLE_CHARS 100

struct store_s {
  uvsql_engine_t *engine;
  uvsql_registry_t *reg;
  uvsql_mapper_t *authors, *books;
  uvsql_core_stmt_t *author_by_id; /* SELECT id, name FROM authors WHERE id = :id */
  int drop_at_close;
  int jobs; /* requests waiting on the database */
  int closing, ok;
  store_cb cb;
  void *cb_data;
};

typedef struct job_s {
  store_t *store;
  http_conn_t *conn; /* NULL once answered */
  uvsql_session_t *session;
  uvsql_orm_query_t *query;
  int64_t author_id;
  char *title;
  void *book; /* POST /books: the new book (owned by the session) */
} job_t;

static void store_finish_close(store_t *st);

/* ------------------------------------------------------------------ answering */

static void reply_json(job_t *job, int status, buf_t *b) {
  if (b->oom)
    http_respond(job->conn, 503, "{\"error\":\"out of memory\"}", 25);
  else
    http_respond(job->conn, status, b->p, b->len);
  job->conn = NULL;
  buf_free(b);
}

/* Answers {"error": msg} with extra header lines (each ending in "\r\n", or ""). */
static void reply_message(http_conn_t *conn, int status, const char *headers, const char *msg) {
  buf_t b = {0};
  buf_puts(&b, "{\"error\":");
  json_string(&b, msg, strlen(msg));
  buf_puts(&b, "}");
  if (b.oom)
    http_respond(conn, 503, "{\"error\":\"out of memory\"}", 25);
  else
    http_respond_headers(conn, status, headers, b.p, b.len);
  buf_free(&b);
}

static void reply_error(http_conn_t *conn, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reply_error(http_conn_t *conn, int status, const char *fmt, ...) {
  char msg[UVSQL_ERROR_MESSAGE_MAX + 64];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  reply_message(conn, status, "", msg);
}

/* 405 Method Not Allowed: HTTP/1.1 requires an Allow header naming the path's methods. */
static void reply_405(http_conn_t *conn, const char *method, const char *route,
                      const char *allowed) {
  char headers[64], msg[128];
  snprintf(headers, sizeof headers, "Allow: %s\r\n", allowed);
  snprintf(msg, sizeof msg, "%s %s: only %s is allowed", method, route, allowed);
  reply_message(conn, 405, headers, msg);
}

/* A database failure: 503 when the pool ran dry or the engine is closing, else 500. */
static void reply_db_error(job_t *job, const uvsql_error_t *e) {
  int status = e->code == UVSQL_EPOOL_TIMEOUT || e->code == UVSQL_ECLOSED ? 503 : 500;
  reply_error(job->conn, status, "%s: %s", uvsql_err_name(e->code), e->message);
  job->conn = NULL;
}

/* ------------------------------------------------------------------ jobs */

static job_t *job_new(store_t *st, http_conn_t *conn) {
  job_t *job = calloc(1, sizeof *job);
  if (!job) {
    reply_error(conn, 503, "out of memory");
    return NULL;
  }
  job->store = st;
  job->conn = conn;
  st->jobs++;
  return job;
}

static void job_free(job_t *job) {
  store_t *st = job->store;
  uvsql_orm_query_free(job->query);
  free(job->title);
  free(job);
  if (--st->jobs == 0 && st->closing)
    store_finish_close(st);
}

static void on_job_session_closed(uvsql_future_t *f, void *data) {
  job_free(data);
}

/* Ends a job whose answer has been sent: closes its session (rolling back what is open). */
static void job_end(job_t *job) {
  if (job->session && uvsql_session_close(job->session, on_job_session_closed, job))
    return;
  job_free(job);
}

/* A call that takes a callback returns NULL when it cannot even start (out of memory): its
 * callback will not run, so the job is answered and ended here. */
static void job_not_started(job_t *job, void *call) {
  if (call)
    return;
  reply_error(job->conn, 503, "out of memory");
  job->conn = NULL;
  job_end(job);
}

static int job_session(job_t *job) {
  if (uvsql_session_new(&job->session, job->store->engine, job->store->reg, NULL) != 0) {
    reply_error(job->conn, 503, "cannot create a session");
    job->conn = NULL;
    job->session = NULL;
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------ GET /authors/:id */

static void on_author_row(uvsql_future_t *f, void *data) {
  job_t *job = data;
  uvsql_result_t *r = uvsql_future_value(f);
  if (!r) {
    reply_db_error(job, uvsql_future_error(f));
  } else if (uvsql_result_nrows(r) == 0) {
    reply_error(job->conn, 404, "author %" PRId64 " not found", job->author_id);
    job->conn = NULL;
  } else {
    int64_t id = 0;
    const char *name = "";
    size_t len = 0;
    uvsql_result_int64(r, 0, 0, &id);
    uvsql_result_text(r, 0, 1, &name, &len);
    buf_t b = {0};
    buf_printf(&b, "{\"id\":%" PRId64 ",\"name\":", id);
    json_string(&b, name, len);
    buf_puts(&b, "}");
    reply_json(job, 200, &b);
  }
  job_end(job);
}

static void get_author(store_t *st, http_conn_t *conn, int64_t id) {
  job_t *job = job_new(st, conn);
  if (!job)
    return;
  job->author_id = id;
  uvsql_param_t p = UVSQL_P_INT64("id", id);
  job_not_started(
      job, uvsql_engine_execute_core(st->engine, st->author_by_id, &p, 1, on_author_row, job));
}

/* ------------------------------------------------------------------ GET /authors?limit=N */

static void on_authors(uvsql_future_t *f, void *data) {
  job_t *job = data;
  uvsql_orm_result_t *r = uvsql_future_value(f);
  if (!r) {
    reply_db_error(job, uvsql_future_error(f));
    job_end(job);
    return;
  }
  buf_t b = {0};
  buf_puts(&b, "[");
  for (size_t i = 0; i < uvsql_orm_result_count(r); i++) {
    author_t *a = uvsql_orm_result_at(r, i);
    buf_printf(&b, "%s{\"id\":%" PRId64 ",\"name\":", i ? "," : "", a->id);
    json_string(&b, a->name, strlen(a->name));
    buf_puts(&b, ",\"books\":[");
    for (size_t k = 0; k < a->books.n; k++) {
      book_t *bk = a->books.items[k];
      buf_printf(&b, "%s{\"id\":%" PRId64 ",\"title\":", k ? "," : "", bk->id);
      json_string(&b, bk->title, strlen(bk->title));
      buf_puts(&b, "}");
    }
    buf_puts(&b, "]}");
  }
  buf_puts(&b, "]");
  reply_json(job, 200, &b);
  job_end(job); /* the objects belong to the session: closing it frees them */
}

static void list_authors(store_t *st, http_conn_t *conn, int64_t limit) {
  job_t *job = job_new(st, conn);
  if (!job || job_session(job))
    goto fail;
  uvsql_load_option_t sel = UVSQL_SELECTINLOAD("books");
  uvsql_error_t err;
  if (!(job->query = uvsql_orm_query(st->authors, &sel, 1, &err))) {
    reply_error(conn, 500, "%s", err.message);
    job->conn = NULL;
    goto fail;
  }
  uvsql_core_stmt_t *q = uvsql_orm_query_stmt(job->query);
  uvsql_select_order_by(q, uvsql_mapper_col(st->authors, "id"));
  uvsql_select_limit(q, limit);
  job_not_started(job,
                  uvsql_session_execute_query(job->session, job->query, NULL, 0, on_authors, job));
  return;
fail:
  if (job)
    job_end(job);
}

/* ------------------------------------------------------------------ POST /books */

static void on_book_committed(uvsql_future_t *f, void *data) {
  job_t *job = data;
  const uvsql_error_t *e = uvsql_future_error(f);
  if (e && e->code == UVSQL_EINTEGRITY) { /* the only constraint a valid body can break */
    reply_error(job->conn, 404, "author %" PRId64 " not found", job->author_id);
    job->conn = NULL;
  } else if (e) {
    reply_db_error(job, e);
  } else {
    book_t *bk = job->book; /* its generated id was written back by the flush */
    buf_t b = {0};
    buf_printf(&b, "{\"id\":%" PRId64 ",\"author_id\":%" PRId64 ",\"title\":", bk->id,
               bk->author_id);
    json_string(&b, bk->title, strlen(bk->title));
    buf_puts(&b, "}");
    reply_json(job, 201, &b);
  }
  job_end(job);
}

/* The insert is the transaction's first statement, and the foreign key on books.author_id
 * answers "is there such an author?": reading the author first would take a read snapshot
 * that SQLite cannot upgrade to a write while another connection writes (SQLITE_BUSY at
 * once, whatever the busy timeout). */
static void add_book(job_t *job) {
  book_t *book = uvsql_orm_new(job->store->books);
  if (!book || uvsql_orm_set_text(book, &book->title, job->title) != 0 ||
      uvsql_session_add(job->session, book) != 0) {
    uvsql_orm_free(book);
    reply_error(job->conn, 503, "out of memory");
    job->conn = NULL;
    job_end(job);
    return;
  }
  book->author_id = job->author_id;
  job->book = book; /* borrowed: the session owns it */
  job_not_started(job, uvsql_session_commit(job->session, on_book_committed, job));
}

static size_t utf8_chars(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

static void post_book(store_t *st, http_conn_t *conn, const http_request_t *req) {
  char err[160];
  json_field_t f[] = {{"author_id", JSON_INT, 0, 0, NULL}, {"title", JSON_STR, 0, 0, NULL}};
  if (json_parse_object(req->body, req->body_len, f, 2, err, sizeof err) != 0) {
    reply_error(conn, 400, "invalid JSON body: %s", err);
  } else if (!f[0].found || f[0].i <= 0) {
    reply_error(conn, 400, "\"author_id\" is required: a positive integer");
  } else if (!f[1].found || !f[1].s[0] || utf8_chars(f[1].s) > MAX_TITLE_CHARS) {
    reply_error(conn, 400, "\"title\" is required: a string of 1 to %d characters",
                MAX_TITLE_CHARS);
  } else {
    job_t *job = job_new(st, conn);
    if (!job)
      goto out;
    job->author_id = f[0].i;
    job->title = f[1].s;
    f[1].s = NULL;
    if (job_session(job)) {
      job_end(job);
      goto out;
    }
    add_book(job);
  }
out:
  free(f[1].s);
}

/* ------------------------------------------------------------------ GET /stats */

static void get_stats(store_t *st, http_conn_t *conn) {
  uvsql_pool_stats_t s;
  uvsql_pool_stats(st->engine, &s);
  buf_t b = {0};
  buf_printf(&b,
             "{\"dialect\":\"%s\",\"size\":%d,\"checked_out\":%d,\"idle\":%d,\"overflow\":%d,"
             "\"waiting\":%d,\"connects\":%" PRIu64 ",\"checkouts\":%" PRIu64
             ",\"timeouts\":%" PRIu64 ",\"invalidated\":%" PRIu64 "}",
             uvsql_engine_dialect(st->engine), s.size, s.checked_out, s.idle, s.overflow, s.waiting,
             s.connects, s.checkouts, s.timeouts, s.invalidated);
  if (b.oom)
    http_respond(conn, 503, "{\"error\":\"out of memory\"}", 25);
  else
    http_respond(conn, 200, b.p, b.len);
  buf_free(&b);
}

/* ------------------------------------------------------------------ routing */

/* A positive decimal integer of at most 18 digits, all of s; else -1. */
static int64_t parse_id(const char *s, size_t n) {
  int64_t v = 0;
  if (n == 0 || n > 18)
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v > 0 ? v : -1;
}

/* The value of name=... in a query string (NULL if absent); *n its length. */
static const char *query_param(const char *q, const char *name, size_t *n) {
  size_t len = strlen(name);
  while (*q) {
    size_t item = strcspn(q, "&");
    if (item > len && strncmp(q, name, len) == 0 && q[len] == '=') {
      *n = item - len - 1;
      return q + len + 1;
    }
    q += item + (q[item] == '&');
  }
  return NULL;
}

void store_handle(void *app, http_conn_t *conn, const http_request_t *req) {
  store_t *st = app;
  int get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
  if (st->closing) {
    reply_error(conn, 503, "the server is shutting down");
  } else if (strncmp(req->path, "/authors/", 9) == 0) {
    int64_t id = parse_id(req->path + 9, strlen(req->path + 9));
    if (!get)
      reply_405(conn, req->method, "/authors/:id", "GET");
    else if (id < 0)
      reply_error(conn, 400, "author id must be a positive integer, not \"%.40s\"", req->path + 9);
    else
      get_author(st, conn, id);
  } else if (strcmp(req->path, "/authors") == 0) {
    size_t n = 0;
    const char *v = query_param(req->query, "limit", &n);
    int64_t limit = v ? parse_id(v, n) : 10;
    if (!get)
      reply_405(conn, req->method, "/authors", "GET");
    else if (limit < 1 || limit > MAX_LIMIT)
      reply_error(conn, 400, "limit must be an integer from 1 to %d", MAX_LIMIT);
    else
      list_authors(st, conn, limit);
  } else if (strcmp(req->path, "/books") == 0) {
    if (!post)
      reply_405(conn, req->method, "/books", "POST");
    else
      post_book(st, conn, req);
  } else if (strcmp(req->path, "/stats") == 0) {
    if (!get)
      reply_405(conn, req->method, "/stats", "GET");
    else
      get_stats(st, conn);
  } else {
    reply_error(conn, 404, "no such resource: %.100s", req->path);
  }
}

/* ------------------------------------------------------------------ start-up: schema, seed */

static void opened(store_t *st, int ok) {
  store_cb cb = st->cb;
  st->cb = NULL;
  cb(st, ok, st->cb_data);
}

static void fail_open(store_t *st, const char *what, const uvsql_error_t *e) {
  fprintf(stderr, "http_server: %s: %s: %s\n", what, uvsql_err_name(e->code), e->message);
  opened(st, 0);
}

/* Seed names: a few real ones (with a quote, a backslash, a tab and non-ASCII letters, so
 * that the JSON escaping is exercised), then "Author N" with "Book N.K". */
static const char *const seed_names[][1 + SEED_BOOKS] = {
    {"Ursula K. Le Guin", "A Wizard of Earthsea", "The Left Hand of Darkness", "The Dispossessed"},
    {"Jorge Luis Borges", "Ficciones", "The Aleph", "Labyrinths"},
    {"Chinua Achebe", "Things Fall Apart", "No Longer at Ease", "Arrow of God"},
    {"Flann \"Myles\" O'Brien", "At Swim-Two-Birds", "The Third Policeman", "C:\\Poor\tMouth"},
    {"Stanis\xc5\x82"
     "aw Lem",
     "Solaris", "The Cyberiad", "His Master's Voice"},
};
#define NSEED_NAMED (sizeof seed_names / sizeof seed_names[0])

typedef struct {
  store_t *st;
  uvsql_session_t *s;
  int ok;
} seed_t;

static void on_seed_closed(uvsql_future_t *f, void *data) {
  seed_t *sd = data;
  store_t *st = sd->st;
  int ok = sd->ok;
  free(sd);
  opened(st, ok);
}

static void on_seed_committed(uvsql_future_t *f, void *data) {
  seed_t *sd = data;
  sd->ok = uvsql_future_state(f) == UVSQL_FUTURE_RESOLVED;
  if (!sd->ok) {
    const uvsql_error_t *e = uvsql_future_error(f);
    fprintf(stderr, "http_server: seeding the tables: %s: %s\n", uvsql_err_name(e->code),
            e->message);
  }
  if (!uvsql_session_close(sd->s, on_seed_closed, sd))
    on_seed_closed(NULL, sd); /* could not start: its callback will not run */
}

/* Adds SEED_AUTHORS authors with SEED_BOOKS books each, in one transaction; authors are added
 * in order, so on empty tables they get ids 1, 2, ... */
static void seed(store_t *st) {
  seed_t *sd = calloc(1, sizeof *sd);
  if (!sd || uvsql_session_new(&sd->s, st->engine, st->reg, NULL) != 0) {
    free(sd);
    fprintf(stderr, "http_server: seeding the tables: cannot create a session\n");
    opened(st, 0);
    return;
  }
  sd->st = st;
  char name[64];
  for (int i = 1; i <= SEED_AUTHORS; i++) {
    author_t *a = uvsql_orm_new(st->authors);
    snprintf(name, sizeof name, "Author %d", i);
    uvsql_orm_set_text(a, &a->name, i <= (int)NSEED_NAMED ? seed_names[i - 1][0] : name);
    for (int k = 1; k <= SEED_BOOKS; k++) {
      book_t *b = uvsql_orm_new(st->books);
      snprintf(name, sizeof name, "Book %d.%d", i, k);
      uvsql_orm_set_text(b, &b->title, i <= (int)NSEED_NAMED ? seed_names[i - 1][k] : name);
      uvsql_orm_append(a, "books", b); /* links book.author_id; cascades the add */
    }
    uvsql_session_add(sd->s, a);
  }
  if (!uvsql_session_commit(sd->s, on_seed_committed, sd)) {
    fprintf(stderr, "http_server: seeding the tables: out of memory\n");
    if (!uvsql_session_close(sd->s, on_seed_closed, sd))
      on_seed_closed(NULL, sd);
  }
}

static void on_probed(uvsql_future_t *f, void *data) {
  store_t *st = data;
  uvsql_result_t *r = uvsql_future_value(f);
  if (!r)
    fail_open(st, "reading the authors table", uvsql_future_error(f));
  else if (uvsql_result_nrows(r) > 0)
    opened(st, 1); /* seeded by an earlier run */
  else
    seed(st);
}

static void on_created(uvsql_future_t *f, void *data) {
  store_t *st = data;
  if (uvsql_future_state(f) != UVSQL_FUTURE_RESOLVED) {
    fail_open(st, "creating the tables", uvsql_future_error(f));
    return;
  }
  uvsql_core_stmt_t *probe = uvsql_orm_select(st->authors);
  uvsql_select_limit(probe, 1);
  if (!uvsql_engine_execute_core(st->engine, probe, NULL, 0, on_probed, st)) {
    fprintf(stderr, "http_server: reading the authors table: out of memory\n");
    opened(st, 0);
  }
  uvsql_core_stmt_free(probe); /* allowed: the call compiled what it needs */
}

store_t *store_open(uv_loop_t *loop, const char *url, const char *prefix, int drop_at_close,
                    store_cb cb, void *data) {
  store_t *st = calloc(1, sizeof *st);
  uvsql_error_t err;
  char ta[64], tb[64], fk[80];
  if (!st)
    return NULL;
  st->drop_at_close = drop_at_close;
  st->cb = cb;
  st->cb_data = data;
  snprintf(ta, sizeof ta, "%sauthors", prefix);
  snprintf(tb, sizeof tb, "%sbooks", prefix);
  snprintf(fk, sizeof fk, "%s.id", ta);
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.pool_size = 10;
  opt.max_overflow = 0; /* beyond 10, statements share connections (pipeline_depth): no churn */
  if (uvsql_engine_new(&st->engine, loop, url, &opt, &err) != 0) {
    fprintf(stderr, "http_server: %s\n", err.message);
    free(st);
    return NULL;
  }
  st->reg = uvsql_registry_new(NULL);
  if (!st->reg || !(st->authors = uvsql_registry_map_table(st->reg, author_t_model(), ta, &err)) ||
      !(st->books = uvsql_registry_map_table(st->reg, book_t_model(), tb, &err)) ||
      !uvsql_mapper_references(st->books, "author_id", fk, UVSQL_FK_CASCADE)) {
    fprintf(stderr, "http_server: mapping the models: %s\n", st->reg ? err.message : "no memory");
    st->cb = NULL;
    store_close(st, NULL, NULL);
    return NULL;
  }
  uvsql_relationship_t *rel =
      uvsql_mapper_relationship(st->authors, "books", UVSQL_ONE_TO_MANY, st->books,
                                offsetof(author_t, books), "author_id", 0, &err);
  if (rel)
    uvsql_relationship_order_by(rel, "id");
  uvsql_core_stmt_t *q = st->author_by_id = uvsql_orm_select(st->authors);
  if (q)
    uvsql_where(q, uvsql_eq(q, uvsql_mapper_col(st->authors, "id"), uvsql_bindparam(q, "id")));
  if (!rel || !q ||
      !uvsql_metadata_create_all(uvsql_registry_metadata(st->reg), st->engine, on_created, st)) {
    fprintf(stderr, "http_server: declaring the schema: %s\n", rel ? "no memory" : err.message);
    st->cb = NULL;
    store_close(st, NULL, NULL);
    return NULL;
  }
  return st;
}

/* ------------------------------------------------------------------ shutdown */

static void on_disposed(uvsql_future_t *f, void *data) {
  store_t *st = data;
  if (uvsql_future_state(f) != UVSQL_FUTURE_RESOLVED)
    st->ok = 0;
  uvsql_registry_free(st->reg);
  store_cb cb = st->cb;
  void *cb_data = st->cb_data;
  int ok = st->ok;
  free(st);
  if (cb)
    cb(NULL, ok, cb_data);
}

static void on_dropped(uvsql_future_t *f, void *data) {
  store_t *st = data;
  if (uvsql_future_state(f) != UVSQL_FUTURE_RESOLVED) {
    const uvsql_error_t *e = uvsql_future_error(f);
    fprintf(stderr, "http_server: dropping the tables: %s\n", e->message);
    st->ok = 0;
  }
  uvsql_engine_dispose(st->engine, on_disposed, st);
}

static void store_finish_close(store_t *st) {
  uvsql_core_stmt_free(st->author_by_id);
  st->author_by_id = NULL;
  if (st->drop_at_close && st->authors && st->books)
    uvsql_metadata_drop_all(uvsql_registry_metadata(st->reg), st->engine, on_dropped, st);
  else
    uvsql_engine_dispose(st->engine, on_disposed, st);
}

void store_close(store_t *st, store_cb cb, void *data) {
  st->closing = 1;
  st->ok = 1;
  st->cb = cb;
  st->cb_data = data;
  if (st->jobs == 0)
    store_finish_close(st);
}
