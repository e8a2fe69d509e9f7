"""Sharing units among processes: every unit scanned exactly once, the report independent of the
split, `--strict` still naming the earliest rejected file, and a failing worker reported."""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trailguard.backtest import BacktestError, RunOptions, build_report, from_detection_ids, plan, run, run_units
from trailguard.backtest.workshare import split, take

from .conftest import FIXTURES, write_delivery


def hand_out(size: int, processes: int, chunk: int, turns: list[int], stop_after: int | None = None,
             stop: int | None = None) -> list[tuple[int, int, int]]:
    """Drive `take` as processes asking in the order `turns` (cycled), until nobody gets anything.
    `stop` is set after `stop_after` hand-outs (what `--strict` does). Returns the hand-outs in
    order, as (process, start, end)."""
    bounds = split(size, processes)
    given_out: list[tuple[int, int, int]] = []
    asking = list(range(processes))  # a process told "nothing left" stops asking
    limit = size
    while asking:
        me = asking[turns[len(given_out) % len(turns)] % len(asking)]
        found = take(bounds, me, chunk, limit)
        if found is None:
            asking.remove(me)
            continue
        given_out.append((me, *found))
        if len(given_out) == stop_after and stop is not None:
            limit = min(limit, stop)
    return given_out


def units_of(hand_outs: list[tuple[int, int, int]]) -> list[int]:
    return [i for _, start, end in hand_outs for i in range(start, end)]


@settings(max_examples=300, deadline=None)
@given(size=st.integers(0, 400), processes=st.integers(1, 6), chunk=st.integers(1, 16),
       turns=st.lists(st.integers(0, 5), min_size=1, max_size=30))
def test_every_unit_is_handed_out_exactly_once(size, processes, chunk, turns):
    given_out = hand_out(size, processes, chunk, turns)
    assert sorted(units_of(given_out)) == list(range(size))
    assert all(0 < end - start <= chunk for _, start, end in given_out)


@settings(max_examples=200, deadline=None)
@given(size=st.integers(1, 300), processes=st.integers(1, 5), chunk=st.integers(1, 8),
       turns=st.lists(st.integers(0, 4), min_size=1, max_size=20), data=st.data())
def test_a_stop_still_hands_out_every_unit_before_it(size, processes, chunk, turns, data):
    stop = data.draw(st.integers(0, size))
    stop_after = data.draw(st.integers(1, size))
    given_out = hand_out(size, processes, chunk, turns, stop_after, stop)
    units = units_of(given_out)
    assert len(units) == len(set(units))
    assert set(range(stop)) <= set(units)
    assert all(end <= stop for _, _, end in given_out[stop_after:])  # nothing at or past the stop after it


def test_ranges_start_contiguous_and_a_process_that_runs_dry_takes_the_back_half():
    bounds = split(100, 2)
    assert bounds == [0, 50, 50, 100]
    assert take(bounds, 0, 10, 100) == (0, 10)
    bounds[3] = 50  # process 1 has finished its range
    assert take(bounds, 1, 10, 100) == (30, 40)  # back half of 10..50 is 30..50
    assert bounds == [10, 30, 40, 50]
    assert take(bounds, 0, 10, 100) == (10, 20)
    assert take(bounds, 0, 10, 100) == (20, 30)
    assert take(bounds, 0, 10, 100) == (45, 50)  # 40..50 left with process 1: its back half
    assert take(bounds, 1, 10, 100) == (40, 45)
    assert take(bounds, 0, 10, 100) is None and take(bounds, 1, 10, 100) is None


def strip_timing(report: dict) -> dict:
    for key in ("seconds", "eventsPerSecond", "workers"):
        report["summary"].pop(key)
    return report


def uneven_archive(tmp_path, events):
    """One large file and many small ones, times spread over two days and out of file order."""
    write_delivery(tmp_path / "a-big.json.gz", [dict(e, eventID=f"big-{i}-{n}") for n in range(40) for i, e in enumerate(events)])
    for n in range(30):
        day = 4 + n % 2
        shifted = [dict(e, eventTime=e["eventTime"].replace("2025-03-04T09", f"2025-03-0{day}T{(n * 7) % 24:02d}"),
                        eventID=f"{n}-{i}") for i, e in enumerate(events)]
        write_delivery(tmp_path / f"f{n:02d}.json.gz", shifted)


@pytest.mark.parametrize("workers", [2, 3, 5])
def test_any_number_of_workers_reports_exactly_what_one_does(tmp_path, events, workers):
    uneven_archive(tmp_path, events)
    targets = from_detection_ids(["all"])
    one = strip_timing(build_report(run([str(tmp_path)], targets, RunOptions(workers=1))).as_json_dict())
    many = strip_timing(build_report(run([str(tmp_path)], targets, RunOptions(workers=workers))).as_json_dict())
    assert one == many
    assert one["summary"]["files"] == 31 and sum(d["matches"] for d in one["detections"]) > 0


def test_rejections_are_listed_in_file_order_whatever_the_workers(tmp_path, events):
    sources = [str(FIXTURES / "sources"), str(FIXTURES / "bad")]
    one = build_report(run(sources, from_detection_ids(["cis"]), RunOptions(workers=1))).as_json_dict()["summary"]
    two = build_report(run(sources, from_detection_ids(["cis"]), RunOptions(workers=2))).as_json_dict()["summary"]
    assert len(one["rejections"]) >= 5
    assert one["rejections"] == two["rejections"]


@pytest.mark.parametrize("bad_positions", [(3, 17), (17, 18), (29,)])
def test_strict_with_workers_names_the_earliest_rejected_file(tmp_path, events, bad_positions):
    for n in range(30):
        write_delivery(tmp_path / f"f{n:02d}.json.gz", events)
    for n in bad_positions:
        shutil.copy(FIXTURES / "bad" / "truncated.json.gz", tmp_path / f"f{n:02d}.json.gz")
    for workers in (1, 2, 3):
        with pytest.raises(BacktestError) as caught:
            run([str(tmp_path)], from_detection_ids(["cis"]), RunOptions(workers=workers, strict=True))
        assert f"f{bad_positions[0]:02d}.json.gz: truncated gzip" in str(caught.value), workers


def run_with_failing_workers(tmp_path, events, monkeypatch, fail) -> None:
    """Back-test 8 files on 2 processes where the forked worker calls `fail()` instead of scanning.
    The main process waits for the worker to reach its first file, so it cannot take them all first."""
    import multiprocessing

    from trailguard.backtest.scan import Scanner

    for n in range(8):
        write_delivery(tmp_path / f"f{n}.json.gz", events)
    main = os.getpid()
    real = Scanner.scan
    worker_started = multiprocessing.get_context("fork").Event()

    def scan(self, unit, into=None, body=None):
        if os.getpid() != main:
            worker_started.set()
            fail()
        assert worker_started.wait(30), "the worker never started scanning"
        return real(self, unit, into, body)

    monkeypatch.setattr(Scanner, "scan", scan)
    options = RunOptions(workers=2)
    run_units(plan([str(tmp_path)], options), from_detection_ids(["cis"]), options)


def test_a_worker_that_dies_is_reported(tmp_path, events, monkeypatch):
    with pytest.raises(BacktestError, match=r"worker process stopped before finishing \(exit code 7\)"):
        run_with_failing_workers(tmp_path, events, monkeypatch, lambda: os._exit(7))


def test_a_worker_error_is_raised_with_its_traceback(tmp_path, events, monkeypatch):
    def fail():
        raise ZeroDivisionError("scanner bug")

    with pytest.raises(RuntimeError, match=r"(?s)worker process failed.*ZeroDivisionError: scanner bug"):
        run_with_failing_workers(tmp_path, events, monkeypatch, fail)


def test_no_more_processes_than_files(tmp_path, events):
    for n in range(3):
        write_delivery(tmp_path / f"f{n}.json.gz", events)
    targets = from_detection_ids(["cis"])
    one = run([str(tmp_path)], targets, RunOptions(workers=1))
    many = run([str(tmp_path)], targets, RunOptions(workers=8))
    assert (one.workers, many.workers) == (1, 3)
    assert strip_timing(build_report(one).as_json_dict()) == strip_timing(build_report(many).as_json_dict())
    single = run([str(tmp_path / "f0.json.gz")], targets, RunOptions(workers=8))
    assert single.workers == 1 and single.tally.files == 1


@pytest.mark.parametrize("workers", [0, -2])
def test_fewer_than_one_worker_is_refused(workers):
    with pytest.raises(ValueError, match=rf"workers {workers}: allowed 1 or more"):
        RunOptions(workers=workers)
