#!/usr/bin/env bash
# tests/backends/run.sh — proves that uvsql builds without a backend, and what a user then sees.
#
#   bash tests/backends/run.sh [SOURCE_DIR]
#
# In a temporary directory of its own (removed on exit; UVSQL_BACKENDS_TEST_KEEP=1 keeps it):
#   1. configures uvsql from SOURCE_DIR with -DUVSQL_WITH_POSTGRESQL=OFF -DUVSQL_WITH_MARIADB=OFF
#      (SQLite only; no tests, examples or benchmarks) and builds both libraries;
#   2. checks that libuvsql.so needs libsqlite3 and neither libpq nor libmariadb, and that
#      libuvsql.a holds no PostgreSQL or MariaDB driver;
#   3. builds tests/backends/missing_backend.c against it and runs it: postgresql:// and
#      mysql:// are refused with UVSQL_ENOT_SUPPORTED and a message naming the backend and the
#      option, sqlite:// answers a query.
# Registered with ctest as backends.sqlite_only_build (label `backends`).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "${1:-$here/../..}" && pwd)"
cc="${CC:-cc}"

say() { echo "backends test: $*"; }
fail() {
  echo "backends test: FAILED: $*" >&2
  exit 1
}

tmp="$(mktemp -d "${TMPDIR:-/tmp}/uvsql-backends-test.XXXXXX")"
cleanup() {
  if [ "${UVSQL_BACKENDS_TEST_KEEP:-0}" = 1 ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

say "configuring a SQLite-only uvsql in $tmp/build"
cmake -S "$src" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release -DUVSQL_WERROR=ON \
  -DUVSQL_WITH_POSTGRESQL=OFF -DUVSQL_WITH_MARIADB=OFF -DUVSQL_BUILD_TESTS=OFF \
  -DUVSQL_BUILD_EXAMPLES=OFF -DUVSQL_BUILD_BENCH=OFF >"$tmp/configure.log" 2>&1 ||
  { cat "$tmp/configure.log"; fail "configure"; }
grep -q "built without the postgresql backend" "$tmp/configure.log" ||
  fail "configure did not say that the postgresql backend is left out"
say "building"
cmake --build "$tmp/build" -j 2 --target uvsql uvsql_static >"$tmp/build.log" 2>&1 ||
  { tail -50 "$tmp/build.log"; fail "build"; }

so="$(ls "$tmp"/build/libuvsql.so.* | head -1)"
needed="$(readelf -d "$so" | grep NEEDED || true)"
echo "$needed" | grep -q "libsqlite3" || fail "libuvsql.so does not need libsqlite3: $needed"
if echo "$needed" | grep -Eq "libpq|libmariadb|libmysql"; then
  fail "libuvsql.so still needs a client library of a left-out backend: $needed"
fi
if nm "$tmp/build/libuvsql.a" | grep -Eq " T uvsql__(pg|my)_"; then
  fail "libuvsql.a holds PostgreSQL or MariaDB driver code"
fi
say "libuvsql.so needs: $(echo "$needed" | sed 's/.*\[\(.*\)\]/\1/' | tr '\n' ' ')"

# shellcheck disable=SC2046
"$cc" -std=c11 -D_GNU_SOURCE -Wall -Werror -I "$src/include" "$here/missing_backend.c" \
  "$tmp/build/libuvsql.a" $(pkg-config --libs libuv sqlite3) -pthread -o "$tmp/missing_backend" ||
  fail "could not build missing_backend.c against the SQLite-only libuvsql.a"
"$tmp/missing_backend" || fail "missing_backend reported a failure (above)"
say "ok"
