"""Download S3 objects ahead of the scanner, several at a time, and hand them over in order.

A CloudTrail archive is many small objects (one per region every few minutes), so reading it one
GET at a time spends most of the run waiting on S3's first-byte latency while the CPU idles.
`ahead` keeps up to `threads` GETs in flight on a thread pool (boto3 clients are thread-safe;
the GIL is released while waiting on the network) and yields units strictly in the order given,
so results, progress and `--strict` behave exactly as with one GET at a time. What is fetched
but not yet scanned is bounded by AHEAD_BYTES (and 2 x `threads` objects), so memory does not
grow with the archive. Local files are read by the scanner itself: a local read is fast and
holding file bodies would only cost memory.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Iterable, Iterator

from .sources import S3Object, Unit, get_body

AHEAD_BYTES = 64 * 1024 * 1024
"""Most bytes (as stored) fetched and waiting for the scanner; one object is always allowed."""

Fetched = bytes | BaseException
"""An object's body, or why it could not be read (the scanner reports it as unreadable)."""


def ahead(units: Iterable[Unit], s3: Any, threads: int) -> Iterator[tuple[Unit, Fetched | None]]:
    """`(unit, body)` for every unit in order: body is the fetched S3 object (or the error that
    stopped its GET) and None for a local file. With `threads <= 1` or no S3 client nothing runs
    ahead: each object is fetched when its turn comes. `units` is consumed lazily, at most
    2 x `threads` units ahead of the consumer."""
    if threads <= 1 or s3 is None:
        for unit in units:
            yield unit, (get_body(s3, unit) if isinstance(unit, S3Object) else None)
        return
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="trailguard-fetch")
    pending: deque[tuple[Unit, Future[Fetched] | None]] = deque()
    waiting_bytes = 0
    upcoming = iter(units)
    try:
        while True:
            while len(pending) < 2 * threads and (not pending or waiting_bytes < AHEAD_BYTES):
                unit = next(upcoming, None)
                if unit is None:
                    break
                if isinstance(unit, S3Object):
                    pending.append((unit, pool.submit(get_body, s3, unit)))
                    waiting_bytes += unit.size
                else:
                    pending.append((unit, None))
            if not pending:
                return
            unit, future = pending.popleft()
            if future is None:
                yield unit, None
                continue
            body = future.result()
            waiting_bytes -= unit.size
            yield unit, body
    finally:
        # a consumer that stops early (--strict) leaves queued GETs behind: drop them
        pool.shutdown(wait=True, cancel_futures=True)
