#!/usr/bin/env bash
# tests/pgbouncer/run.sh — the engine tests through pgbouncer in transaction pooling mode.
#
#   bash tests/pgbouncer/run.sh BUILD_DIR SOURCE_DIR
#
# Runs every TEST(name) of the test files below with UVSQL_TEST_PG_URL pointed at pgbouncer
# (UVSQL_TEST_PGBOUNCER_URL, started by scripts/test.sh in front of its PostgreSQL) with
# ?statement_cache_size=0: uvsql then sends unnamed statements only and keeps no session state
# across transactions, which is what a pooler that hands each transaction to any server
# connection needs. Left out: the cases that need a session of their own by design (they kill
# or inspect one server backend), and the latency tests (their names say so: they measure the
# loop, not the server, and run in the suite's own pass).
# Fails when the variable is missing (never skips), and on any failing case, printing its log.
# Registered with ctest as pgbouncer.engine_tests_pass_in_transaction_mode (label pgbouncer);
# under the valgrind build each program runs under valgrind (UVSQL_PGBOUNCER_EMULATOR).
set -uo pipefail
build="$1"
src="$2"
files=(engine pool executemany stream deadlines sql_exec orm_uow)
left_out='^(pre_ping_replaces_a_connection_the_server_closed)$|timer_on_time|stays_on_time|deadline|within_a_second|keeps_running|ends_quickly|does_not_block|memory_is_bounded'
if [ -z "${UVSQL_TEST_PGBOUNCER_URL:-}" ]; then
  echo "pgbouncer test: FAILED: UVSQL_TEST_PGBOUNCER_URL is not set: run the tests through" \
    "scripts/test.sh without UVSQL_TEST_PG_URL (it starts pgbouncer), or set it" >&2
  exit 1
fi
export UVSQL_TEST_PG_URL="$UVSQL_TEST_PGBOUNCER_URL?statement_cache_size=0"
read -r -a emulator <<<"${UVSQL_PGBOUNCER_EMULATOR:-}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/uvsql-pgbouncer-test.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
for f in "${files[@]}"; do
  for t in $(grep -o '^TEST([a-z0-9_]*' "$src/tests/test_$f.c" | cut -c6-); do
    if [[ "$t" =~ $left_out ]]; then continue; fi
    "${emulator[@]}" "$build/test_$f" "$t" >"$tmp/log" 2>&1
    rc=$?
    if [ "$rc" = 0 ] || [ "$rc" = 77 ]; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "pgbouncer test: FAILED: test_$f $t (exit $rc):" >&2
      tail -n 20 "$tmp/log" >&2
    fi
  done
done
echo "pgbouncer test: $passed cases passed, $failed failed, through $UVSQL_TEST_PGBOUNCER_URL" \
  "(transaction pooling, statement_cache_size=0)"
[ "$failed" = 0 ]
