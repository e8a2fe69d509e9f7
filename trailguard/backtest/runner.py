"""Run a back-test: expand the sources, scan every unit (in several processes with `workers > 1`),
merge the tallies, and hand back one `Tally`.

With `workers > 1` the main process scans too, beside `workers - 1` forked ones that inherit the
compiled patterns (forked before any progress or fetch thread starts). They share the units
through a `WorkShare` and send their tallies back in a few pieces, which the main process merges
between its own files. Tallies merge into the same result whatever the split, and rejections are
put back in unit order, so the report does not depend on scheduling.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.connection
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

from .allocator import keep_freed_memory
from .fetch import Fetched, ahead
from .scan import Scanner, Tally
from .selection import Target
from .sources import S3Object, S3Options, Unit, expand_sources, s3_client
from .workshare import WorkShare

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

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers {self.workers}: allowed 1 or more processes scanning files")


@dataclass(frozen=True, slots=True)
class RunResult:
    targets: tuple[Target, ...]
    tally: Tally
    seconds: float
    workers: int = 1
    notes: tuple[str, ...] = ()
    """What the engine could not know and so left at zero (a SQL engine reading files itself
    cannot count them): shown with the summary so a zero is not read as a fact."""


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
    processes = min(options.workers, len(units))  # more processes than files would sit idle
    serial = processes <= 1
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
        total = _run_shared(units, scanner, options, processes, progress, on_start, needs_s3)
    return RunResult(tuple(targets), total, time.perf_counter() - started, max(processes, 1))


PIECES_PER_WORKER = 4
"""How many partial tallies a worker process sends: the main process merges them while it scans,
so only the last piece's transfer and merge wait for everyone."""


def _run_shared(units: Sequence[Unit], scanner: Scanner, options: RunOptions, processes: int,
                progress: Progress | None, on_start: Callable[[], None] | None, needs_s3: bool) -> Tally:
    """Scan with `processes` processes: the main one and `processes - 1` forked ones, sharing
    the units through a `WorkShare`. Workers send their tallies back in a few pieces; counters in
    shared memory feed the progress bar; the merged tally does not depend on the split."""
    context = multiprocessing.get_context("fork")
    share = WorkShare(len(units), processes, context)
    counters = context.RawArray("q", 3 * processes)  # files, bytes, events read, per process
    piece = max(1, len(units) // (processes * PIECES_PER_WORKER))
    collecting = gc.isenabled()
    # Freezing the parent's objects before the fork keeps workers from touching (and so copying)
    # every inherited page when a collection would walk them. The main process then collects as
    # a lone one does (`Scanner.scan` pauses the collector per file): a collector held off for
    # the whole run meets every tally object at once at the end, in one slow cache-cold walk.
    gc.disable()
    gc.freeze()
    workers: list[tuple[Any, Any]] = []
    try:
        for me in range(1, processes):
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=_worker, args=(me, sender, scanner, units, share, counters, options,
                                                            needs_s3, piece), daemon=True)
            process.start()
            sender.close()
            workers.append((process, receiver))
        if collecting:
            gc.enable()
        if needs_s3:  # made after the fork: a boto3 client must not cross one
            scanner.s3 = s3_client(options.s3)
        if on_start:
            on_start()
        total = Tally.empty(len(scanner.targets))
        meter = _Meter(counters, progress)
        pending = {receiver: process for process, receiver in workers}  # workers still scanning
        for _ in _scan_taken(scanner, share, 0, units, counters, options, lambda: total):
            _collect(pending, total, wait=0)
            meter.report()
        while pending:
            _collect(pending, total, wait=0.2)
            meter.report()
        for process, _ in workers:
            process.join()
    finally:
        for process, receiver in workers:
            if process.is_alive():
                process.terminate()
                process.join()
            receiver.close()
        gc.unfreeze()
        if collecting:
            gc.enable()
    order = {unit.label: position for position, unit in enumerate(units)}
    total.rejections.sort(key=lambda rejection: order.get(rejection[0], len(units)))  # as one process lists them
    total.skipped.sort(key=lambda skip: order.get(skip[0], len(units)))
    if options.strict and total.rejections:
        _stop_strict(total.rejections[0])
    return total


def _scan_taken(scanner: Scanner, share: WorkShare, me: int, units: Sequence[Unit], counters: Any,
                options: RunOptions, tally: Callable[[], Tally]) -> Iterator[None]:
    """Scan the units process `me` takes into `tally()`, counting them for the progress bar and
    stopping the share at a rejection under `--strict`; yields after each unit."""
    for index, unit, body in _taken_ahead(share, me, units, scanner.s3, options.s3.fetch_threads):
        into = tally()
        before = (into.files, into.bytes, into.read, len(into.rejections))
        scanner.scan(unit, into=into, body=body)
        counters[3 * me] += into.files - before[0]
        counters[3 * me + 1] += into.bytes - before[1]
        counters[3 * me + 2] += into.read - before[2]
        if options.strict and len(into.rejections) > before[3]:
            share.stop_before(index)
        yield


def _taken_ahead(share: WorkShare, me: int, units: Sequence[Unit], s3: Any,
                threads: int) -> Iterator[tuple[int, Unit, Fetched | None]]:
    """`(index, unit, body)` for the units this process takes, S3 objects fetched ahead; units at or
    after the `--strict` stop are skipped."""
    def taken() -> Iterator[tuple[int, Unit]]:
        while (found := share.take(me)) is not None:
            for index in range(*found):
                yield index, units[index]

    positions: deque[int] = deque()

    def remember() -> Iterator[Unit]:
        for index, unit in taken():
            positions.append(index)
            yield unit

    for unit, body in ahead(remember(), s3, threads):
        index = positions.popleft()
        if index < share.stop:
            yield index, unit, body


def _worker(me: int, sender: Any, scanner: Scanner, units: Sequence[Unit], share: WorkShare, counters: Any,
            options: RunOptions, needs_s3: bool, piece: int) -> None:
    """A forked worker: scan what it takes, send a tally every `piece` units and the rest at the end."""
    gc.disable()  # for good: a worker's objects are acyclic and freed by reference counting
    try:
        if needs_s3:
            scanner.s3 = s3_client(options.s3)
        tally = Tally.empty(len(scanner.targets))
        scanned = 0
        for _ in _scan_taken(scanner, share, me, units, counters, options, lambda: tally):
            scanned += 1
            if scanned == piece:
                sender.send(("tally", tally))
                tally, scanned = Tally.empty(len(scanner.targets)), 0
        sender.send(("done", tally))
    except BaseException:  # noqa: BLE001 - the main process re-raises it with the worker's traceback
        sender.send(("error", traceback.format_exc()))
    finally:
        sender.close()


def _collect(pending: dict[Any, Any], total: Tally, wait: float) -> None:
    """Merge into `total` whatever the workers have sent, waiting up to `wait` seconds for
    something; a worker's "done" removes it from `pending` (its pipe then only holds the EOF)."""
    for receiver in multiprocessing.connection.wait(list(pending), timeout=wait):
        while receiver in pending and receiver.poll():
            try:
                kind, payload = receiver.recv()
            except EOFError:
                process = pending[receiver]
                process.join(1)
                raise BacktestError(f"a worker process stopped before finishing (exit code {process.exitcode})") from None
            if kind == "error":
                raise RuntimeError(f"a worker process failed:\n{payload}")
            total.merge(payload)
            if kind == "done":
                del pending[receiver]


class _Meter:
    """Turns the processes' shared counters into progress calls (differences since the last one)."""

    def __init__(self, counters: Any, progress: Progress | None) -> None:
        self.counters, self.progress = counters, progress
        self.seen = (0, 0, 0)

    def report(self) -> None:
        if self.progress is None:
            return
        values = self.counters[:]
        now = (sum(values[0::3]), sum(values[1::3]), sum(values[2::3]))
        if now != self.seen:
            self.progress(*(a - b for a, b in zip(now, self.seen)))
            self.seen = now


def _stop_strict(rejection: tuple[str, str, int]) -> None:
    source, reason, _ = rejection
    raise BacktestError(f"{source}: {reason} (--strict stops at the first rejected input)")


def run(sources: Sequence[str], targets: Sequence[Target], options: RunOptions = RunOptions(),
        progress: Progress | None = None) -> RunResult:
    """Plan and run in one call (the library entry point; the CLI splits them for its progress bar)."""
    return run_units(plan(sources, options), targets, options, progress)

