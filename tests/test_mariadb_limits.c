/* tests/test_mariadb_limits.c — a MariaDB limit a statement runs into is reported with what to
 * do: a parameter over the server's max_allowed_packet (scripts/test.sh's server sets 64 MiB, a
 * 16 MiB default server refuses it too: 64 MiB + the statement is over either) fails naming
 * max_allowed_packet and how to raise it, not only "Server has gone away", and the engine's next
 * statement works. A real server (UVSQL_TEST_MARIADB_URL). */
#include "backend.h"

TEST(a_64_mb_parameter_over_max_allowed_packet_fails_naming_it_and_the_fix) {
  fixture_t fx = fixture_open(test_mariadb_url(), NULL);
  size_t n = (size_t)64 << 20;
  char *big = malloc(n);
  ASSERT(big != NULL);
  memset(big, 'x', n);
  uvsql_param_t p[] = {UVSQL_P_BYTES("b", big, n)};
  uvsql_future_t *f = uvsql_engine_execute_sql(fx.engine, "SELECT LENGTH(:b)", p, 1, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EDISCONNECT);
  printf("%d: %s\n", e->native_code, e->message);
  /* The server drops the connection (2006, 2013) or, for some sizes, answers 1153. */
  ASSERT(e->native_code == 2006 || e->native_code == 2013 || e->native_code == 1153);
  ASSERT_STR_CONTAINS(e->message, "[SQL: SELECT LENGTH(?)]; the statement with its parameters is "
                                  "67108880 bytes, more than the server's max_allowed_packet "
                                  "allows (SELECT @@max_allowed_packet; the default is 16 MiB): "
                                  "raise it on the server (SET GLOBAL max_allowed_packet, or in "
                                  "its [mysqld] configuration) or send smaller values");
  uvsql_future_unref(f);
  free(big);
  ASSERT_INT_EQ(query_int(&fx, "SELECT 6 * 7"), 42); /* a fresh connection */
  fixture_close(&fx);
}

TEST(a_small_statement_that_loses_its_server_gets_no_packet_hint) {
  fixture_t fx = fixture_open(test_mariadb_url(), NULL);
  uvsql_conn_t *c = checkout(&fx);
  uvsql_conn_t *killer = checkout(&fx);
  uvsql_future_t *f = uvsql_conn_execute_sql(c, "SELECT CONNECTION_ID()", NULL, 0, NULL, NULL);
  int64_t id = 0;
  ASSERT_OK(uvsql_result_int64(AWAIT_OK(f), 0, 0, &id), (uvsql_error_t *)NULL);
  uvsql_future_unref(f);
  char sql[64];
  snprintf(sql, sizeof sql, "KILL %" PRId64, id);
  conn_exec_ok(killer, sql);
  f = uvsql_conn_execute_sql(c, "SELECT 1", NULL, 0, NULL, NULL);
  const uvsql_error_t *e = AWAIT_ERR(f, UVSQL_EDISCONNECT);
  printf("%d: %s\n", e->native_code, e->message);
  ASSERT(strstr(e->message, "max_allowed_packet") == NULL);
  uvsql_future_unref(f);
  uvsql_conn_release(c);
  uvsql_conn_release(killer);
  fixture_close(&fx);
}
