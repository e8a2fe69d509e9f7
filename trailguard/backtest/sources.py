"""Where a back-test's CloudTrail comes from: local files, or S3 in CloudTrail's own layout.

Sources expand to *units*, one file or S3 object each, the grain of progress and of `--workers`.
S3 sources are listed up front (fast, and it fails before any work when the bucket or the
credentials are wrong), walking `AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/`
one level at a time so `--account`, `--region`, `--since` and `--until` prune whole prefixes
instead of listing objects that would be thrown away.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from trailguard.extras import missing_extra_message
from trailguard.records import UNREADABLE, RecordDecoder, Rejected, iter_batches
from trailguard.sourcefiles import Skipped, digest_skip, is_digest_path, list_sources

S3_SCHEME = "s3://"
_ACCOUNT_RE = re.compile(r"^[0-9]{12}\Z")
_ORG_RE = re.compile(r"^o-[a-z0-9]{10,32}\Z")
_DATE_PARTS = (4, 2, 2)  # yyyy / mm / dd


class SourceError(ValueError):
    """A source that cannot be used at all (missing bucket, no credentials, nothing to read);
    the message names the source and what to do."""


@dataclass(frozen=True, slots=True)
class LocalFile:
    path: str  # or "-" for standard input
    size: int

    @property
    def label(self) -> str:
        return "<stdin>" if self.path == "-" else self.path


@dataclass(frozen=True, slots=True)
class S3Object:
    bucket: str
    key: str
    size: int

    @property
    def label(self) -> str:
        return f"{S3_SCHEME}{self.bucket}/{self.key}"


@dataclass(frozen=True, slots=True)
class SkippedInput:
    """A listed input that is not read (a CloudTrail digest, a FIFO in a directory): kept among
    the units so it is counted and named in the report, in listing order."""

    label: str
    reason: str
    size: int = 0


Unit = LocalFile | S3Object | SkippedInput


@dataclass(frozen=True, slots=True)
class S3Options:
    """How to reach S3, and which part of CloudTrail's layout to keep (S3 keys and local copies of
    it). Dates are inclusive UTC days."""

    endpoint_url: str | None = None
    region: str | None = None
    accounts: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    since: dt.date | None = None
    until: dt.date | None = None
    fetch_threads: int = 8
    """Objects downloaded at once by each scanning process (see `fetch.ahead`)."""

    def __post_init__(self) -> None:
        if not 1 <= self.fetch_threads <= 64:
            raise ValueError(f"fetch threads {self.fetch_threads}: allowed 1 to 64 objects downloaded at once")


def expand_sources(sources: Sequence[str], options: S3Options = S3Options()) -> list[Unit]:
    """Units for every source, in the order given (files sorted within a directory or glob).
    Local files laid out like CloudTrail's bucket (a synced copy) get the same account, region
    and date filters as S3 keys; other local files are always read."""
    units: list[Unit] = []
    local: list[str] = []

    def flush() -> None:
        if local:
            listing = list_sources(local)
            if listing.missing:
                raise SourceError(listing.missing[0])
            filtered = options.accounts or options.regions or options.since or options.until
            units.extend(
                LocalFile(path, _size(path)) for path in listing.files
                if not filtered or not _LAYOUT_RE.search(_posix(path)) or _key_kept(_posix(path), options)
            )
            units.extend(SkippedInput(skip.source, skip.reason) for skip in listing.skipped)
            local.clear()

    for source in sources:
        if source.startswith(S3_SCHEME):
            flush()
            units.extend(list_s3(source, options))
        else:
            local.append(source)
    flush()
    return units


def _posix(path: str) -> str:
    return path.replace(os.sep, "/") if os.sep != "/" else path


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def read_unit(unit: Unit, decoder: RecordDecoder | None, s3: Any = None,
              body: bytes | BaseException | None = None) -> Iterator[list[dict[str, Any]] | Rejected | Skipped]:
    """Event batches, rejections and skips of one unit (see `iter_batches`); a unit that cannot
    be read at all is one `Rejected` (never raised). `body` is an S3 object already fetched (or
    the error its GET met, see `fetch.ahead`); without it the object is fetched here."""
    if isinstance(unit, SkippedInput):
        yield Skipped(unit.label, unit.reason)
        return
    if isinstance(unit, LocalFile):
        try:
            batches = iter_batches(unit.path, decoder=decoder)
        except RecordSourceError as error:
            yield Rejected(unit.label, f"{UNREADABLE}: {error}")
            return
        yield from batches
        return
    if body is None:
        body = get_body(s3, unit)
    if isinstance(body, BaseException):
        yield Rejected(unit.label, f"{UNREADABLE}: {_describe(body)}")
        return
    yield from iter_batches(body, label=unit.label, decoder=decoder)


def get_body(s3: Any, unit: S3Object) -> bytes | BaseException:
    """The whole body of one object, or the exception that stopped the GET (returned, never raised)."""
    try:
        return s3.get_object(Bucket=unit.bucket, Key=unit.key)["Body"].read()
    except Exception as error:  # botocore ClientError, connection errors, throttling after retries
        return error


# --- S3 -------------------------------------------------------------------------------------


def parse_s3_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of `s3://bucket/prefix`."""
    rest = url[len(S3_SCHEME):]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise SourceError(f"{url}: no bucket name; expected s3://BUCKET[/PREFIX]")
    return bucket, prefix


def s3_client(options: S3Options) -> Any:
    """A boto3 S3 client from the standard credential and region chain (`AWS_ENDPOINT_URL` is
    honoured by boto3 itself; `endpoint_url` overrides it)."""
    try:
        import boto3
        from botocore.config import Config
    except ModuleNotFoundError as error:
        raise SourceError(missing_extra_message(error.name or "boto3", "backtest", "reading s3:// sources")) from None

    session = boto3.session.Session()
    region = options.region or session.region_name or "us-east-1"
    # one pooled connection per concurrent GET (botocore's default pool holds 10)
    config = Config(max_pool_connections=max(10, options.fetch_threads))
    return session.client("s3", endpoint_url=options.endpoint_url, region_name=region, config=config)


def list_s3(url: str, options: S3Options, client: Any = None) -> list[S3Object | SkippedInput]:
    """Every CloudTrail log object under `url` that the filters keep, in key order.

    Raises SourceError for a missing bucket, missing credentials, denied listing, or a prefix
    holding nothing.
    """
    bucket, prefix = parse_s3_url(url)
    client = client or s3_client(options)
    lister = _Lister(client, bucket, url, prefix)
    root = _logs_root(prefix)
    if lister.children(root):
        days = _walk(lister, root, options)
        objects = [obj for day in days for obj in lister.objects(prefix if prefix.startswith(day) else day)]
    else:  # not CloudTrail's layout: take the prefix as it is, filtering keys that follow the layout
        objects = [obj for obj in lister.objects(prefix) if isinstance(obj, SkippedInput) or _key_kept(obj.key, options)]
    if not any(isinstance(obj, S3Object) for obj in objects):
        raise SourceError(f"{url}: no CloudTrail log objects{_filters(options)}")
    return objects


def _logs_root(prefix: str) -> str:
    """The key prefix ending in `AWSLogs/`: found in the given prefix, or just below it (the
    trail's own S3 key prefix, with or without a trailing slash)."""
    marker = "AWSLogs/"
    if marker in prefix:
        return prefix[: prefix.index(marker) + len(marker)]
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return prefix + marker


_LAYOUT_RE = re.compile(r"AWSLogs/(?:o-[a-z0-9]{10,32}/)?(\d{12})/CloudTrail/([^/]+)/(\d{4})/(\d{2})/(\d{2})/")


def _key_kept(key: str, options: S3Options) -> bool:
    """Filters applied to one key (used when the prefix could not be walked level by level)."""
    match = _LAYOUT_RE.search(key)
    if match is None:
        return not (options.accounts or options.regions or options.since or options.until)
    account, region, year, month, day = match.groups()
    if (options.accounts and account not in options.accounts) or (options.regions and region not in options.regions):
        return False
    low, high = _date_range((int(year), int(month), int(day)))
    return not ((options.since and high < options.since) or (options.until and low > options.until))


class _Lister:
    """Listing calls for one bucket, kept within the user's `scope` prefix."""

    def __init__(self, client: Any, bucket: str, url: str, scope: str) -> None:
        self.client = client
        self.bucket = bucket
        self.url = url
        self.scope = scope

    def children(self, prefix: str) -> list[str]:
        """Immediate sub-prefixes (`.../name/`) of `prefix` that lie on the way to, or under, the scope."""
        found: list[str] = []
        for page in self._pages(Prefix=prefix, Delimiter="/"):
            found.extend(p["Prefix"] for p in page.get("CommonPrefixes", ()))
        return sorted(c for c in found if c.startswith(self.scope) or self.scope.startswith(c))

    def objects(self, prefix: str) -> Iterator[S3Object | SkippedInput]:
        for page in self._pages(Prefix=prefix):
            for item in page.get("Contents", ()):
                key = item["Key"]
                if key.endswith("/"):
                    continue
                if is_digest_path(key):  # a prefix listed as it is may hold the trail's digests
                    yield SkippedInput(digest_skip(f"{S3_SCHEME}{self.bucket}/{key}").source,
                                       digest_skip(key).reason)
                else:
                    yield S3Object(self.bucket, key, int(item.get("Size", 0)))

    def _pages(self, **kwargs: str) -> Iterator[dict[str, Any]]:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        try:
            yield from self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, **kwargs)
        except NoCredentialsError:
            raise SourceError(
                f"{self.url}: no AWS credentials found; set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
                "(the standard AWS credential chain)"
            ) from None
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code == "NoSuchBucket":
                raise SourceError(f"{self.url}: bucket {self.bucket!r} does not exist") from None
            raise SourceError(f"{self.url}: cannot list objects: {_describe(error)}") from None
        except BotoCoreError as error:
            raise SourceError(f"{self.url}: cannot reach S3: {error}") from None


def _walk(lister: _Lister, root: str, options: S3Options) -> Iterator[str]:
    """Day prefixes (`.../yyyy/mm/dd/`) under `root` that the filters and the scope keep."""
    for account_prefix in _accounts(lister, root, options):
        for region_prefix in _match(lister, account_prefix + "CloudTrail/", options.regions):
            yield from _days(lister, region_prefix, options)


def _accounts(lister: _Lister, root: str, options: S3Options) -> Iterator[str]:
    for child in lister.children(root):
        name = child[len(root):-1]
        if _ORG_RE.match(name):  # organization trail: AWSLogs/<org-id>/<account>/
            for grandchild in lister.children(child):
                account = grandchild[len(child):-1]
                if _ACCOUNT_RE.match(account) and (not options.accounts or account in options.accounts):
                    yield grandchild
        elif _ACCOUNT_RE.match(name) and (not options.accounts or name in options.accounts):
            yield child


def _match(lister: _Lister, parent: str, allowed: frozenset[str]) -> Iterator[str]:
    for child in lister.children(parent):
        if not allowed or child[len(parent):-1] in allowed:
            yield child


def _days(lister: _Lister, region_prefix: str, options: S3Options) -> Iterator[str]:
    """Walk yyyy/mm/dd, skipping every year, month or day wholly outside since..until."""
    since, until = options.since, options.until

    def visit(prefix: str, parts: tuple[int, ...]) -> Iterator[str]:
        depth = len(parts)
        if depth == len(_DATE_PARTS):
            yield prefix
            return
        for child in lister.children(prefix):
            name = child[len(prefix):-1]
            if len(name) != _DATE_PARTS[depth] or not name.isdigit():
                continue
            value = (*parts, int(name))
            low, high = _date_range(value)
            if (since and high < since) or (until and low > until):
                continue
            yield from visit(child, value)

    yield from visit(region_prefix, ())


def _date_range(parts: tuple[int, ...]) -> tuple[dt.date, dt.date]:
    """First and last day covered by a year, year-month or year-month-day prefix."""
    try:
        if len(parts) == 1:
            return dt.date(parts[0], 1, 1), dt.date(parts[0], 12, 31)
        if len(parts) == 2:
            first = dt.date(parts[0], parts[1], 1)
            following = dt.date(parts[0] + (parts[1] == 12), parts[1] % 12 + 1, 1)
            return first, following - dt.timedelta(days=1)
        day = dt.date(*parts)
        return day, day
    except ValueError:
        return dt.date.max, dt.date.min  # not a date: matches no range, so it is skipped by filters


def _filters(options: S3Options) -> str:
    parts = []
    if options.accounts:
        parts.append(f"account {', '.join(sorted(options.accounts))}")
    if options.regions:
        parts.append(f"region {', '.join(sorted(options.regions))}")
    if options.since:
        parts.append(f"since {options.since}")
    if options.until:
        parts.append(f"until {options.until}")
    return f" matching {'; '.join(parts)}" if parts else ""


def _describe(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        err = response["Error"]
        return f"{err.get('Code', 'Error')}: {err.get('Message', '') or str(error)}".rstrip(": ")
    return f"{type(error).__name__}: {error}"
