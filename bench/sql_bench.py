"""Benchmark of `trailguard backtest --engine duckdb` (issue 18) against the native engine.

On one generated corpus of gzipped S3 delivery files (`bench/corpus.py`), in one run:

1. the native engine (the catalogue's `all` detections, one worker, in-process);
2. `--engine duckdb`: the same detections as one SQL query over the files loaded into DuckDB by
   the project's reader (`trailguard/sql/duckdb_engine.py`), split into its load and its query;
3. the decode-only floor: read, gunzip and orjson-decode every file, nothing matched;
4. DuckDB's own JSON reader loading the same files (`read_json` typed as the Athena table's columns
   + unnest of `Records`, all of DuckDB's threads), the alternative loader the engine was measured
   against (load only: it does not read JSON arrays, JSON lines and damaged files as the reader does).

It also checks that both engines' reports are equal (all but the timings). Each timing is the best
of `--repeat` runs (the machine is shared). Results go to stdout as JSON and, with --out, to Markdown.

Usage: python bench/sql_bench.py [--events 200000] [--repeat 3] [--out FILE]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import write_corpus  # noqa: E402


def best(repeat: int, run: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of `repeat` runs, and the last run's result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return min(times), result


def decode_only(files: list[Path]) -> int:
    events = 0
    for path in files:
        events += len(orjson.loads(gzip.decompress(path.read_bytes()))["Records"])
    return events


def record_type(field: Any = None) -> str:
    """DuckDB's type for a CloudTrail record as the Athena table declares it (`table.TABLE`), keyed
    by CloudTrail's own spelling so `read_json` finds the members; JSON-text columns stay JSON."""
    from trailguard.sql import table

    field = field or table.TABLE
    if field.kind in (table.STRUCT, table.ARRAY) or field is table.TABLE:
        members = ", ".join(f'"{child.key}" {record_type(child)}' for child in field.fields)
        return f"STRUCT({members})" + ("[]" if field.kind == table.ARRAY else "")
    if field.kind == table.MAP:
        return "MAP(VARCHAR, VARCHAR)"
    return "JSON" if field.kind == table.JSON_TEXT else "VARCHAR"


def duckdb_read_json(files: list[Path]) -> int:
    """Load the files' events with DuckDB's JSON reader, typed as the Athena table (load only)."""
    import duckdb

    connection = duckdb.connect(":memory:", config={"memory_limit": "2GB"})
    try:
        listing = [str(path) for path in files]
        records = record_type().replace("'", "''")
        connection.execute("CREATE TABLE raw AS SELECT UNNEST(Records) AS r "
                           f"FROM read_json(?, columns = {{'Records': '{records}[]'}}, format = 'unstructured', "
                           "maximum_object_size = 16777216)", [listing])
        return connection.execute("SELECT COUNT(*) FROM raw").fetchone()[0]
    finally:
        connection.close()


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    summary = {k: v for k, v in report["summary"].items() if k not in ("seconds", "eventsPerSecond", "workers")}
    return {"detections": report["detections"], "summary": summary}


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import duckdb

    return (f"{platform.machine()}, nproc {os.cpu_count()}, {model}, CPython {platform.python_version()}, "
            f"DuckDB {duckdb.__version__}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from trailguard.backtest import RunOptions, build_report, from_detection_ids, plan, run_units
    from trailguard.sql import duckdb_engine

    targets = from_detection_ids(["all"])
    with tempfile.TemporaryDirectory(prefix="tg-sql-bench-") as folder:
        files = write_corpus(Path(folder), args.events)
        size = sum(path.stat().st_size for path in files)
        options = RunOptions()
        units = plan([folder], options)
        query = duckdb_engine.prepare(targets)
        native_s, native = best(args.repeat, lambda: run_units(units, targets, options))
        duck_s, duck = best(args.repeat, lambda: duckdb_engine.run_duckdb(units, targets, options, query=query))
        phases = duckdb_engine.LAST_PHASES.copy()
        floor_s, decoded = best(args.repeat, lambda: decode_only(files))
        read_json_s, read_json_events = best(args.repeat, lambda: duckdb_read_json(files))
        equal = comparable(build_report(native).as_json_dict()) == comparable(build_report(duck).as_json_dict())
    events = native.tally.read

    def rate(seconds: float) -> int:
        return round(events / seconds)

    results = {
        "machine": machine(),
        "events": events, "files": len(files), "gzipped_bytes": size, "detections": len(targets),
        "repeat": args.repeat, "reports_equal": equal,
        "native_s": round(native_s, 3), "native_events_per_s": rate(native_s),
        "duckdb_s": round(duck_s, 3), "duckdb_events_per_s": rate(duck_s),
        "duckdb_phases_s": {name: round(value, 3) for name, value in phases.items()},
        "decode_only_s": round(floor_s, 3), "decode_only_events_per_s": rate(floor_s),
        "duckdb_read_json_load_s": round(read_json_s, 3), "duckdb_read_json_events": read_json_events,
        "duckdb_read_json_events_per_s": rate(read_json_s),
        "duckdb_vs_native": round(native_s / duck_s, 2),
        "duckdb_vs_decode_floor": round(floor_s / duck_s, 2),
    }
    assert decoded == events, f"decode-only saw {decoded} events, the engines {events}"
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(markdown(results), encoding="utf-8")


def markdown(r: dict[str, Any]) -> str:
    phases = ", ".join(f"{name} {seconds} s" for name, seconds in r["duckdb_phases_s"].items())
    ours = r["duckdb_phases_s"]["read"] + r["duckdb_phases_s"]["load_records"]
    versus = r["duckdb_read_json_load_s"]
    loaders = (f"{round(ours / versus, 1)}x faster than" if versus < ours else
               f"{round(versus / ours, 1)}x slower than")
    return f"""# Back-test speed: `--engine duckdb` against the native engine (issue 18)

Command: `python bench/sql_bench.py --events {r['events']} --repeat {r['repeat']} --out bench/RESULTS-sql.md`

Machine: {r['machine']}

Corpus: {r['events']:,} events in {r['files']:,} gzipped delivery files ({r['gzipped_bytes'] / 1e6:.1f} MB),
generated by `bench/corpus.py`; {r['detections']} detections (`--detections all`). Best of {r['repeat']} runs each,
all in the same run. Reports of both engines equal (all but timings): **{r['reports_equal']}**.

| what | seconds | events/s | vs native |
| --- | ---: | ---: | ---: |
| native engine, 1 worker | {r['native_s']} | {r['native_events_per_s']:,} | 1.00x |
| `--engine duckdb` (reader + load + one query) | {r['duckdb_s']} | {r['duckdb_events_per_s']:,} | {r['duckdb_vs_native']}x |
| decode-only floor (read + gunzip + orjson, no matching) | {r['decode_only_s']} | {r['decode_only_events_per_s']:,} | {round(r['native_s'] / r['decode_only_s'], 2)}x |
| DuckDB `read_json` load only (alternative loader, not used) | {r['duckdb_read_json_load_s']} | {r['duckdb_read_json_events_per_s']:,} | {round(r['native_s'] / r['duckdb_read_json_load_s'], 2)}x |

`--engine duckdb` phases (last run): {phases}.

Reading the numbers:

- Both engines read with the same reader; what differs is what follows. The native engine decodes
  only the keys its patterns read and runs compiled Python matchers on candidate events. The DuckDB
  engine decodes every event whole, builds the Athena table's row for it in Python
  (`table.table_row`, the SerDe's rules) and hands the rows to DuckDB as JSON lines
  (`table.load_records`); the `load_records` phase is most of the run, the query itself a small part.
- DuckDB's own `read_json`, typed as the Athena table, is the alternative loader: here it loads the
  files {loaders} the reader plus `load_records` ({versus} s against {round(ours, 3)} s; the ratio
  moves with the machine's load, so the choice does not rest on it). Whatever its speed, it only
  reads `{{"Records": [...]}}` documents (not JSON arrays, JSON lines, or damaged files the way the
  native engine counts and rejects them), does not apply the SerDe's rules (keys in any case, JSON
  text for objects and numbers in STRING columns) and would need more SQL to give the table's
  shape. The reports would not be equal by construction, so the engine uses the reader plus
  `load_records`; speeding up `table.table_row` (Python, per event) is where a faster load lies.
- `--engine duckdb` exists to prove the SQL equal to the native engine on the same files (the
  Athena path runs the same query where the data already is); it is not a faster local back-test.
- The machine is shared with other work: compare rows within this run, not with other files.
"""


if __name__ == "__main__":
    main()
