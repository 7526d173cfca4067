/* src/dialects/mariadb/mariadb.h — what the files of the MariaDB/MySQL driver share.
 *
 * Only the files of this folder include mysql.h (Connector/C 3.3, through this header); the
 * engine sees nothing but the uvsql__driver_t defined in driver.c.
 *
 * Files, each with one job:
 *   options.c     what a mariadb:// or mysql:// URL may say; validate_url
 *   driver.c      the driver table, BEGIN statements
 *   conn.c        the connection's state machine: resolve, connect, the nonblocking call that
 *                 is in progress, close (diagram there)
 *   exec.c        requests: the FIFO queue, prepare/execute/store (binary protocol) or
 *                 query/store/next (text protocol), cancel
 *   stream.c      streamed requests: fetch row by row, batches, stop
 *   cancel.c      KILL QUERY <thread id> on a second, short-lived nonblocking connection
 *   params.c      uvsql values -> MYSQL_BIND (and MYSQL_TIME)
 *   decode.c      statement rows and text rows -> uvsql_result_t
 *   errors.c      MySQL error numbers -> uvsql error codes and messages
 *   sqlscan.c     does SQL text hold more than one statement?
 *
 * Decisions (each also where it is done):
 *  - Host "localhost" (or none) means the server's default Unix socket, as in every MySQL
 *    client; other names are resolved with uv_getaddrinfo and Connector/C gets the address
 *    (except with ssl_mode=verify_identity, which checks the certificate against the name:
 *    Connector/C then resolves it itself, synchronously). options.c, conn.c
 *  - A TLS mode means an encrypted session or none: after the handshake conn.c checks that
 *    the session has a cipher (Connector/C 3.3 lets a server without TLS through). conn.c
 *  - Sessions run with time_zone '+00:00' (TIMESTAMPTZ parameters and TIMESTAMP columns are
 *    UTC) and CLIENT_FOUND_ROWS (rows_affected counts matched rows, as PostgreSQL and SQLite
 *    do). options.c, conn.c
 *  - Requests with parameters use prepared statements (binary protocol, LRU cache); requests
 *    without parameters that hold several statements, and the engine's NO_PREPARE commands,
 *    use the text protocol with CLIENT_MULTI_STATEMENTS, which is how begin_sql opens a
 *    transaction at an isolation level ("SET TRANSACTION ...; START TRANSACTION"). exec.c
 *  - Cancel sends KILL QUERY on a second connection; the killed request settles as cancelled
 *    whatever the server answered. cancel.c, exec.c
 *
 * One rule holds in every file: Connector/C runs at most one nonblocking call per MYSQL handle
 * at a time (a `_start` that returned a wait status must be driven to its end with `_cont`
 * before anything else is asked of the handle). conn.c records which call that is (`op`) and
 * what it waits for (`wait`); nothing else calls into the handle while `op` is set, except
 * the purely local functions (mysql_stmt_fetch on a stored result, mysql_free_result, errors).
 */
#ifndef UVSQL_DIALECTS_MARIADB_H
#define UVSQL_DIALECTS_MARIADB_H

#include <mysql.h>
#include "../kit.h"

extern const uvsql__driver_t uvsql__mariadb_driver; /* conn.c */
int uvsql__my_connect(uvsql__dconn_t **out, uv_loop_t *loop, const uvsql_url_t *url,
                      const uvsql__dconn_options_t *opt, uvsql__connect_cb cb, void *data,
                      uvsql_error_t *err);
void uvsql__my_close(uvsql__dconn_t *dc, void (*closed_cb)(void *data), void *data);

#define UVSQL__MY_DEFAULT_PORT 3306

/* ------------------------------------------------------------------ options (options.c) */

typedef struct uvsql__my_options_s {
  char *host;        /* NULL or "localhost": Connector/C's default Unix socket */
  char *unix_socket; /* ?unix_socket=, or the host when it starts with '/' */
  int port;
  char *user, *password, *database;
  char charset[33]; /* default utf8mb4 */
  char *ssl_ca, *ssl_cert, *ssl_key;
  int ssl_mode;           /* UVSQL__MY_SSL_* */
  double connect_timeout; /* seconds; < 0 when the URL does not say (the engine's applies) */
  double read_timeout, write_timeout; /* seconds, 0: none (Connector/C's, whole seconds) */
  double tcp_keepalive;               /* idle seconds before keepalive probes, 0: off */
  double tcp_user_timeout;            /* ms, 0: the system's */
} uvsql__my_options_t;

enum {
  UVSQL__MY_SSL_DEFAULT = 0, /* TLS if ssl_ca/cert/key are given, else none */
  UVSQL__MY_SSL_DISABLED,
  UVSQL__MY_SSL_REQUIRED,        /* encrypted, certificate not verified */
  UVSQL__MY_SSL_VERIFY_CA,       /* encrypted, certificate checked against ssl_ca */
  UVSQL__MY_SSL_VERIFY_IDENTITY, /* ... and against the host name */
};

/* Reads the URL (caller frees with uvsql__my_options_free). 0, UVSQL_EURL or UVSQL_ENOMEM. */
int uvsql__my_options_parse(uvsql__my_options_t *opt, const uvsql_url_t *url, uvsql_error_t *err);
void uvsql__my_options_free(uvsql__my_options_t *opt);
int uvsql__my_validate_url(const uvsql_url_t *url, uvsql_error_t *err);
/* 1 when the URL asks for TLS (a mode other than disabled, or any TLS file): the connection
 * must then be encrypted or fail. */
int uvsql__my_tls_wanted(const uvsql__my_options_t *opt);
const char *uvsql__my_ssl_mode_name(int mode); /* "verify_ca", ... (static text) */
/* Applies charset, TLS, read/write timeouts and the nonblocking mode to a fresh handle. 0 or
 * -1 (out of memory). */
int uvsql__my_options_apply(const uvsql__my_options_t *opt, MYSQL *mysql);
/* TCP keepalive and TCP_USER_TIMEOUT on a connected socket (not for Unix sockets). */
void uvsql__my_options_socket(const uvsql__my_options_t *opt, int fd);

/* ------------------------------------------------------------------ statement cache */

/* A prepared statement in the connection's cache (the kit's LRU, keyed by the SQL text alone:
 * MySQL prepares without parameter types). The cache never talks to the server: closing an
 * evicted statement (COM_STMT_CLOSE, which is I/O) is a step of the next request (exec.c);
 * evicting happens before a new statement is prepared, and only one statement runs at a time
 * on a connection, so an evicted statement is never in use. */
typedef struct uvsql__my_stmt_s {
  uvsql__kit_lru_entry_t entry; /* first */
  MYSQL_STMT *stmt;             /* NULL once taken back (evicted, or dropped after an error) */
} uvsql__my_stmt_t;

/* The cache's release: closes a statement still held, which happens only when the cache is
 * freed after the handle was closed (detached: no I/O). */
void uvsql__my_stmt_release(uvsql__kit_lru_t *c, uvsql__kit_lru_entry_t *e);

/* ------------------------------------------------------------------ the connection */

typedef enum {
  UVSQL__MY_RESOLVING = 0, /* uv_getaddrinfo in flight */
  UVSQL__MY_CONNECTING,    /* mysql_real_connect_start/_cont */
  UVSQL__MY_READY,         /* requests flow */
  UVSQL__MY_FAILED,        /* connect failed: cb told; waits for close() */
  UVSQL__MY_BROKEN,        /* the server went away: every request fails EDISCONNECT */
  UVSQL__MY_CLOSING,       /* mysql_close_start/_cont */
  UVSQL__MY_CLOSED,        /* handle gone; freed when nothing holds the struct */
} uvsql__my_state_t;

/* The nonblocking call in progress on the handle (see the rule at the top). */
typedef enum {
  UVSQL__MY_OP_NONE = 0,
  UVSQL__MY_OP_CONNECT,    /* mysql_real_connect_*: ret_mysql */
  UVSQL__MY_OP_STMT_CLOSE, /* mysql_stmt_close_* of an evicted statement: ret_bool */
  UVSQL__MY_OP_PREPARE,    /* mysql_stmt_prepare_*: ret_int */
  UVSQL__MY_OP_EXECUTE,    /* mysql_stmt_execute_*: ret_int */
  UVSQL__MY_OP_STMT_STORE, /* mysql_stmt_store_result_*: ret_int */
  UVSQL__MY_OP_STMT_NEXT,  /* mysql_stmt_next_result_*: ret_int */
  UVSQL__MY_OP_STMT_FETCH, /* mysql_stmt_fetch_* of a stream, row by row: ret_int */
  UVSQL__MY_OP_QUERY,      /* mysql_real_query_*: ret_int */
  UVSQL__MY_OP_STORE,      /* mysql_store_result_*: ret_res */
  UVSQL__MY_OP_NEXT,       /* mysql_next_result_*: ret_int */
  UVSQL__MY_OP_CLOSE,      /* mysql_close_* (frees the handle when it ends) */
} uvsql__my_op_t;

typedef struct uvsql__my_kill_s uvsql__my_kill_t;
typedef struct uvsql__my_rows_s uvsql__my_rows_t;

typedef struct uvsql__my_conn_s {
  uvsql__dconn_t dc; /* first: the engine's view */
  uvsql__my_state_t state;
  uvsql__my_options_t opt;
  MYSQL *mysql;
  uvsql__watcher_t *watcher;
  char where[300];  /* "host:port" or the socket path, for messages */
  char address[64]; /* the numeric address connected to ("" for a Unix socket) */
  unsigned long thread_id;
  /* The call in progress. */
  uvsql__my_op_t op;
  int wait; /* MYSQL_WAIT_* it asked for; 0 once it has finished */
  int ret_int;
  my_bool ret_bool;
  MYSQL *ret_mysql;
  MYSQL_RES *ret_res;
  MYSQL_STMT *op_stmt;
  uint64_t connect_deadline; /* loop ms, 0 for none */
  /* Resolution. */
  uv_getaddrinfo_t gai;
  int gai_active;
  struct addrinfo *addrs, *next_addr; /* what is left to try */
  char port_text[16];
  /* Requests: queue_head..tail waiting, `running` on the wire (exec.c). */
  uvsql__kit_queue_t queue;
  uvsql__request_t *running;
  int cancel_asked;       /* cancel() was called for `running` */
  int reprepared;         /* `running` was prepared again after error 1615 */
  uvsql__my_kill_t *kill; /* the KILL QUERY in flight: no request starts until it ends */
  /* The running request's working state (exec.c). */
  MYSQL_STMT *stmt;         /* prepared statement of `running` (cached or not) */
  uvsql__my_stmt_t *cached; /* stmt's cache entry, NULL when stmt is the request's own */
  int text_mode;            /* running through the text protocol */
  int draining;             /* reading further result sets only to discard them */
  uvsql_result_t *result;
  uvsql_error_t err; /* first error of `running` */
  MYSQL_BIND *binds; /* parameters: nbinds_cap entries, with storage after them */
  void *bind_store;
  size_t bind_cap;
  /* executemany (UVSQL__REQ_MANY) of `running`: one bulk execution (many_bulk, arrays in
   * bulk_store) or, when the server cannot, one execute per set (many_i the current one). */
  void *bulk_store;
  int many_bulk;
  size_t many_i;
  int64_t many_rows;
  uvsql__kit_lru_t cache; /* of uvsql__my_stmt_t */
  /* The running stream (UVSQL__REQ_STREAM, exec.c): its row reader, the batch being filled,
   * and whether the consumer stopped (rows are then fetched and dropped). */
  uvsql__my_rows_t *st_rows;
  uvsql_result_t *st_batch;
  int st_stop;
  size_t st_dropped; /* rows dropped after the stop */
  int st_resume;     /* a finished fetch waits for the loop's next poll phase (stream.c) */
  /* Engine callbacks. */
  uvsql__connect_cb connect_cb;
  void *connect_data;
  /* Frames, deferred kicks, close (conn.c invariants 3 and 4). */
  uvsql__kit_guard_t guard;
  uvsql__kit_deferred_t kick;
} uvsql__my_conn_t;

/* conn.c */
/* Frames: uvsql__kit_enter(&mc->guard) / uvsql__kit_leave(&mc->guard). */
/* Drives the handle after a _start/_cont returned `status` (0: the call has finished). */
void uvsql__my_run(uvsql__my_conn_t *mc, int status);
/* Handles a finished call or the queue from the loop's next iteration (never inside the
 * engine's call). */
void uvsql__my_kick(uvsql__my_conn_t *mc);
/* The server is gone: BROKEN, dc->broken, every request fails with err (EDISCONNECT). */
void uvsql__my_broken(uvsql__my_conn_t *mc, const uvsql_error_t *err);

/* exec.c */
void uvsql__my_submit(uvsql__dconn_t *dc, uvsql__request_t *req);
int uvsql__my_cancel(uvsql__dconn_t *dc, uvsql__request_t *req);
/* driver.h abort: BROKEN, everything fails with UVSQL_EDISCONNECT saying why. */
void uvsql__my_abort(uvsql__dconn_t *dc, const char *why);
/* When the handle is idle: starts the next queued request. Returns the status of the call
 * it started (0: finished at once), or -1 when it started nothing. */
int uvsql__my_start_next(uvsql__my_conn_t *mc);
/* A request step `op` has finished: next step, or done + next request. Status as above. */
int uvsql__my_step(uvsql__my_conn_t *mc, uvsql__my_op_t op);
/* Fails `running` and the queue with err (close, broken, connect failure). */
void uvsql__my_fail_all(uvsql__my_conn_t *mc, const uvsql_error_t *err);
/* Frees the running request's working state (statement not cached, result, binds). */
void uvsql__my_exec_free(uvsql__my_conn_t *mc);
/* sqlscan.c: does the text hold more than one statement (a ';' outside quotes and comments
 * followed by more SQL)? */
int uvsql__my_is_multi(const char *sql, size_t len);

/* stream.c: the rows of a streamed `running` request, after its EXECUTE. first: set up the
 * row reader and fetch the first row; else the fetch (UVSQL__MY_OP_STMT_FETCH) just ended.
 * *outcome: FETCHING (the status of the next fetch is returned; -1 if the connection closed
 * meanwhile), END (every row read and handed over) or FAILED (mc->err set). */
enum { UVSQL__MY_STREAM_FETCHING, UVSQL__MY_STREAM_END, UVSQL__MY_STREAM_FAILED };
int uvsql__my_stream_step(uvsql__my_conn_t *mc, int first, int *outcome);
/* Frees the running stream's row reader and batch; clears its stop. */
void uvsql__my_stream_reset(uvsql__my_conn_t *mc);

/* cancel.c: KILL QUERY <thread_id> on a new connection made like mc's. The job holds no
 * reference on mc; mc->kill points to it and it clears mc->kill (and kicks mc) when it ends,
 * unless uvsql__my_kill_detach was called first. 0 or UVSQL_ENOMEM. */
int uvsql__my_kill_start(uvsql__my_conn_t *mc);
void uvsql__my_kill_detach(uvsql__my_kill_t *k);

/* ------------------------------------------------------------------ params.c */

/* Binds req's params to mc->binds (storage grown as needed). 0 or UVSQL_ENOMEM. */
int uvsql__my_bind_params(uvsql__my_conn_t *mc, const uvsql__request_t *req);
/* executemany's sets as arrays for one bulk execution (params.c). */
/* Whether every value of req can go in one bulk execution (UUID, INTERVAL and ARRAY values
 * cannot: a loop of executes binds them one set at a time). */
int uvsql__my_bulk_can(const uvsql__request_t *req);
int uvsql__my_bind_bulk(uvsql__my_conn_t *mc, uvsql__request_t *req);
/* MYSQL_TIME <-> uvsql integers (days, µs since midnight, µs since the epoch). */
void uvsql__my_time_from(uvsql_type_t type, int64_t v, MYSQL_TIME *t);
int64_t uvsql__my_time_to(uvsql_type_t type, const MYSQL_TIME *t);

/* ------------------------------------------------------------------ decode.c */

/* The uvsql type of a result column. */
uvsql_type_t uvsql__my_field_type(const MYSQL_FIELD *f);
/* Same for a text-protocol MYSQL_RES (from mysql_store_result). */
int uvsql__my_decode_text(MYSQL_RES *res, uvsql_result_t **out, uvsql_error_t *err);
/* The row reader of the binary protocol (a statement's rows, fetched one by one as they
 * arrive: stream.c). new: reads stmt's columns and has Connector/C hand each fetched row's
 * wire values to the reader of mc (mc->st_rows) instead of bound buffers (NULL with err on
 * failure). target: where the next fetched row goes: *into, made (with the columns, room for
 * cap rows) when NULL; into NULL: the rows are dropped. check: after a fetch that returned a
 * row, 0, or the code of a value that could not be decoded (err filled). free accepts NULL. */
uvsql__my_rows_t *uvsql__my_rows_new(uvsql__my_conn_t *mc, MYSQL_STMT *stmt, uvsql_error_t *err);
int uvsql__my_rows_target(uvsql__my_rows_t *rr, uvsql_result_t **into, size_t cap,
                          uvsql_error_t *err);
int uvsql__my_rows_check(uvsql__my_rows_t *rr, uvsql_error_t *err);
void uvsql__my_rows_free(uvsql__my_rows_t *rr);

/* ------------------------------------------------------------------ errors.c */

/* The uvsql code for a MySQL/MariaDB error number (server ER_* or client CR_*). */
int uvsql__my_error_code(unsigned errnum);
/* Is the connection gone after this error? */
int uvsql__my_error_is_disconnect(unsigned errnum);
/* Fills err from a server or client error: native_code errnum, the SQLSTATE, the message and
 * the statement as "[SQL: ...]". Returns err->code. */
int uvsql__my_error_set(uvsql_error_t *err, unsigned errnum, const char *sqlstate, const char *msg,
                        const char *sql, size_t sql_len);

#endif
