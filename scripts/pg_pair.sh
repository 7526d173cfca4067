#!/usr/bin/env bash
# scripts/pg_pair.sh — a throwaway PostgreSQL primary and its synchronous streaming standby in
# DIR, for the failover test (tests/test_pg_failover.c), which must not touch the PostgreSQL
# every other test shares.
#
#   bash scripts/pg_pair.sh start DIR          initdb the primary, pg_basebackup -R the standby,
#                                              start both on free loopback ports; prints
#                                              PRIMARY_URL=... and STANDBY_URL=...
#   bash scripts/pg_pair.sh stop-primary DIR   pg_ctl stop -m immediate on the primary (a crash)
#   bash scripts/pg_pair.sh promote DIR        pg_ctl promote -w on the standby
#   bash scripts/pg_pair.sh stop DIR           stops what still runs and removes DIR
#
# The standby is synchronous (synchronous_standby_names = '*', synchronous_commit = on): a
# COMMIT returns only once the standby has the WAL, so a transaction reported committed is on
# the standby when it is promoted. (With asynchronous replication a failover loses the last
# commits: PostgreSQL's own trade-off, docs/scale-out.md.) Run as root, the servers run as the
# postgres user (or uvsql-test), as scripts/test.sh does.
set -euo pipefail
cmd="${1:-}"
dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || {
  sed -n '2,12s/^# \{0,1\}//p' "$0" >&2
  exit 2
}
pg_bin="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
[ -x "$pg_bin/initdb" ] || {
  echo "pg_pair.sh: PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin" >&2
  exit 1
}
user="$(id -un)"
if [ "$(id -u)" = 0 ]; then
  if id postgres >/dev/null 2>&1; then user=postgres; else user=uvsql-test; fi
  id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
fi
as_user() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u "$user" -- "$@"); else "$@"; fi
}
free_port() {
  local p="$1"
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}
opts() { # opts PORT
  echo "-c listen_addresses=127.0.0.1 -c port=$1 -c unix_socket_directories=$dir -c fsync=off \
-c full_page_writes=off -c max_connections=120 -c shared_buffers=16MB -c hot_standby=on"
}
start_one() { # start_one NAME PORT
  as_user "$pg_bin/pg_ctl" -D "$dir/$1" -l "$dir/$1.log" -w -t 60 -o "$(opts "$2")" start \
    >/dev/null || {
    tail -n 20 "$dir/$1.log" >&2
    exit 1
  }
}
case "$cmd" in
start)
  mkdir -p "$dir"
  [ "$(id -u)" != 0 ] || { chmod 755 "$dir" && chown "$user" "$dir"; }
  as_user "$pg_bin/initdb" -D "$dir/primary" --auth=trust -U postgres -E UTF8 --no-locale \
    --no-sync >"$dir/initdb.log" 2>&1 || {
    tail -n 20 "$dir/initdb.log" >&2
    exit 1
  }
  cat >>"$dir/primary/postgresql.conf" <<CONF
wal_level = replica
synchronous_standby_names = '*'
synchronous_commit = on
CONF
  echo "host replication all 127.0.0.1/32 trust" >>"$dir/primary/pg_hba.conf"
  pport="$(free_port 57432)"
  start_one primary "$pport"
  as_user "$pg_bin/pg_basebackup" -h 127.0.0.1 -p "$pport" -U postgres -D "$dir/standby" -R \
    -X stream --no-sync >"$dir/basebackup.log" 2>&1 || {
    tail -n 20 "$dir/basebackup.log" >&2
    exit 1
  }
  # Promoted, it has no standby of its own: commits there must not wait for one.
  echo "synchronous_standby_names = ''" >>"$dir/standby/postgresql.conf"
  sport="$(free_port $((pport + 1)))"
  start_one standby "$sport"
  echo "PRIMARY_URL=postgresql://postgres@127.0.0.1:$pport/postgres"
  echo "STANDBY_URL=postgresql://postgres@127.0.0.1:$sport/postgres"
  ;;
stop-primary)
  as_user "$pg_bin/pg_ctl" -D "$dir/primary" -m immediate -w stop >/dev/null
  ;;
promote)
  as_user "$pg_bin/pg_ctl" -D "$dir/standby" -w -t 60 promote >/dev/null
  ;;
stop)
  for d in primary standby; do
    if [ -f "$dir/$d/postmaster.pid" ]; then
      as_user "$pg_bin/pg_ctl" -D "$dir/$d" -m immediate -w -t 20 stop >/dev/null 2>&1 ||
        kill -KILL "$(head -n 1 "$dir/$d/postmaster.pid")" 2>/dev/null || true
    fi
  done
  rm -rf "$dir"
  ;;
*)
  echo "pg_pair.sh: unknown command '$cmd' (start, stop-primary, promote, stop)" >&2
  exit 2
  ;;
esac
