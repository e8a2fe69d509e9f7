"""Benchmark of `trailguard backtest --engine duckdb` (issue 18) against the native engine.

On one generated corpus of gzipped S3 delivery files (`bench/corpus.py`), in one run:

1. the native engine (the catalogue's `all` detections, one worker, in-process);
2. `--engine duckdb`: the same detections as one SQL query over the files loaded into DuckDB by
   the project's reader (`trailguard/sql/duckdb_engine.py`), split into its load and its query;
3. the decode-only floor: read, gunzip and orjson-decode every file, nothing matched;
4. DuckDB's own JSON reader loading the same files (`read_json` typed as the Athena table's columns
   + unnest of `Records`, all of DuckDB's threads), the alternative loader the engine was measured
   against (load only: it does not read JSON arrays, JSON lines and damaged files as the reader does);
5. loading the decoded events three ways, load only: the previous `load_records` (`table.table_row`
   per event in Python, every column: the baseline of the faster load), today's `load_records`
   (DuckDB's reader shapes the rows) filling every column, and filling only what the query reads
   (what `--engine duckdb` does);
6. the peak RSS of each engine, each run alone in a child process (VmHWM);
7. the baseline: `--engine duckdb` as it was at `--baseline-commit` (default 00621f5, before
   DuckDB's reader shaped the rows), that commit's code extracted with `git archive` and run in a
   child process on the same corpus, best of `--repeat`, with its peak RSS.

It also checks that both engines' reports are equal (all but the timings). Each timing is the best
of `--repeat` runs (the machine is shared). Results go to stdout as JSON and, with --out, to Markdown.

Usage: python bench/sql_bench.py [--events 200000] [--repeat 3] [--baseline-commit 00621f5] [--out FILE]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import subprocess
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


def previous_load(events: list[dict[str, Any]]) -> int:
    """`load_records` before DuckDB shaped the rows: `table_row` per event, every column (the baseline)."""
    import duckdb

    from trailguard.sql.table import create_table, duckdb_columns, table_row

    connection = duckdb.connect(":memory:")
    try:
        create_table(connection)
        with tempfile.NamedTemporaryFile(suffix=".ndjson") as out:
            for event in events:
                out.write(orjson.dumps(table_row(event)))
                out.write(b"\n")
            out.flush()
            spec = "{" + ", ".join(f"'{c}': '{t}'" for c, t in duckdb_columns().items()) + "}"
            connection.execute(f"INSERT INTO cloudtrail SELECT * FROM read_json(?, format = 'newline_delimited', "
                               f"columns = {spec}, maximum_object_size = 67108864)", [out.name])
        return connection.execute("SELECT COUNT(*) FROM cloudtrail").fetchone()[0]
    finally:
        connection.close()


def load(events: list[dict[str, Any]], columns: Any) -> int:
    import duckdb

    from trailguard.sql.table import load_records

    connection = duckdb.connect(":memory:")
    try:
        return load_records(connection, events, columns=columns)
    finally:
        connection.close()


_PEAK_RSS = """
import sys
sys.path.insert(0, sys.argv[3])
from trailguard.backtest import RunOptions, from_detection_ids, plan, run_units
from trailguard.sql import duckdb_engine
targets, units = from_detection_ids(["all"]), plan([sys.argv[2]], RunOptions())
if sys.argv[1] == "native":
    run_units(units, targets, RunOptions())
else:
    duckdb_engine.run_duckdb(units, targets, RunOptions())
print(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""


def peak_rss_mb(engine: str, folder: str) -> float:
    """The peak RSS of one run of `engine` over `folder`, alone in a child process (its VmHWM: unlike
    `ru_maxrss`, not inherited from this process across fork and exec)."""
    done = subprocess.run([sys.executable, "-c", _PEAK_RSS, engine, folder, str(Path(__file__).resolve().parents[1])],
                          capture_output=True, text=True, check=True)
    return round(int(done.stdout.split()[-1]) / 1024, 1)


_BASELINE = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from trailguard.backtest import RunOptions, from_detection_ids, plan
from trailguard.sql import duckdb_engine
assert duckdb_engine.__file__.startswith(sys.argv[1]), duckdb_engine.__file__
targets, units = from_detection_ids(["all"]), plan([sys.argv[2]], RunOptions())
query = duckdb_engine.prepare(targets)
times = []
for _ in range(int(sys.argv[3])):
    started = time.perf_counter()
    duckdb_engine.run_duckdb(units, targets, RunOptions(), query=query)
    times.append(time.perf_counter() - started)
rss = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"seconds": min(times), "phases": duckdb_engine.LAST_PHASES, "peak_rss_kb": int(rss)}))
"""


def baseline(commit: str, folder: str, repeat: int) -> dict[str, Any]:
    """`--engine duckdb` at `commit` on `folder`: best seconds, last phases, peak RSS (MB)."""
    repo = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="tg-sql-baseline-") as tree:
        archive = subprocess.run(["git", "-C", str(repo), "archive", commit], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
        done = subprocess.run([sys.executable, "-c", _BASELINE, tree, folder, str(repeat)],
                              capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.splitlines()[-1])
    return {"commit": commit, "seconds": round(result["seconds"], 3),
            "phases": {name: round(value, 3) for name, value in result["phases"].items()},
            "peak_rss_mb": round(result["peak_rss_kb"] / 1024, 1)}


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
    parser.add_argument("--baseline-commit", default="00621f5",
                        help="the commit whose --engine duckdb is the baseline (default: before the faster load)")
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
        decoded_events = [event for path in files for event in orjson.loads(gzip.decompress(path.read_bytes()))["Records"]]
        loads = {name: best(args.repeat, run)[0] for name, run in (
            ("previous_load_records_all_columns", lambda: previous_load(decoded_events)),
            ("load_records_all_columns", lambda: load(decoded_events, None)),
            ("load_records_query_columns", lambda: load(decoded_events, duckdb_engine.columns_read(query.sql))))}
        del decoded_events
        rss = {engine: peak_rss_mb(engine, folder) for engine in ("native", "duckdb")}
        before = baseline(args.baseline_commit, folder, args.repeat)
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
        "baseline": before,
        "baseline_events_per_s": rate(before["seconds"]),
        "duckdb_vs_baseline": round(before["seconds"] / duck_s, 2),
        "load_only_s": {name: round(seconds, 3) for name, seconds in loads.items()},
        "peak_rss_mb": rss,
        "load_average": os.getloadavg(),
        "duckdb_vs_native": round(native_s / duck_s, 2),
        "duckdb_vs_decode_floor": round(floor_s / duck_s, 2),
    }
    assert decoded == events, f"decode-only saw {decoded} events, the engines {events}"
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(markdown(results), encoding="utf-8")


def markdown(r: dict[str, Any]) -> str:
    phases = ", ".join(f"{name} {seconds} s" for name, seconds in r["duckdb_phases_s"].items())
    loads = r["load_only_s"]
    previous, shaped, chosen = (loads["previous_load_records_all_columns"], loads["load_records_all_columns"],
                                loads["load_records_query_columns"])
    load_average = ", ".join(f"{value:.2f}" for value in r["load_average"])
    return f"""# Back-test speed: `--engine duckdb` against the native engine (issue 18)

Command: `python bench/sql_bench.py --events {r['events']} --repeat {r['repeat']} --out bench/RESULTS-sql.md`

Machine: {r['machine']}; load average at the end of the run {load_average} (shared with other work).

Corpus: {r['events']:,} events in {r['files']:,} gzipped delivery files ({r['gzipped_bytes'] / 1e6:.1f} MB),
generated by `bench/corpus.py`; {r['detections']} detections (`--detections all`). Best of {r['repeat']} runs each,
all in the same run. Reports of both engines equal (all but timings): **{r['reports_equal']}**.

| what | seconds | events/s | vs native | peak RSS |
| --- | ---: | ---: | ---: | ---: |
| native engine, 1 worker | {r['native_s']} | {r['native_events_per_s']:,} | 1.00x | {r['peak_rss_mb']['native']} MB |
| `--engine duckdb` at {r['baseline']['commit']} (baseline) | {r['baseline']['seconds']} | {r['baseline_events_per_s']:,} | {round(r['native_s'] / r['baseline']['seconds'], 2)}x | {r['baseline']['peak_rss_mb']} MB |
| `--engine duckdb` (reader + load + one query) | {r['duckdb_s']} | {r['duckdb_events_per_s']:,} | {r['duckdb_vs_native']}x | {r['peak_rss_mb']['duckdb']} MB |
| decode-only floor (read + gunzip + orjson, no matching) | {r['decode_only_s']} | {r['decode_only_events_per_s']:,} | {round(r['native_s'] / r['decode_only_s'], 2)}x | |
| DuckDB `read_json` load only (alternative loader, not used) | {r['duckdb_read_json_load_s']} | {r['duckdb_read_json_events_per_s']:,} | {round(r['native_s'] / r['duckdb_read_json_load_s'], 2)}x | |

Baseline of this change: `--engine duckdb` at commit {r['baseline']['commit']} (rows shaped by `table.table_row` in Python,
every column, events batched in memory), run in this run on the same corpus: {r['baseline']['seconds']} s,
{r['baseline_events_per_s']:,} events/s, {round(r['native_s'] / r['baseline']['seconds'], 2)}x the native engine, peak RSS {r['baseline']['peak_rss_mb']} MB; phases of
its last run
{", ".join(f"{name} {seconds} s" for name, seconds in r['baseline']['phases'].items())}. **Now {r['duckdb_vs_baseline']}x faster than
that baseline.** (The figure recorded before this change, 20.131 s, 9,935 events/s, 0.11x, came from a
busier moment of the machine: native took 2.13 s then.)

`--engine duckdb` phases (last run): {phases}. `lines` is Python building each event's loading line;
DuckDB inserts each file of 20,000 lines in a background thread while the reader reads on, and
`insert_wait` is the time left waiting for it.

Loading the decoded events only (no reading, no query), in this run:

| loader | seconds | vs the previous `load_records` |
| --- | ---: | ---: |
| previous `load_records`: `table_row` per event in Python, every column (baseline) | {previous} | 1.00x |
| `load_records`: DuckDB's JSON reader shapes the rows, every column | {shaped} | {round(previous / shaped, 1)}x |
| `load_records(columns=...)`: only what the query reads (as `--engine duckdb`) | {chosen} | {round(previous / chosen, 1)}x |

Reading the numbers:

- Both engines read with the same reader; what differs is what follows. The native engine decodes
  only the keys its patterns read and runs compiled Python matchers on candidate events. The DuckDB
  engine decodes every event whole and hands it to DuckDB as a JSON line. The rows are the Athena
  table's (`table.table_row`, the SerDe's rules, stays the reference: tests/sql/test_table_load.py
  compares every loaded table with it), but DuckDB's multi-threaded JSON reader builds them: a
  record whose declared keys are spelled as CloudTrail spells them and whose STRING members hold
  strings, booleans or whole numbers goes in as read, only its JSON-text columns dumped by orjson;
  any other record (a key in another case, a float or an object where a string belongs, a struct of
  the wrong shape) goes in as its `table_row`. The engine fills only the columns and struct members
  its query names (`duckdb_engine.columns_read`); the others stay NULL in the same table.
- Where the gain comes from, in the load-only rows: shaping by DuckDB's reader rather than by
  `table_row` is about even when every column is filled ({shaped} s against {previous} s: each line then
  carries the whole record twice, once as `_raw` text); filling only what the query reads is what
  pays ({chosen} s). In the engine, the inserts also overlap the reading, and the reader's events are
  no longer held in batches.
- What is left is mostly Python: the reader (as the native engine's) and building the lines; the
  query is about a second. The engine holds no events: lines stream to temporary files. The peak RSS
  is mostly DuckDB's own buffers.
- Tried and not kept (measured while choosing, not re-run by this script; 100,000 to 200,000 events
  of this corpus): DuckDB limited to one thread while loading, so the reader keeps a core (best of
  3: 2.38 s against 2.27 s with DuckDB's default, at 100,000 events: no gain); `memory_limit = 512MB`
  (peak RSS 523 MB against 578 MB, 4.6 s against 5.0 s) and an on-disk temporary database with that
  limit (520 MB, 5.7 s): DuckDB's own buffers are most of the RSS, and the in-memory table is not; a
  256 MB limit fails (the reader's 64 MB object buffers). Inserting 50,000 lines at a time overlapped
  less (the last insert is waited for); building each line with `dict(zip(...))` rather than a
  comprehension made no difference (0.33 s per 50,000 events either way).
- DuckDB's own `read_json` over the delivery files remains the slower alternative here, and it only
  reads `{{"Records": [...]}}` documents (not JSON arrays, JSON lines, or damaged files the way the
  native engine counts and rejects them), so the reports would not be equal by construction.
- `--engine duckdb` exists to prove the SQL equal to the native engine on the same files (the
  Athena path runs the same query where the data already is); it is not a faster local back-test.
- The machine is shared with other work: compare rows within this run, not with other files.
"""


if __name__ == "__main__":
    main()
