"""AWS's documented Athena table for CloudTrail logs, as data, and the same table in DuckDB.

The schema is the `CREATE EXTERNAL TABLE cloudtrail_logs` statement of the Athena User Guide,
"Create a table for CloudTrail logs in Athena using manual partitioning"
(https://docs.aws.amazon.com/athena/latest/ug/create-cloudtrail-table.html; the partition-projection
page, create-cloudtrail-table-partition-projection.html, declares the same columns): column for
column, struct field for struct field, every scalar a STRING, read by the Hive JSON SerDe
(`org.apache.hive.hcatalog.data.JsonSerDe` with `com.amazon.emr.cloudtrail.CloudTrailInputFormat`),
partitioned by region, year, month and day.

`TABLE` holds it as a tree of `Field`s that also records what the table forgets: the key's spelling
in a CloudTrail record (the SerDe matches keys case-insensitively) and the JSON type CloudTrail
documents for each STRING (a string, `readOnly`'s boolean, or an object kept as JSON text). The
compiler (`trailguard.sql.compile`) reads the same tree, so the table and the SQL agree by
construction.

`load_records` fills a DuckDB table with what the SerDe gives Athena for each record: keys matched
case-insensitively, undeclared keys dropped, a missing or null value as NULL, a STRING column
holding an object, array, number or boolean as its compact JSON text, a string as itself.
`table_row` states those rules in Python and is the reference; `load_records` has DuckDB's JSON
reader build the same rows (tests/sql/test_table_load.py compares the two tables).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Iterable, Mapping

import orjson

__all__ = ["Field", "TABLE", "FIELDS_BY_COLUMN", "CLOUDTRAIL_COLUMNS", "PARTITION_COLUMNS", "RAW_COLUMN",
           "DOCUMENTATION_URL", "create_table", "load_records", "RecordLoader", "table_row", "duckdb_columns"]

DOCUMENTATION_URL = "https://docs.aws.amazon.com/athena/latest/ug/create-cloudtrail-table.html"

# What a STRING column holds in a CloudTrail record (the table cannot tell; the compiler must).
STRING = "string"    # a JSON string (CloudTrail's documented type for the field)
BOOLEAN = "boolean"  # a JSON boolean, stored by the SerDe as the text true / false (readOnly)
JSON_TEXT = "json"   # a JSON object, stored as its JSON text (requestParameters, ...)
STRUCT = "struct"
ARRAY = "array"      # ARRAY<STRUCT<...>> (resources)
MAP = "map"          # MAP<STRING,STRING> (webIdFederationData.attributes)


@dataclass(frozen=True)
class Field:
    """One column or struct field: `name` in the table (lower case, as the DDL writes it), `key` as
    CloudTrail spells it in a record, `kind` (what the record holds there), and the struct's
    (or array element's) own fields."""

    name: str
    key: str
    kind: str
    fields: tuple["Field", ...] = ()

    def child(self, key: str) -> "Field | None":
        """The declared field whose CloudTrail key is exactly `key`, else None."""
        for field in self.fields:
            if field.key == key:
                return field
        return None

    def child_ignoring_case(self, key: str) -> "Field | None":
        for field in self.fields:
            if field.name == key.lower():
                return field
        return None


def _s(key: str, kind: str = STRING) -> Field:
    return Field(key.lower(), key, kind)


def _struct(key: str, *fields: Field, kind: str = STRUCT) -> Field:
    return Field(key.lower(), key, kind, tuple(fields))


_SESSION_ISSUER = _struct("sessionIssuer", _s("type"), _s("principalId"), _s("arn"), _s("accountId"), _s("userName"))

TABLE = _struct(
    "$",
    _s("eventVersion"),
    _struct("userIdentity",
            _s("type"), _s("principalId"), _s("arn"), _s("accountId"), _s("invokedBy"), _s("accessKeyId"),
            _s("userName"),
            _struct("onBehalfOf", _s("userId"), _s("identityStoreArn")),
            _struct("sessionContext",
                    _struct("attributes", _s("mfaAuthenticated"), _s("creationDate")),
                    _SESSION_ISSUER,
                    _s("ec2RoleDelivery"),
                    _struct("webIdFederationData", _s("federatedProvider"), Field("attributes", "attributes", MAP)))),
    _s("eventTime"),
    _s("eventSource"),
    _s("eventName"),
    _s("awsRegion"),
    _s("sourceIPAddress"),
    _s("userAgent"),
    _s("errorCode"),
    _s("errorMessage"),
    _s("requestParameters", JSON_TEXT),
    _s("responseElements", JSON_TEXT),
    _s("additionalEventData", JSON_TEXT),
    _s("requestID"),
    _s("eventID"),
    _struct("resources", _s("ARN"), _s("accountId"), _s("type"), kind=ARRAY),
    _s("eventType"),
    _s("apiVersion"),
    _s("readOnly", BOOLEAN),
    _s("recipientAccountId"),
    _s("serviceEventDetails", JSON_TEXT),
    _s("sharedEventID"),
    _s("vpcEndpointId"),
    _s("vpcEndpointAccountId"),
    _s("eventCategory"),
    _struct("addendum", _s("reason"), _s("updatedFields"), _s("originalRequestID"), _s("originalEventID")),
    _s("sessionCredentialFromConsole"),
    _s("edgeDeviceDetails", JSON_TEXT),
    _struct("tlsDetails", _s("tlsVersion"), _s("cipherSuite"), _s("clientProvidedHostHeader")),
)
"""The documented table's columns in the DDL's order. `kind` says what CloudTrail writes there;
every scalar is a STRING column whatever its kind."""

FIELDS_BY_COLUMN: Mapping[str, Field] = MappingProxyType({field.name: field for field in TABLE.fields})

PARTITION_COLUMNS: tuple[str, ...] = ("region", "year", "month", "day")
"""The manual-partitioning DDL's `PARTITIONED BY (region string, year string, month string, day
string)`: in Athena they come from the S3 key (`CloudTrail/<region>/<yyyy>/<mm>/<dd>/`); the DuckDB
table derives them from awsRegion and eventTime."""

RAW_COLUMN = "_raw"
"""DuckDB only, not part of AWS's table: the record's own JSON, for showing sample events."""


# ------------------------------------------------------------------ type texts per dialect

def _type(field: Field, dialect: str) -> str:
    if field.kind in (STRUCT, ARRAY):
        members = [(f.name, _type(f, dialect)) for f in field.fields]
        if dialect == "hive":
            text = "STRUCT<" + ", ".join(f"{n}:{t}" for n, t in members) + ">"
            return f"ARRAY<{text}>" if field.kind == ARRAY else text
        if dialect == "athena":
            text = "ROW(" + ", ".join(f"{n} {t}" for n, t in members) + ")"
            return f"ARRAY({text})" if field.kind == ARRAY else text
        text = "STRUCT(" + ", ".join(f'"{n}" {t}' for n, t in members) + ")"
        return text + "[]" if field.kind == ARRAY else text
    if field.kind == MAP:
        return {"hive": "MAP<STRING,STRING>", "athena": "MAP(VARCHAR, VARCHAR)"}.get(dialect, "MAP(VARCHAR, VARCHAR)")
    return {"hive": "STRING", "athena": "VARCHAR"}.get(dialect, "VARCHAR")


CLOUDTRAIL_COLUMNS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    field.name: MappingProxyType({dialect: _type(field, dialect) for dialect in ("hive", "athena", "duckdb")})
    for field in TABLE.fields
})
"""Column name -> its type text per dialect: "hive" (the DDL as AWS documents it), "athena" (the
Trino type Athena queries it as) and "duckdb" (the local table)."""


def duckdb_columns() -> dict[str, str]:
    """Every column of the DuckDB table with its type: the documented ones, the partitions, `_raw`."""
    columns = {name: types["duckdb"] for name, types in CLOUDTRAIL_COLUMNS.items()}
    columns.update({name: "VARCHAR" for name in PARTITION_COLUMNS})
    columns[RAW_COLUMN] = "VARCHAR"
    return columns


def create_table(con: Any, name: str = "cloudtrail") -> None:
    """Create (or replace) the CloudTrail table `name` on the DuckDB connection `con`."""
    _check_name(name)
    body = ", ".join(f'"{column}" {type_}' for column, type_ in duckdb_columns().items())
    con.execute(f'CREATE OR REPLACE TABLE "{name}" ({body})')


def _check_name(name: str) -> None:
    if not name or not all(ch.isalnum() or ch == "_" for ch in name):
        raise ValueError(f"table name {name!r}: use letters, digits and '_' only")


# ------------------------------------------------------------------ records -> rows, as the SerDe reads them

def _text(value: Any) -> str | None:
    """A STRING column's value: a string as itself, null as NULL, anything else as its JSON text."""
    if value is None or value.__class__ is str:
        return value
    return orjson.dumps(value).decode()


_CHILDREN: dict[int, dict[str, Field]] = {}


def _children(field: Field) -> dict[str, Field]:
    """The struct's fields by table name (lower case), built once per struct."""
    found = _CHILDREN.get(id(field))
    if found is None:
        found = _CHILDREN[id(field)] = {child.name: child for child in field.fields}
    return found


def _members(field: Field, value: dict[str, Any]) -> dict[str, Any]:
    """A struct's declared members, keys matched case-insensitively as the SerDe does (the last of
    two spellings wins); undeclared keys are dropped, and missing or null members left out (NULL)."""
    children = _children(field)
    out: dict[str, Any] = {}
    for key, item in value.items():
        child = children.get(key.lower())
        if child is None:
            continue
        converted = None if item is None else _value(child, item)
        if converted is None:
            out.pop(child.name, None)
        else:
            out[child.name] = converted
    return out


def _value(field: Field, value: Any) -> Any:
    kind = field.kind
    if kind == STRUCT:
        return _members(field, value) if value.__class__ is dict else None
    if kind == ARRAY:
        if value.__class__ is not list:
            return None
        return [_members(field, item) if item.__class__ is dict else None for item in value]
    if kind == MAP:
        return {str(k): _text(v) for k, v in value.items()} if value.__class__ is dict else None
    return _text(value)


def table_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """One CloudTrail record as a row of the table: {column: value} with structs as dicts, the
    partition columns and `_raw`. A column (or struct member) that is NULL is left out."""
    row = _members(TABLE, record if record.__class__ is dict else dict(record))
    event_time = row.get("eventtime") or ""
    for name, value in (("region", row.get("awsregion")), ("year", event_time[0:4]), ("month", event_time[5:7]),
                        ("day", event_time[8:10])):
        if value:
            row[name] = value
    row[RAW_COLUMN] = orjson.dumps(record).decode()
    return row


def load_records(con: Any, records: Iterable[Mapping[str, Any]], name: str = "cloudtrail",
                 columns: Iterable[str] | None = None) -> int:
    """Insert CloudTrail records (dicts, as `trailguard.records` reads them) into the table `name`,
    creating it if needed; returns how many. Each row is what `table_row` gives (the SerDe's
    rules), built by DuckDB's multi-threaded JSON reader rather than in Python: a record in the
    plain shape (declared keys spelled as CloudTrail spells them, strings, booleans and whole
    numbers where STRING columns are) goes in nearly as read, with only its JSON-text columns
    dumped; any other record goes in as its `table_row`, keys respelled. `columns` names what to
    fill: columns, or struct members by path (`useridentity.arn`; `loadable_paths()` lists them),
    by default every column, `_raw` included; the rest stays NULL, and a query that reads only
    what is named loads faster. An unknown name is a ValueError listing the allowed ones."""
    with RecordLoader(con, name, columns) as loader:
        loader.add(records)
        return loader.finish()


class RecordLoader:
    """Records streamed into the table `name` as `load_records` loads them, for a caller that reads
    them in batches (`trailguard backtest --engine duckdb`): Python writes each record's line to a
    temporary file, and every `lines_per_insert` lines DuckDB inserts that file in a background
    thread (on its own cursor of `con`) while Python writes the next (DuckDB runs without the GIL).
    Memory stays bounded: no record is held, and at most two files exist at once. Use it as a context manager; `finish`
    inserts the rest and returns how many records were loaded."""

    def __init__(self, con: Any, name: str = "cloudtrail", columns: Iterable[str] | None = None,
                 lines_per_insert: int = 50_000) -> None:
        _check_name(name)
        if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                           [name]).fetchone()[0]:
            create_table(con, name)
        self.plan = _load_plan(None if columns is None else frozenset(columns))
        self.name, self.lines_per_insert = name, lines_per_insert
        self._inserter = con.cursor()  # its own connection to the database: `con` stays free meanwhile
        self.count = 0  # records written (inserted once `finish` returns)
        self.waited = 0.0  # seconds Python waited for DuckDB's inserts
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="trailguard-load")
        self._inserting: Future[None] | None = None
        self._out: Any = None
        self._path = ""
        self._lines = 0

    def __enter__(self) -> "RecordLoader":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def add(self, records: Iterable[Mapping[str, Any]]) -> None:
        if self._out is None:
            handle, self._path = tempfile.mkstemp(suffix=".ndjson", prefix="trailguard-sql-")
            self._out = os.fdopen(handle, "wb")
        before = self._lines
        self._lines += sum(1 for _ in map(self._out.write, map(self.plan.line, records)))
        self.count += self._lines - before
        if self._lines >= self.lines_per_insert:
            self._hand_over()

    def finish(self) -> int:
        """Insert what is left, wait for DuckDB, and return how many records were loaded."""
        self._hand_over()
        self._wait()
        return self.count

    def close(self) -> None:
        """Wait for a running insert and remove the files (after `finish`, or on an error)."""
        try:
            self._wait()
        finally:
            self._pool.shutdown(wait=True)
            self._inserter.close()
            if self._out is not None:
                self._out.close()
                os.unlink(self._path)
                self._out = None

    def _hand_over(self) -> None:
        """Close the file being written and have DuckDB insert it, after the previous insert."""
        if self._out is None:
            return
        out, path, lines = self._out, self._path, self._lines
        self._out, self._lines = None, 0
        out.close()
        try:
            self._wait()
        except BaseException:
            os.unlink(path)
            raise
        if not lines:
            os.unlink(path)
            return
        self._inserting = self._pool.submit(self._insert, path)

    def _wait(self) -> None:
        if self._inserting is not None:
            started = time.perf_counter()
            inserting, self._inserting = self._inserting, None
            try:
                inserting.result()
            finally:
                self.waited += time.perf_counter() - started

    def _insert(self, path: str) -> None:
        plan = self.plan
        try:
            self._inserter.execute(f'INSERT INTO "{self.name}" ({plan.names}) SELECT {plan.values} FROM read_json(?, '
                             f"format = 'newline_delimited', records = true, columns = {plan.spec}, "
                             "maximum_object_size = 67108864)", [path])
        finally:
            os.unlink(path)


# ------------------------------------------------------------------ the loading plan: records as JSON lines

_PLAIN_SCALARS = frozenset({str, bool, int, type(None)})
"""What a STRING member may hold for DuckDB's reader to give the SerDe's text: a string as itself,
null as NULL, a boolean and a whole number as their JSON text (as orjson writes them). A float, an
object or an array is written differently by DuckDB (1e+16 against 10000000000000000.0), so such a
record takes the `table_row` way."""
_PLAIN_MAP_VALUES = frozenset({str, type(None)})


@dataclass(frozen=True)
class _Struct:
    """What `_shown` checks and keeps in one struct (as loaded: members not chosen are left out):
    its keys, their lower-case names, which members are scalars (kept as read), JSON text (dumped),
    structs, arrays of structs or maps. `harmless` grows with the keys seen that are neither kept
    nor another spelling of a kept one (`managementEvent`, ...), so each record's other keys are
    checked in C, not one by one."""

    keys: frozenset[str]
    names: frozenset[str]
    scalars: tuple[str, ...]
    texts: tuple[str, ...]
    structs: tuple[tuple[str, "_Struct"], ...]
    arrays: tuple[tuple[str, "_Struct"], ...]
    maps: tuple[str, ...]
    harmless: set[str]


def _struct_plan(field: Field) -> _Struct:
    of = lambda *kinds: tuple(child.key for child in field.fields if child.kind in kinds)  # noqa: E731
    keys = frozenset(child.key for child in field.fields)
    return _Struct(keys=keys, names=frozenset(child.name for child in field.fields),
                   scalars=of(STRING, BOOLEAN), texts=of(JSON_TEXT),
                   structs=tuple((child.key, _struct_plan(child)) for child in field.fields if child.kind == STRUCT),
                   arrays=tuple((child.key, _struct_plan(child)) for child in field.fields if child.kind == ARRAY),
                   maps=of(MAP), harmless=set(keys))


def _shown(plan: _Struct, value: dict[str, Any]) -> dict[str, Any] | None:
    """The struct `value`'s kept members as DuckDB's reader should see them, or None when the reader
    (matching keys exactly) would not read them as the SerDe does: a kept key in another spelling
    (or twice), or a member of a type DuckDB writes unlike orjson."""
    extra = value.keys() - plan.harmless
    if extra:
        for key in extra:
            if key.__class__ is not str or key.lower() in plan.names:
                return None
        plan.harmless.update(extra)
    get = value.get
    if not _PLAIN_SCALARS.issuperset(map(type, map(get, plan.scalars))):
        return None
    shown = {key: item for key in plan.keys if (item := get(key)) is not None}
    for key in plan.texts:
        item = shown.get(key)
        if item is not None and item.__class__ is not str:
            shown[key] = orjson.dumps(item).decode()
    for key, member in plan.structs:
        item = shown.get(key)
        if item is not None:
            if item.__class__ is not dict:
                return None
            item = shown[key] = _shown(member, item)
            if item is None:
                return None
    for key, member in plan.arrays:
        items = shown.get(key)
        if items is not None:
            if items.__class__ is not list:
                return None
            elements = shown[key] = []
            for item in items:
                element = _shown(member, item) if item.__class__ is dict else None
                if element is None:
                    return None
                elements.append(element)
    for key in plan.maps:
        item = shown.get(key)
        if item is not None and (item.__class__ is not dict or not _PLAIN_MAP_VALUES.issuperset(map(type, item.values()))):
            return None
    return shown


def _respelled(field: Field, row: dict[str, Any]) -> dict[str, Any]:
    """A `table_row` struct's members that `field` keeps, keyed as CloudTrail spells them."""
    out = {}
    for child in field.fields:
        value = row.get(child.name)
        if value is None:
            continue
        if child.kind == STRUCT:
            value = _respelled(child, value)
        elif child.kind == ARRAY:
            value = [None if item is None else _respelled(child, item) for item in value]
        out[child.key] = value
    return out


def _reader_type(field: Field) -> str:
    """The DuckDB type `read_json` reads a member as: the table's, keyed by CloudTrail's spelling."""
    if field.kind in (STRUCT, ARRAY):
        text = "STRUCT(" + ", ".join(f'"{child.key}" {_reader_type(child)}' for child in field.fields) + ")"
        return text + "[]" if field.kind == ARRAY else text
    return "MAP(VARCHAR, VARCHAR)" if field.kind == MAP else "VARCHAR"


def _kept(field: Field, chosen: set[str], path: str = "") -> Field | None:
    """`field` with only the members `chosen` names: a path (`useridentity.arn`) keeps that member
    and the structs above it; a struct named whole keeps every member. None: nothing kept."""
    here = f"{path}.{field.name}" if path else field.name
    if here in chosen:
        return field
    if field.kind != STRUCT:
        return None
    kept = tuple(child for child in (_kept(member, chosen, here) for member in field.fields) if child is not None)
    return dataclasses.replace(field, fields=kept) if kept else None


RAW_KEY = RAW_COLUMN
"""The key of `_raw` in a loading line. A record's own `_raw` key is undeclared: the line is a new
dict with this key set, and the reader matches keys exactly, so `_RAW` or `_Raw` are not read either."""


@dataclass(frozen=True)
class _LoadPlan:
    names: str   # the table columns filled, quoted, comma-separated
    values: str  # the SELECT list giving them from the reader's columns
    spec: str    # read_json's `columns`
    line: Any    # record -> its JSON line (bytes)


_PLANS: dict[frozenset[str] | None, _LoadPlan] = {}


def loadable_paths() -> list[str]:
    """What `load_records(columns=...)` may name: every column, and every struct member's path."""
    paths = list(duckdb_columns())

    def members(field: Field, path: str) -> None:
        for child in field.fields:
            paths.append(f"{path}.{child.name}")
            if child.kind == STRUCT:
                members(child, f"{path}.{child.name}")

    for field in TABLE.fields:
        if field.kind == STRUCT:
            members(field, field.name)
    return paths


def _load_plan(chosen: frozenset[str] | None) -> _LoadPlan:
    """How `load_records` fills the columns `chosen` (None: all), built once per choice."""
    plan = _PLANS.get(chosen)
    if plan is not None:
        return plan
    known = loadable_paths()
    if chosen is not None and not chosen <= set(known):
        raise ValueError(f"columns {sorted(chosen - set(known))}: allowed {', '.join(known)}")
    wanted = set(known if chosen is None else chosen)
    if "region" in wanted:
        wanted.add("awsregion")
    if wanted & {"year", "month", "day"}:
        wanted.add("eventtime")
    kept = [field for field in (_kept(member, wanted) for member in TABLE.fields) if field is not None]
    read = {field.key: _reader_type(FIELDS_BY_COLUMN[field.name]) for field in kept}
    names, values = [], []
    for field in kept:
        if field.name in wanted or any(path.startswith(field.name + ".") for path in wanted):
            names.append(field.name)
            values.append(f'"{field.key}"')
    if chosen is not None:  # awsRegion and eventTime read for the partitions only stay NULL
        names_values = [(n, v) for n, v in zip(names, values)
                        if n in chosen or any(path.startswith(n + ".") for path in chosen)]
        names, values = [n for n, _ in names_values], [v for _, v in names_values]
    partitions = {"region": "NULLIF(\"awsRegion\", '')", "year": "NULLIF(substr(\"eventTime\", 1, 4), '')",
                  "month": "NULLIF(substr(\"eventTime\", 6, 2), '')", "day": "NULLIF(substr(\"eventTime\", 9, 2), '')"}
    for column in PARTITION_COLUMNS:
        if column in wanted:
            names.append(column)
            values.append(partitions[column])
    raw = RAW_COLUMN in wanted
    if raw:
        read[RAW_KEY] = "VARCHAR"
        names.append(RAW_COLUMN)
        values.append(f'"{RAW_KEY}"')
    spec = "{" + ", ".join(f"'{key}': '{type_}'" for key, type_ in read.items()) + "}"
    top = dataclasses.replace(TABLE, fields=tuple(kept))
    plan = _LoadPlan(", ".join(f'"{name}"' for name in names), ", ".join(values), spec, _line_writer(top, raw))
    _PLANS[chosen] = plan
    return plan


def _line_writer(top: Field, raw: bool) -> Any:
    """record -> its loading line: a plain record's kept members (JSON-text columns dumped), else its
    `table_row`'s kept members respelled; with `_raw` when the plan fills it."""
    plan, dumps, shown_of, respelled = _struct_plan(top), orjson.dumps, _shown, _respelled

    def line(record: Mapping[str, Any]) -> bytes:
        shown = shown_of(plan, record) if record.__class__ is dict else None
        if shown is None:
            shown = respelled(top, table_row(record))
        if raw:
            shown[RAW_KEY] = dumps(record).decode()
        return dumps(shown) + b"\n"

    return line
