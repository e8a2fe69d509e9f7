"""Run one query on Athena through boto3 and bring its rows back typed.

StartQueryExecution (database, workgroup, and the result location when one is given), then
GetQueryExecution until the query ends (state, elapsed time and bytes scanned go to a progress
callback), then every page of GetQueryResults: the header row of the first page is dropped and
each value is typed from the result's column metadata. What goes wrong comes back as an
`AthenaError` that says what to fix: a missing table or database, a missing workgroup, a
workgroup without a result location, denied access, a query that failed or was cancelled, or one
that outran `timeout` (which is then stopped, so it stops billing).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

DOCS_HINT = "docs/backtest.md, \"At scale (Athena)\""

Progress = Callable[[str, float, int], None]
"""Called while a query runs with its state, the seconds since it started and the bytes scanned."""


class AthenaError(RuntimeError):
    """Athena or the catalogue refused or failed; the message names what to fix."""

    def __init__(self, message: str, query_id: str | None = None) -> None:
        super().__init__(message)
        self.query_id = query_id


# ---------------------------------------------------------------------------------------------
# Inputs, checked before any call


_NAME = re.compile(r"[a-z0-9_]{1,255}")
_WORKGROUP = re.compile(r"[A-Za-z0-9._-]{1,128}")
_BUCKET = re.compile(r"(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def parse_table_name(text: str) -> tuple[str, str]:
    """`DATABASE.TABLE` (Athena's catalogue names: letters, digits and underscores, up to 255
    each; Athena keeps them in lower case) -> (database, table), lower-cased."""
    parts = text.strip().split(".")
    if len(parts) != 2 or not all(_NAME.fullmatch(part.lower()) for part in parts):
        raise ValueError(f"--table {text!r}: expected DATABASE.TABLE, each name 1-255 letters, digits or "
                         "underscores (e.g. default.cloudtrail_logs_pp)")
    database, table = (part.lower() for part in parts)
    return database, table


def check_workgroup_name(text: str) -> str:
    if not _WORKGROUP.fullmatch(text):
        raise ValueError(f"--workgroup {text!r}: a workgroup name is 1-128 letters, digits, periods, "
                         "hyphens or underscores (e.g. primary)")
    return text


def check_output_location(text: str) -> str:
    """An s3://BUCKET/PREFIX/ result location; the bucket name as S3 allows it."""
    found = re.fullmatch(r"s3://([^/]+)(/.*)?", text)
    if not found or not _BUCKET.fullmatch(found[1]) or ".." in found[1]:
        raise ValueError(f"--output {text!r}: expected s3://BUCKET/PREFIX/ with a valid bucket name "
                         "(3-63 lower-case letters, digits, dots or hyphens), e.g. s3://my-athena-results/trailguard/")
    return text if text.endswith("/") else text + "/"


# ---------------------------------------------------------------------------------------------
# The client


@dataclass(frozen=True, slots=True)
class QueryOutcome:
    query_id: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    data_scanned_bytes: int
    seconds: float
    output_location: str | None


class AthenaRunner:
    """One workgroup's queries. `clock` and `sleep` are injectable so the timeout is testable."""

    def __init__(self, athena: Any, workgroup: str, *, output: str | None = None, region: str | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 poll_seconds: float = 0.5, max_poll_seconds: float = 5.0, page_size: int = 1000) -> None:
        self.athena, self.workgroup, self.output = athena, workgroup, output
        self.region = region or getattr(getattr(athena, "meta", None), "region_name", None) or "?"
        self.clock, self.sleep = clock, sleep
        self.poll_seconds, self.max_poll_seconds, self.page_size = poll_seconds, max_poll_seconds, page_size

    def check_workgroup(self) -> str | None:
        """The result location the queries will use; AthenaError when the workgroup does not
        exist, is disabled, or has no result location and none was given (Athena would refuse)."""
        try:
            answer = self.athena.get_work_group(WorkGroup=self.workgroup)
        except Exception as error:  # noqa: BLE001 - botocore's ClientError, explained
            raise self._explain(error, "athena:GetWorkGroup") from None
        group = answer.get("WorkGroup") or {}
        if not group:
            raise AthenaError(self._no_workgroup())
        if group.get("State", "ENABLED") != "ENABLED":
            raise AthenaError(f"workgroup {self.workgroup!r} is {group.get('State')}; enable it or pass another --workgroup")
        configuration = group.get("Configuration") or {}
        own = (configuration.get("ResultConfiguration") or {}).get("OutputLocation")
        if configuration.get("EnforceWorkGroupConfiguration") and own:
            return own  # the workgroup's location wins over --output
        if self.output:
            return self.output
        if own:
            return own
        managed = (configuration.get("ManagedQueryResultsConfiguration") or {}).get("Enabled")
        if managed:
            return None
        raise AthenaError(self._no_output())

    def run(self, sql: str, database: str, *, timeout: float | None = None,
            progress: Progress | None = None) -> QueryOutcome:
        query_id = self.start(sql, database)
        execution = self.wait(query_id, timeout=timeout, progress=progress)
        columns, rows = self.results(query_id)
        statistics = execution.get("Statistics") or {}
        status = execution.get("Status") or {}
        return QueryOutcome(query_id, columns, rows, int(statistics.get("DataScannedInBytes") or 0),
                            _seconds(status, statistics), (execution.get("ResultConfiguration") or {}).get("OutputLocation"))

    def start(self, sql: str, database: str) -> str:
        request: dict[str, Any] = {"QueryString": sql, "QueryExecutionContext": {"Database": database},
                                   "WorkGroup": self.workgroup}
        if self.output:
            request["ResultConfiguration"] = {"OutputLocation": self.output}
        try:
            return self.athena.start_query_execution(**request)["QueryExecutionId"]
        except Exception as error:  # noqa: BLE001
            raise self._explain(error, "athena:StartQueryExecution", database=database) from None

    def wait(self, query_id: str, *, timeout: float | None = None, progress: Progress | None = None) -> dict[str, Any]:
        """Poll until the query ends; the final QueryExecution on success, AthenaError otherwise."""
        started = self.clock()
        pause = self.poll_seconds
        while True:
            try:
                execution = self.athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            except Exception as error:  # noqa: BLE001
                raise self._explain(error, "athena:GetQueryExecution") from None
            status = execution.get("Status") or {}
            state = status.get("State", "?")
            scanned = int((execution.get("Statistics") or {}).get("DataScannedInBytes") or 0)
            elapsed = self.clock() - started
            if progress:
                progress(state, elapsed, scanned)
            if state == "SUCCEEDED":
                return execution
            if state in ("FAILED", "CANCELLED"):
                raise AthenaError(self._ended(query_id, state, status), query_id)
            if timeout is not None and elapsed >= timeout:
                self.stop(query_id)
                raise AthenaError(f"Athena query {query_id} was still {state} after --timeout {timeout:g} seconds; "
                                  f"it has been stopped (StopQueryExecution) after scanning {scanned:,} bytes. Give "
                                  "a longer --timeout, or a shorter --since/--until window", query_id)
            self.sleep(pause)
            pause = min(pause * 1.5, self.max_poll_seconds)

    def stop(self, query_id: str) -> None:
        try:
            self.athena.stop_query_execution(QueryExecutionId=query_id)
        except Exception as error:  # noqa: BLE001
            raise AthenaError(f"Athena query {query_id} outran --timeout and could not be stopped: "
                              f"{self._explain(error, 'athena:StopQueryExecution')}; stop it in the console", query_id) from None

    def results(self, query_id: str) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        """Every row of the query's result, typed from ResultSetMetadata; the header row (the
        first row of the first page, holding the column names) is dropped."""
        columns: tuple[str, ...] = ()
        types: tuple[str, ...] = ()
        rows: list[tuple[Any, ...]] = []
        token: str | None = None
        first_page = True
        while True:
            request: dict[str, Any] = {"QueryExecutionId": query_id, "MaxResults": self.page_size}
            if token:
                request["NextToken"] = token
            try:
                page = self.athena.get_query_results(**request)
            except Exception as error:  # noqa: BLE001
                raise self._explain(error, "athena:GetQueryResults") from None
            result = page.get("ResultSet") or {}
            if first_page:
                info = (result.get("ResultSetMetadata") or {}).get("ColumnInfo") or []
                columns = tuple(column.get("Name", "") for column in info)
                types = tuple(str(column.get("Type", "varchar")).lower() for column in info)
            raw = result.get("Rows") or []
            if first_page and raw and columns and _cells(raw[0]) == list(columns):
                raw = raw[1:]
            rows.extend(tuple(_typed(value, kind) for value, kind in zip(_cells(row), types or _untyped(row)))
                        for row in raw)
            first_page = False
            token = page.get("NextToken")
            if not token:
                return columns, rows

    # -- explanations ---------------------------------------------------------------------------

    def _explain(self, error: Exception, action: str, database: str | None = None) -> AthenaError:
        code, message = error_parts(error)
        if code in ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation") or "not authorized" in message:
            return AthenaError(f"access denied calling {action} (workgroup {self.workgroup!r}, region {self.region}): "
                               f"{message}. Grant it to these credentials; the policy a back-test needs is in {DOCS_HINT}")
        if code == "InvalidRequestException" and "workgroup" in message.lower() and \
                ("not found" in message.lower() or "does not exist" in message.lower()):
            return AthenaError(self._no_workgroup())
        if "output location" in message.lower() or "outputlocation" in message.lower():
            return AthenaError(self._no_output())
        if code in ("EntityNotFoundException", "MetadataException") or "not found" in message.lower():
            where = f"database {database!r}" if database else "the database or table"
            return AthenaError(f"{where} not found in the data catalogue of region {self.region}: {message}. "
                               f"Check --table, or create the CloudTrail table ({DOCS_HINT})")
        if code in ("NoCredentialsError", "NoRegionError", "EndpointConnectionError"):
            return AthenaError(f"{action}: {message}. Configure AWS credentials and a region (environment, profile "
                               "or instance role), or --endpoint-url")
        return AthenaError(f"{action} failed ({code or type(error).__name__}): {message}")

    def _ended(self, query_id: str, state: str, status: dict[str, Any]) -> str:
        reason = status.get("StateChangeReason") or (status.get("AthenaError") or {}).get("ErrorMessage") or \
            "no reason given"
        lowered = reason.lower()
        if state == "CANCELLED":
            return (f"Athena query {query_id} was CANCELLED before it finished ({reason}); someone or something "
                    f"stopped it (the console, StopQueryExecution, a workgroup data limit): run again")
        if "table_not_found" in lowered or "table not found" in lowered or "schema_not_found" in lowered or \
                "does not exist" in lowered or "entitynotfound" in lowered:
            return (f"Athena query {query_id} FAILED: {reason}. The table or database is missing: check --table, or "
                    f"create the CloudTrail table ({DOCS_HINT})")
        if "access denied" in lowered or "accessdenied" in lowered or "permission" in lowered or "kms" in lowered:
            return (f"Athena query {query_id} FAILED: {reason}. Athena read S3 (or KMS) with your credentials and was "
                    f"refused: grant s3:GetObject and s3:ListBucket on the trail's bucket, kms:Decrypt on its key when "
                    f"the trail is encrypted, and s3:PutObject on the result location ({DOCS_HINT})")
        return f"Athena query {query_id} FAILED: {reason}"

    def _no_workgroup(self) -> str:
        return (f"workgroup {self.workgroup!r} does not exist in region {self.region}; create it or pass an existing "
                "--workgroup (the default one is 'primary')")

    def _no_output(self) -> str:
        return (f"workgroup {self.workgroup!r} has no query result location; give --output s3://BUCKET/PREFIX/ "
                "(a bucket these credentials can write to), or set one on the workgroup")


def error_parts(error: Exception) -> tuple[str, str]:
    """(code, message) of a botocore error. An error sent as an XML document to a JSON client
    (an emulator's, or a proxy's) arrives as HTTP status and raw XML: its code and message are
    read out of the XML."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        details = response.get("Error") or {}
        code, message = str(details.get("Code", "")), str(details.get("Message", "")) or str(error)
        inner_code, inner_message = re.search(r"<Code>([^<]*)</Code>", message), re.search(r"<Message>([^<]*)</Message>", message)
        if inner_code and inner_message:
            return inner_code[1], inner_message[1]
        return code, message
    return type(error).__name__, str(error)


def _seconds(status: dict[str, Any], statistics: dict[str, Any]) -> float:
    total = statistics.get("TotalExecutionTimeInMillis")
    if total:
        return int(total) / 1000
    submitted, completed = status.get("SubmissionDateTime"), status.get("CompletionDateTime")
    try:
        return max(0.0, (completed - submitted).total_seconds())
    except (TypeError, AttributeError):
        return 0.0


def _cells(row: dict[str, Any]) -> list[str | None]:
    return [cell.get("VarCharValue") for cell in row.get("Data") or ()]


def _untyped(row: dict[str, Any]) -> tuple[str, ...]:
    return ("varchar",) * len(row.get("Data") or ())


_INTEGERS = ("tinyint", "smallint", "integer", "int", "bigint")
_FLOATS = ("double", "float", "real")


def _typed(value: str | None, kind: str) -> Any:
    """A cell as Python: NULL (no VarCharValue) -> None, integers -> int, floating -> float,
    decimal -> Decimal, boolean -> bool, anything else as Athena wrote it (text)."""
    if value is None:
        return None
    base = kind.split("(", 1)[0].strip()
    if base in _INTEGERS:
        return int(value)
    if base in _FLOATS:
        return float(value)
    if base == "decimal":
        return Decimal(value)
    if base == "boolean":
        return value.lower() == "true"
    return value
