#!/usr/bin/env python3
"""bench/summarize.py — the "Latest figures" table from several runs of `bench`.

    for i in 1 2 3; do build-bench/bench >> /tmp/bench.jsonl; done
    python3 bench/summarize.py /tmp/bench.jsonl

Reads the JSON lines of any number of runs (other lines are ignored), keeps the best (lowest)
`seconds` of each (backend, workload, side), and prints one Markdown row per (backend,
workload): rows, best raw seconds, best uvsql seconds, the median and the range of the per-run
ratios (each uvsql/raw of the same run, as the program printed it: the figure to quote, since
both sides of a run saw the same machine), and the notes of the best uvsql line (peak RSS for
streaming, pgbench for concurrent_selects).
"""
import json
import statistics
import sys

ORDER = ["streaming", "large_resultset", "orm_large_resultset", "short_selects", "orm_get",
         "concurrent_selects", "eager_load_selectin", "eager_load_joined", "orm_bulk_insert"]


def notes(line):
    if line["workload"] == "streaming":
        return ("peak RSS %.1f MB at %s rows / %.1f MB at %s (growth %.2f)" %
                (line["peak_rss_kb"] / 1024, f"{line['rows']:,}", line["peak_rss_kb_small"] / 1024,
                 f"{line['rows_small']:,}", line["peak_growth"]))
    if "vs_pgbench" in line:
        return "pgbench -S -M prepared -c 8: %.0f tps; uvsql %.2fx pgbench" % (
            line["pgbench_S_prepared_c8_tps"], line["vs_pgbench"])
    return line.get("note", "")


def main(paths):
    best, ratios = {}, {}
    for path in paths:
        with open(path) as f:
            for text in f:
                text = text.strip()
                if not text.startswith("{"):
                    continue
                line = json.loads(text)
                key = (line["backend"], line["workload"], line["side"])
                if key not in best or line["seconds"] < best[key]["seconds"]:
                    best[key] = line
                if "ratio" in line:
                    ratios.setdefault(key[:2], []).append(line["ratio"])
    print("| Backend | Workload | Rows | best raw s | best uvsql s | ratio uvsql/raw (median of runs) "
          "| range | Notes |")
    print("|---|---|---:|---:|---:|---:|---|---|")
    for backend in ["postgresql", "sqlite", "mariadb"]:
        for workload in ORDER:
            raw = best.get((backend, workload, "raw"))
            uv = best.get((backend, workload, "uvsql"))
            if not raw or not uv:
                continue
            spread = ratios.get((backend, workload), [])
            print("| %s | %s | %s | %.3f | %.3f | %.2f | %s | %s |" %
                  (backend, workload, f"{uv['rows']:,}", raw["seconds"], uv["seconds"],
                   statistics.median(spread) if spread else uv["seconds"] / raw["seconds"],
                   "–".join("%.2f" % r for r in (min(spread), max(spread))) if spread else "",
                   notes(uv)))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: summarize.py FILE.jsonl [FILE.jsonl ...]")
    main(sys.argv[1:])
