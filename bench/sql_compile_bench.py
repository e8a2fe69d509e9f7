"""Benchmark of the SQL path (`trailguard.sql`): loading CloudTrail records into DuckDB, and every
catalogue pattern compiled to SQL and counted there, against the engine's own loop over the same
decoded events (the baseline, measured in the same run).

The events are real-shaped templates (bench/corpus.py: the shared Stratus Red Team events when
present, the catalogue's samples) repeated with a fresh eventTime and eventID each. Every count
is checked against the engine's before any figure is printed.

Usage: python bench/sql_compile_bench.py [--events 100000] [--repeat 3] [--out bench/RESULTS-sql-compile.md]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb  # noqa: E402

from bench.containment_bench import machine  # noqa: E402
from bench.corpus import template_events  # noqa: E402
from trailguard.catalog import load_catalog  # noqa: E402
from trailguard.patterns import compile_pattern  # noqa: E402
from trailguard.sql import compile_predicate, load_records  # noqa: E402


def events(count: int) -> list[dict]:
    templates = template_events()
    out = []
    for number in range(count):
        event = dict(templates[number % len(templates)])
        event["eventID"] = f"bench-{number:08d}"
        event["eventTime"] = f"2026-01-{1 + number % 28:02d}T{number % 24:02d}:{number % 60:02d}:00Z"
        out.append(event)
    return out


def best(repeat: int, run) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    corpus = events(args.events)
    catalog = load_catalog()
    patterns = [catalog.get(d).patterns[p] for d in catalog.detections for p in catalog.get(d).patterns]

    def load() -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        load_records(con, corpus)
        return con

    load_time, con = best(args.repeat, load)
    wheres = [compile_predicate(p, "duckdb") for p in patterns]

    def sql_counts() -> list[int]:
        return [con.execute(f"SELECT count(*) FROM cloudtrail WHERE {w}").fetchone()[0] for w in wheres]

    def engine_counts() -> list[int]:
        predicates = [compile_pattern(p).predicate for p in patterns]
        return [sum(1 for e in corpus if predicate(e)) for predicate in predicates]

    sql_time, sql_result = best(args.repeat, sql_counts)
    engine_time, engine_result = best(args.repeat, engine_counts)
    if sql_result != engine_result:
        raise SystemExit(f"counts differ: SQL {sql_result}, engine {engine_result}")

    lines = [
        "# SQL path: load and query (bench/sql_compile_bench.py)",
        "",
        f"Machine: {machine()}; duckdb {duckdb.__version__}. {args.events:,} events, "
        f"{len(patterns)} catalogue patterns; best of {args.repeat}. Counts equal the engine's.",
        "",
        "| step | seconds | events/s | vs baseline |",
        "| --- | ---: | ---: | ---: |",
        f"| baseline: the engine's predicates over the decoded events, all patterns | {engine_time:.2f} | "
        f"{args.events / engine_time:,.0f} | 1.00x |",
        f"| load_records (shape rows, DuckDB's JSON reader) | {load_time:.2f} | {args.events / load_time:,.0f} | "
        f"{load_time / engine_time:.2f}x |",
        f"| DuckDB: every pattern's compiled SQL, one count(*) each | {sql_time:.2f} | "
        f"{args.events / sql_time:,.0f} | {sql_time / engine_time:.2f}x |",
        "",
        f"Per pattern in DuckDB: {sql_time / len(patterns) * 1000:.1f} ms on average. Load average at the end: "
        f"{os.getloadavg()[0]:.1f} (a shared machine: wall-clock figures vary with it).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
