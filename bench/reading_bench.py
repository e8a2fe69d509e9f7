"""Peak memory of reading one very large CloudTrail file (issue "Reading CloudTrail", item 14).

`trailguard test` used to take 2.5 GB on a 200 MB single-line delivery file: it decoded the line
whole. This builds, in /tmp, one file of each large shape (a single-line `{"Records": [...]}`
document, the same gzipped, and a pretty-printed JSON array), and measures for each the peak RSS
(`ru_maxrss` of the child) of:

- `trailguard test PATTERN FILE` and `trailguard backtest FILE --pattern PATTERN --json`;
- the baseline, in the same run: a child that only reads the file and decodes it whole with
  orjson (what reading without splitting costs at least).

Target: under 300 MB for both commands on every shape (the back-test's budget on a 1 GB archive).
Also checks that both commands count the same events. Results go to stdout as JSON and, with --out,
to a Markdown file.

Usage: python bench/reading_bench.py [--mb 200] [--out FILE]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import template_events  # noqa: E402

PATTERN = "{ $.eventName = StopLogging }"
TARGET_MB = 300

_MEASURE = (
    "import json, resource, subprocess, sys, time\n"
    "started = time.perf_counter()\n"
    "done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
    "print(json.dumps({'seconds': time.perf_counter() - started, 'exit': done.returncode,\n"
    "                  'maxrss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,\n"
    "                  'stdout_tail': done.stdout.decode(errors='replace')[-4000:]}))\n"
)

_DECODE_WHOLE = (
    "import gzip, sys, orjson\n"
    "data = open(sys.argv[1], 'rb').read()\n"
    "data = gzip.decompress(data) if data[:2] == b'\\x1f\\x8b' else data\n"
    "value = orjson.loads(data)\n"
    "print(len(value['Records'] if isinstance(value, dict) else value))\n"
)


def write_shapes(directory: Path, megabytes: int) -> dict[str, tuple[Path, int]]:
    """{shape: (path, events)}: about `megabytes` of JSON each."""
    templates = template_events()
    events: list[dict[str, Any]] = []
    size = 0
    while size < megabytes * 1024 * 1024:
        event = dict(templates[len(events) % len(templates)], eventID=f"bench-{len(events)}")
        events.append(event)
        size += len(orjson.dumps(event)) + 1
    line = orjson.dumps({"Records": events})
    shapes = {
        "single-line.json": line,
        "single-line.json.gz": gzip.compress(line, compresslevel=1),
        "pretty-array.json": json.dumps(events, indent=2).encode(),
    }
    paths = {}
    for name, data in shapes.items():
        path = directory / name
        path.write_bytes(data)
        paths[name] = (path, len(events))
    return paths


def measure(argv: list[str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", _MEASURE, *argv], capture_output=True, check=True, text=True)
    result = json.loads(done.stdout)
    result["peak_rss_mb"] = round(result.pop("maxrss_kb") / 1024, 1)
    result["seconds"] = round(result["seconds"], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=200, help="size of each file, in MB of JSON")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="trailguard-reading-"))
    cli = [sys.executable, "-m", "trailguard"]
    results: dict[str, Any] = {"mb": args.mb, "shapes": {}}
    try:
        for name, (path, events) in write_shapes(root, args.mb).items():
            entry: dict[str, Any] = {"bytes": path.stat().st_size, "events": events}
            baseline = measure([sys.executable, "-c", _DECODE_WHOLE, str(path)])
            entry["decode_whole"] = {k: baseline[k] for k in ("peak_rss_mb", "seconds")}
            test = measure([*cli, "test", PATTERN, str(path)])
            entry["test"] = {k: test[k] for k in ("peak_rss_mb", "seconds", "exit")}
            entry["test"]["total_line"] = test["stdout_tail"].strip().splitlines()[-1]
            backtest = measure([*cli, "backtest", str(path), "--pattern", PATTERN, "--json", "--no-progress"])
            entry["backtest"] = {k: backtest[k] for k in ("peak_rss_mb", "seconds", "exit")}
            evaluated = re.search(r'"eventsEvaluated": (\d+)', backtest["stdout_tail"])
            entry["backtest"]["events_evaluated"] = int(evaluated.group(1)) if evaluated else None
            entry["same_events"] = (f"of {events} events matched" in entry["test"]["total_line"]
                                    and entry["backtest"]["events_evaluated"] == events)
            results["shapes"][name] = entry
            print(name, json.dumps(entry), file=sys.stderr)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    results["verdict"] = all(e[c]["peak_rss_mb"] < TARGET_MB for e in results["shapes"].values() for c in ("test", "backtest"))
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(render_markdown(results, " ".join(sys.argv)))


def render_markdown(r: dict[str, Any], command: str) -> str:
    lines = [
        "# Reading one very large file: peak RSS",
        "",
        f"Produced by `{command}` on {time.strftime('%Y-%m-%d')}. Each file holds about {r['mb']} MB of JSON",
        "(generated from `bench/corpus.template_events`); each figure is the `ru_maxrss` of one child process.",
        "Baseline, measured in the same run: reading the file and decoding it whole with orjson.",
        "",
        f"| file | size | events | decode whole (baseline) | `trailguard test` | `trailguard backtest` | target < {TARGET_MB} MB |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, e in r["shapes"].items():
        ok = e["test"]["peak_rss_mb"] < TARGET_MB and e["backtest"]["peak_rss_mb"] < TARGET_MB
        lines.append(
            f"| {name} | {e['bytes'] / 1e6:.0f} MB | {e['events']:,} | {e['decode_whole']['peak_rss_mb']:.0f} MB, "
            f"{e['decode_whole']['seconds']} s | {e['test']['peak_rss_mb']:.0f} MB, {e['test']['seconds']} s | "
            f"{e['backtest']['peak_rss_mb']:.0f} MB, {e['backtest']['seconds']} s | {'met' if ok else 'NOT met'} |")
    lines += ["", "Both commands count every event (`trailguard test`'s total, the back-test's `eventsEvaluated`):", ""]
    lines += [f"- {name}: `{e['test']['total_line']}`; back-test {e['backtest']['events_evaluated']:,} evaluated; "
              f"same: {e['same_events']}" for name, e in r["shapes"].items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
