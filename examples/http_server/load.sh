#!/usr/bin/env bash
# examples/http_server/load.sh — the load run of examples/README.md: wrk on GET /authors/:id.
#
#   bash examples/http_server/load.sh [URL] [SECONDS] [CONNECTIONS] [WRK_THREADS]
#
# URL defaults to an SQLite file in a temporary directory (WAL); give postgresql://... or
# mariadb://... for a server (e.g. $UVSQL_TEST_PG_URL from `bash scripts/test.sh
# --servers-only`). Builds build-release/http_server (Release) if it is missing or older than
# the sources, starts it on a free port with tables of its own (dropped at exit), runs
# `wrk --latency` (10 s, 64 connections, 1 thread by default) on /authors/1 .. /authors/100
# and prints wrk's report. Exits 1 when any answer was not 2xx or any socket error occurred.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/uvsql-load.XXXXXX")"
url="${1:-sqlite:///$tmp/bookstore.db?journal_mode=wal}"
secs="${2:-10}" conns="${3:-64}" threads="${4:-1}"
build="${UVSQL_LOAD_BUILD:-$root/build-release}"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

command -v wrk >/dev/null || {
  echo "load.sh: wrk is not installed (apt-get install wrk)" >&2
  exit 1
}
if [ ! -x "$build/http_server" ] ||
  [ -n "$(find "$root/examples/http_server" "$root/src" -newer "$build/http_server" -name '*.[ch]' | head -1)" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" --target http_server -j2 >/dev/null
fi

"$build/http_server" --port 0 --url "$url" --prefix "load_$$_" --drop >"$tmp/out" 2>"$tmp/err" &
pid=$!
port=""
for _ in $(seq 1 300); do
  port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/out")"
  [ -z "$port" ] || break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  cat "$tmp/err" >&2
  echo "load.sh: the server did not start" >&2
  exit 1
fi

# Each request asks for another of the 100 seeded authors.
cat >"$tmp/ids.lua" <<'EOF'
local n = 0
request = function()
  n = n % 100 + 1
  return wrk.format("GET", "/authors/" .. n)
end
EOF
echo "load.sh: wrk -t$threads -c$conns -d${secs}s on http://127.0.0.1:$port/authors/:id ($(sed 's/:[^:@/]*@/:***@/' <<<"$url"))"
wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -s "$tmp/ids.lua" "http://127.0.0.1:$port" | tee "$tmp/wrk"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
[ "$rc" = 0 ] || {
  cat "$tmp/err" >&2
  echo "load.sh: the server exited with code $rc" >&2
  exit 1
}
if grep -qE 'Non-2xx|Socket errors' "$tmp/wrk"; then
  echo "load.sh: FAILED: errors under load (see above)" >&2
  exit 1
fi
echo "load.sh: every request answered 2xx, no socket errors"
