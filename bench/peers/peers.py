#!/usr/bin/python3
"""bench/peers/peers.py — the same workloads as `bench` (bench/bench.c) through the Python
stack users compare uvsql with: SQLAlchemy 1.4's asyncio extension (asyncpg, aiomysql,
aiosqlite drivers) and raw asyncpg, printing bench's JSON line format, so that one sitting can
say "uvsql N× faster than SQLAlchemy" (bench/summarize.py puts both in its tables).

Run it with Debian's interpreter and packages (python3-sqlalchemy python3-asyncpg
python3-aiomysql python3-aiosqlite), right after `bench` with the same sizes:

    /usr/bin/python3 bench/peers/peers.py [--only pg|sqlite|mariadb] [--workloads a,b,...]
        [--rows N] [--lookups N] [--concurrent N] [--insert-rows N] [--rounds N] [--quick]
        [--prefix P]

URLs as bench reads them: UVSQL_BENCH_PG_URL (else UVSQL_TEST_PG_URL), UVSQL_BENCH_MARIADB_URL
(else UVSQL_TEST_MARIADB_URL), UVSQL_BENCH_SQLITE_PATH (default /tmp/uvsql-bench.db); a backend
without a URL is skipped. The tables, data and checksums are bench's (bench/lib/bench.h, "THE
CONTRACT"): bench_rows with N rows (kept when it has N rows, else made afresh, by the same
SQL bench uses) and bench_orm_rows (made afresh before each orm_bulk_insert run). --prefix P
names them P + name instead (the smoke test uses its own, so it never touches a bench run's
tables, and drops them at the end).

Workloads and sides (side "sqlalchemy" on every backend; "asyncpg" on PostgreSQL):
  large_resultset      Core text() SELECT of every row, every cell read / asyncpg fetch()
  orm_large_resultset  AsyncSession select(BenchRow), objects
  short_selects        n lookups by key, one connection, one after another / asyncpg
                       prepared fetchrow
  orm_get              AsyncSession.get, a fresh session every 1,000 gets
  concurrent_selects   n lookups from 64 tasks on a pool of 8 connections (SQLite: the
                       sequential lookups, as bench) / asyncpg pool of 8
  orm_bulk_insert      n new objects (built before the clock), add_all + commit
Each workload runs --rounds rounds (default 3), each side once per round after a warm-up
(sides alternated); each line gives the best, worst and spread of its side and the 1-minute
load average at the start (below 0.3: "quiet":true). Both sides' rows and checksums must agree
with the contract, else the script stops with exit status 1.
"""
import argparse
import asyncio
import datetime
import json
import os
import sys
import time
import urllib.parse
import warnings

import asyncpg
import sqlalchemy
from sqlalchemy import BigInteger, Boolean, Column, DateTime, Float, String, Text, select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import declarative_base
from sqlalchemy.pool import NullPool

QUIET_LOAD = 0.3
TS_BASE = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
GET_SESSION = 1000
INSERT_BATCH = 1000

ALL = ["large_resultset", "orm_large_resultset", "short_selects", "orm_get",
       "concurrent_selects", "orm_bulk_insert"]


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return [float(x) for x in f.read().split()[:3]]
    except OSError:
        return [-1.0, -1.0, -1.0]


def key(i, nkeys):  # BENCH_KEY: i = -100..-1 are the warm-up keys
    return 1 + ((i + 100) * 7919) % nkeys


def ts_seconds(ts):
    """Seconds since 2024-01-01 UTC of a timestamp as a driver gives it (naive = UTC)."""
    if isinstance(ts, str):  # SQLite through Core: the stored text
        ts = datetime.datetime.fromisoformat(ts)
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=datetime.timezone.utc)
    return (ts - TS_BASE).total_seconds()


def row_sum(id_, name, x, ts, flag):  # BENCH_ROW_SUM
    return id_ + x + (1 if flag else 0) + len(name) + ts_seconds(ts)


def want_sum(n):
    """The checksum of rows 1..n of bench_rows (id g, name 'name-g', x g/2, ts base+g s)."""
    return sum(g + g * 0.5 + (g % 2 == 0) + len("name-%d" % g) + g for g in range(1, n + 1))


class Run:
    def __init__(self):
        self.seconds, self.rows, self.checksum = 0.0, 0, 0.0


# ---------------------------------------------------------------------------- backends

class Backend:
    """One backend: SQLAlchemy URL and the setup SQL of bench's contract."""

    def __init__(self, name, sa_url, pg_dsn=None, prefix=""):
        self.name, self.sa_url, self.pg_dsn = name, sa_url, pg_dsn
        self.rows_table = prefix + "bench_rows"
        self.insert_table = prefix + "bench_orm_rows"
        self.engine = None
        base = declarative_base()

        class BenchRow(base):
            __tablename__ = self.rows_table
            id = Column(BigInteger, primary_key=True)
            name = Column(Text)
            x = Column(Float)
            ts = Column(DateTime(timezone=True))
            flag = Column(Boolean)

        class BenchInsertRow(base):
            __tablename__ = self.insert_table
            id = Column(BigInteger().with_variant(sqlalchemy.Integer, "sqlite"),
                        primary_key=True, autoincrement=True)
            name = Column(String(30), nullable=False)
            fullname = Column(Text)

        self.BenchRow, self.BenchInsertRow = BenchRow, BenchInsertRow

    def make_engine(self, pool=8):
        kw = {}
        if self.name == "sqlite":
            kw["poolclass"] = NullPool if pool is None else None
            kw = {k: v for k, v in kw.items() if v is not None}
        else:
            kw.update(pool_size=pool, max_overflow=0)
        return create_async_engine(self.sa_url, **kw)

    def setup_sql(self, n):
        t = self.rows_table
        if self.name == "postgresql":
            return ["DROP TABLE IF EXISTS %s" % t,
                    "CREATE TABLE %s (id bigint PRIMARY KEY, name text, x double precision, "
                    "ts timestamptz, flag boolean)" % t,
                    "INSERT INTO %s SELECT g, 'name-' || g, g * 0.5, timestamptz '2024-01-01' "
                    "+ g * interval '1 second', g %% 2 = 0 FROM generate_series(1, %d) g"
                    % (t, n)]
        if self.name == "mariadb":
            return ["DROP TABLE IF EXISTS %s" % t,
                    "CREATE TABLE %s (id BIGINT PRIMARY KEY, name TEXT, x DOUBLE, "
                    "ts DATETIME(6), flag BOOLEAN)" % t,
                    "INSERT INTO %s SELECT seq, CONCAT('name-', seq), seq * 0.5e0, "
                    "TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND, seq %% 2 = 0 "
                    "FROM seq_1_to_%d" % (t, n)]
        return ["DROP TABLE IF EXISTS %s" % t,
                "CREATE TABLE %s (id INTEGER PRIMARY KEY, name TEXT, x DOUBLE, "
                "ts TIMESTAMPTZ, flag BOOLEAN)" % t,
                "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < %d) "
                "INSERT INTO %s SELECT i, 'name-' || i, i * 0.5, "
                "strftime('%%Y-%%m-%%d %%H:%%M:%%f', 1704067200 + i, 'unixepoch'), i %% 2 = 0 "
                "FROM g" % (n, t)]

    def insert_ddl(self):
        t = self.insert_table
        if self.name == "postgresql":
            body = "id bigserial PRIMARY KEY, name varchar(30) NOT NULL, fullname text"
        elif self.name == "mariadb":
            body = "id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(30) NOT NULL, fullname TEXT"
        else:
            body = "id INTEGER PRIMARY KEY, name VARCHAR(30) NOT NULL, fullname TEXT"
        return ["DROP TABLE IF EXISTS %s" % t, "CREATE TABLE %s (%s)" % (t, body)]

    async def exec_all(self, stmts):
        async with self.engine.begin() as c:
            for s in stmts:  # text(): SQLAlchemy escapes % for the driver's paramstyle
                await c.execute(text(s))

    async def setup(self, n):
        self.engine = self.make_engine()
        try:
            async with self.engine.connect() as c:
                have = (await c.execute(text("SELECT count(*) FROM %s" % self.rows_table))).scalar()
        except Exception:  # noqa: BLE001 — no table yet
            have = -1
        if have != n:
            await self.exec_all(self.setup_sql(n))

    async def drop(self):
        await self.exec_all(["DROP TABLE IF EXISTS %s" % self.rows_table,
                             "DROP TABLE IF EXISTS %s" % self.insert_table])


def sa_url(uvsql_url, driver):
    """A uvsql URL (postgresql://, mariadb://) as SQLAlchemy's (+asyncpg, mysql+aiomysql)."""
    u = urllib.parse.urlsplit(uvsql_url)
    scheme = "postgresql+asyncpg" if driver == "asyncpg" else "mysql+aiomysql"
    query = "" if driver == "asyncpg" else "?charset=utf8mb4"
    return urllib.parse.urlunsplit((scheme, u.netloc, u.path, "", "")) + query


# ---------------------------------------------------------------------------- the sides

def consume_rows(rows, run):
    for r in rows:
        run.checksum += row_sum(r[0], r[1], r[2], r[3], r[4])
        run.rows += 1


async def timed(run, coro):
    t0 = time.perf_counter()
    await coro
    run.seconds = time.perf_counter() - t0


class Sides:
    """The workloads of one backend, each side a coroutine filling a Run (one measured run)."""

    def __init__(self, b, a):
        self.b, self.a = b, a
        self.select_all = "SELECT id, name, x, ts, flag FROM %s" % b.rows_table
        self.select_one = self.select_all + " WHERE id = :id"

    # --- SQLAlchemy
    async def sa_large(self, run):
        async with self.b.engine.connect() as c:
            async def go():
                consume_rows((await c.execute(text(self.select_all))).all(), run)
            await timed(run, go())

    async def sa_orm_large(self, run):
        R = self.b.BenchRow

        async def go():
            async with AsyncSession(self.b.engine) as s:
                objs = (await s.execute(select(R))).scalars().all()
                for o in objs:
                    run.checksum += row_sum(o.id, o.name, o.x, o.ts, o.flag)
                    run.rows += 1
        await timed(run, go())

    async def sa_short(self, run, n=None):
        stmt = text(self.select_one)
        n, nkeys = n or self.a.lookups, self.a.rows
        async with self.b.engine.connect() as c:
            for i in range(-100, 0):
                (await c.execute(stmt, {"id": key(i, nkeys)})).one()

            async def go():
                for i in range(n):
                    r = (await c.execute(stmt, {"id": key(i, nkeys)})).one()
                    consume_rows((r,), run)
            await timed(run, go())

    async def sa_get(self, run):
        R, n, nkeys = self.b.BenchRow, self.a.lookups, self.a.rows
        async with AsyncSession(self.b.engine) as s:
            for i in range(-100, 0):
                await s.get(R, key(i, nkeys))

        async def go():
            i = 0
            while i < n:
                async with AsyncSession(self.b.engine) as s:
                    for _ in range(min(GET_SESSION, n - i)):
                        o = await s.get(R, key(i, nkeys))
                        run.checksum += row_sum(o.id, o.name, o.x, o.ts, o.flag)
                        run.rows += 1
                        i += 1
        await timed(run, go())

    async def sa_concurrent(self, run):
        if self.b.name == "sqlite":  # one writer: the sequential lookups, as bench
            await self.sa_short(run, self.a.concurrent)
            return
        stmt, callers, nkeys = text(self.select_one), 64, self.a.rows
        per = self.a.concurrent // callers

        async def caller(k):
            for j in range(per):
                async with self.b.engine.connect() as c:
                    r = (await c.execute(stmt, {"id": key(k * per + j, nkeys)})).one()
                    consume_rows((r,), run)
        await asyncio.gather(*(caller(k) for k in range(8)))  # warm the pool's 8 connections
        run.rows, run.checksum = 0, 0.0
        await timed(run, asyncio.gather(*(caller(k) for k in range(callers))))

    async def sa_bulk_insert(self, run):
        await self.b.exec_all(self.b.insert_ddl())
        R = self.b.BenchInsertRow
        objs = [R(name="user%d" % i, fullname="Full Name") for i in range(self.a.insert_rows)]

        async def go():
            async with AsyncSession(self.b.engine, expire_on_commit=False) as s:
                s.add_all(objs)
                await s.commit()
        await timed(run, go())
        run.rows = len(objs)
        run.checksum = float(sum(o.id for o in objs))  # keys written back: n (n + 1) / 2

    # --- raw asyncpg (PostgreSQL)
    def pg_sql(self, one):
        return self.select_all + (" WHERE id = $1" if one else "")

    async def pg_large(self, run):
        c = await asyncpg.connect(self.b.pg_dsn)
        try:
            stmt = await c.prepare(self.pg_sql(False))

            async def go():
                consume_rows(await stmt.fetch(), run)
            await timed(run, go())
        finally:
            await c.close()

    async def pg_short(self, run):
        n, nkeys = self.a.lookups, self.a.rows
        c = await asyncpg.connect(self.b.pg_dsn)
        try:
            stmt = await c.prepare(self.pg_sql(True))
            for i in range(-100, 0):
                await stmt.fetchrow(key(i, nkeys))

            async def go():
                for i in range(n):
                    consume_rows((await stmt.fetchrow(key(i, nkeys)),), run)
            await timed(run, go())
        finally:
            await c.close()

    async def pg_concurrent(self, run):
        sql, callers, nkeys = self.pg_sql(True), 64, self.a.rows
        per = self.a.concurrent // callers
        pool = await asyncpg.create_pool(self.b.pg_dsn, min_size=8, max_size=8)
        try:
            async def caller(k):
                for j in range(per):
                    consume_rows((await pool.fetchrow(sql, key(k * per + j, nkeys)),), run)
            await asyncio.gather(*(caller(k) for k in range(8)))
            run.rows, run.checksum = 0, 0.0
            await timed(run, asyncio.gather(*(caller(k) for k in range(callers))))
        finally:
            await pool.close()

    def table(self):
        pg = self.b.name == "postgresql"
        return {
            "large_resultset": [("sqlalchemy", self.sa_large)] + (
                [("asyncpg", self.pg_large)] if pg else []),
            "orm_large_resultset": [("sqlalchemy", self.sa_orm_large)],
            "short_selects": [("sqlalchemy", self.sa_short)] + (
                [("asyncpg", self.pg_short)] if pg else []),
            "orm_get": [("sqlalchemy", self.sa_get)],
            "concurrent_selects": [("sqlalchemy", self.sa_concurrent)] + (
                [("asyncpg", self.pg_concurrent)] if pg else []),
            "orm_bulk_insert": [("sqlalchemy", self.sa_bulk_insert)],
        }


# ---------------------------------------------------------------------------- the loop

def expected(workload, a, nrows_done):
    """(rows, checksum) the contract says, or None when only rows are known."""
    if workload in ("large_resultset", "orm_large_resultset"):
        return a.rows, want_sum(a.rows)
    if workload == "orm_bulk_insert":
        return a.insert_rows, a.insert_rows * (a.insert_rows + 1) / 2
    return None


def check(b, workload, side, run, a, sums):
    want = expected(workload, a, run.rows)
    tol = 1e-9 * abs(run.checksum) + 1e-6
    if want and (run.rows != want[0] or abs(run.checksum - want[1]) > tol * 10):
        sys.exit("peers: %s %s %s: %d rows, checksum %.6f; the contract says %d, %.6f"
                 % (b.name, workload, side, run.rows, run.checksum, want[0], want[1]))
    if workload in ("short_selects", "orm_get"):  # the same keys on every side
        prev = sums.setdefault(workload, (run.rows, run.checksum))
        if prev[0] != run.rows or abs(prev[1] - run.checksum) > tol * 10:
            sys.exit("peers: %s %s: sides disagree (%s: %d rows, %.6f; before: %d, %.6f)"
                     % (b.name, workload, side, run.rows, run.checksum, prev[0], prev[1]))


async def run_backend(b, a, run_id, load_start, versions):
    await b.setup(a.rows)
    sides = Sides(b, a)
    table = sides.table()
    try:
        for workload in ALL:
            if workload not in a.workloads:
                continue
            load = loadavg()
            stats = {name: [] for name, _ in table[workload]}
            sums = {}
            for name, fn in table[workload]:  # a warm-up of each side
                await fn(Run())
            for _ in range(a.rounds):
                for name, fn in table[workload]:
                    r = Run()
                    await fn(r)
                    check(b, workload, name, r, a, sums)
                    stats[name].append(r)
            for name, runs in stats.items():
                best = min(runs, key=lambda r: r.seconds)
                worst = max(runs, key=lambda r: r.seconds)
                line = {
                    "backend": b.name, "workload": workload, "side": name,
                    "seconds": round(best.seconds, 4), "rows": best.rows,
                    "rows_per_s": round(best.rows / best.seconds) if best.seconds > 0 else 0,
                    "rounds": len(runs), "best": round(best.seconds, 4),
                    "worst": round(worst.seconds, 4),
                    "spread": round(worst.seconds / best.seconds, 3) if best.seconds > 0 else 0,
                    "run": run_id, "loadavg_start": load_start,
                    "quiet": 0 <= load_start[0] < QUIET_LOAD, "loadavg": load,
                    "note": versions if name == "sqlalchemy" else "asyncpg %s (no ORM)"
                    % asyncpg.__version__,
                }
                print(json.dumps(line, separators=(",", ":")), flush=True)
    finally:
        if a.prefix:
            await b.drop()
        await b.engine.dispose()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", choices=["pg", "sqlite", "mariadb"])
    p.add_argument("--workloads", default=",".join(ALL))
    p.add_argument("--quick", action="store_true")
    p.add_argument("--rows", type=int)
    p.add_argument("--lookups", type=int)
    p.add_argument("--concurrent", type=int)
    p.add_argument("--insert-rows", type=int)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--prefix", default="", help="table name prefix (dropped at the end)")
    a = p.parse_args()
    warnings.simplefilter("ignore")  # aiomysql warns on DROP TABLE IF EXISTS of no table
    quick = dict(rows=20000, lookups=1000, concurrent=2000, insert_rows=5000)
    full = dict(rows=500000, lookups=10000, concurrent=20000, insert_rows=100000)
    for k, v in (quick if a.quick else full).items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    a.workloads = a.workloads.split(",")
    for w in a.workloads:
        if w not in ALL:
            sys.exit("peers: unknown workload %s (%s)" % (w, ", ".join(ALL)))
    if a.prefix and not a.prefix.replace("_", "").isalnum():
        sys.exit("peers: --prefix takes letters, digits and _")

    load_start = loadavg()
    if load_start[0] >= QUIET_LOAD:
        print("peers: warning: load average %.2f (1 min) at start, >= %.1f: this run is no "
              "figure (\"quiet\":false); run on a quiet machine" % (load_start[0], QUIET_LOAD),
              file=sys.stderr)
    run_id = "%d-%d" % (int(time.time()), os.getpid())
    versions = "SQLAlchemy %s asyncio" % sqlalchemy.__version__

    def env(*names):
        for n in names:
            if os.environ.get(n):
                return os.environ[n]
        return None

    backends = []
    pg = env("UVSQL_BENCH_PG_URL", "UVSQL_TEST_PG_URL")
    my = env("UVSQL_BENCH_MARIADB_URL", "UVSQL_TEST_MARIADB_URL")
    sq = env("UVSQL_BENCH_SQLITE_PATH") or "/tmp/uvsql-bench.db"
    if a.only in (None, "pg"):
        if pg:
            backends.append(Backend("postgresql", sa_url(pg, "asyncpg"), pg, a.prefix))
        else:
            print("peers: postgresql skipped: set UVSQL_BENCH_PG_URL", file=sys.stderr)
    if a.only in (None, "sqlite"):
        backends.append(Backend("sqlite", "sqlite+aiosqlite:///" + sq, None, a.prefix))
    if a.only in (None, "mariadb"):
        if my:
            backends.append(Backend("mariadb", sa_url(my, "aiomysql"), None, a.prefix))
        else:
            print("peers: mariadb skipped: set UVSQL_BENCH_MARIADB_URL", file=sys.stderr)
    for b in backends:
        v = versions + ", " + {"postgresql": "asyncpg %s" % asyncpg.__version__,
                               "sqlite": "aiosqlite", "mariadb": "aiomysql"}[b.name]
        asyncio.run(run_backend(b, a, run_id, load_start, v))


if __name__ == "__main__":
    main()
