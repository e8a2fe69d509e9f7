"""Fetching S3 objects ahead: several GETs at once, results strictly in order, memory bounded.

These drive `fetch.ahead` with an in-process stand-in for the S3 client that records how many
GETs overlap; the same code against moto's server is in test_s3.py.
"""

from __future__ import annotations

import threading
import time

import pytest

from trailguard.backtest import fetch
from trailguard.backtest.sources import LocalFile, S3Object, S3Options


class Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self) -> bytes:
        return self.data


class SlowS3:
    """get_object sleeps a little, fails for keys starting with "bad", and counts overlap."""

    def __init__(self, delay: float = 0.01) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.running = 0
        self.most_running = 0
        self.started: list[str] = []

    def get_object(self, Bucket: str, Key: str) -> dict:
        with self.lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            self.started.append(Key)
        try:
            time.sleep(self.delay)
            if Key.startswith("bad"):
                raise PermissionError(f"AccessDenied for {Key}")
            return {"Body": Body(f"{Bucket}/{Key}".encode())}
        finally:
            with self.lock:
                self.running -= 1


def objects(count: int, size: int = 100, bad: frozenset[int] = frozenset()) -> list[S3Object]:
    return [S3Object("b", f"{'bad' if n in bad else 'k'}{n:04d}", size) for n in range(count)]


def test_results_come_back_in_order_with_several_gets_in_flight():
    s3 = SlowS3()
    units = objects(40, bad=frozenset({3, 17}))
    got = list(fetch.ahead(units, s3, threads=8))
    assert [unit for unit, _ in got] == units
    for unit, body in got:
        if unit.key.startswith("bad"):
            assert isinstance(body, PermissionError) and unit.key in str(body)
        else:
            assert body == f"b/{unit.key}".encode()
    assert 2 <= s3.most_running <= 8


def test_one_thread_fetches_one_object_at_a_time():
    s3 = SlowS3(delay=0.002)
    got = list(fetch.ahead(objects(10), s3, threads=1))
    assert [body for _, body in got] == [f"b/k{n:04d}".encode() for n in range(10)]
    assert s3.most_running == 1


def test_local_files_pass_through_in_place():
    s3 = SlowS3(delay=0.001)
    units = [LocalFile("/x/a.json", 5), *objects(3), LocalFile("/x/b.json", 5), *objects(2)]
    got = list(fetch.ahead(units, s3, threads=4))
    assert [unit for unit, _ in got] == units
    assert [body is None for _, body in got] == [True, False, False, False, True, False, False]


def test_fetched_but_unscanned_bytes_stay_under_the_budget(monkeypatch):
    monkeypatch.setattr(fetch, "AHEAD_BYTES", 1000)
    s3 = SlowS3(delay=0.001)
    units = objects(30, size=300)  # at most four 300-byte objects fit the 1,000-byte budget
    for position, _ in enumerate(fetch.ahead(units, s3, threads=16)):
        time.sleep(0.003)  # a slow consumer: fetching would run far ahead if it were not bounded
        assert len(s3.started) - position <= 4
    assert len(s3.started) == 30


def test_an_object_larger_than_the_budget_is_still_fetched(monkeypatch):
    monkeypatch.setattr(fetch, "AHEAD_BYTES", 10)
    got = list(fetch.ahead(objects(3, size=500), SlowS3(delay=0.001), threads=4))
    assert [body for _, body in got] == [b"b/k0000", b"b/k0001", b"b/k0002"]


def test_stopping_early_drops_the_queued_gets():
    s3 = SlowS3(delay=0.01)
    stream = fetch.ahead(objects(200), s3, threads=4)
    first = [next(stream) for _ in range(3)]
    stream.close()  # what `--strict` does when it stops at a rejected object
    assert [unit.key for unit, _ in first] == ["k0000", "k0001", "k0002"]
    assert len(s3.started) <= 3 + 2 * 4  # never more than the look-ahead window was started
    assert not [t for t in threading.enumerate() if t.name.startswith("trailguard-fetch")]


@pytest.mark.parametrize("threads", [0, 65])
def test_fetch_threads_out_of_range_is_refused(threads):
    with pytest.raises(ValueError, match="allowed 1 to 64"):
        S3Options(fetch_threads=threads)
