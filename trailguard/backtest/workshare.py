"""Share a back-test's units among processes: each takes consecutive units, none sits idle.

Every process (the main one included) starts with one contiguous range of the units and takes
them a few at a time from its front. A process whose range is empty takes the back half of the
largest range left, so the processes finish together however uneven the files are. Ranges stay
contiguous, and units are listed in time order, so the tallies of different processes cover
different alarm periods and merge cheaply.

`take` is the whole policy, as a pure function over a flat `[front0, back0, front1, back1, ...]`
sequence: the processes share it as a `multiprocessing` array under one lock, the tests use a list.
"""

from __future__ import annotations

from typing import Any, MutableSequence


def split(size: int, processes: int) -> list[int]:
    """Starting ranges: `[front0, back0, ...]`, contiguous, sizes differing by at most one."""
    bounds: list[int] = []
    for process in range(processes):
        bounds += [size * process // processes, size * (process + 1) // processes]
    return bounds


def take(bounds: MutableSequence[int], me: int, chunk: int, stop: int) -> tuple[int, int] | None:
    """The next units `[start, end)` for process `me`, at most `chunk` of them, or None when no
    unit below `stop` is left to anyone. Updates `bounds`."""
    front, back = bounds[2 * me], min(bounds[2 * me + 1], stop)
    if front >= back:
        largest, left = -1, 0
        for other in range(len(bounds) // 2):
            remaining = min(bounds[2 * other + 1], stop) - bounds[2 * other]
            if remaining > left:
                largest, left = other, remaining
        if largest < 0:
            return None
        back = min(bounds[2 * largest + 1], stop)
        front = back - (left + 1) // 2  # the back half, at least one unit
        bounds[2 * largest + 1] = front
        bounds[2 * me + 1] = back
    end = min(front + chunk, back)
    bounds[2 * me] = end
    return front, end


class WorkShare:
    """`take` over shared memory, for processes forked after it is made. `stop_before(index)`
    (used by `--strict`) stops handing out units at or after `index`; units before it are still
    handed out, so the earliest rejected unit is always found."""

    def __init__(self, size: int, processes: int, context: Any) -> None:
        self.size = size
        self.chunk = max(1, min(16, size // (processes * 64)))
        self._bounds = context.RawArray("q", split(size, processes))
        self._stop = context.RawValue("q", size)
        self._lock = context.Lock()

    @property
    def stop(self) -> int:
        return int(self._stop.value)

    def take(self, me: int) -> tuple[int, int] | None:
        with self._lock:
            return take(self._bounds, me, self.chunk, self._stop.value)

    def stop_before(self, index: int) -> None:
        with self._lock:
            self._stop.value = min(self._stop.value, index)
