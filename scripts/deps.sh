#!/usr/bin/env bash
# scripts/deps.sh — installs the Debian/Ubuntu packages uvsql needs, and only those missing.
#
#   bash scripts/deps.sh             compiler, CMake, pkg-config, the four client libraries,
#                                    the server example's HTTP parser and JSON library, and
#                                    curl (its test)
#   bash scripts/deps.sh --servers   also the PostgreSQL and MariaDB servers (scripts/test.sh
#                                    starts throwaway instances of them for the tests)
#   bash scripts/deps.sh --tools     also valgrind
#   bash scripts/deps.sh --clang     also clang and its libFuzzer runtime (scripts/test.sh --clang,
#                                    scripts/fuzz.sh)
#   bash scripts/deps.sh --docs      also doxygen (the API reference: bash scripts/docs.sh)
#
# It asks dpkg first, so it costs a fraction of a second when everything is there; it runs
# `apt-get update` only when something has to be installed; it uses sudo when not root.
set -euo pipefail

usage() {
  sed -n '2,15s/^# \{0,1\}//p' "$0"
}

want_servers=0
want_tools=0
want_docs=0
want_clang=0
for arg in "$@"; do
  case "$arg" in
  --servers) want_servers=1 ;;
  --tools) want_tools=1 ;;
  --docs) want_docs=1 ;;
  --clang) want_clang=1 ;;
  -h | --help)
    usage
    exit 0
    ;;
  *)
    echo "deps.sh: unknown option '$arg'" >&2
    usage >&2
    exit 2
    ;;
  esac
done

# package|why, in the order they are reported
wanted=(
  "build-essential|C compiler and make, to build uvsql"
  "cmake|uvsql's build system"
  "pkg-config|how CMake finds the libraries below"
  "libuv1-dev|libuv: the event loop uvsql runs on"
  "libpq-dev|libpq: the PostgreSQL client library"
  "libmariadb-dev|MariaDB Connector/C: the MariaDB/MySQL client library"
  "libsqlite3-dev|SQLite"
  "libhttp-parser-dev|HTTP/1.1 parser for examples/http_server (only that example needs it)"
  "libjansson-dev|jansson, the JSON library of examples/http_server (only that example needs it)"
  "curl|HTTP client that tests/http/run.sh drives the server example with"
  "python3-sqlalchemy|SQLAlchemy 1.4 asyncio: bench/peers/peers.py (its smoke test, tests/peers)"
  "python3-asyncpg|asyncpg: bench/peers/peers.py"
  "python3-aiomysql|aiomysql: bench/peers/peers.py"
  "python3-aiosqlite|aiosqlite: bench/peers/peers.py"
)
if [ "$want_servers" = 1 ]; then
  wanted+=(
    "postgresql|PostgreSQL server: the tests start a throwaway instance (never the system one)"
    "mariadb-server|MariaDB server: the tests start a throwaway instance (never the system one)"
    "pgbouncer|PostgreSQL connection pooler: the tests run the engine tests through it"
  )
fi
if [ "$want_tools" = 1 ]; then
  wanted+=("valgrind|memory checker for scripts/test.sh --valgrind")
fi
if [ "$want_clang" = 1 ]; then
  wanted+=(
    "clang|C and C++ compiler for scripts/test.sh --clang (CI builds with gcc and clang)"
    "libclang-rt-dev|clang's sanitizer and libFuzzer runtimes, for scripts/fuzz.sh"
  )
fi
if [ "$want_docs" = 1 ]; then
  wanted+=("doxygen|builds the API reference from the header comments (scripts/docs.sh)")
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "deps.sh: this is not a Debian-like system (no dpkg/apt-get), so nothing is installed." >&2
  echo "deps.sh: make sure these (or your distribution's equivalents) are present:" >&2
  for w in "${wanted[@]}"; do
    echo "  ${w%%|*}  — ${w#*|}" >&2
  done
  exit 0
fi

missing=()
for w in "${wanted[@]}"; do
  pkg="${w%%|*}"
  status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
  if [ "$status" != "installed" ]; then
    missing+=("$w")
  fi
done

if [ "${#missing[@]}" = 0 ]; then
  echo "deps.sh: all ${#wanted[@]} required packages are installed."
  exit 0
fi

echo "deps.sh: installing ${#missing[@]} missing Debian package(s):"
names=()
for w in "${missing[@]}"; do
  echo "  ${w%%|*}  — ${w#*|}"
  names+=("${w%%|*}")
done

if [ "$(id -u)" = 0 ]; then
  as_root=(env)
elif command -v sudo >/dev/null 2>&1; then
  echo "deps.sh: not root, so using sudo (it may ask for your password)."
  as_root=(sudo)
else
  echo "deps.sh: not root and sudo is not available; as root, run:" >&2
  echo "  apt-get update && apt-get install -y ${names[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "${names[@]}"
echo "deps.sh: done."
