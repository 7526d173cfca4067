/* src/dialects/postgresql/pg.h — what the files of the PostgreSQL driver share.
 *
 * Only the files of this folder include libpq-fe.h (through this header); the engine sees
 * nothing but the uvsql__driver_t in driver.c.
 *
 * Files:
 *   driver.c      the driver table, BEGIN statements
 *   options.c     what a postgresql:// URL may say; validate_url
 *   conn.c        the connection's state machine: resolve, connect, close (diagram there)
 *   exec.c        requests: queueing, sending in pipeline mode, reading results, cancel
 *   cancel.c      PQcancel on libuv's thread pool
 *   params.c      parameters -> libpq arrays (OIDs, binary where natural)
 *   decode.c      PGresult -> uvsql_result_t (text and binary formats)
 *   numeric.c     binary numeric -> canonical decimal text
 *   errors.c      server and libpq errors -> uvsql_error_t
 *   sqlscan.c     does SQL text hold more than one statement?
 */
#ifndef UVSQL_DIALECTS_PG_H
#define UVSQL_DIALECTS_PG_H

#include <libpq-fe.h>
#include "../kit.h"

/* ------------------------------------------------------------------ type OIDs (pg_type.dat) */

#define UVSQL__PG_BOOL        16
#define UVSQL__PG_BYTEA       17
#define UVSQL__PG_NAME        19
#define UVSQL__PG_INT8        20
#define UVSQL__PG_INT2        21
#define UVSQL__PG_INT4        23
#define UVSQL__PG_TEXT        25
#define UVSQL__PG_OID         26
#define UVSQL__PG_JSON        114
#define UVSQL__PG_FLOAT4      700
#define UVSQL__PG_FLOAT8      701
#define UVSQL__PG_UNKNOWN     705
#define UVSQL__PG_BPCHAR      1042
#define UVSQL__PG_VARCHAR     1043
#define UVSQL__PG_DATE        1082
#define UVSQL__PG_TIME        1083
#define UVSQL__PG_TIMESTAMP   1114
#define UVSQL__PG_TIMESTAMPTZ 1184
#define UVSQL__PG_NUMERIC     1700
#define UVSQL__PG_UUID        2950
#define UVSQL__PG_JSONB       3802
#define UVSQL__PG_INTERVAL    1186
/* one-dimensional arrays of the types above (typarray in pg_type.dat) */
#define UVSQL__PG_BOOL_ARRAY        1000
#define UVSQL__PG_BYTEA_ARRAY       1001
#define UVSQL__PG_INT2_ARRAY        1005
#define UVSQL__PG_INT4_ARRAY        1007
#define UVSQL__PG_TEXT_ARRAY        1009
#define UVSQL__PG_BPCHAR_ARRAY      1014
#define UVSQL__PG_VARCHAR_ARRAY     1015
#define UVSQL__PG_INT8_ARRAY        1016
#define UVSQL__PG_FLOAT4_ARRAY      1021
#define UVSQL__PG_FLOAT8_ARRAY      1022
#define UVSQL__PG_TIMESTAMP_ARRAY   1115
#define UVSQL__PG_DATE_ARRAY        1182
#define UVSQL__PG_TIME_ARRAY        1183
#define UVSQL__PG_TIMESTAMPTZ_ARRAY 1185
#define UVSQL__PG_INTERVAL_ARRAY    1187
#define UVSQL__PG_UUID_ARRAY        2951
/* The element type of an array type above, or 0. */
Oid uvsql__pg_array_elem(Oid array_oid);

/* PostgreSQL counts dates and timestamps from 2000-01-01; uvsql from 1970-01-01. */
#define UVSQL__PG_EPOCH_DAYS INT64_C(10957)
#define UVSQL__PG_EPOCH_US   (UVSQL__PG_EPOCH_DAYS * INT64_C(86400000000))

/* ------------------------------------------------------------------ statement cache */

/* A prepared statement in the connection's cache (the kit's LRU, keyed by the SQL text and
 * the parameter OIDs: the same text bound with other types is another server statement).
 * Names are "uvsql_<n>" with n never reused on the connection, so a DEALLOCATE still in the
 * pipeline can never close a newer statement. Evicting one sends DEALLOCATE (exec.c). */
typedef struct uvsql__pg_stmt_s uvsql__pg_stmt_t;
struct uvsql__pg_stmt_s {
  uvsql__kit_lru_entry_t entry; /* first: refs, listed, key */
  char name[24];                /* "uvsql_<n>", unique on its connection */
  int prepared; /* 1 once the server confirmed the Parse; before that nobody executes it */
  int binary;   /* 0 unknown yet, 1 every result column decodes in binary, -1 not all */
  int plain;    /* 0 unknown yet, 1 a plain SELECT (may share a sync group), -1 not */
  uvsql_error_t *parse_err; /* its Parse failed: what requests that borrowed it report */
};

/* ------------------------------------------------------------------ parameters */

#define UVSQL__PG_PARAMS_INLINE 512

typedef struct uvsql__pg_params_s {
  int n;
  Oid *types;
  const char **values;
  int *lengths;
  int *formats;
  void *heap; /* when the inline buffer is too small */
  union {
    char bytes[UVSQL__PG_PARAMS_INLINE];
    void *align_p;
    int64_t align_i;
  } inl;
} uvsql__pg_params_t;

/* Fills p for n values. Text and bytes are borrowed from v (text is copied to add a NUL);
 * p must be released with uvsql__pg_params_free. Returns 0, UVSQL_EDATA (a date/time out of
 * PostgreSQL's range), UVSQL_EINVALID_ARGUMENT or UVSQL_ENOMEM, with err saying which $n. */
/* The type OID a value is sent with (0: the server infers it: text, NULL). */
Oid uvsql__pg_oid_of(uvsql_type_t t);
int uvsql__pg_params_encode(uvsql__pg_params_t *p, const uvsql_value_t *v, int n,
                            uvsql_error_t *err);
void uvsql__pg_params_free(uvsql__pg_params_t *p);

/* ------------------------------------------------------------------ decoding */

uvsql_type_t uvsql__pg_type_of(Oid oid);
/* numeric.c: a binary numeric (ndigits, weight, sign, dscale, base-10000 digits) as the text
 * PostgreSQL writes for it, in r's arena; 0, UVSQL_EDATA (malformed) or UVSQL_ENOMEM. */
int uvsql__pg_numeric_text(uvsql_result_t *r, const char *s, size_t len, uvsql_value_t *cell);
/* The same, the text carved from b: arena memory taken `chunk` bytes at a time (or exactly what
 * one value needs when chunk is 0), so that a column of numerics costs one arena call per chunk,
 * not per cell; the unused end of each value's room goes back to b. Zero-initialise b (then set
 * chunk) before the first call; b owns nothing (the arena does). */
typedef struct uvsql__pg_textbuf_s {
  char *p;
  size_t room, chunk;
} uvsql__pg_textbuf_t;
int uvsql__pg_numeric_text_buf(uvsql_result_t *r, uvsql__pg_textbuf_t *b, const char *s, size_t len,
                               uvsql_value_t *cell);
/* 1 if decode.c reads this type in binary format. */
int uvsql__pg_binary_known(Oid oid);
/* Builds *out from res and takes res: it becomes the result's backing, or is cleared (also on
 * error). Returns 0, UVSQL_ENOMEM or UVSQL_EDATA. */
int uvsql__pg_decode(PGresult *res, uvsql_result_t **out, uvsql_error_t *err);
/* Streaming: appends row `row` of res to *batch (made on first use, with res's columns and
 * room for cap rows), copying text and bytes, so res may be cleared at once. res stays the
 * caller's. Returns 0, UVSQL_ENOMEM, UVSQL_EDATA or UVSQL_EINTERNAL (err filled). */
int uvsql__pg_decode_append(PGresult *res, int row, uvsql_result_t **batch, size_t cap,
                            uvsql_error_t *err);

/* ------------------------------------------------------------------ errors */

/* Fills err from an error PGresult: code from the SQLSTATE, message "primary\nDETAIL: ...\n
 * HINT: ...". Returns the code. */
int uvsql__pg_error_from_result(const PGresult *res, uvsql_error_t *err);
/* 1 if res reports an error after which the server closes the session (FATAL, PANIC). */
int uvsql__pg_error_is_fatal(const PGresult *res);
/* libpq's multi-line message as one line: lines joined with " — ", tabs and trailing newlines
 * dropped, the "connection to server at ... failed: " prefix removed. */
void uvsql__pg_flatten(const char *msg, char *out, size_t size);

/* ------------------------------------------------------------------ options.c */

int uvsql__pg_validate_url(const uvsql_url_t *url, uvsql_error_t *err);

/* ------------------------------------------------------------------ SQL scanning */

/* 1 if sql holds a ';' followed by more than blanks and comments, outside quotes and comments. */
int uvsql__pg_sql_is_multi(const char *sql, size_t len);
/* 1 if sql is a SELECT that calls nothing but known read-only functions, takes no row locks
 * and writes into no table: it may share a sync group (exec.c, invariant 9). */
int uvsql__pg_sql_is_plain_select(const char *sql, size_t len);

/* ------------------------------------------------------------------ cancel */

typedef struct uvsql__pg_cancel_job_s uvsql__pg_cancel_job_t;
/* Sends a cancel request for pg's running query from libuv's thread pool. Returns 0 or a
 * UVSQL_E code. The PGcancel object is owned by the job, so pg may be closed meanwhile.
 * done (may be NULL) runs on the loop once PQcancel has returned — the server has then
 * signalled the backend — unless the call returned an error or the job was detached.
 * *out (may be NULL) is the job, valid until done runs or it is detached. */
int uvsql__pg_cancel_on_server(uv_loop_t *loop, PGconn *pg, void (*done)(void *data), void *data,
                               uvsql__pg_cancel_job_t **out);
/* done will not be called: the job frees itself when PQcancel returns. Accepts NULL. */
void uvsql__pg_cancel_detach(uvsql__pg_cancel_job_t *job);
/* Sends a cancel for the running statement and holds every send (pc->cancel_job) until the
 * server has answered it (exec.c). 0, or -1 when it could not be sent (nothing is held). */
struct uvsql__pg_conn_s;
int uvsql__pg_cancel_hold(struct uvsql__pg_conn_s *pc);

/* ------------------------------------------------------------------ the connection */

typedef enum {
  UVSQL__PG_RESOLVING = 1, /* uv_getaddrinfo in flight */
  UVSQL__PG_CONNECTING,    /* PQconnectPoll steps */
  UVSQL__PG_FAILED,        /* connect failed and cb told so; waiting for close() */
  UVSQL__PG_READY,         /* in pipeline mode (or briefly out of it for a multi-statement) */
  UVSQL__PG_BROKEN,        /* lost: every request fails with UVSQL_EDISCONNECT */
  UVSQL__PG_CLOSED         /* close() ran its course; freed when nothing refers to it */
} uvsql__pg_state_t;

/* req->state bits. */
#define UVSQL__PG_RS_MULTI       0x01   /* several statements: simple query protocol */
#define UVSQL__PG_RS_PREPARE     0x02   /* its sync group opens with a Parse */
#define UVSQL__PG_RS_CANCEL      0x04   /* cancel asked while it waits behind others */
#define UVSQL__PG_RS_CANCEL_SENT 0x08   /* a cancel request went to the server */
#define UVSQL__PG_RS_PREFAILED   0x10   /* never sent; driver_data is its uvsql_error_t* */
#define UVSQL__PG_RS_INTERNAL    0x20   /* the driver's own (DEALLOCATE, SET): nobody waits */
#define UVSQL__PG_RS_QUEUED      0x40   /* in pending */
#define UVSQL__PG_RS_SENT        0x80   /* in sent */
#define UVSQL__PG_RS_SINGLE      0x100  /* a stream whose single-row mode is on (stream.c) */
#define UVSQL__PG_RS_BORROWED    0x200  /* runs a statement whose Parse was still in flight */
#define UVSQL__PG_RS_RETRIED     0x400  /* sent again after its cached plan went stale */
#define UVSQL__PG_RS_NOSYNC      0x800  /* in a shared sync group, not its last member */
#define UVSQL__PG_RS_GROUP_END   0x1000 /* the last member of a shared sync group */
#define UVSQL__PG_RS_PLAIN_KNOWN 0x2000 /* RS_PLAIN was worked out */
#define UVSQL__PG_RS_PLAIN       0x4000 /* a plain SELECT (uvsql__pg_sql_is_plain_select) */
#define UVSQL__PG_RS_SOLO        0x8000 /* sent again after a neighbour's failure: goes alone */

/* A remembered answer of uvsql__pg_sql_is_plain_select (exec.c, req_plain). */
#define UVSQL__PG_PLAIN_MEMO 4
typedef struct {
  size_t len; /* 0: empty */
  int plain;
  char text[160];
} uvsql__pg_plain_memo_t;

typedef struct uvsql__pg_conn_s {
  uvsql__dconn_t dc; /* first: the engine's handle is this struct */
  uvsql__pg_state_t state;
  PGconn *pg;
  uvsql__watcher_t *watcher;
  int watch_fd, watch_events; /* what the watcher was last told */

  /* connect */
  uv_getaddrinfo_t gai;
  int gai_active;
  char **keys, **vals; /* PQconnectStartParams arguments (owned), NULL-terminated */
  int nkv;
  char *host; /* as given: a name, an address or a socket directory; NULL for libpq's default */
  char *port; /* as text, NULL for the default */
  char where[300]; /* "host:port" or the socket directory, for messages */
  uint64_t connect_timeout_ms;
  uvsql__connect_cb connect_cb; /* NULL once called (or withdrawn by close) */
  void *connect_data;

  /* requests: pending (not sent yet) then sent (in the pipeline), both FIFO */
  uvsql__kit_queue_t pending, sent;
  int simple_mode;   /* a multi-statement request runs outside pipeline mode */
  int solo_syncs;    /* URL shared_sync=off: no shared sync groups (exec.c invariant 9) */
  int flush_pending; /* PQflush returned 1: wait for writable */

  /* the sync group being read: the head of sent */
  PGresult *rd_result;
  uvsql_error_t rd_err;
  int rd_count; /* non-NULL results so far in this group */
  int rd_null;  /* the last PQgetResult returned NULL */
  int rd_prep_failed;
  int rd_stale;         /* the error: a cached plan outlived its table (RevalidateCachedQuery) */
  int64_t rd_many_rows; /* executemany: rows affected by the group's statements so far */
  int rd_aborted;       /* the head did not run: an earlier member of its group failed */
  int rd_cancel_hit;    /* the head, a shared group's member, was hit by a cancel not its own */

  /* shared sync groups of plain SELECTs (exec.c, invariant 9) */
  int group_open;               /* members went out since the last Sync (the last one: sent.tail) */
  int group_size;               /* how many */
  uvsql__request_t *group_last; /* the open group's last member (in sent) */
  int groups_inflight;          /* shared groups (2+ members) sent and not yet complete */
  uvsql__pg_plain_memo_t plain_memo[UVSQL__PG_PLAIN_MEMO];
  int plain_memo_next;
  uvsql__kit_queue_t rerun; /* members a neighbour's failure kept from running: sent again
                               first in line once their group is complete */

  uvsql__kit_lru_t cache;     /* of uvsql__pg_stmt_t */
  unsigned long stmt_next_id; /* the n of the next "uvsql_<n>" */
  int dealloc_failed;         /* an eviction's DEALLOCATE could not be sent (exec.c) */
  /* The statement whose Parse went out last, if every group sent since runs it too: later
   * requests for it may run it before the Parse is confirmed (exec.c, invariant 3).
   * Compared, never dereferenced. */
  const uvsql__pg_stmt_t *parse_stmt;

  /* the stream being read (the head of sent, with UVSQL__REQ_STREAM): stream.c */
  uvsql_result_t *st_batch; /* rows read and not yet handed over (< batch_rows) */
  int st_stop;              /* the consumer stopped: rows are dropped until the group ends */
  /* the COPY being run (the head of sent, with UVSQL__REQ_COPY_IN/OUT): copy.c */
  struct {
    int active;      /* between the COPY_IN/OUT result and the end of the copy data */
    int ending;      /* COPY_IN: the source is done (or abandoned): CopyDone/CopyFail next */
    int header;      /* COPY_IN: the header was written; COPY_OUT: read */
    int stop;        /* COPY_OUT: the consumer stopped: rows are dropped */
    PGresult *probe; /* the probe's result: column names and types */
    char *buf;       /* COPY_IN: encoded rows not yet given to libpq */
    size_t len, cap;
    const char *fail;      /* COPY_IN: the CopyFail message, NULL for CopyDone */
    uvsql_result_t *batch; /* COPY_OUT: rows read, not yet handed over */
    uint64_t seen;         /* COPY_IN: rows taken from the source (for messages) */
  } cp;
  /* A cancel request is on its way (a stream's stop, a cancel, a timeout): nothing new is
   * sent until the server answered it, so it cannot reach a later statement. */
  uvsql__pg_cancel_job_t *cancel_job;
  int cancel_fired; /* a cancel went out since `sent` was last empty (exec.c, invariant 9) */

  /* lifecycle: frames, deferred calls, close (conn.c invariants 2 and 3) */
  uvsql__kit_guard_t guard;
  uvsql__kit_deferred_t fail_pending; /* fails what is pending (BROKEN, FAILED) */
  char broken_msg[UVSQL_ERROR_MESSAGE_MAX];
} uvsql__pg_conn_t;

/* conn.c */
int uvsql__pg_connect(uvsql__dconn_t **out, uv_loop_t *loop, const uvsql_url_t *url,
                      const uvsql__dconn_options_t *opt, uvsql__connect_cb cb, void *data,
                      uvsql_error_t *err);
void uvsql__pg_close(uvsql__dconn_t *dc, void (*closed_cb)(void *data), void *data);
/* Frames: uvsql__kit_enter(&pc->guard) / uvsql__kit_leave(&pc->guard). The outermost leave
 * finishes a close asked inside a frame, or frees pc (do not touch it after). */

/* exec.c */
void uvsql__pg_submit(uvsql__dconn_t *dc, uvsql__request_t *req);
int uvsql__pg_cancel(uvsql__dconn_t *dc, uvsql__request_t *req);
/* driver.h abort: BROKEN, everything fails with UVSQL_EDISCONNECT saying why. */
void uvsql__pg_abort(uvsql__dconn_t *dc, const char *why);
/* The READY state's socket events. */
void uvsql__pg_io(uvsql__pg_conn_t *pc, int events, int status);
/* Sends what can be sent, reads what has arrived, updates the watcher. */
void uvsql__pg_pump(uvsql__pg_conn_t *pc);
/* Hands parsed notifications to dc.on_notify (or frees them). */
void uvsql__pg_drain_notifies(uvsql__pg_conn_t *pc);
/* Marks the connection lost and fails everything queued with UVSQL_EDISCONNECT. */
void uvsql__pg_broken(uvsql__pg_conn_t *pc, const char *why);
/* Fails every request (pending and sent) with err. */
void uvsql__pg_fail_all(uvsql__pg_conn_t *pc, const uvsql_error_t *err);
/* Queues an internal statement before everything pending (SET DateStyle). 0 or ENOMEM. */
int uvsql__pg_submit_internal_first(uvsql__pg_conn_t *pc, const char *sql);
/* Fails, from the loop's next iteration, whatever is pending on a BROKEN or FAILED connection
 * (scheduled through pc->fail_pending). */
void uvsql__pg_fail_pending(uvsql__kit_guard_t *g);
/* The statement cache's callbacks: evict sends DEALLOCATE, release frees parse_err. */
void uvsql__pg_stmt_evict(uvsql__kit_lru_t *c, uvsql__kit_lru_entry_t *e);
void uvsql__pg_stmt_release(uvsql__kit_lru_t *c, uvsql__kit_lru_entry_t *e);

/* stream.c: streaming requests on the head of `sent` (single-row mode, batching, stop). */
/* Turns single-row mode on for req when libpq is about to read its main statement. */
void uvsql__pg_stream_arm(uvsql__pg_conn_t *pc, uvsql__request_t *req, int main_idx);
/* A PGRES_SINGLE_TUPLE result of req: taken (cleared). Returns 0, or -1 with err set when the
 * row could not be read (the stream then stops; err is req's). */
int uvsql__pg_stream_row(uvsql__pg_conn_t *pc, uvsql__request_t *req, PGresult *res,
                         uvsql_error_t *err);
/* The group ended: hands over the last rows (and, when single-row mode never came on, the
 * rows of the whole result res, not taken). Clears the stream's state; err (may be changed:
 * a stop swallows the cancel's error) is what done reports. */
void uvsql__pg_stream_end(uvsql__pg_conn_t *pc, uvsql__request_t *req, PGresult *res,
                          uvsql_error_t *err);
/* Drops the stream's state (broken, close). */
void uvsql__pg_stream_reset(uvsql__pg_conn_t *pc);

/* copy.c: COPY requests (UVSQL__REQ_COPY_IN / COPY_OUT) on the head of `sent`. */
/* The probe's result (taken). */
void uvsql__pg_copy_probe(uvsql__pg_conn_t *pc, PGresult *res);
/* The server entered COPY IN / OUT for req. 0, or -1 with err set (the copy is abandoned). */
void uvsql__pg_copy_begin(uvsql__pg_conn_t *pc, uvsql__request_t *req);
/* Moves copy data: 1 when it is over (read the COPY's result next), 0 when waiting for the
 * socket (the watcher was told), -1 when libpq failed (the connection is broken). Errors of
 * the source or of decoding are left in pc->rd_err. */
int uvsql__pg_copy_step(uvsql__pg_conn_t *pc, uvsql__request_t *req);
/* The request's group ended: hands over the last rows (COPY_OUT) and clears the state. */
void uvsql__pg_copy_end(uvsql__pg_conn_t *pc, uvsql__request_t *req, uvsql_error_t *err);
void uvsql__pg_copy_reset(uvsql__pg_conn_t *pc);
/* decode.c: one binary or text value of type oid into cell, its bytes copied into r. */
int uvsql__pg_decode_value(uvsql_result_t *r, Oid oid, int binary, const char *s, size_t len,
                           uvsql_value_t *cell);

#endif
