#!/usr/bin/env python3
"""bench/summarize.py — the README's figures table from the JSON lines of runs of `bench`
(and of bench/peers/peers.py, run in the same sitting).

    for i in 1 2 3; do build-bench/bench --check >> /tmp/bench.jsonl; done
    /usr/bin/python3 bench/peers/peers.py >> /tmp/bench.jsonl      # optional: SQLAlchemy, asyncpg
    python3 bench/summarize.py /tmp/bench.jsonl > /tmp/table.md

Reads any number of files (lines that are not JSON objects are ignored). A run is the lines
sharing a "run" id (bench prints one per program start; older lines without it count as one
run each). For each (backend, workload) it prints one Markdown row: rows, the best raw and
uvsql seconds over all runs, the ratio of the bests of each run (uvsql/raw, both sides
alternated within that run: the figure to quote), the spread (worst/best) of each side, the
target and whether every run met it, and the 1-minute load average at the start of each run
(a run that started at >= 0.3 is marked "(loaded)": it is no figure). Then, when peers lines
are present, a second table: uvsql against SQLAlchemy's asyncio extension and asyncpg, best
seconds of each over the sitting, "uvsql N.NN× faster" (peer seconds / uvsql seconds, per
row when the row counts differ).
"""
import json
import sys

ORDER = ["streaming", "large_resultset", "orm_large_resultset", "short_selects", "orm_get",
         "concurrent_selects", "eager_load_selectin", "eager_load_joined", "orm_bulk_insert",
         "executemany", "copy_in", "large_resultset_numeric_uuid"]
BACKENDS = ["postgresql", "sqlite", "mariadb"]
QUIET_LOAD = 0.3


def read(paths):
    lines = []
    for path in paths:
        with open(path) as f:
            for n, text in enumerate(f):
                text = text.strip()
                if not text.startswith("{"):
                    continue
                try:
                    line = json.loads(text)
                except ValueError:
                    continue
                if "backend" in line and "workload" in line and "side" in line:
                    line.setdefault("run", "%s:%d" % (path, n))
                    lines.append(line)
    return lines


def notes(line):
    if line["workload"] == "streaming":
        return ("peak RSS %.1f MB at %s rows / %.1f MB at %s (growth %.2f)" %
                (line["peak_rss_kb"] / 1024, f"{line['rows']:,}", line["peak_rss_kb_small"] / 1024,
                 f"{line['rows_small']:,}", line["peak_growth"]))
    if "vs_pgbench" in line:
        return "pgbench -S -M prepared -c 8: %.0f tps; uvsql %.2fx pgbench" % (
            line["pgbench_S_prepared_c8_tps"], line["vs_pgbench"])
    return line.get("note", "")


def fmt_load(line):
    load = line.get("loadavg_start") or line.get("loadavg")
    if not load:
        return "?"
    return "%.2f%s" % (load[0], "" if load[0] < QUIET_LOAD else " (loaded)")


def main(paths):
    lines = read(paths)
    best = {}      # (backend, workload, side) -> line with the lowest seconds
    per_run = {}   # (backend, workload) -> [uvsql line of each run, in order]
    raw_of = {}    # (run, backend, workload) -> raw line
    for line in lines:
        key = (line["backend"], line["workload"], line["side"])
        if key not in best or line["seconds"] < best[key]["seconds"]:
            best[key] = line
        if line["side"] == "raw":
            raw_of[(line["run"], key[0], key[1])] = line
        elif line["side"] == "uvsql" and "ratio" in line:
            per_run.setdefault(key[:2], []).append(line)

    print("| Backend | Workload | Rows | best raw s | best uvsql s | ratio of bests, per run "
          "| spread raw / uvsql (worst/best) | target | load at start (1 min), per run | Notes |")
    print("|---|---|---:|---:|---:|---|---|---|---|---|")
    for backend in BACKENDS:
        for workload in ORDER:
            raw = best.get((backend, workload, "raw"))
            uv = best.get((backend, workload, "uvsql"))
            if not raw or not uv:
                continue
            runs = per_run.get((backend, workload), [])
            ratios = " / ".join("%.2f" % r["ratio"] for r in runs) or "%.2f" % (
                uv["seconds"] / raw["seconds"])
            spreads = []
            for r in runs:
                rr = raw_of.get((r["run"], backend, workload))
                if rr and "spread" in rr and "spread" in r:
                    spreads.append("%.2f / %.2f" % (rr["spread"], r["spread"]))
            target = ""
            if "target" in uv:
                checks = [r.get("check") for r in runs if "check" in r]
                if uv.get("target_metric") == "peak_growth":
                    checks = [r.get("check") for r in lines
                              if r["side"] == "uvsql" and r["backend"] == backend
                              and r["workload"] == workload and "check" in r]
                verdict = "PASS" if checks and all(c == "PASS" for c in checks) else "FAIL"
                target = "%s ≤ %.2f: %s" % ("growth" if uv.get("target_metric") == "peak_growth"
                                            else "ratio", uv["target"], verdict)
            loads = " / ".join(fmt_load(r) for r in runs) or fmt_load(uv)
            print("| %s | %s | %s | %.3f | %.3f | %s | %s | %s | %s | %s |" %
                  (backend, workload, f"{uv['rows']:,}", raw["seconds"], uv["seconds"], ratios,
                   "; ".join(spreads), target, loads, notes(uv)))

    peers = sorted({k[2] for k in best if k[2] not in ("raw", "uvsql", "uvsql_insert")})
    if not peers:
        return
    print()
    print("| Backend | Workload | uvsql best s | %s | load at start (1 min) |" %
          " | ".join("%s best s (uvsql N× faster)" % p for p in peers))
    print("|---|---|---:|%s---|" % ("---:|" * len(peers)))
    for backend in BACKENDS:
        for workload in ORDER:
            uv = best.get((backend, workload, "uvsql"))
            have = [best.get((backend, workload, p)) for p in peers]
            if not uv or not any(have):
                continue
            cells = []
            for p in have:  # per row: the sides may have run different row counts
                if not p or uv["seconds"] <= 0 or not p["rows"] or not uv["rows"]:
                    cells.append("")
                    continue
                x = (p["seconds"] / p["rows"]) / (uv["seconds"] / uv["rows"])
                cells.append("%.3f (%.2f×%s)" % (p["seconds"], x, "" if p["rows"] == uv["rows"]
                                                  else ", per row: %s rows" % f"{p['rows']:,}"))
            loads = sorted({fmt_load(x) for x in [uv] + [p for p in have if p]})
            print("| %s | %s | %.3f | %s | %s |" % (backend, workload, uv["seconds"],
                                                   " | ".join(cells), ", ".join(loads)))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: summarize.py FILE.jsonl [FILE.jsonl ...]")
    main(sys.argv[1:])
