"""Which partitions of the Athena CloudTrail table a back-test reads, and what they cost.

Athena bills the bytes it reads, and a CloudTrail table without a partition filter reads the
whole trail. So a run over Athena first reads the table's layout from the Glue Data Catalog (its
partition keys, its LOCATION and its `projection.*` / `storage.location.template` parameters),
then builds the WHERE clause that keeps the query inside the window's days (and the regions and
accounts asked for, when the table is partitioned by them), lists the partitions that clause
selects and the S3 prefixes they map to, and sums the sizes of the objects there: the compressed
bytes Athena will scan.

Two layouts carry a date, and are the ones AWS documents for CloudTrail:

* a projected date key (`projection.<key>.type` = `date`, e.g. `timestamp` in `yyyy/MM/dd`, the
  layout of "Create the table for CloudTrail logs in Athena using partition projection"), with
  optional `region` / `account` keys (projected `enum` or `injected`);
* `year`, `month` and `day` keys, projected (`integer` or `enum`) or added by hand
  (`ALTER TABLE ADD PARTITION`, then listed with Glue GetPartitions), with optional `region` /
  `account` keys.

A table with neither is refused (`PartitionRefusal`) before any query: the message says what to
add. The planning here is pure; `read_layout`, `list_manual_partitions` and `estimate_scan` are
the thin calls to Glue and S3.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

REGION_KEYS = ("region", "aws_region", "awsregion")
ACCOUNT_KEYS = ("account", "account_id", "accountid")
DATE_PARTS = ("year", "month", "day")
INTEGER_TYPES = ("tinyint", "smallint", "int", "integer", "bigint")

DOCS_HINT = "see docs/backtest.md, \"At scale (Athena)\""


class PartitionRefusal(ValueError):
    """The table cannot be queried inside a window (no usable date partition, a key the query
    cannot fill, a window outside the table); the message says what to add or change."""


@dataclass(frozen=True, slots=True)
class TableLayout:
    """What the catalogue says of the table: enough to plan partitions and find their objects."""

    database: str
    table: str
    location: str | None
    partition_keys: tuple[tuple[str, str], ...]  # (name, type), lower case, in declared order
    parameters: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.database}.{self.table}"

    @property
    def projected(self) -> bool:
        return self.parameters.get("projection.enabled", "").strip().lower() == "true"

    def key_type(self, key: str) -> str:
        return dict(self.partition_keys)[key]

    def projection(self, key: str, setting: str) -> str | None:
        value = self.parameters.get(f"projection.{key}.{setting}")
        return value.strip() if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class Window:
    """The UTC days a run covers (both inclusive) and the accounts and regions it keeps (empty: all)."""

    first_day: dt.date
    last_day: dt.date
    accounts: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.first_day > self.last_day:
            raise ValueError(f"window first day {self.first_day} is after its last day {self.last_day}")

    def days(self) -> list[dt.date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + dt.timedelta(days=offset) for offset in range(count)]


@dataclass(frozen=True, slots=True)
class Partition:
    """One partition the query reads: its key values and the S3 prefix its objects are under."""

    values: tuple[tuple[str, str], ...]
    location: str | None

    def label(self) -> str:
        return ", ".join(f"{key}={value}" for key, value in self.values)


@dataclass(frozen=True, slots=True)
class PartitionPlan:
    """The partition filter of a run and what it selects."""

    table: str
    where: str
    partitions: tuple[Partition, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScanEstimate:
    """Compressed bytes under the partitions' prefixes: what Athena bills for reading them."""

    bytes: int
    objects: int
    prefixes: int
    empty_prefixes: int
    unknown: tuple[str, ...] = ()  # partitions with no S3 location to list


# ---------------------------------------------------------------------------------------------
# The catalogue


def layout_from_glue_table(table: Mapping[str, Any]) -> TableLayout:
    """A layout from the `Table` of a Glue GetTable answer."""
    storage = table.get("StorageDescriptor") or {}
    keys = tuple((str(key["Name"]).lower(), str(key.get("Type", "string")).lower())
                 for key in table.get("PartitionKeys") or ())
    return TableLayout(database=str(table.get("DatabaseName", "")), table=str(table.get("Name", "")),
                       location=storage.get("Location") or None, partition_keys=keys,
                       parameters=dict(table.get("Parameters") or {}))


def read_layout(glue: Any, database: str, table: str) -> TableLayout:
    """The table's layout from Glue GetTable (raises botocore's ClientError: the caller explains it)."""
    answer = glue.get_table(DatabaseName=database, Name=table)
    return layout_from_glue_table(answer["Table"])


def list_manual_partitions(glue: Any, layout: TableLayout, expression: str) -> list[Partition]:
    """The partitions Glue holds for a table without projection that `expression` (Glue's
    partition-filter syntax) keeps, through every page of GetPartitions."""
    keys = [key for key, _ in layout.partition_keys]
    found = []
    paginator = glue.get_paginator("get_partitions")
    for page in paginator.paginate(DatabaseName=layout.database, TableName=layout.table, Expression=expression):
        for partition in page.get("Partitions", ()):
            values = tuple(zip(keys, (str(value) for value in partition.get("Values", ()))))
            location = (partition.get("StorageDescriptor") or {}).get("Location") or None
            found.append(Partition(values, location))
    return found


# ---------------------------------------------------------------------------------------------
# Planning (pure)


def plan_partitions(layout: TableLayout, window: Window,
                    manual: Sequence[Partition] | None = None) -> PartitionPlan:
    """The WHERE clause restricting a query on `layout` to `window`, and the partitions it reads.

    For a projected table the partitions are computed from the projection; for one with partitions
    added by hand pass `manual`, the partitions Glue lists for `glue_expression(...)` (they are
    filtered again here). Raises PartitionRefusal when the table has no usable date partition."""
    shape = _shape(layout, window)
    where = " AND ".join(f"({condition})" if " OR " in condition else condition
                         for condition in shape.conditions(quote=True))
    if layout.projected:
        partitions = _projected_partitions(layout, shape)
    else:
        if manual is None:
            raise ValueError("a table without partition projection needs the partitions Glue lists (manual=...)")
        partitions = [partition for partition in manual if shape.keeps(dict(partition.values))]
        if not partitions:
            shape.notes.append(f"Glue lists no partition of {layout.name} in the window: the query reads nothing; "
                               "add the days' partitions (ALTER TABLE ADD PARTITION) or use partition projection")
    return PartitionPlan(layout.name, where, tuple(partitions), tuple(shape.notes))


def glue_expression(layout: TableLayout, window: Window) -> str:
    """The partition filter in Glue GetPartitions' expression syntax (bare key names)."""
    return " AND ".join(f"({condition})" if " OR " in condition else condition
                        for condition in _shape(layout, window).conditions(quote=False))


@dataclass
class _Shape:
    """How each partition key is restricted: the date keys by the window's days, the region and
    account keys by the window's lists, the rest not at all."""

    layout: TableLayout
    window: Window
    date_key: str | None = None  # a projected date key
    date_format: str | None = None
    parts: dict[str, str] = field(default_factory=dict)  # year/month/day -> key name
    chosen: dict[str, list[str]] = field(default_factory=dict)  # region/account key -> values kept
    notes: list[str] = field(default_factory=list)

    def days(self) -> list[dt.date]:
        return self.window.days()

    def date_values(self) -> list[str]:
        assert self.date_key is not None and self.date_format is not None
        return [_format_day(day, self.date_format) for day in self.days()]

    def part_value(self, part: str, day: dt.date) -> str:
        number = {"year": day.year, "month": day.month, "day": day.day}[part]
        return _number_text(self.layout, self.parts[part], number, part)

    def conditions(self, quote: bool) -> list[str]:
        name = (lambda key: f'"{key}"') if quote else (lambda key: key)
        conditions = []
        if self.date_key is not None:
            values = self.date_values()
            if _sortable(self.date_format or ""):
                conditions.append(f"{name(self.date_key)} BETWEEN {_literal(values[0])} AND {_literal(values[-1])}")
            else:
                conditions.append(f"{name(self.date_key)} IN ({', '.join(_literal(v) for v in values)})")
        else:
            conditions.append(self._ymd_condition(name))
        for key, values in self.chosen.items():
            if len(values) == 1:
                conditions.append(f"{name(key)} = {_literal(values[0])}")
            else:
                conditions.append(f"{name(key)} IN ({', '.join(_literal(v) for v in values)})")
        return conditions

    def _ymd_condition(self, name: Any) -> str:
        """Whole years by year, whole months by month, the rest by day range: short, and every
        term names partition keys only, so Athena prunes on it."""
        literal = lambda part, day: self._value_literal(part, day)  # noqa: E731
        year, month, day = (name(self.parts[part]) for part in DATE_PARTS)
        terms = []
        for in_year in _group(self.days(), lambda d: d.year):
            if _whole_year(in_year):
                terms.append(f"{year} = {literal('year', in_year[0])}")
                continue
            whole_months, partial = [], []
            for in_month in _group(in_year, lambda d: d.month):
                (whole_months if _whole_month(in_month) else partial).append(in_month)
            if whole_months:
                months = [literal("month", days[0]) for days in whole_months]
                month_term = f"{month} = {months[0]}" if len(months) == 1 else f"{month} IN ({', '.join(months)})"
                terms.append(f"{year} = {literal('year', in_year[0])} AND {month_term}")
            for days in partial:
                texts = [literal("day", one) for one in days]
                if len(texts) == 1:
                    day_term = f"{day} = {texts[0]}"
                elif self._orders_as_numbers("day") or len({len(text) for text in texts}) == 1:
                    day_term = f"{day} BETWEEN {texts[0]} AND {texts[-1]}"
                else:  # unpadded text ('9' > '10'): a range would not hold the days
                    day_term = f"{day} IN ({', '.join(texts)})"
                terms.append(f"{year} = {literal('year', days[0])} AND {month} = {literal('month', days[0])} AND {day_term}")
        return " OR ".join(f"({term})" for term in terms) if len(terms) > 1 else terms[0]

    def _orders_as_numbers(self, part: str) -> bool:
        return self.layout.key_type(self.parts[part]) in INTEGER_TYPES

    def _value_literal(self, part: str, day: dt.date) -> str:
        text = self.part_value(part, day)
        return text if self.layout.key_type(self.parts[part]) in INTEGER_TYPES else _literal(text)

    def keeps(self, values: Mapping[str, str]) -> bool:
        """Whether a listed partition is inside the window (Glue's filter, checked again)."""
        if self.date_key is not None:
            if values.get(self.date_key) not in set(self.date_values()):
                return False
        else:
            wanted = {tuple(_strip_zeros(self.part_value(p, d)) for p in DATE_PARTS) for d in self.days()}
            got = tuple(_strip_zeros(values.get(self.parts[p], "")) for p in DATE_PARTS)
            if got not in wanted:
                return False
        return all(values.get(key) in kept for key, kept in self.chosen.items())


def _shape(layout: TableLayout, window: Window) -> _Shape:
    keys = [key for key, _ in layout.partition_keys]
    shape = _Shape(layout, window)
    if not keys:
        raise PartitionRefusal(
            f"table {layout.name} has no partition keys, so every query reads the whole trail under "
            f"{layout.location or 'its LOCATION'}; recreate it with partition projection on a date key "
            f"(projection.timestamp.type=date, format yyyy/MM/dd) or partition it by year, month and day ({DOCS_HINT})")
    dates = [key for key in keys if layout.projected and layout.projection(key, "type") == "date"]
    if len(dates) > 1:
        raise PartitionRefusal(f"table {layout.name} projects {len(dates)} date keys ({', '.join(dates)}); "
                               "a CloudTrail table has one (the delivery day)")
    if dates:
        shape.date_key = dates[0]
        shape.date_format = _day_format(layout, dates[0])
    elif all(part in keys for part in DATE_PARTS):
        shape.parts = {part: part for part in DATE_PARTS}
        for part in DATE_PARTS:
            _check_projected_part(layout, part)
    else:
        how = ("its projection has no key with projection.<key>.type=date" if layout.projected
               else "it is not projected (projection.enabled is not true)")
        raise PartitionRefusal(
            f"table {layout.name} has no usable date partition: its partition keys are {', '.join(keys)}, and "
            f"{how} and it has no year, month and day keys; a query on it would read every day of the trail. "
            f"Add partition projection on the delivery day (projection.timestamp.type=date, "
            f"projection.timestamp.format=yyyy/MM/dd, storage.location.template ending in /${{timestamp}}) "
            f"or year/month/day partitions ({DOCS_HINT})")
    _clip_to_range(layout, shape)
    for key in keys:
        if key == shape.date_key or key in shape.parts.values():
            continue
        asked = window.regions if key in REGION_KEYS else window.accounts if key in ACCOUNT_KEYS else None
        option = "--region" if key in REGION_KEYS else "--account"
        kind = layout.projection(key, "type") if layout.projected else None
        if kind == "injected":
            if not asked:
                raise PartitionRefusal(f"table {layout.name} injects partition key {key!r} (projection.{key}.type="
                                       f"injected): Athena needs its values in the query; give "
                                       f"{option if asked is not None else 'a value for it'}")
            shape.chosen[key] = sorted(asked)
        elif asked:
            if kind == "enum":
                known = _enum_values(layout, key)
                missing = sorted(set(asked) - set(known))
                if missing:
                    shape.notes.append(f"{option} {', '.join(missing)}: not among the table's {key} values "
                                       f"({', '.join(known)}); nothing to read there")
                kept = sorted(set(asked) & set(known))
                if not kept:
                    raise PartitionRefusal(f"{option} {', '.join(sorted(asked))}: table {layout.name} projects "
                                           f"{key} only as {', '.join(known)}; nothing to read")
                shape.chosen[key] = kept
            else:
                shape.chosen[key] = sorted(asked)
        else:
            shape.notes.append(f"partition key {key!r} not restricted: every {key} is read")
    if window.regions and not any(key in REGION_KEYS for key in keys):
        shape.notes.append("the table has no region partition: --region filters nothing here (the query reads "
                           "every region of each day)")
    if window.accounts and not any(key in ACCOUNT_KEYS for key in keys):
        shape.notes.append("the table has no account partition: --account filters nothing here")
    return shape


def _day_format(layout: TableLayout, key: str) -> str:
    fmt = layout.projection(key, "format")
    if not fmt:
        raise PartitionRefusal(f"table {layout.name}: projection.{key}.format is missing; "
                               f"AWS's CloudTrail table uses yyyy/MM/dd")
    unit = (layout.projection(key, "interval.unit") or "DAYS").upper()
    interval = layout.projection(key, "interval") or "1"
    if unit != "DAYS" or interval != "1" or not _JAVA_DAY_FORMAT.fullmatch(fmt):
        raise PartitionRefusal(
            f"table {layout.name}: date key {key!r} is projected in {fmt!r} every {interval} {unit}; "
            "a back-test reads whole days: allowed a format of yyyy, MM and dd (e.g. yyyy/MM/dd) with an "
            "interval of 1 DAYS")
    return fmt


_JAVA_DAY_FORMAT = re.compile(r"(?=.*yyyy)(?=.*MM)(?=.*dd)(?:yyyy|MM|dd|[-/_.])+")


def _format_day(day: dt.date, fmt: str) -> str:
    return fmt.replace("yyyy", f"{day.year:04d}").replace("MM", f"{day.month:02d}").replace("dd", f"{day.day:02d}")


def _sortable(fmt: str) -> bool:
    """Whether text in this format sorts as the days do (year, then month, then day)."""
    return fmt.find("yyyy") < fmt.find("MM") < fmt.find("dd")


def _parse_day(text: str, fmt: str) -> dt.date | None:
    pattern = re.escape(fmt).replace("yyyy", r"(?P<y>\d{4})").replace("MM", r"(?P<m>\d{2})").replace("dd", r"(?P<d>\d{2})")
    found = re.fullmatch(pattern, text.strip())
    if not found:
        return None
    try:
        return dt.date(int(found["y"]), int(found["m"]), int(found["d"]))
    except ValueError:
        return None


def _clip_to_range(layout: TableLayout, shape: _Shape) -> None:
    """Narrow the window to the projected date range (`start,NOW`), which holds every partition
    that exists: days outside it have none. Relative bounds (NOW-3YEARS) are left as they are."""
    if shape.date_key is None or shape.date_format is None:
        return
    bounds = (layout.projection(shape.date_key, "range") or "").split(",")
    if len(bounds) != 2:
        return
    low = _parse_day(bounds[0], shape.date_format)
    high = dt.datetime.now(dt.timezone.utc).date() if bounds[1].strip().upper() == "NOW" else \
        _parse_day(bounds[1], shape.date_format)
    first, last = shape.window.first_day, shape.window.last_day
    if low and low > first:
        first = low
    if high and high < last:
        last = high
    if first > last:
        raise PartitionRefusal(
            f"the window {shape.window.first_day} to {shape.window.last_day} is outside table {layout.name}'s "
            f"projected range {','.join(bounds)} (projection.{shape.date_key}.range); nothing to read")
    if (first, last) != (shape.window.first_day, shape.window.last_day):
        shape.notes.append(f"window narrowed to {first} .. {last}: the table's projection.{shape.date_key}.range "
                           f"is {','.join(b.strip() for b in bounds)}")
        shape.window = Window(first, last, shape.window.accounts, shape.window.regions)


def _check_projected_part(layout: TableLayout, part: str) -> None:
    if not layout.projected:
        return
    kind = layout.projection(part, "type")
    if kind not in ("integer", "enum"):
        raise PartitionRefusal(f"table {layout.name}: partition key {part!r} is projected as {kind!r}; "
                               f"allowed for {part}: integer or enum")


def _number_text(layout: TableLayout, key: str, number: int, part: str) -> str:
    """A year, month or day as the partition holds it: digits as projected (projection.<key>.digits,
    or zero-padded enum values), two digits for month and day added by hand (CloudTrail's own
    key layout), as is for integer columns."""
    if layout.key_type(key) in INTEGER_TYPES:
        return str(number)
    digits = layout.projection(key, "digits") if layout.projected else None
    if layout.projected and layout.projection(key, "type") == "enum":
        values = _enum_values(layout, key)
        padded = any(len(value) > 1 and value.startswith("0") for value in values)
        return f"{number:02d}" if padded and part != "year" else str(number)
    if digits and digits.isdigit():
        return f"{number:0{int(digits)}d}"
    if layout.projected:
        return str(number)
    return f"{number:04d}" if part == "year" else f"{number:02d}"


def _strip_zeros(text: str) -> str:
    return text.lstrip("0") or "0"


def _enum_values(layout: TableLayout, key: str) -> list[str]:
    return [value.strip() for value in (layout.projection(key, "values") or "").split(",") if value.strip()]


def _group(days: Sequence[dt.date], by: Any) -> list[list[dt.date]]:
    groups: list[list[dt.date]] = []
    for day in days:
        if groups and by(groups[-1][-1]) == by(day):
            groups[-1].append(day)
        else:
            groups.append([day])
    return groups


def _whole_month(days: Sequence[dt.date]) -> bool:
    nxt = days[-1] + dt.timedelta(days=1)
    return days[0].day == 1 and nxt.month != days[-1].month and len(days) == days[-1].day


def _whole_year(days: Sequence[dt.date]) -> bool:
    return days[0] == dt.date(days[0].year, 1, 1) and days[-1] == dt.date(days[0].year, 12, 31) and \
        len(days) == (days[-1] - days[0]).days + 1


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _projected_partitions(layout: TableLayout, shape: _Shape) -> list[Partition]:
    """Every partition the projection yields inside the shape, with its S3 prefix."""
    keys = [key for key, _ in layout.partition_keys]
    per_key: dict[str, list[str]] = {}
    days = shape.days()
    for key in keys:
        if key == shape.date_key:
            continue
        if key in shape.parts.values():
            continue
        if key in shape.chosen:
            per_key[key] = shape.chosen[key]
        elif layout.projection(key, "type") == "enum":
            per_key[key] = _enum_values(layout, key)
        else:
            raise PartitionRefusal(
                f"table {layout.name}: partition key {key!r} is projected as {layout.projection(key, 'type')!r} "
                "and not restricted; give its values (--region or --account) or project it as an enum")
    combos: list[dict[str, str]] = [{}]
    for key in keys:
        if key == shape.date_key:
            options = [(day, _format_day(day, shape.date_format or "")) for day in days]
            combos = [{**combo, key: text} for combo in combos for _, text in options]
        elif key in shape.parts.values():
            continue
        else:
            combos = [{**combo, key: value} for combo in combos for value in per_key[key]]
    if shape.parts:
        combos = [{**combo, **{shape.parts[p]: shape.part_value(p, day) for p in DATE_PARTS}}
                  for combo in combos for day in days]
    template = layout.parameters.get("storage.location.template")
    partitions = []
    for combo in combos:
        values = tuple((key, combo[key]) for key in keys)
        partitions.append(Partition(values, _location(layout, template, values)))
    partitions.sort(key=lambda partition: partition.values)
    return partitions


def _location(layout: TableLayout, template: str | None, values: Sequence[tuple[str, str]]) -> str | None:
    if template:
        location = template
        for key, value in values:
            location = location.replace("${" + key + "}", value)
        return location if "${" not in location else None
    if layout.location:  # Hive's layout below LOCATION: key=value/...
        return layout.location.rstrip("/") + "/" + "/".join(f"{key}={value}" for key, value in values)
    return None


# ---------------------------------------------------------------------------------------------
# The scan estimate (S3)


def parse_s3_location(location: str) -> tuple[str, str]:
    """(bucket, prefix ending in "/") of an s3:// location."""
    found = re.fullmatch(r"s3a?://([^/]+)/?(.*)", location.strip())
    if not found:
        raise ValueError(f"location {location!r}: expected s3://BUCKET/PREFIX")
    prefix = found[2]
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return found[1], prefix


def estimate_scan(s3: Any, partitions: Iterable[Partition], threads: int = 8) -> ScanEstimate:
    """Sum the sizes of the objects under the partitions' prefixes (ListObjectsV2, every page).
    CloudTrail objects are gzip files; Athena bills the compressed bytes it reads. Days that make
    up a whole month (and months a whole year) of CloudTrail's `YYYY/MM/DD/` layout are listed as
    that month's (year's) prefix: the same objects in far fewer calls."""
    partitions = list(partitions)
    located = [parse_s3_location(partition.location) for partition in partitions if partition.location]
    unknown = tuple(partition.label() for partition in partitions if not partition.location)
    prefixes = collapse_day_prefixes(located)

    def measure(place: tuple[str, str]) -> tuple[int, int]:
        bucket, prefix = place
        size = count = 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", ()):
                size += int(item.get("Size", 0))
                count += 1
        return size, count

    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(prefixes) or 1))) as pool:
        measured = list(pool.map(measure, prefixes))
    return ScanEstimate(bytes=sum(size for size, _ in measured), objects=sum(count for _, count in measured),
                        prefixes=len(prefixes), empty_prefixes=sum(1 for _, count in measured if count == 0),
                        unknown=unknown)


_DAY_PREFIX = re.compile(r"(.*/)?(\d{4})/(\d{2})/(\d{2})/")


def collapse_day_prefixes(places: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """(bucket, prefix) pairs with every whole month of `.../YYYY/MM/DD/` day prefixes replaced
    by its `.../YYYY/MM/` prefix, then every whole year of months by `.../YYYY/`; other
    prefixes as they are. CloudTrail writes nothing but day folders under a month's folder."""
    unique = sorted(set(places))
    months: dict[tuple[str, str, int, int], set[int]] = {}
    for bucket, prefix in unique:
        found = _DAY_PREFIX.fullmatch(prefix)
        if found and _valid_day(found):
            months.setdefault((bucket, found[1] or "", int(found[2]), int(found[3])), set()).add(int(found[4]))
    whole_months = {key for key, seen in months.items() if len(seen) == calendar.monthrange(key[2], key[3])[1]}
    years: dict[tuple[str, str, int], set[int]] = {}
    for bucket, head, year, month in whole_months:
        years.setdefault((bucket, head, year), set()).add(month)
    whole_years = {key for key, seen in years.items() if len(seen) == 12}
    kept: set[tuple[str, str]] = set()
    for bucket, prefix in unique:
        found = _DAY_PREFIX.fullmatch(prefix)
        if found and _valid_day(found):
            head, year, month = found[1] or "", int(found[2]), int(found[3])
            if (bucket, head, year) in whole_years:
                kept.add((bucket, f"{head}{year:04d}/"))
                continue
            if (bucket, head, year, month) in whole_months:
                kept.add((bucket, f"{head}{year:04d}/{month:02d}/"))
                continue
        kept.add((bucket, prefix))
    return sorted(kept)


def _valid_day(found: re.Match[str]) -> bool:
    try:
        dt.date(int(found[2]), int(found[3]), int(found[4]))
    except ValueError:
        return False
    return True


def describe(plan: PartitionPlan, estimate: ScanEstimate | None, limit: int = 20) -> list[str]:
    """The lines a run prints before it queries: the filter, the partitions, the estimate."""
    lines = [f"table {plan.table}: partition filter {plan.where}",
             f"partitions read: {len(plan.partitions)}"]
    shown = plan.partitions if len(plan.partitions) <= limit else plan.partitions[: limit - 1]
    for partition in shown:
        lines.append(f"  {partition.label()}" + (f"  {partition.location}" if partition.location else ""))
    if len(shown) < len(plan.partitions):
        last = plan.partitions[-1]
        lines.append(f"  ... {len(plan.partitions) - len(shown) - 1} more ...")
        lines.append(f"  {last.label()}" + (f"  {last.location}" if last.location else ""))
    lines.extend(f"note: {note}" for note in plan.notes)
    if estimate is not None:
        lines.append(f"scan estimate: {format_bytes(estimate.bytes)} ({estimate.bytes:,} bytes compressed) in "
                     f"{estimate.objects:,} objects under {estimate.prefixes:,} prefixes"
                     + (f", {estimate.empty_prefixes:,} of them empty" if estimate.empty_prefixes else ""))
        if estimate.unknown:
            lines.append(f"scan estimate leaves out {len(estimate.unknown)} partitions with no S3 location")
    return lines


def format_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if count < 1024 or unit == "TiB":
            return f"{count:,.0f} {unit}" if unit == "B" else f"{count:,.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")
