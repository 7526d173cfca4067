#!/usr/bin/env bash
# tests/peers/run.sh — smoke test of bench/peers/peers.py (the SQLAlchemy/asyncpg comparison):
# every workload, tiny sizes, one round, on the test servers, on tables of its own (a unique
# --prefix, dropped at the end) so it never touches a bench run's tables. It checks that the
# script runs and prints bench's JSON lines (its checksums are checked by the script itself);
# the figures mean nothing at this size. Fails (never skips) when Debian's python3 lacks the
# packages (python3-sqlalchemy python3-asyncpg python3-aiomysql python3-aiosqlite): scripts/deps.sh
# installs them.
set -euo pipefail
root="$1"
py=/usr/bin/python3
if ! "$py" -c 'import sqlalchemy, asyncpg, aiomysql, aiosqlite' 2>/dev/null; then
  echo "peers smoke: error: $py lacks sqlalchemy/asyncpg/aiomysql/aiosqlite; install them with" >&2
  echo "  apt-get install python3-sqlalchemy python3-asyncpg python3-aiomysql python3-aiosqlite" >&2
  exit 1
fi
prefix="peers_smoke_$$_"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export UVSQL_BENCH_SQLITE_PATH="$tmp/peers.db"
unset UVSQL_BENCH_PG_URL UVSQL_BENCH_MARIADB_URL # the test servers (UVSQL_TEST_*_URL)
"$py" "$root/bench/peers/peers.py" --rows 200 --lookups 20 --concurrent 128 --insert-rows 50 \
  --rounds 1 --prefix "$prefix" >"$tmp/out.jsonl"
"$py" - "$tmp/out.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
want = {"large_resultset", "orm_large_resultset", "short_selects", "orm_get",
        "concurrent_selects", "orm_bulk_insert"}
by = {}
for l in lines:
    by.setdefault(l["backend"], set()).add((l["workload"], l["side"]))
    for k in ("seconds", "rows", "best", "worst", "spread", "loadavg_start", "quiet", "run"):
        assert k in l, (k, l)
    assert l["rows"] > 0 and l["seconds"] > 0, l
for backend in ("postgresql", "sqlite", "mariadb"):
    got = {w for w, s in by.get(backend, ()) if s == "sqlalchemy"}
    assert got == want, (backend, sorted(want - got))
assert {("large_resultset", "asyncpg"), ("short_selects", "asyncpg"),
        ("concurrent_selects", "asyncpg")} <= by["postgresql"], by["postgresql"]
rows = {(l["backend"], l["workload"]): l["rows"] for l in lines}
assert rows[("sqlite", "large_resultset")] == 200 and rows[("mariadb", "orm_bulk_insert")] == 50
print("peers smoke: %d lines, every workload on the three backends" % len(lines))
PY
