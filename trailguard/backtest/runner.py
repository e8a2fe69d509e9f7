"""Run a back-test: expand the sources, scan every unit (in worker processes with `workers > 1`),
merge the tallies in unit order, and hand back one `Tally`.

Workers are forked before any progress thread starts and inherit the compiled patterns; results
come back through `imap` in unit order, so the merged tally does not depend on scheduling.
"""

from __future__ import annotations

import gc
import multiprocessing
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from .allocator import keep_freed_memory
from .fetch import ahead
from .scan import Scanner, Tally
from .selection import Target
from .sources import S3Object, S3Options, Unit, expand_sources, s3_client

Progress = Callable[[int, int, int], None]
"""Called in the main process as work completes, with the files, bytes and events just read."""


class BacktestError(RuntimeError):
    """The back-test stopped: `--strict` met rejected input (the message names file and reason)."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    workers: int = 1
    strict: bool = False
    s3: S3Options = field(default_factory=S3Options)
    keep_freed_memory: bool = True
    """Tune glibc so freed memory is reused rather than returned to the kernel after every file
    (`allocator.keep_freed_memory`, process-wide); False leaves the allocator as it is."""


@dataclass(frozen=True, slots=True)
class RunResult:
    targets: tuple[Target, ...]
    tally: Tally
    seconds: float
    workers: int = 1


def plan(sources: Sequence[str], options: RunOptions) -> list[Unit]:
    """The units to scan; raises SourceError before any work when a source is unusable."""
    return expand_sources(sources, options.s3)


def run_units(
    units: Sequence[Unit],
    targets: Sequence[Target],
    options: RunOptions,
    progress: Progress | None = None,
    on_start: Callable[[], None] | None = None,
) -> RunResult:
    """Scan `units` with `targets`. `on_start` runs after workers exist (start progress threads there)."""
    started = time.perf_counter()
    if options.keep_freed_memory:
        keep_freed_memory()  # before any fork: workers inherit it
    needs_s3 = any(isinstance(unit, S3Object) for unit in units)
    serial = options.workers <= 1 or len(units) <= 1
    scanner = Scanner(targets, s3_client(options.s3) if needs_s3 and serial else None)
    total = Tally.empty(len(targets))
    if serial:
        if on_start:
            on_start()
        for unit, body in ahead(units, scanner.s3, options.s3.fetch_threads):
            before = (total.files, total.bytes, total.read, len(total.rejections))
            scanner.scan(unit, into=total, body=body)
            if options.strict and len(total.rejections) > before[3]:
                _stop_strict(total.rejections[before[3]])
            if progress:
                progress(total.files - before[0], total.bytes - before[1], total.read - before[2])
    else:
        global _WORKER_SCANNER, _WORKER_S3
        _WORKER_SCANNER, _WORKER_S3 = scanner, (options.s3 if needs_s3 else None)
        collecting = gc.isenabled()
        # Tallies and decoded events hold no reference cycles, so neither side needs the cyclic
        # collector while scanning. Freezing the parent's objects first keeps forked workers from
        # touching (and so copying) every inherited page when a collection would walk them.
        gc.disable()
        gc.freeze()
        try:
            context = multiprocessing.get_context("fork")
            with context.Pool(options.workers, initializer=_init_worker) as pool:
                if on_start:
                    on_start()
                for tally in pool.imap(_scan_chunk_in_worker, chunked(units, options.workers)):
                    _merge(total, tally, options, progress)
        finally:
            _WORKER_SCANNER = _WORKER_S3 = None
            gc.unfreeze()
            if collecting:
                gc.enable()
    return RunResult(tuple(targets), total, time.perf_counter() - started, 1 if serial else options.workers)


def chunked(units: Sequence[Unit], workers: int) -> list[Sequence[Unit]]:
    """Consecutive runs of units, one task each: a worker merges a run's tallies itself, so the
    main process unpickles a few tallies rather than one per file. About eight runs per worker
    (at most 64 units each) keep the load balanced and the progress bar moving."""
    size = max(1, min(64, -(-len(units) // (workers * 8))))
    return [units[start:start + size] for start in range(0, len(units), size)]


def _merge(total: Tally, tally: Tally, options: RunOptions, progress: Progress | None) -> None:
    if options.strict and tally.rejections:
        _stop_strict(tally.rejections[0])
    total.merge(tally)
    if progress:
        progress(tally.files, tally.bytes, tally.read)


def _stop_strict(rejection: tuple[str, str, int]) -> None:
    source, reason, _ = rejection
    raise BacktestError(f"{source}: {reason} (--strict stops at the first rejected input)")


_WORKER_SCANNER: Scanner | None = None
_WORKER_S3: S3Options | None = None


def _init_worker() -> None:
    gc.disable()  # for good: a worker's objects are acyclic and freed by reference counting
    # boto3 clients must not cross a fork: each worker makes its own
    if _WORKER_SCANNER is not None and _WORKER_S3 is not None:
        _WORKER_SCANNER.s3 = s3_client(_WORKER_S3)


def _scan_chunk_in_worker(units: Sequence[Unit]) -> Tally:
    assert _WORKER_SCANNER is not None
    total = Tally.empty(len(_WORKER_SCANNER.targets))
    threads = _WORKER_S3.fetch_threads if _WORKER_S3 is not None else 1
    for unit, body in ahead(units, _WORKER_SCANNER.s3, threads):
        _WORKER_SCANNER.scan(unit, into=total, body=body)
    return total


def run(sources: Sequence[str], targets: Sequence[Target], options: RunOptions = RunOptions(),
        progress: Progress | None = None) -> RunResult:
    """Plan and run in one call (the library entry point; the CLI splits them for its progress bar)."""
    return run_units(plan(sources, options), targets, options, progress)

