#!/usr/bin/env bash
# tests/http/run.sh — drives examples/http_server over loopback with curl, as a client would.
#
#   bash tests/http/run.sh PATH/TO/http_server
#
# For SQLite (always) and for PostgreSQL / MariaDB when UVSQL_TEST_PG_URL /
# UVSQL_TEST_MARIADB_URL are set (scripts/test.sh sets them), it starts the server on port 0
# with tables of its own (--prefix, dropped at exit with --drop), and checks:
#   - GET /authors/:id, GET /authors?limit=N, POST /books and GET /stats: status codes and the
#     exact JSON (escaping of quotes, backslashes, tabs; UTF-8 passed through);
#   - 400 for bad input (bad id, bad limit, bad JSON, missing fields), 404 for an unknown
#     author or path, 405 with an Allow header for a wrong method;
#   - POST then GET sees the new book; a kept-alive connection serves two requests; pipelined
#     requests are answered in order;
#   - 200 requests from 32 concurrent clients (GETs of all kinds and POSTs): zero failures;
#   - SIGTERM: the server exits by itself with code 0 (loop closed, nothing left open).
# Registered with ctest as http.server_answers_curl (label http). Under scripts/test.sh
# --valgrind, UVSQL_HTTP_EMULATOR holds the valgrind command line and the server runs under it
# (slower, hence the generous timeouts; leaks and errors make its exit code non-zero).
set -euo pipefail

server="${1:?usage: run.sh PATH/TO/http_server}"
read -r -a emulator <<<"${UVSQL_HTTP_EMULATOR:-}"
slow=1
[ "${#emulator[@]}" = 0 ] || slow=10
command -v curl >/dev/null || {
  echo "http test: curl is not installed" >&2
  exit 1
}

tmp="$(mktemp -d "${TMPDIR:-/tmp}/uvsql-http-test.XXXXXX")"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

failures=0
say() { echo "http test [$backend]: $*"; }
fail() {
  echo "http test [$backend]: FAILED: $*" >&2
  failures=$((failures + 1))
}

base=""
# req METHOD PATH [BODY] — sets $code and $body
req() {
  local args=(-s -o "$tmp/body" -w '%{http_code}' --max-time $((10 * slow)) -X "$1")
  [ $# -lt 3 ] || args+=(-H 'Content-Type: application/json' --data-binary "$3")
  code="$(curl "${args[@]}" "$base$2" || echo "curl-failed")"
  body="$(cat "$tmp/body" 2>/dev/null || true)"
}
# expect METHOD PATH [BODY] STATUS JSON — the exact answer
expect() {
  local want_code="${*: -2:1}" want_body="${*: -1}"
  req "${@:1:$#-2}"
  if [ "$code" != "$want_code" ] || [ "$body" != "$want_body" ]; then
    fail "$1 $2: got $code $body; expected $want_code $want_body"
  fi
}
# expect_status METHOD PATH [BODY] STATUS — only the status, and a JSON error object
expect_error() {
  local want_code="${*: -1}"
  req "${@:1:$#-1}"
  if [ "$code" != "$want_code" ] || [[ "$body" != '{"error":"'* ]]; then
    fail "$1 $2: got $code $body; expected $want_code and {\"error\":...}"
  fi
}

# expect_405 METHOD PATH ALLOWED JSON — 405, an Allow header (HTTP/1.1 requires it), the JSON
expect_405() {
  code="$(curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' --max-time $((10 * slow)) \
    -X "$1" "$base$2" || echo "curl-failed")"
  body="$(cat "$tmp/body" 2>/dev/null || true)"
  local allow
  allow="$(tr -d '\r' <"$tmp/headers" | sed -n 's/^[Aa]llow: //p')"
  if [ "$code" != 405 ] || [ "$allow" != "$3" ] || [ "$body" != "$4" ]; then
    fail "$1 $2: got $code, Allow: '$allow', $body; expected 405, Allow: '$3', $4"
  fi
}

start_server() { # start_server URL
  : >"$tmp/out"
  "${emulator[@]}" "$server" --port 0 --url "$1" --prefix "http_$$_" --drop \
    >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  local port=""
  for _ in $(seq 1 $((300 * slow))); do
    port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/out")"
    [ -z "$port" ] || break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    cat "$tmp/err" >&2
    fail "the server did not start"
    return 1
  fi
  base="http://127.0.0.1:$port"
  say "server on $base"
}

stop_server() {
  kill -TERM "$pid"
  local rc=0
  for _ in $(seq 1 $((100 * slow))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    fail "the server did not exit within $((10 * slow)) s of SIGTERM"
    return
  fi
  wait "$pid" || rc=$?
  pid=""
  [ "$rc" = 0 ] || {
    cat "$tmp/err" >&2
    fail "the server exited with code $rc after SIGTERM"
  }
}

check_backend() { # check_backend NAME URL
  backend="$1"
  start_server "$2" || return 0

  expect GET /authors/1 200 '{"id":1,"name":"Ursula K. Le Guin"}'
  expect GET /authors/4 200 '{"id":4,"name":"Flann \"Myles\" O'"'"'Brien"}'
  expect GET /authors/5 200 '{"id":5,"name":"Stanisław Lem"}'
  expect GET /authors/100 200 '{"id":100,"name":"Author 100"}'
  expect GET /authors/101 404 '{"error":"author 101 not found"}'
  expect GET '/authors?limit=2' 200 '[{"id":1,"name":"Ursula K. Le Guin","books":[{"id":1,"title":"A Wizard of Earthsea"},{"id":2,"title":"The Left Hand of Darkness"},{"id":3,"title":"The Dispossessed"}]},{"id":2,"name":"Jorge Luis Borges","books":[{"id":4,"title":"Ficciones"},{"id":5,"title":"The Aleph"},{"id":6,"title":"Labyrinths"}]}]'
  req GET '/authors?limit=4'
  [[ "$code" = 200 && "$body" = *'{"id":12,"title":"C:\\Poor\tMouth"}]}]' ]] ||
    fail "GET /authors?limit=4: backslash and tab not escaped: $code $body"
  req GET /authors
  [ "$code" = 200 ] && [ "$(grep -o '"books"' <<<"$body" | wc -l)" = 10 ] ||
    fail "GET /authors: expected the default of 10 authors: $code $body"

  expect_error GET /authors/abc 400
  expect_error GET /authors/0 400
  expect_error GET '/authors?limit=0' 400
  expect_error GET '/authors?limit=x' 400
  expect_error POST /books '{"author_id":1,' 400
  expect_error POST /books '{"author_id":1}' 400
  expect_error POST /books '{"title":"No Author"}' 400
  expect_error POST /books '{"author_id":"1","title":"x"}' 400
  expect_error POST /books '[1,2]' 400
  expect POST /books '{"author_id":1,"title":""}' 400 \
    '{"error":"\"title\" is required: a string of 1 to 100 characters"}'
  expect POST /books '{"author_id":999,"title":"Nobody'"'"'s"}' 404 '{"error":"author 999 not found"}'
  expect_error GET /nowhere 404
  expect_405 DELETE /authors/1 GET '{"error":"DELETE /authors/:id: only GET is allowed"}'
  expect_405 PUT /authors GET '{"error":"PUT /authors: only GET is allowed"}'
  expect_405 GET /books POST '{"error":"GET /books: only POST is allowed"}'
  expect_405 POST /stats GET '{"error":"POST /stats: only GET is allowed"}'

  # POST, then GET sees the book. Its id comes after the seed's 300 (not necessarily 301: the
  # failed insert above used a sequence value on PostgreSQL and MariaDB).
  req POST /books '{"author_id":3,"title":"Anthills of the \"Savannah\"\u00e9"}'
  local id=""
  [[ "$body" =~ ^\{\"id\":([0-9]+),\"author_id\":3,\"title\":\"Anthills\ of\ the\ \\\"Savannah\\\"é\"\}$ ]] &&
    id="${BASH_REMATCH[1]}"
  [[ "$code" = 201 && -n "$id" && "$id" -gt 300 ]] || fail "POST /books: got $code $body"
  req GET '/authors?limit=3'
  [[ "$code" = 200 && "$body" = *'{"id":9,"title":"Arrow of God"},{"id":'"$id"',"title":"Anthills of the \"Savannah\"é"}]}]' ]] ||
    fail "GET /authors?limit=3 after POST: $code $body"

  req GET /stats
  for field in dialect size checked_out idle overflow waiting connects checkouts timeouts invalidated; do
    [[ "$body" = *"\"$field\":"* ]] || fail "GET /stats: no \"$field\" in $body"
  done
  [ "$code" = 200 ] || fail "GET /stats: $code"

  # keep-alive: two requests, one connection
  curl -sv --max-time $((10 * slow)) "$base/authors/1" "$base/stats" >/dev/null 2>"$tmp/verbose" || true
  grep -q 'Re-using existing connection' "$tmp/verbose" || fail "the connection was not kept alive"

  # pipelining: three requests in one write are answered in order; the last one closes
  local pipelined want
  pipelined="$(exec 3<>"/dev/tcp/127.0.0.1/${base##*:}" &&
    printf 'GET /authors/2 HTTP/1.1\r\nHost: t\r\n\r\nGET /authors/abc HTTP/1.1\r\nHost: t\r\n\r\nGET /authors/3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' >&3 &&
    timeout $((10 * slow)) cat <&3 | tr -d '\r' | grep -E '^(HTTP|\{)')" || true
  want=$'HTTP/1.1 200 OK\n{"id":2,"name":"Jorge Luis Borges"}\nHTTP/1.1 400 Bad Request\n{"error":"author id must be a positive integer, not \\"abc\\""}\nHTTP/1.1 200 OK\n{"id":3,"name":"Chinua Achebe"}'
  [ "$pipelined" = "$want" ] || fail "pipelined requests: got $pipelined"

  # 200 requests from 32 concurrent clients
  : >"$tmp/urls"
  for i in $(seq 1 200); do
    case $((i % 5)) in
    0)
      echo "{\"author_id\":$((i % 100 + 1)),\"title\":\"Load $i\"}" >"$tmp/post$i.json"
      echo "-d @$tmp/post$i.json $base/books"
      ;;
    1) echo "$base/authors?limit=$((i % 20 + 1))" ;;
    2) echo "$base/stats" ;;
    *) echo "$base/authors/$((i % 100 + 1))" ;;
    esac >>"$tmp/urls"
  done
  # each line: curl's arguments (no quotes or spaces inside: xargs splits them)
  xargs -P 32 -L 1 curl -s -o /dev/null -w '%{http_code}\n' --max-time $((30 * slow)) \
    <"$tmp/urls" >"$tmp/codes" 2>/dev/null || true
  local ok
  ok="$(grep -cE '^20[01]$' "$tmp/codes" || true)"
  if [ "$ok" != 200 ]; then
    fail "concurrent requests: $ok of 200 succeeded; codes: $(sort "$tmp/codes" | uniq -c | tr '\n' ' ')"
  else
    say "200 concurrent requests (32 clients): all answered"
  fi
  req GET /authors/40
  [ "$code" = 200 ] || fail "GET /authors/40 after the load: $code"

  stop_server
  [ "$failures" = 0 ] && say "passed"
  return 0
}

check_backend sqlite "sqlite:///$tmp/bookstore.db?journal_mode=wal"
[ -z "${UVSQL_TEST_PG_URL:-}" ] || check_backend postgresql "$UVSQL_TEST_PG_URL"
[ -z "${UVSQL_TEST_MARIADB_URL:-}" ] || check_backend mariadb "$UVSQL_TEST_MARIADB_URL"

if [ "$failures" != 0 ]; then
  echo "http test: $failures check(s) failed" >&2
  exit 1
fi
echo "http test: all checks passed"
