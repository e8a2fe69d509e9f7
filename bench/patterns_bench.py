"""Benchmark of the filter-pattern engine (issue 2).

Measures in one run, on the same machine and the same events:
1. decode: orjson.loads of each event's JSON (the baseline);
2. evaluate: all detection patterns of the catalogue (16, `default` profile, and the `securityhub`
   profile) on the already-decoded events; target: evaluating all 16 costs less than one decode;
3. `trailguard test` end to end (a subprocess, as a user runs it) over a generated corpus of gzipped
   S3 delivery files, against `gzip -dc | jq -c '.Records[] | select(.eventName == "RunInstances")'`
   on the same files.

Usage: python bench/patterns_bench.py [--events 200000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import write_corpus  # noqa: E402
from trailguard.catalog import load_catalog  # noqa: E402
from trailguard.patterns import compile_pattern  # noqa: E402

RUN_INSTANCES = '{ $.eventName = "RunInstances" }'


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def in_process(files: list[Path], sample_files: int) -> dict:
    raws: list[bytes] = []
    for path in files[:sample_files]:
        import gzip

        raws.extend(orjson.dumps(r) for r in orjson.loads(gzip.decompress(path.read_bytes()))["Records"])
    decoded = [orjson.loads(r) for r in raws]
    catalog = load_catalog()
    results = {"events": len(raws), "mean_event_bytes": round(sum(map(len, raws)) / len(raws))}
    decode_s = best_of(5, lambda: [orjson.loads(r) for r in raws])
    results["decode_events_per_s"] = len(raws) / decode_s
    for profile in ("default", "securityhub"):
        patterns = [compile_pattern(d.pattern_for(profile)) for d in catalog.detections.values()]

        def evaluate() -> int:
            hits = 0
            for event in decoded:
                for p in patterns:
                    if p.matches(event):
                        hits += 1
            return hits

        eval_s = best_of(5, evaluate)
        results[f"{profile}_patterns"] = len(patterns)
        results[f"{profile}_matches"] = evaluate()
        results[f"{profile}_eval_events_per_s"] = len(raws) / eval_s
        results[f"{profile}_eval_over_decode"] = eval_s / decode_s
    return results


def end_to_end(corpus: Path, events: int) -> dict:
    trailguard = [sys.executable, "-m", "trailguard", "test", RUN_INSTANCES, str(corpus)]
    start = time.perf_counter()
    out = subprocess.run(trailguard, capture_output=True, text=True, check=True).stdout
    tg_s = time.perf_counter() - start
    tg_matches = len(out.splitlines()) - 1
    result = {"trailguard_test_s": tg_s, "trailguard_test_events_per_s": events / tg_s,
              "trailguard_test_matches": tg_matches, "trailguard_total_line": out.splitlines()[-1]}
    if shutil.which("jq"):
        jq = (f"find {corpus} -name '*.json.gz' -print0 | sort -z | xargs -0 gzip -dc | "
              "jq -c '.Records[] | select(.eventName == \"RunInstances\")' | wc -l")
        start = time.perf_counter()
        jq_out = subprocess.run(["bash", "-c", jq], capture_output=True, text=True, check=True).stdout
        jq_s = time.perf_counter() - start
        result.update({"jq_s": jq_s, "jq_events_per_s": events / jq_s, "jq_matches": int(jq_out.strip()),
                       "trailguard_over_jq_speed": (events / tg_s) / (events / jq_s)})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000, help="corpus size (default 200000)")
    parser.add_argument("--sample-files", type=int, default=200, help="files decoded for the in-process part")
    parser.add_argument("--keep", type=Path, help="write the corpus here and keep it")
    args = parser.parse_args()
    if args.events < 1000:
        parser.error("--events must be at least 1000")
    corpus = args.keep or Path(tempfile.mkdtemp(prefix="tg-corpus-"))
    try:
        start = time.perf_counter()
        files = write_corpus(corpus, args.events)
        print(f"corpus: {len(files)} files, {args.events} events, "
              f"{sum(f.stat().st_size for f in files) / 1e6:.1f} MB gzipped, built in {time.perf_counter() - start:.1f}s")
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
              f"{platform.python_version()}, orjson {orjson.__version__}")
        for key, value in {**in_process(files, args.sample_files), **end_to_end(corpus, args.events)}.items():
            print(f"{key}: {value:,.3f}" if isinstance(value, float) else f"{key}: {value}")
    finally:
        if not args.keep:
            shutil.rmtree(corpus, ignore_errors=True)


if __name__ == "__main__":
    main()
