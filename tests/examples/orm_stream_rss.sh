#!/usr/bin/env bash
# tests/examples/orm_stream_rss.sh — the streamed-ORM memory check of the test command:
# examples/orm_stream_rss fills a table with 500,000 rows and streams them as ORM objects in
# batches of 1,000, then does the same with 5,000,000 rows, and fails unless each run streamed
# every row, the identity map never held more than one batch, and the second run's peak RSS is
# within 1.1x of the first's.
#
#   bash tests/examples/orm_stream_rss.sh PATH/TO/orm_stream_rss sqlite|postgresql|mariadb
#
# SQLite uses a file in a temporary directory; PostgreSQL and MariaDB the servers in
# UVSQL_TEST_PG_URL / UVSQL_TEST_MARIADB_URL (scripts/test.sh sets them): unset, the test
# FAILS, it never skips. Registered with ctest as
# examples.orm_stream_rss_memory_is_bounded.<backend> (run alone; left out of the ASan and
# valgrind passes, whose shadow memory and quarantine are what RSS would measure there).
set -euo pipefail

prog="${1:?usage: orm_stream_rss.sh PATH/TO/orm_stream_rss sqlite|postgresql|mariadb}"
backend="${2:?usage: orm_stream_rss.sh PATH/TO/orm_stream_rss sqlite|postgresql|mariadb}"
case "$backend" in
sqlite)
  dir="$(mktemp -d)"
  trap 'rm -rf "$dir"' EXIT
  url="sqlite:///$dir/orm_stream_rss.db"
  ;;
postgresql) url="${UVSQL_TEST_PG_URL:-}" ;;
mariadb) url="${UVSQL_TEST_MARIADB_URL:-}" ;;
*)
  echo "orm_stream_rss.sh: unknown backend '$backend' (sqlite, postgresql or mariadb)" >&2
  exit 2
  ;;
esac
if [ -z "$url" ]; then
  echo "orm_stream_rss.sh: no $backend server: set UVSQL_TEST_PG_URL / UVSQL_TEST_MARIADB_URL" \
    "(scripts/test.sh starts throwaway servers and sets them)" >&2
  exit 1
fi
exec "$prog" --max-growth 1.1 "$url" 500000 5000000
