#!/usr/bin/env bash
# tests/http/run.sh — drives examples/http_server over loopback with curl, as a client would.
#
#   bash tests/http/run.sh PATH/TO/http_server sqlite|postgresql|mariadb
#
# On the backend named (SQLite: a file in a temporary directory; PostgreSQL / MariaDB: the
# server in UVSQL_TEST_PG_URL / UVSQL_TEST_MARIADB_URL, which scripts/test.sh sets — unset, the
# test FAILS, it never skips), it starts the server on port 0 with tables of its own (--prefix,
# dropped at exit with --drop), and checks:
#   - GET /authors/:id, GET /authors?limit=N, POST /books and GET /stats: status codes and the
#     exact JSON (escaping of quotes, backslashes, tabs; UTF-8 passed through; the nested
#     "details" JSON column read back);
#   - HEAD: the status and Content-Length of the GET, and no body (a pipelined GET after it is
#     the next thing on the wire);
#   - percent-encoded paths and query values (/authors/%31 is /authors/1), 400 for malformed
#     escapes;
#   - POST with nested JSON where the model has a JSON column (201, stored, read back), 400 with
#     a message naming the field where it has a scalar, 400 for malformed JSON and unknown
#     fields, 415 for a missing or wrong Content-Type or a charset other than UTF-8;
#   - 400 for bad input (bad id, bad limit, missing fields), 404 for an unknown author or path,
#     405 with an Allow header for a wrong method; every error is {"error":"..."};
#   - POST then GET sees the new book; a kept-alive connection serves two requests; pipelined
#     requests are answered in order;
#   - 200 requests from 32 concurrent clients (GETs of all kinds and POSTs): zero failures;
#   - SIGTERM: the server exits by itself with code 0 (loop closed, nothing left open).
# Registered with ctest as http.server_answers_curl.<backend> (label http). Under
# scripts/test.sh --valgrind, UVSQL_HTTP_EMULATOR holds the valgrind command line and the
# server runs under it (slower, hence the generous timeouts; leaks and errors make its exit
# code non-zero).
set -euo pipefail

server="${1:?usage: run.sh PATH/TO/http_server sqlite|postgresql|mariadb}"
backend="${2:?usage: run.sh PATH/TO/http_server sqlite|postgresql|mariadb}"
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
# req METHOD PATH [BODY [CONTENT_TYPE]] — sets $code and $body. A body goes with
# Content-Type: application/json unless CONTENT_TYPE says otherwise ("" sends none).
req() {
  local args=(-s -o "$tmp/body" -w '%{http_code}' --max-time $((10 * slow)) -X "$1")
  if [ $# -ge 3 ]; then
    args+=(-H "Content-Type:${4-" application/json"}" --data-binary "$3")
  fi
  rm -f "$tmp/body"
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
# expect_ct CONTENT_TYPE PATH BODY STATUS JSON — a POST with that Content-Type ("": none)
expect_ct() {
  req POST "$2" "$3" "$1"
  if [ "$code" != "$4" ] || [ "$body" != "$5" ]; then
    fail "POST $2 with Content-Type '$1': got $code $body; expected $4 $5"
  fi
}
# expect_error METHOD PATH [BODY] STATUS — only the status, and a JSON error object
expect_error() {
  local want_code="${*: -1}"
  req "${@:1:$#-1}"
  if [ "$code" != "$want_code" ] || [[ "$body" != '{"error":"'* ]]; then
    fail "$1 $2: got $code $body; expected $want_code and {\"error\":...}"
  fi
}

# expect_405 METHOD PATH ALLOWED JSON — 405, an Allow header (HTTP/1.1 requires it), the JSON
expect_405() {
  local method=(-X "$1")
  [ "$1" != HEAD ] || method=(-I) # curl -X HEAD would wait for the body HEAD never has
  rm -f "$tmp/body"
  code="$(curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' --max-time $((10 * slow)) \
    "${method[@]}" "$base$2" || echo "curl-failed")"
  body="$(cat "$tmp/body" 2>/dev/null || true)"
  [ "$1" != HEAD ] || body="" # curl -I prints the headers there; no body is read
  local allow
  allow="$(tr -d '\r' <"$tmp/headers" | sed -n 's/^[Aa]llow: //p')"
  if [ "$code" != 405 ] || [ "$allow" != "$3" ] || [ "$body" != "$4" ]; then
    fail "$1 $2: got $code, Allow: '$allow', $body; expected 405, Allow: '$3', $4"
  fi
}

# raw REQUESTS — sends the raw HTTP/1.1 bytes on one connection (the last request should say
# "Connection: close") and prints what came back, without the carriage returns.
raw() {
  (exec 3<>"/dev/tcp/127.0.0.1/${base##*:}" && printf '%b' "$1" >&3 &&
    timeout $((10 * slow)) cat <&3 | tr -d '\r') || true
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

check_backend() { # check_backend URL
  start_server "$1" || return 0

  expect GET /authors/1 200 '{"id":1,"name":"Ursula K. Le Guin"}'
  expect GET /authors/4 200 '{"id":4,"name":"Flann \"Myles\" O'"'"'Brien"}'
  expect GET /authors/5 200 '{"id":5,"name":"Stanisław Lem"}'
  expect GET /authors/100 200 '{"id":100,"name":"Author 100"}'
  expect GET /authors/101 404 '{"error":"author 101 not found"}'
  expect GET /authors/7 200 '{"id":7,"name":"Author 7"}'
  local two='[{"id":1,"name":"Ursula K. Le Guin","books":[{"id":1,"title":"A Wizard of Earthsea","details":{"year":1968,"series":{"name":"Earthsea","number":1}}},{"id":2,"title":"The Left Hand of Darkness","details":null},{"id":3,"title":"The Dispossessed","details":null}]},{"id":2,"name":"Jorge Luis Borges","books":[{"id":4,"title":"Ficciones","details":null},{"id":5,"title":"The Aleph","details":null},{"id":6,"title":"Labyrinths","details":null}]}]'
  expect GET '/authors?limit=2' 200 "$two"
  req GET '/authors?limit=4'
  [[ "$code" = 200 && "$body" = *'{"id":12,"title":"C:\\Poor\tMouth","details":null}]}]' ]] ||
    fail "GET /authors?limit=4: backslash and tab not escaped: $code $body"
  req GET /authors
  [ "$code" = 200 ] && [ "$(grep -o '"books"' <<<"$body" | wc -l)" = 10 ] ||
    fail "GET /authors: expected the default of 10 authors: $code $body"

  expect_error GET /authors/abc 400
  expect_error GET /authors/0 400
  expect_error GET '/authors?limit=0' 400
  expect_error GET '/authors?limit=x' 400
  expect_error POST /books '{"author_id":1}' 400
  expect_error POST /books '{"title":"No Author"}' 400
  expect POST /books '{"author_id":"1","title":"x"}' 400 \
    '{"error":"\"author_id\" is required: a positive integer, not a string"}'
  expect POST /books '[1,2]' 400 '{"error":"the body must be a JSON object, not an array"}'
  expect POST /books '{"author_id":1,"title":""}' 400 \
    '{"error":"\"title\" is required: a string of 1 to 100 characters"}'
  expect POST /books '{"author_id":999,"title":"Nobody'"'"'s"}' 404 '{"error":"author 999 not found"}'
  expect POST /books '{"author_id":1,"title":"x","isbn":"0"}' 400 \
    '{"error":"unknown field \"isbn\": a book has author_id, title and details"}'
  expect_error GET /nowhere 404
  expect_405 DELETE /authors/1 'GET, HEAD' '{"error":"DELETE /authors/:id: only GET and HEAD are allowed"}'
  expect_405 PUT /authors 'GET, HEAD' '{"error":"PUT /authors: only GET and HEAD are allowed"}'
  expect_405 GET /books POST '{"error":"GET /books: only POST is allowed"}'
  expect_405 HEAD /books POST ''
  expect_405 POST /stats 'GET, HEAD' '{"error":"POST /stats: only GET and HEAD are allowed"}'

  # malformed JSON: 400 with jansson's words for what is wrong and where
  req POST /books '{"author_id":1,'
  [[ "$code" = 400 && "$body" = '{"error":"invalid JSON body: '*'(line 1, column 15)"}' ]] ||
    fail "POST /books with truncated JSON: got $code $body"
  req POST /books '{"author_id":1,"title":"x",}'
  [[ "$code" = 400 && "$body" = '{"error":"invalid JSON body: '*'"}' ]] ||
    fail "POST /books with a trailing comma: got $code $body"
  req POST /books '{"author_id":1,"author_id":2,"title":"x"}'
  [[ "$code" = 400 && "$body" = '{"error":"invalid JSON body: duplicate object key'* ]] ||
    fail "POST /books with a duplicate key: got $code $body"
  req POST /books $'{"author_id":1,"title":"\xff"}'
  [[ "$code" = 400 && "$body" = '{"error":"invalid JSON body: '* ]] ||
    fail "POST /books with invalid UTF-8: got $code $body"

  # Content-Type: JSON only (parameters allowed; a charset must be UTF-8)
  local ok_book='{"author_id":8,"title":"El hacedor"}'
  expect_ct ' text/plain' /books "$ok_book" 415 \
    '{"error":"Content-Type must be application/json (got text/plain)"}'
  expect_ct ' application/x-www-form-urlencoded' /books "$ok_book" 415 \
    '{"error":"Content-Type must be application/json (got application/x-www-form-urlencoded)"}'
  expect_ct '' /books "$ok_book" 415 \
    '{"error":"a JSON body needs the header Content-Type: application/json (got none)"}'
  expect_ct ' application/json; charset=latin1' /books "$ok_book" 415 \
    '{"error":"a JSON body must be UTF-8 (charset=utf-8, or no charset) (got application/json; charset=latin1)"}'
  expect_ct ' application/jsonp' /books "$ok_book" 415 \
    '{"error":"Content-Type must be application/json (got application/jsonp)"}'
  req POST /books "$ok_book" ' application/json;'
  [[ "$code" = 201 ]] || fail "POST /books with Content-Type 'application/json;': got $code $body"
  req POST /books "$ok_book" ' Application/JSON; charset="UTF-8"'
  [[ "$code" = 201 && "$body" =~ ^\{\"id\":[0-9]+,\"author_id\":8,\"title\":\"El\ hacedor\",\"details\":null\}$ ]] ||
    fail "POST /books with Content-Type Application/JSON; charset=\"UTF-8\": got $code $body"

  # nested JSON: accepted in "details" (a JSON column), refused in the scalar fields
  expect POST /books '{"author_id":1,"title":{"en":"Tehanu"}}' 400 \
    '{"error":"\"title\" is required: a string of 1 to 100 characters, not an object"}'
  expect POST /books '{"author_id":[1],"title":"Tehanu"}' 400 \
    '{"error":"\"author_id\" is required: a positive integer, not an array"}'
  # (keys in an order PostgreSQL's jsonb keeps: shorter first, then bytewise)
  local nested='{"year":1990,"awards":["Nebula"],"series":{"also":[{"id":1},null,true,2.5],"name":"Earthsea","number":4}}'
  req POST /books '{"author_id":5,"title":"Tehanu","details":'"$nested"'}'
  local tid=""
  [[ "$body" =~ ^\{\"id\":([0-9]+),\"author_id\":5,\"title\":\"Tehanu\",\"details\":(.*)\}$ ]] &&
    [ "${BASH_REMATCH[2]}" = "$nested" ] && tid="${BASH_REMATCH[1]}"
  [[ "$code" = 201 && -n "$tid" ]] || fail "POST /books with nested details: got $code $body"
  req GET '/authors?limit=5'
  [[ "$code" = 200 && "$body" = *'{"id":'"$tid"',"title":"Tehanu","details":'"$nested"'}]}]' ]] ||
    fail "GET /authors?limit=5: the nested details were not read back as sent: $code $body"

  # HEAD: the GET's status and headers, no body
  local head
  head="$(curl -s -I --max-time $((10 * slow)) "$base/authors/1" | tr -d '\r')"
  [ "$head" = $'HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: 36' ] ||
    fail "HEAD /authors/1: got $head"
  head="$(curl -s -I --max-time $((10 * slow)) "$base/authors?limit=2" | tr -d '\r')"
  [ "$head" = $'HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: '"$((${#two} + 1))" ] ||
    fail "HEAD /authors?limit=2: got $head (GET's body has $((${#two} + 1)) bytes)"
  head="$(curl -s -I --max-time $((10 * slow)) "$base/nowhere" | tr -d '\r')"
  [[ "$head" = $'HTTP/1.1 404 Not Found\n'* ]] || fail "HEAD /nowhere: got $head"
  # no body on the wire: the answer to a GET pipelined after the HEAD follows its headers
  local got want
  got="$(raw 'HEAD /authors/3 HTTP/1.1\r\nHost: t\r\n\r\nHEAD /authors/0 HTTP/1.1\r\nHost: t\r\n\r\nGET /authors/3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')"
  want=$'HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: 32\n\nHTTP/1.1 400 Bad Request\nContent-Type: application/json\nContent-Length: 60\n\nHTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: 32\nConnection: close\n\n{"id":3,"name":"Chinua Achebe"}'
  [ "$got" = "$want" ] || fail "HEAD, HEAD, GET on one connection: got $got"

  # percent-encoded paths and query values
  expect GET /authors/%31 200 '{"id":1,"name":"Ursula K. Le Guin"}'
  expect GET /%61uthors/%34 200 '{"id":4,"name":"Flann \"Myles\" O'"'"'Brien"}'
  expect GET '/authors?limit=%32' 200 "$two"
  local bad_escape='{"error":"malformed percent-encoding in the path: '"'"'%'"'"' must be followed by two hex digits, and %00 is not allowed"}'
  expect GET /authors/%3 400 "$bad_escape"
  expect GET /authors/%zz1 400 "$bad_escape"
  expect GET /authors/1%00 400 "$bad_escape"
  expect GET /authors/%2B1 400 '{"error":"author id must be a positive integer, not \"+1\""}'
  expect GET '/authors?limit=%zz' 400 '{"error":"limit must be an integer from 1 to 500"}'

  # POST, then GET sees the book. Its id comes after the seed's 300 (not necessarily 301: the
  # failed insert above used a sequence value on PostgreSQL and MariaDB).
  req POST /books '{"author_id":3,"title":"Anthills of the \"Savannah\"\u00e9"}'
  local id=""
  [[ "$body" =~ ^\{\"id\":([0-9]+),\"author_id\":3,\"title\":\"Anthills\ of\ the\ \\\"Savannah\\\"é\",\"details\":null\}$ ]] &&
    id="${BASH_REMATCH[1]}"
  [[ "$code" = 201 && -n "$id" && "$id" -gt 300 ]] || fail "POST /books: got $code $body"
  req GET '/authors?limit=3'
  [[ "$code" = 200 && "$body" = *'{"id":9,"title":"Arrow of God","details":null},{"id":'"$id"',"title":"Anthills of the \"Savannah\"é","details":null}]}]' ]] ||
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
      echo "-H Content-Type:application/json -d @$tmp/post$i.json $base/books"
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

case "$backend" in
sqlite) check_backend "sqlite:///$tmp/bookstore.db?journal_mode=wal" ;;
postgresql | mariadb)
  var=UVSQL_TEST_PG_URL
  [ "$backend" = postgresql ] || var=UVSQL_TEST_MARIADB_URL
  if [ -z "${!var:-}" ]; then
    echo "http test [$backend]: FAILED: $var is not set; run the tests with bash scripts/test.sh (it starts the servers), or set $var to a $backend URL" >&2
    exit 1
  fi
  check_backend "${!var}"
  ;;
*)
  echo "http test: unknown backend '$backend' (sqlite, postgresql or mariadb)" >&2
  exit 2
  ;;
esac

if [ "$failures" != 0 ]; then
  echo "http test: $failures check(s) failed" >&2
  exit 1
fi
echo "http test: all checks passed"
