"""S3 sources against moto's server, run as a separate process on 127.0.0.1 by a fixture.

The bucket follows CloudTrail's layout: one day with more than 1,000 objects (pagination), other
days, regions, accounts and an organization trail, a digest folder that must never be read, and an
object in GLACIER that cannot be read.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os

import orjson
import pytest
from click.testing import CliRunner

from trailguard.backtest import RunOptions, S3Options, SourceError, build_report, from_detection_ids, run
from trailguard.backtest.sources import list_s3, s3_client
from trailguard.cli import main

from bench.local_s3 import moto_server

from .conftest import fixture_events

A, B, ORG_MEMBER = "111122223333", "444455556666", "777788889999"
BUCKET = "trail-archive"
BUSY_DAY_OBJECTS = 1_050


@pytest.fixture(scope="module")
def endpoint():
    with moto_server() as url:
        yield url


@pytest.fixture(scope="module")
def aws_env():
    saved = dict(os.environ)
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_CONFIG_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true",
    })
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    yield
    os.environ.clear()
    os.environ.update(saved)


def _key(account: str, region: str, day: str, name: str, org: str | None = None) -> str:
    owner = f"{org}/{account}" if org else account
    return f"AWSLogs/{owner}/CloudTrail/{region}/{day.replace('-', '/')}/{account}_CloudTrail_{region}_{name}.json.gz"


def _body(events: list[dict]) -> bytes:
    return gzip.compress(orjson.dumps({"Records": events}), mtime=0)


def _event(day: str, n: int, account: str = A, region: str = "us-east-1") -> dict:
    base = fixture_events()[n % 8]
    minute = n % (24 * 60)
    return dict(base, eventTime=f"{day}T{minute // 60:02d}:{minute % 60:02d}:00Z", eventID=f"{day}-{account}-{n}",
                recipientAccountId=account, awsRegion=region)


@pytest.fixture(scope="module")
def archive(endpoint, aws_env):
    client = s3_client(S3Options(endpoint_url=endpoint))
    client.create_bucket(Bucket=BUCKET)
    keys: dict[str, list[str]] = {"busy": [], "0305": [], "other": []}
    for n in range(BUSY_DAY_OBJECTS):
        key = _key(A, "us-east-1", "2025-03-04", f"{n:05d}")
        client.put_object(Bucket=BUCKET, Key=key, Body=_body([_event("2025-03-04", n)]))
        keys["busy"].append(key)
    layout = [
        ("0305", A, "us-east-1", "2025-03-05", None),
        ("0305", A, "us-east-1", "2025-03-05", None),
        ("0305", B, "us-east-1", "2025-03-05", None),
        ("0305", ORG_MEMBER, "us-east-1", "2025-03-05", "o-abcdefghij"),
        ("other", A, "eu-west-1", "2025-03-04", None),
        ("other", A, "us-east-1", "2025-02-28", None),
    ]
    for n, (group, account, region, day, org) in enumerate(layout):
        key = _key(account, region, day, f"x{n}", org)
        client.put_object(Bucket=BUCKET, Key=key, Body=_body([_event(day, n, account, region)]))
        keys[group].append(key)
    digest = f"AWSLogs/{A}/CloudTrail-Digest/us-east-1/2025/03/04/{A}_CloudTrail-Digest_us-east-1_x.json.gz"
    client.put_object(Bucket=BUCKET, Key=digest, Body=gzip.compress(b'{"digestStartTime": "x"}'))
    glacier = _key(A, "us-east-1", "2025-03-06", "archived")
    client.put_object(Bucket=BUCKET, Key=glacier, Body=_body([_event("2025-03-06", 1)]), StorageClass="GLACIER")
    keys["glacier"] = [glacier]
    client.create_bucket(Bucket="prefixed-trail")
    client.put_object(Bucket="prefixed-trail", Key="team/" + _key(A, "us-east-1", "2025-03-04", "p"),
                      Body=_body([_event("2025-03-04", 3)]))
    client.create_bucket(Bucket="flat-exports")
    client.put_object(Bucket="flat-exports", Key="exports/events-1.jsonl",
                      Body=b"".join(orjson.dumps(_event("2025-03-04", n)) + b"\n" for n in range(3)))
    return keys


def _listing_prefixes(endpoint: str):
    """A client that records the Prefix of every ListObjectsV2 call it makes."""
    client = s3_client(S3Options(endpoint_url=endpoint))
    prefixes: list[str] = []
    client.meta.events.register("provide-client-params.s3.ListObjectsV2",
                                lambda params, **_: prefixes.append(params.get("Prefix", "")))
    return client, prefixes


def test_pagination_lists_more_than_1000_objects(endpoint, archive):
    client, prefixes = _listing_prefixes(endpoint)
    day = f"s3://{BUCKET}/AWSLogs/{A}/CloudTrail/us-east-1/2025/03/04/"
    objects = list_s3(day, S3Options(endpoint_url=endpoint), client)
    assert [o.key for o in objects] == sorted(archive["busy"])
    day_calls = [p for p in prefixes if p == day[len(f"s3://{BUCKET}/"):]]
    assert len(day_calls) >= 2  # the object listing needed more than one page


def test_whole_bucket_back_test_rejects_the_unreadable_object(endpoint, archive):
    result = run([f"s3://{BUCKET}"], from_detection_ids(["all"]), RunOptions(s3=S3Options(endpoint_url=endpoint)))
    summary = build_report(result).as_json_dict()["summary"]
    readable = len(archive["busy"]) + len(archive["0305"]) + len(archive["other"])
    assert summary["files"] == readable + 1  # no digest file
    assert (summary["eventsRead"], summary["eventsEvaluated"], summary["eventsRejected"]) == (readable + 1, readable, 1)
    (rejection,) = summary["rejections"]
    assert rejection["source"] == f"s3://{BUCKET}/{archive['glacier'][0]}"
    assert rejection["reason"].startswith("unreadable: InvalidObjectState")
    assert summary["rejectedByReason"] == {"unreadable": 1}


def test_since_and_until_prune_whole_prefixes(endpoint, archive):
    client, prefixes = _listing_prefixes(endpoint)
    options = S3Options(endpoint_url=endpoint, since=dt.date(2025, 3, 5), until=dt.date(2025, 3, 5))
    objects = list_s3(f"s3://{BUCKET}", options, client)
    assert sorted(o.key for o in objects) == sorted(archive["0305"])
    assert not [p for p in prefixes if "/2025/03/04/" in p or "/2025/02/" in p or "/2025/03/06/" in p], prefixes
    assert any(p.endswith("/2025/03/") for p in prefixes)


def test_since_alone_and_until_alone(endpoint, archive):
    since = list_s3(f"s3://{BUCKET}", S3Options(endpoint_url=endpoint, since=dt.date(2025, 3, 6)))
    assert [o.key for o in since] == archive["glacier"]
    until = list_s3(f"s3://{BUCKET}", S3Options(endpoint_url=endpoint, until=dt.date(2025, 3, 1)))
    assert [o.key for o in until] == [archive["other"][1]]


def test_account_and_region_filters(endpoint, archive):
    only_b = list_s3(f"s3://{BUCKET}", S3Options(endpoint_url=endpoint, accounts=frozenset({B})))
    assert [o.key for o in only_b] == [archive["0305"][2]]
    org_member = list_s3(f"s3://{BUCKET}", S3Options(endpoint_url=endpoint, accounts=frozenset({ORG_MEMBER})))
    assert [o.key for o in org_member] == [archive["0305"][3]]
    eu = list_s3(f"s3://{BUCKET}", S3Options(endpoint_url=endpoint, regions=frozenset({"eu-west-1"})))
    assert [o.key for o in eu] == [archive["other"][0]]


def test_a_deeper_prefix_narrows_the_walk(endpoint, archive):
    eu = list_s3(f"s3://{BUCKET}/AWSLogs/{A}/CloudTrail/eu-west-1/", S3Options(endpoint_url=endpoint))
    assert [o.key for o in eu] == [archive["other"][0]]


def test_trail_key_prefix_and_flat_prefixes(endpoint, archive):
    assert len(list_s3("s3://prefixed-trail/team", S3Options(endpoint_url=endpoint))) == 1
    flat = list_s3("s3://flat-exports/exports/", S3Options(endpoint_url=endpoint))
    assert [o.key for o in flat] == ["exports/events-1.jsonl"]


def test_missing_bucket_fails_fast(endpoint, archive):
    with pytest.raises(SourceError) as caught:
        list_s3("s3://no-such-trail-bucket/AWSLogs/", S3Options(endpoint_url=endpoint))
    assert str(caught.value) == "s3://no-such-trail-bucket/AWSLogs/: bucket 'no-such-trail-bucket' does not exist"


def test_nothing_matching_the_filters_is_an_error(endpoint, archive):
    with pytest.raises(SourceError) as caught:
        list_s3(f"s3://{BUCKET}", S3Options(endpoint_url=endpoint, accounts=frozenset({"999999999999"})))
    assert str(caught.value) == f"s3://{BUCKET}: no CloudTrail log objects matching account 999999999999"


def test_missing_credentials_fail_fast(endpoint, archive, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(SourceError) as caught:
        list_s3(f"s3://{BUCKET}", S3Options(endpoint_url=endpoint))
    assert "no AWS credentials found" in str(caught.value) and f"s3://{BUCKET}" in str(caught.value)


def test_cli_with_aws_endpoint_url_and_two_workers(endpoint, archive, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    result = CliRunner().invoke(main, ["backtest", f"s3://{BUCKET}", "--since", "2025-03-05", "--until", "2025-03-05",
                                       "--detections", "all", "--workers", "2", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["summary"]["files"] == len(archive["0305"]) == report["summary"]["eventsEvaluated"]
    sources = {s["file"] for d in report["detections"] for s in d["samples"]}
    assert sources and all(s.startswith(f"s3://{BUCKET}/AWSLogs/") for s in sources)


def test_cli_missing_bucket_exits_1(endpoint, archive):
    result = CliRunner().invoke(main, ["backtest", "s3://no-such-trail-bucket", "--endpoint-url", endpoint])
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: s3://no-such-trail-bucket: bucket 'no-such-trail-bucket' does not exist"


def test_one_object_with_several_workers(endpoint, archive):
    options = RunOptions(workers=2, s3=S3Options(endpoint_url=endpoint))
    summary = build_report(run([f"s3://{BUCKET}/{archive['other'][0]}"], from_detection_ids(["cis"]), options)).as_json_dict()["summary"]
    assert (summary["files"], summary["eventsEvaluated"], summary["eventsRejected"]) == (1, 1, 0)


def _without_timing(report: dict) -> dict:
    summary = {k: v for k, v in report["summary"].items() if k not in ("seconds", "eventsPerSecond", "workers")}
    return {"detections": report["detections"], "summary": summary}


@pytest.mark.parametrize("workers", [1, 2])
def test_fetching_ahead_reports_exactly_what_one_get_at_a_time_does(endpoint, archive, workers):
    def report(threads: int) -> dict:
        options = RunOptions(workers=workers, s3=S3Options(endpoint_url=endpoint, fetch_threads=threads))
        return build_report(run([f"s3://{BUCKET}"], from_detection_ids(["all"]), options)).as_json_dict()

    one_at_a_time, ahead = report(1), report(16)
    assert _without_timing(ahead) == _without_timing(one_at_a_time)
    assert ahead["summary"]["eventsRejected"] == 1  # the GLACIER object, reported in its place
    assert ahead["summary"]["files"] > 1000


def test_fetching_ahead_overlaps_gets(endpoint, archive):
    """The look-ahead really issues concurrent GETs against the server (counted in the client)."""
    import threading

    from trailguard.backtest.fetch import ahead
    from trailguard.backtest.sources import list_s3

    client = s3_client(S3Options(endpoint_url=endpoint, fetch_threads=8))
    lock, state = threading.Lock(), {"now": 0, "most": 0}

    def before(**_):
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])

    def after(**_):
        with lock:
            state["now"] -= 1

    client.meta.events.register("before-call.s3.GetObject", before)
    client.meta.events.register("after-call.s3.GetObject", after)
    units = list_s3(f"s3://{BUCKET}/AWSLogs/{A}/CloudTrail/us-east-1/2025/03/04/", S3Options(endpoint_url=endpoint))[:200]
    bodies = [body for _, body in ahead(units, client, 8)]
    assert all(isinstance(body, bytes) and body[:2] == b"\x1f\x8b" for body in bodies)
    assert state["most"] >= 2
