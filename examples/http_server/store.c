/* examples/http_server/store.c — the bookstore behind the HTTP server: two models (author,
 * book, author.books one-to-many), the schema created and seeded at start, and the routes:
 *
 *   GET  /authors/:id       one Core SELECT on the engine        -> {"id":..,"name":..}
 *   GET  /authors?limit=N   an ORM query with selectinload(books) -> [{..,"books":[..]}, ..]
 *   POST /books             {"author_id":..,"title":..,"details":<any JSON>}: add the book
 *                           and commit, in one session transaction (404 when the foreign key
 *                           says there is no such author)        -> 201 {"id":..,...}
 *   GET  /stats             uvsql_pool_stats                     -> {"size":..,...}
 *
 * HEAD is answered wherever GET is (http.c leaves the body out). A POST body must say
 * Content-Type: application/json (else 415) and is parsed by jansson: "details" is a JSON
 * column, so any JSON value (objects and arrays nested as deep as jansson allows) is stored as
 * it was sent; the other fields are scalars, and a nested value there is a 400 naming the
 * field and what it must be. Every error is {"error":"..."} (http_respond_error).
 *
 * Every database call is callback-style: a request becomes a job_t (the one owner of what the
 * request needs while it waits: its session, its query, the connection to answer), the
 * callbacks pass it along, and job_end answers nothing but releases it all. The store counts
 * its jobs so that shutdown waits for them before disposing the engine.
 */
#include <inttypes.h>
#include <jansson.h>
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
  X(author_id, INT64, UVSQL_NOT_NULL | UVSQL_INDEX)                                                \
  X(details, JSON, 0)
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
  json_t *details; /* POST /books: the "details" value (a reference of the job's), or NULL */
  void *book;      /* POST /books: the new book (owned by the session) */
} job_t;

static void store_finish_close(store_t *st);

/* ------------------------------------------------------------------ answering */

/* Answers with doc as compact JSON and releases doc (jansson keeps UTF-8 as it is and escapes
 * quotes, backslashes and control characters). */
static void reply_json(http_conn_t *conn, int status, json_t *doc) {
  char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
  if (text)
    http_respond(conn, status, text, strlen(text));
  else
    http_respond_error(conn, 503, "", "out of memory");
  free(text);
  json_decref(doc);
}

static void reply_error(http_conn_t *conn, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reply_error(http_conn_t *conn, int status, const char *fmt, ...) {
  char msg[UVSQL_ERROR_MESSAGE_MAX + 64];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  http_respond_error(conn, status, "", msg);
}

/* 405 Method Not Allowed: HTTP/1.1 requires an Allow header naming the path's methods. */
static void reply_405(http_conn_t *conn, const char *method, const char *route,
                      const char *allowed) {
  char headers[64], msg[128];
  snprintf(headers, sizeof headers, "Allow: %s\r\n", allowed);
  snprintf(msg, sizeof msg, "%s %s: only %s allowed", method, route,
           strchr(allowed, ',') ? "GET and HEAD are" : "POST is");
  http_respond_error(conn, 405, headers, msg);
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
  json_decref(job->details);
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
    reply_json(job->conn, 200, json_pack("{s:I,s:s%}", "id", (json_int_t)id, "name", name, len));
    job->conn = NULL;
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

/* A book as JSON; its details column parsed back into a value (null when SQL NULL). */
static json_t *book_json(const book_t *bk) {
  json_t *details = bk->details ? json_loads(bk->details, JSON_DECODE_ANY, NULL) : json_null();
  if (!details) /* cannot happen for what this server stored; say so rather than hide it */
    details = json_pack("{s:s}", "unparsable", bk->details);
  return json_pack("{s:I,s:s,s:o}", "id", (json_int_t)bk->id, "title", bk->title, "details",
                   details);
}

static void on_authors(uvsql_future_t *f, void *data) {
  job_t *job = data;
  uvsql_orm_result_t *r = uvsql_future_value(f);
  if (!r) {
    reply_db_error(job, uvsql_future_error(f));
    job_end(job);
    return;
  }
  json_t *list = json_array();
  for (size_t i = 0; list && i < uvsql_orm_result_count(r); i++) {
    author_t *a = uvsql_orm_result_at(r, i);
    json_t *books = json_array();
    for (size_t k = 0; books && k < a->books.n; k++)
      if (json_array_append_new(books, book_json(a->books.items[k])) != 0)
        json_decref(books), books = NULL;
    /* "o": the object takes books over (and a NULL makes json_pack fail: out of memory) */
    if (json_array_append_new(list, json_pack("{s:I,s:s,s:o}", "id", (json_int_t)a->id, "name",
                                              a->name, "books", books)) != 0)
      json_decref(list), list = NULL;
  }
  reply_json(job->conn, 200, list);
  job->conn = NULL;
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
    reply_json(job->conn, 201,
               json_pack("{s:I,s:I,s:s,s:O}", "id", (json_int_t)bk->id, "author_id",
                         (json_int_t)bk->author_id, "title", bk->title, "details",
                         job->details ? job->details : json_null()));
    job->conn = NULL;
  }
  job_end(job);
}

/* The insert is the transaction's first statement, and the foreign key on books.author_id
 * answers "is there such an author?": reading the author first would take a read snapshot
 * that SQLite cannot upgrade to a write while another connection writes (SQLITE_BUSY at
 * once, whatever the busy timeout). */
static void add_book(job_t *job) {
  uvsql_error_t err = {0};
  book_t *book = uvsql_orm_new(job->store->books);
  char *doc = job->details ? json_dumps(job->details, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
  if (!book || uvsql_orm_set_text(book, &book->title, job->title) != 0 ||
      (job->details && (!doc || uvsql_orm_set_json(book, &book->details, doc, &err) != 0)) ||
      uvsql_session_add(job->session, book) != 0) {
    uvsql_orm_free(book);
    free(doc);
    if (err.code && err.code != UVSQL_ENOMEM)
      reply_error(job->conn, 400, "\"details\": %s", err.message);
    else
      reply_error(job->conn, 503, "out of memory");
    job->conn = NULL;
    job_end(job);
    return;
  }
  free(doc);
  book->author_id = job->author_id;
  job->book = book; /* borrowed: the session owns it */
  job_not_started(job, uvsql_session_commit(job->session, on_book_committed, job));
}

static const char *json_kind(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT:
    return "an object";
  case JSON_ARRAY:
    return "an array";
  case JSON_STRING:
    return "a string";
  case JSON_INTEGER:
    return "an integer";
  case JSON_REAL:
    return "a number with a fraction or exponent";
  case JSON_TRUE:
  case JSON_FALSE:
    return "a boolean";
  default:
    return "null";
  }
}

static size_t utf8_chars(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

/* Checks the body against the book model; 0, or -1 having answered 400/415. On success the
 * job gets the title (a copy) and the details (a reference). */
static int read_book(http_conn_t *conn, const http_request_t *req, job_t *out) {
  const char *why;
  if (!http_is_json(req->content_type, &why)) {
    reply_error(conn, 415, "%s (got %.80s)", why, req->content_type ? req->content_type : "none");
    return -1;
  }
  json_error_t jerr;
  /* A JSON object, no duplicate keys; jansson rejects invalid UTF-8 and \u0000 itself. */
  json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
  if (!body) {
    reply_error(conn, 400, "invalid JSON body: %s (line %d, column %d)", jerr.text, jerr.line,
                jerr.column);
    return -1;
  }
  const char *key;
  json_t *v, *author_id = NULL, *title = NULL;
  int rc = -1;
  if (!json_is_object(body)) {
    reply_error(conn, 400, "the body must be a JSON object, not %s", json_kind(body));
    goto out;
  }
  json_object_foreach(body, key, v) {
    if (strcmp(key, "author_id") == 0) {
      author_id = v;
    } else if (strcmp(key, "title") == 0) {
      title = v;
    } else if (strcmp(key, "details") == 0) {
      if (!json_is_null(v))
        out->details = json_incref(v); /* a JSON column: any value, nested or not */
    } else {
      reply_error(conn, 400, "unknown field \"%.40s\": a book has author_id, title and details",
                  key);
      goto out;
    }
  }
  if (!author_id || !json_is_integer(author_id) || json_integer_value(author_id) <= 0) {
    reply_error(
        conn, 400, "\"author_id\" is required: a positive integer%s%s", author_id ? ", not " : "",
        author_id ? (json_is_integer(author_id) ? "a number below 1" : json_kind(author_id)) : "");
  } else if (!title || !json_is_string(title)) {
    reply_error(conn, 400, "\"title\" is required: a string of 1 to %d characters%s%s",
                MAX_TITLE_CHARS, title ? ", not " : "", title ? json_kind(title) : "");
  } else if (!json_string_length(title) || utf8_chars(json_string_value(title)) > MAX_TITLE_CHARS) {
    reply_error(conn, 400, "\"title\" is required: a string of 1 to %d characters",
                MAX_TITLE_CHARS);
  } else if (!(out->title = strdup(json_string_value(title)))) {
    reply_error(conn, 503, "out of memory");
  } else {
    out->author_id = json_integer_value(author_id);
    rc = 0;
  }
out:
  json_decref(body);
  return rc;
}

static void post_book(store_t *st, http_conn_t *conn, const http_request_t *req) {
  job_t *job = job_new(st, conn);
  if (!job)
    return;
  if (read_book(conn, req, job) != 0) {
    job->conn = NULL; /* answered */
    job_end(job);
    return;
  }
  if (job_session(job)) {
    job_end(job);
    return;
  }
  add_book(job);
}

/* ------------------------------------------------------------------ GET /stats */

static void get_stats(store_t *st, http_conn_t *conn) {
  uvsql_pool_stats_t s;
  uvsql_pool_stats(st->engine, &s);
  reply_json(conn, 200,
             json_pack("{s:s,s:i,s:i,s:i,s:i,s:i,s:I,s:I,s:I,s:I}", "dialect",
                       uvsql_engine_dialect(st->engine), "size", s.size, "checked_out",
                       s.checked_out, "idle", s.idle, "overflow", s.overflow, "waiting", s.waiting,
                       "connects", (json_int_t)s.connects, "checkouts", (json_int_t)s.checkouts,
                       "timeouts", (json_int_t)s.timeouts, "invalidated",
                       (json_int_t)s.invalidated));
}

/* ------------------------------------------------------------------ routing */

/* A positive decimal integer of at most 18 digits, all of s; else -1. */
static int64_t parse_id(const char *s) {
  int64_t v = 0;
  size_t n = strlen(s);
  if (n == 0 || n > 18)
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v > 0 ? v : -1;
}

#define GET_HEAD "GET, HEAD"

void store_handle(void *app, http_conn_t *conn, const http_request_t *req) {
  store_t *st = app;
  /* HEAD is a GET whose body http.c leaves out */
  int get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
  int post = strcmp(req->method, "POST") == 0;
  if (st->closing) {
    reply_error(conn, 503, "the server is shutting down");
  } else if (strncmp(req->path, "/authors/", 9) == 0) {
    int64_t id = parse_id(req->path + 9);
    if (!get)
      reply_405(conn, req->method, "/authors/:id", GET_HEAD);
    else if (id < 0)
      reply_error(conn, 400, "author id must be a positive integer, not \"%.40s\"", req->path + 9);
    else
      get_author(st, conn, id);
  } else if (strcmp(req->path, "/authors") == 0) {
    char v[32];
    int found = http_query(req->query, "limit", v, sizeof v);
    int64_t limit = found == 1 ? parse_id(v) : found == 0 ? 10 : -1;
    if (!get)
      reply_405(conn, req->method, "/authors", GET_HEAD);
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
      reply_405(conn, req->method, "/stats", GET_HEAD);
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
/* Keys in an order that PostgreSQL's jsonb (shorter keys first) keeps as well. */
#define SEED_DETAILS "{\"year\":1968,\"series\":{\"name\":\"Earthsea\",\"number\":1}}"

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
      if (i == 1 && k == 1) /* one book with nested details: a JSON column round trip */
        uvsql_orm_set_json(b, &b->details, SEED_DETAILS, NULL);
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
