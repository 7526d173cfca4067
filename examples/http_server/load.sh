#!/usr/bin/env bash
# examples/http_server/load.sh — the load run of examples/README.md: wrk on GET /authors/:id.
#
#   bash examples/http_server/load.sh [URL] [SECONDS] [CONNECTIONS] [WRK_THREADS]
#
# URL defaults to an SQLite file in a temporary directory (WAL); give postgresql://... or
# mariadb://... for a server (e.g. $UVSQL_TEST_PG_URL from `bash scripts/test.sh
# --servers-only`). Builds http_server (Release) outside the source tree, in
# $UVSQL_LOAD_BUILD (default: ${TMPDIR:-/tmp}/uvsql-load-build-$UID, kept between runs so that
# the next run only rebuilds what changed; UVSQL_JOBS build jobs, default: the cores), starts it
# on a free port with tables of its own (dropped at exit), runs `wrk --latency` (10 s, 64
# connections, 1 thread by default) on /authors/1 .. /authors/100 and prints wrk's report and
# the load average. Exits 1 when any answer was not 2xx, any socket error occurred, or nothing
# was answered.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/uvsql-load.XXXXXX")"
url="${1:-sqlite:///$tmp/bookstore.db?journal_mode=wal}"
secs="${2:-10}" conns="${3:-64}" threads="${4:-1}"
build="${UVSQL_LOAD_BUILD:-${TMPDIR:-/tmp}/uvsql-load-build-$(id -u)}"
case "$build/" in
"$root"/*)
  echo "load.sh: UVSQL_LOAD_BUILD ($build) is inside the source tree; give a directory outside it" >&2
  exit 2
  ;;
esac
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
echo "load.sh: building http_server (Release) in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DUVSQL_BUILD_TESTS=OFF \
  -DUVSQL_BUILD_BENCH=OFF >"$tmp/cmake.log" 2>&1 || {
  cat "$tmp/cmake.log" >&2
  exit 1
}
cmake --build "$build" --target http_server -j "${UVSQL_JOBS:-$(nproc 2>/dev/null || echo 2)}" \
  >"$tmp/build.log" 2>&1 || {
  tail -n 40 "$tmp/build.log" >&2
  exit 1
}
[ -x "$build/http_server" ] || {
  echo "load.sh: $build/http_server was not built (libhttp-parser-dev and libjansson-dev installed? bash scripts/deps.sh)" >&2
  exit 1
}

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
echo "load.sh: load average before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown) ($(nproc 2>/dev/null || echo '?') cores)"
wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -s "$tmp/ids.lua" "http://127.0.0.1:$port" | tee "$tmp/wrk"
echo "load.sh: load average after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"

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
if ! grep -qE '^ *[1-9][0-9]* requests in' "$tmp/wrk"; then
  echo "load.sh: FAILED: no request was answered" >&2
  exit 1
fi
echo "load.sh: every request answered 2xx, no socket errors"
