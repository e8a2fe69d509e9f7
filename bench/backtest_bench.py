"""Benchmark of `trailguard backtest` (issue 6).

Builds a corpus of gzipped S3 delivery files (100 records each) from real event shapes
(`bench/corpus.template_events`: the shared Stratus Red Team events when present, plus the
catalogue's sample events) and measures in one run, on the same files:

1. the full catalogue back-test (16 detections) on one worker, in-process;
2. `gzip -dc FILES | jq -c '.Records[] | select(.eventName == "RunInstances")'` (one pattern);
   target: back-test events/s >= 8x jq's;
3. decode-only: read, gunzip and fully decode every file with the fastest JSON decoder the project
   uses (orjson and msgspec are both timed; the faster is the baseline); target: >= 0.75x;
4. the back-test on 2 workers against 1; target: >= 1.7x;
5. peak RSS of `python -m trailguard backtest DIR --detections all --json` (a subprocess, one worker)
   on a separate corpus of at least 1 GB of gzipped files, generated in /tmp and deleted after;
   target: < 300 MB.

Reference points measured in the same run, to read the targets against:

- floors: read + inflate only, and read + inflate + the back-test's own partial decoder with no
  pattern run, in one process (what any single-process reader of these files pays first);
- the machine's parallel ceiling: two independent processes (spawned, not forked), each running
  the whole back-test on half the files at the same time, against one worker on all of them;
- S3: the same back-test over `--s3-objects` objects served by moto's server on 127.0.0.1 (a
  separate process), with one GET at a time and with the default look-ahead of 8.

Each timing is the best of `--repeat` runs (the machine is shared). Results go to stdout as JSON
and, with --out, to a Markdown file.

Usage: python bench/backtest_bench.py [--events 200000] [--big-gb 1.0] [--repeat 3] [--s3-objects 500] [--out FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import corpus  # noqa: E402
from bench.corpus import template_events  # noqa: E402

RECORDS_PER_FILE = 100
JQ_FILTER = '.Records[] | select(.eventName == "RunInstances")'


def write_corpus(directory: Path, events: int, *, seed: int, start: datetime, seconds_per_event: float,
                 quiet: bool = False) -> list[Path]:
    """`bench.corpus.write_corpus` in files of RECORDS_PER_FILE; `quiet` keeps only the templates no
    catalogue detection matches (an ordinary day of an account)."""
    shapes = template_events()
    if quiet:
        shapes = [t for t in shapes if not any(p.matches(t) for p in catalogue_patterns())]
    return corpus.write_corpus(directory, events, records_per_file=RECORDS_PER_FILE, seed=seed, start=start,
                               seconds_per_event=seconds_per_event, templates=shapes)


def catalogue_patterns() -> list[Any]:
    from trailguard.catalog import load_catalog
    from trailguard.patterns import compile_pattern

    return [compile_pattern(d.pattern_for("default")) for d in load_catalog().detections.values()]


def write_big_corpus(directory: Path, target_bytes: int) -> tuple[int, int]:
    """At least `target_bytes` of gzipped delivery files: a day of a busy account (50,000 events,
    one every 0.5 s) repeated on consecutive days, so the archive spans months and the per-minute
    state grows as it would. Returns (bytes written, events)."""
    try:
        from isal import isal_zlib

        def compress(data: bytes) -> bytes:
            return isal_zlib.compress(data, 2, 31)
    except ImportError:
        def compress(data: bytes) -> bytes:
            return gzip.compress(data, compresslevel=1)

    pool_dir = directory / "pool"
    pool = write_corpus(pool_dir, 50_000, seed=11, start=datetime(2026, 1, 1, tzinfo=timezone.utc),
                        seconds_per_event=0.5)
    documents = [gzip.decompress(path.read_bytes()) for path in pool]
    shutil.rmtree(pool_dir)
    written = events = 0
    day = 0
    first = datetime(2026, 1, 1, tzinfo=timezone.utc)
    while written < target_bytes:
        date = first + timedelta(days=day)
        stamp = date.strftime("%Y-%m-%d").encode()
        folder = directory / "AWSLogs" / "111122223333" / "CloudTrail" / "eu-west-1" / date.strftime("%Y/%m/%d")
        folder.mkdir(parents=True, exist_ok=True)
        for number, document in enumerate(documents):
            data = compress(document.replace(b'"eventTime":"2026-01-01T', b'"eventTime":"' + stamp + b"T"))
            (folder / f"111122223333_CloudTrail_eu-west-1_{date:%Y%m%d}_{number:05d}.json.gz").write_bytes(data)
            written += len(data)
            events += document.count(b'"eventVersion"')
            if written >= target_bytes:
                break
        day += 1
    return written, events


def best_of(repeat: int, action: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - started)
    return best, result


def decode_only(files: list[Path], loads: Callable[[bytes], Any], inflate: Callable[[bytes], bytes]) -> int:
    count = 0
    for path in files:
        count += len(loads(inflate(path.read_bytes()))["Records"])
    return count


def inflaters() -> dict[str, Callable[[bytes], bytes]]:
    """gzip decompressors: the standard library's, and ISA-L's when installed (the back-test uses
    ISA-L when it is installed, so the decode-only baseline does too)."""
    found: dict[str, Callable[[bytes], bytes]] = {"zlib": lambda data: zlib.decompress(data, 31)}
    try:
        from isal import isal_zlib

        found["isal"] = lambda data: isal_zlib.decompress(data, 31)
    except ImportError:
        pass
    return found


def backtest(corpus: Path, workers: int) -> dict[str, Any]:
    return backtest_paths([str(corpus)], workers)


def backtest_paths(paths: list[str], workers: int = 1) -> dict[str, Any]:
    from trailguard.backtest import RunOptions, build_report, from_detection_ids, run

    return build_report(run(paths, from_detection_ids(["all"]), RunOptions(workers=workers))).as_json_dict()


def serial_parts(corpus: Path, repeat: int) -> dict[str, float]:
    """The parts of a back-test no number of workers shares: listing the files, and replaying the
    merged per-minute counts into one report (best of `repeat`)."""
    from trailguard.backtest import RunOptions, build_report, from_detection_ids, plan, run_units

    targets = from_detection_ids(["all"])
    listing_s, units = best_of(repeat, lambda: plan([str(corpus)], RunOptions()))
    result = run_units(units, targets, RunOptions())
    report_s, _ = best_of(repeat, lambda: build_report(result).as_json_dict())
    return {"listing_s": listing_s, "report_s": report_s}


def floors(files: list[Path], inflate: Callable[[bytes], bytes]) -> dict[str, Callable[[], int]]:
    """What reading the files costs before any pattern runs, in one process."""
    from trailguard.backtest.scan import Scanner
    from trailguard.backtest.selection import from_detection_ids

    partial = Scanner(from_detection_ids(["all"])).decoder

    def inflate_only() -> int:
        return sum(len(inflate(path.read_bytes())) > 0 for path in files)

    def partial_decode() -> int:
        return sum(len(partial.loads(inflate(path.read_bytes()))["Records"]) for path in files)

    return {"read + inflate": inflate_only, "read + inflate + partial decode (the back-test's decoder)": partial_decode}


def _half_in_own_process(args: tuple[list[str], Any]) -> float:
    """Child of a spawn pool: wait for the sibling, then back-test these files; seconds taken."""
    paths, barrier = args
    from trailguard.backtest import RunOptions, build_report, from_detection_ids, run

    targets = from_detection_ids(["all"])
    build_report(run(paths[:1], targets, RunOptions(workers=1))).as_json_dict()  # warm, as the in-process runs are
    barrier.wait()
    started = time.perf_counter()
    build_report(run(paths, targets, RunOptions(workers=1))).as_json_dict()
    return time.perf_counter() - started


def independent_halves(files: list[Path]) -> float:
    """Two independent processes back-test one half each at the same time: the slower one's seconds."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(2) as pool:
        barrier = manager.Barrier(2)
        half = len(files) // 2
        parts = [[str(p) for p in files[:half]], [str(p) for p in files[half:]]]
        return max(pool.map(_half_in_own_process, [(part, barrier) for part in parts]))


def s3_fetching(files: list[Path], objects: int, repeat: int) -> dict[str, Any]:
    """The back-test over `objects` of the files served by moto's server (a separate process on
    127.0.0.1), one GET at a time and with the default look-ahead."""
    from bench.local_s3 import moto_server

    credentials = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
                   "AWS_EC2_METADATA_DISABLED": "true"}
    saved = dict(os.environ)
    os.environ.update(credentials)
    try:
        with moto_server() as endpoint:
            return _s3_runs(endpoint, files, objects, repeat)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _s3_runs(endpoint: str, files: list[Path], objects: int, repeat: int) -> dict[str, Any]:
    from trailguard.backtest import RunOptions, S3Options, from_detection_ids, run
    from trailguard.backtest.sources import s3_client

    client = s3_client(S3Options(endpoint_url=endpoint))
    client.create_bucket(Bucket="bench-trail")
    chosen = files[:objects]
    for path in chosen:
        key = "AWSLogs/" + str(path).split("/AWSLogs/", 1)[1]
        client.put_object(Bucket="bench-trail", Key=key, Body=path.read_bytes())
    targets = from_detection_ids(["all"])
    found: dict[str, Any] = {"objects": len(chosen), "latency_ms": LATENCY_MS}
    for latency in (0, LATENCY_MS):
        for threads in (1, 8):
            options = RunOptions(s3=S3Options(endpoint_url=endpoint, fetch_threads=threads))
            with added_latency(latency):
                seconds, result = best_of(repeat, lambda options=options: run(["s3://bench-trail"], targets, options))
            assert result.tally.files == len(chosen) and result.tally.rejected == 0
            found[f"latency_{latency}_threads_{threads}_s"] = seconds
            found["events"] = result.tally.read
    return found


LATENCY_MS = 20
"""Added to each GET in the second S3 measurement: a stand-in for the network round trip and first
byte of a real S3 GET, which a server on 127.0.0.1 does not have."""


@contextlib.contextmanager
def added_latency(milliseconds: int) -> Iterator[None]:
    """Make the back-test's S3 clients wait `milliseconds` before sending each GetObject (the wait
    releases the GIL, as waiting on a socket does)."""
    from trailguard.backtest import runner

    make_client = runner.s3_client

    def slow_client(options: Any) -> Any:
        client = make_client(options)
        if milliseconds:
            client.meta.events.register("before-send.s3.GetObject", lambda **_: time.sleep(milliseconds / 1000))
        return client

    runner.s3_client = slow_client
    try:
        yield
    finally:
        runner.s3_client = make_client


def jq_run(files: list[Path]) -> int:
    listing = "\0".join(str(p) for p in files).encode()
    command = f"xargs -0 gzip -dc | jq -c '{JQ_FILTER}' | wc -l"
    out = subprocess.run(["bash", "-c", command], input=listing, capture_output=True, check=True).stdout
    return int(out.strip())


def peak_rss(corpus: Path, workers: int) -> dict[str, Any]:
    """Run the CLI as a child and read its peak RSS (ru_maxrss of the largest waited-for child)."""
    command = [sys.executable, "-m", "trailguard", "backtest", str(corpus), "--detections", "all", "--json",
               "--no-progress", "--workers", str(workers)]
    script = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "out = subprocess.run(sys.argv[1:], capture_output=True)\n"
        "s = time.perf_counter() - t\n"
        "assert out.returncode == 0, out.stderr\n"
        "import json; summary = json.loads(out.stdout)['summary']\n"
        "print(json.dumps({'seconds': s, 'maxrss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
        " 'events': summary['eventsRead'], 'files': summary['files']}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script, *command], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def machine() -> dict[str, str]:
    lscpu = subprocess.run(["bash", "-c", "lscpu | head -20"], capture_output=True, text=True).stdout
    import msgspec

    try:
        import isal

        isal_version = isal.__version__
    except ImportError:
        isal_version = "not installed"
    return {
        "isal": isal_version,
        "nproc": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(),
        "lscpu": lscpu.strip(),
        "python": platform.python_version(),
        "orjson": orjson.__version__,
        "msgspec": msgspec.__version__,
        "jq": subprocess.run(["jq", "--version"], capture_output=True, text=True).stdout.strip(),
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--big-gb", type=float, default=1.0, help="size of the RSS corpus (gzipped bytes); 0 skips it")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--s3-objects", type=int, default=500, help="objects for the S3 measurement; 0 skips it")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    import msgspec

    results: dict[str, Any] = {"machine": machine(), "events": args.events}
    root = Path(tempfile.mkdtemp(prefix="trailguard-bench-"))
    try:
        corpus = root / "corpus"
        started = time.perf_counter()
        files = write_corpus(corpus, args.events, seed=6, start=datetime(2026, 10, 1, tzinfo=timezone.utc),
                             seconds_per_event=2.0)
        results["corpus"] = {"files": len(files), "bytes": sum(p.stat().st_size for p in files),
                             "generate_s": round(time.perf_counter() - started, 1)}
        decode_only(files, orjson.loads, gzip.decompress)  # warm the page cache

        decoders = {"orjson": orjson.loads, "msgspec": msgspec.json.Decoder().decode}
        results["decode"] = {}
        for inflate_name, inflate in inflaters().items():
            for name, loads in decoders.items():
                seconds, count = best_of(args.repeat, lambda loads=loads, inflate=inflate: decode_only(files, loads, inflate))
                assert count == args.events
                results["decode"][f"{inflate_name}+{name}"] = seconds
        from trailguard import records

        used = "isal" if records._inflate is not zlib else "zlib"
        candidates = {k: v for k, v in results["decode"].items() if k.startswith(used + "+")}
        fastest = min(candidates, key=candidates.get)
        results["decode_baseline"] = fastest
        results["decode_baseline_s"] = candidates[fastest]

        one_s, report = best_of(args.repeat, lambda: backtest(corpus, 1))
        assert report["summary"]["eventsEvaluated"] == args.events
        results["backtest_1_worker_s"] = one_s
        results["matches"] = {d["id"]: d["matches"] for d in report["detections"]}
        two_s, report2 = best_of(args.repeat, lambda: backtest(corpus, 2))
        assert [d["matches"] for d in report2["detections"]] == [d["matches"] for d in report["detections"]]
        results["backtest_2_workers_s"] = two_s
        # timed inside the children (after start-up and a warm-up file), best of the repeats
        halves_s = min(independent_halves(files) for _ in range(args.repeat))
        results["independent_halves_s"] = halves_s
        results["serial_parts"] = serial_parts(corpus, args.repeat)
        half = [str(p) for p in files[:len(files) // 2]]
        results["half_alone_s"], _ = best_of(args.repeat, lambda: backtest_paths(half))

        inflate = inflaters()[used]
        results["floors"] = {}
        for name, action in floors(files, inflate).items():
            results["floors"][name], _ = best_of(args.repeat, action)
        if args.s3_objects > 0:
            results["s3"] = s3_fetching(files, args.s3_objects, args.repeat)

        if shutil.which("jq"):
            jq_s, jq_matches = best_of(args.repeat, lambda: jq_run(files))
            results["jq_s"], results["jq_matches"] = jq_s, jq_matches

        events = args.events
        results["rates"] = {
            "backtest_1_worker_events_per_s": events / one_s,
            "backtest_2_workers_events_per_s": events / two_s,
            "decode_only_events_per_s": events / results["decode_baseline_s"],
            "jq_events_per_s": events / results["jq_s"] if "jq_s" in results else None,
        }
        results["ratios"] = {
            "backtest_over_jq": results["jq_s"] / one_s if "jq_s" in results else None,
            "backtest_over_decode_only": results["decode_baseline_s"] / one_s,
            "two_workers_over_one": one_s / two_s,
            "independent_halves_over_one": one_s / halves_s,
        }
        shutil.rmtree(corpus)

        # the same measurement on an ordinary day: events no detection matches (the corpus above
        # is dense with matches because half its templates are the catalogue's own samples)
        quiet = root / "quiet"
        quiet_files = write_corpus(quiet, args.events, seed=8, start=datetime(2026, 10, 1, tzinfo=timezone.utc),
                                   seconds_per_event=2.0, quiet=True)
        quiet_decode_s, _ = best_of(args.repeat, lambda: decode_only(quiet_files, orjson.loads, inflate))
        quiet_one_s, quiet_report = best_of(args.repeat, lambda: backtest(quiet, 1))
        results["quiet"] = {"decode_s": quiet_decode_s, "backtest_1_worker_s": quiet_one_s,
                            "matches": sum(d["matches"] for d in quiet_report["detections"]),
                            "ratio": quiet_decode_s / quiet_one_s}
        if shutil.which("jq"):
            quiet_jq_s, _ = best_of(args.repeat, lambda: jq_run(quiet_files))
            results["quiet"].update(jq_s=quiet_jq_s, over_jq=quiet_jq_s / quiet_one_s)
        shutil.rmtree(quiet)

        if args.big_gb > 0:
            big = root / "big"
            started = time.perf_counter()
            written, events = write_big_corpus(big, int(args.big_gb * 1024**3))
            results["big_corpus"] = {"bytes": written, "events_written": events,
                                     "generate_s": round(time.perf_counter() - started, 1)}
            for workers in (1, 2):
                rss = peak_rss(big, workers)
                results["big_corpus"][f"workers_{workers}"] = {**rss, "peak_rss_mb": rss["maxrss_kb"] / 1024}
            shutil.rmtree(big)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    results["machine"]["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(render_markdown(results, " ".join(sys.argv)))


def render_markdown(r: dict[str, Any], command: str) -> str:
    rates, ratios = r["rates"], r["ratios"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    lines = [
        "# Back-test benchmark (issue 6)",
        "",
        f"Command: `python {command}` (run from the repository root).",
        "",
        "## Machine",
        "",
        f"- nproc: {r['machine']['nproc']}; Python {r['machine']['python']}; orjson {r['machine']['orjson']}; "
        f"msgspec {r['machine']['msgspec']}; isal {r['machine']['isal']}; {r['machine']['jq']}",
        f"- load average before/after: {r['machine']['load_before']} / {r['machine']['load_after']} "
        "(the machine is shared by several engineers; timings are best of 3)",
        "",
        "```",
        r["machine"]["lscpu"],
        "```",
        "",
        "## Corpus",
        "",
        f"- {r['events']:,} events in {r['corpus']['files']:,} gzipped S3 delivery files of 100 records "
        f"({r['corpus']['bytes'] / 1e6:.1f} MB gzipped), generated from real event shapes by `bench/corpus.template_events`.",
        "",
        "## Results (same files, one run)",
        "",
        "| measurement | seconds | events/s |",
        "| --- | ---: | ---: |",
        f"| back-test, full catalogue (16 detections), 1 worker | {r['backtest_1_worker_s']:.2f} | {rates['backtest_1_worker_events_per_s']:,.0f} |",
        f"| back-test, full catalogue, 2 workers | {r['backtest_2_workers_s']:.2f} | {rates['backtest_2_workers_events_per_s']:,.0f} |",
    ]
    for name, seconds in r["decode"].items():
        lines.append(f"| decode only, {name} (read + gunzip + full decode) | {seconds:.2f} | {r['events'] / seconds:,.0f} |")
    if r.get("jq_s"):
        lines.append(f"| `gzip -dc \\| jq -c '{JQ_FILTER}'` (one pattern) | {r['jq_s']:.2f} | {rates['jq_events_per_s']:,.0f} |")
    for name, seconds in r.get("floors", {}).items():
        lines.append(f"| floor: {name}, no pattern run | {seconds:.2f} | {r['events'] / seconds:,.0f} |")
    if "independent_halves_s" in r:
        lines.append(f"| ceiling: two independent processes, half the files each, at once (the slower) | "
                     f"{r['independent_halves_s']:.2f} | {r['events'] / r['independent_halves_s']:,.0f} |")
    lines += [
        "",
        "| target | figure | verdict |",
        "| --- | ---: | --- |",
    ]
    if ratios["backtest_over_jq"] is not None:
        lines.append(f"| back-test (16 patterns) >= 8x jq (1 pattern), events/s | {ratios['backtest_over_jq']:.1f}x | {verdict(ratios['backtest_over_jq'] >= 8)} |")
    lines += [
        f"| back-test >= 0.75x decode-only with the fastest decoder ({r['decode_baseline']}) | {ratios['backtest_over_decode_only']:.2f}x | {verdict(ratios['backtest_over_decode_only'] >= 0.75)} |",
        f"| 2 workers >= 1.7x 1 worker | {ratios['two_workers_over_one']:.2f}x | {verdict(ratios['two_workers_over_one'] >= 1.7)} |",
    ]
    if "big_corpus" in r:
        peak = r["big_corpus"]["workers_1"]["peak_rss_mb"]
        lines.append(f"| peak RSS < 300 MB on >= 1 GB of gzipped files (1 worker) | {peak:.0f} MB | {verdict(peak < 300)} |")
    if "independent_halves_over_one" in ratios:
        lines += ["", f"Parallel ceiling of this machine for this workload: two independent processes reach "
                  f"{ratios['independent_halves_over_one']:.2f}x one worker; the 2-worker back-test reaches "
                  f"{ratios['two_workers_over_one']:.2f}x."]
    if "serial_parts" in r and "half_alone_s" in r:
        serial = r["serial_parts"]["listing_s"] + r["serial_parts"]["report_s"]
        slowdown = r["independent_halves_s"] / r["half_alone_s"]
        one = r["backtest_1_worker_s"]
        bound = one / (serial + (one - serial) / 2 * slowdown)
        lines += ["", f"What bounds 2 workers here: listing the files ({r['serial_parts']['listing_s']:.2f} s) and "
                  f"replaying the merged counts into one report ({r['serial_parts']['report_s']:.2f} s) happen once "
                  f"whatever the workers; half the files take {r['half_alone_s']:.2f} s alone and "
                  f"{r['independent_halves_s']:.2f} s with the other half running beside them ({slowdown:.2f}x). "
                  f"Even with nothing spent on forking and sending tallies back, two workers could reach at most "
                  f"{one:.2f} / ({serial:.2f} + ({one:.2f} - {serial:.2f}) / 2 x {slowdown:.2f}) = {bound:.2f}x."]
    if r.get("floors") and rates.get("jq_events_per_s"):
        inflate_s, decode_s = sorted(r["floors"].values())
        budget = r["events"] / (8 * rates["jq_events_per_s"])
        lines += ["", f"Eight times jq is {8 * rates['jq_events_per_s']:,.0f} events/s, {budget:.2f} s for this corpus. "
                  f"In one process, reading and inflating the files alone take {inflate_s:.2f} s, and with the "
                  f"back-test's partial decode, before any pattern runs, {decode_s:.2f} s"
                  + (" (over the budget)." if decode_s > budget else ".")]
    s3 = r.get("s3")
    if s3:
        latency = s3["latency_ms"]
        lines += ["", f"S3 through moto's server on 127.0.0.1 (a separate process; {s3['objects']:,} objects, "
                  f"{s3['events']:,} events), back-test seconds:", "",
                  "| GETs | one at a time | `--fetch-threads 8` | ratio |", "| --- | ---: | ---: | ---: |"]
        for label, added in (("as the local server answers", 0), (f"with {latency} ms added to each GET", latency)):
            one, eight = s3[f"latency_{added}_threads_1_s"], s3[f"latency_{added}_threads_8_s"]
            lines.append(f"| {label} | {one:.2f} | {eight:.2f} | {one / eight:.1f}x |")
        lines += ["", f"The {latency} ms are a stand-in for a real GET's round trip and first byte, injected in the "
                  "client; real S3 latency was not measured here."]
    quiet = r.get("quiet")
    if quiet:
        lines += ["", f"Same size, an ordinary day ({quiet['matches']:,} matching events, templates no detection matches): "
                  f"back-test 1 worker {quiet['backtest_1_worker_s']:.2f} s ({r['events'] / quiet['backtest_1_worker_s']:,.0f} events/s), "
                  f"decode-only ({r['decode_baseline']}) {quiet['decode_s']:.2f} s: {quiet['ratio']:.2f}x"
                  + (f"; jq {quiet['jq_s']:.2f} s: {quiet['over_jq']:.1f}x." if "jq_s" in quiet else ".")]
    if "big_corpus" in r:
        big = r["big_corpus"]
        lines += ["", f"Peak-RSS corpus: {big['bytes'] / 1024**3:.2f} GiB of gzipped delivery files, {big['events_written']:,} events "
                  "(one generated day of 50,000 events repeated on consecutive days, generated in /tmp and deleted after). "
                  "Peak RSS is `ru_maxrss` of the largest process (the CLI's, which also scans with --workers 2, or its worker):", ""]
        for workers in (1, 2):
            run = big[f"workers_{workers}"]
            lines.append(f"- `--workers {workers}`: {run['peak_rss_mb']:.0f} MB peak RSS, {run['seconds']:.1f} s, "
                         f"{run['events'] / run['seconds']:,.0f} events/s ({run['events']:,} events, {run['files']:,} files)")
    lines += ["", f"Matches per detection on the {r['events']:,}-event corpus: " + ", ".join(f"{k} {v:,}" for k, v in r["matches"].items()), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
