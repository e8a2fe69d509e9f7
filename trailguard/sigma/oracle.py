"""The independent oracle: which events a Sigma rule itself matches, by pySigma's SQLite backend.

A converted CloudWatch Logs pattern is only as right as the converter. To check it against
something that shares none of its code, the rule is converted a second time, by
pySigma-backend-sqlite (a separate project, with Sigma's case-insensitive matching), and the
query runs in an in-memory SQLite database holding the events.

How events become rows, which is the part a reader has to trust:

- Each event is stored whole as JSON text in a table, and a view named `events` (the table name
  the backend is given) exposes one column per field the rule reads, named exactly as the rule
  spells it (`userIdentity.arn`), which is how the backend quotes it (backticks).
- A column is `json_extract` of the dotted path through nested objects (`$."userIdentity"."arn"`).
- A field the event does not carry, or carries as JSON `null`, is SQL NULL: Sigma's `field: null`
  matches it, every comparison on it is false (the backend wraps each NOT in `COALESCE(.., 0)`,
  so `not filter` on an absent field is true, as Sigma means it).
- A path that crosses an array (`$.resources.ARN` where `resources` is a list) finds nothing and
  is NULL: a dotted path walks objects only, as CloudWatch's `$.a.b` does without an index.
- A field whose value is an object or an array is its JSON text, minified by SQLite
  (`{"status":"Suspended"}`), so `requestParameters|contains: Suspended` searches that text, as a
  SIEM that indexes the field as text would.
- JSON `true`/`false` are the strings 'true'/'false' (what Sigma rules compare against; the
  backend also accepts 1/0); numbers stay numbers and strings stay text.

A number in the rule (`maxKeys: 210`, `|gt`, `|gte`, `|lt`, `|lte`) is compared with numbers and
with strings that spell a number (`"210"`, as most SIEMs convert them), nothing else. This is the
one place the backend's SQL is changed (its number comparisons go through `trailguard_number(..)`):
SQLite ranks every text above every number, so the plain `field > 100` would call `"abc"` greater
than 100, and `field = 210` would not find `"210"`.

Matching is case-insensitive (`collate_nocase` for equality, LIKE for wildcards; `|cased` uses
GLOB), as Sigma specifies. `case_sensitive=True` evaluates the same rule with every comparison
case-sensitive: the verifier uses it to tell a disagreement caused by case from any other.
`|re` runs Python's `re.search`. Keyword (field-less) rules are refused: they need a full-text
column that says nothing about a CloudTrail field.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

TABLE = "events"
"""The view the backend's queries select from."""

EVENT_COLUMN = "trailguard_event"
"""The view's column holding the event's position in the input."""

_DOCUMENTS = "trailguard_documents"


class OracleError(ValueError):
    """The rule cannot be evaluated by the SQLite oracle (it says which rule and why)."""


@dataclass(frozen=True, slots=True)
class OracleQuery:
    """A rule as the SQLite backend converts it, and the fields its view must expose."""

    rule_id: str
    queries: tuple[str, ...]
    fields: tuple[str, ...]
    case_sensitive: bool


NUMBER_FUNCTION = "trailguard_number"
_NUMBER_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?\Z")


def number_value(value: Any) -> float | int | None:
    """A number, or a string spelling one, as a number; anything else None (never compared)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _NUMBER_TEXT.match(value.strip()):
        return float(value)
    return None


def _backend(case_sensitive: bool):
    from sigma.backends.sqlite import sqliteBackend

    class Backend(sqliteBackend):
        compare_op_expression = f"{NUMBER_FUNCTION}({{field}}) {{operator}} {{value}}"

        def convert_condition_field_eq_val_num(self, cond, state):
            return f"{NUMBER_FUNCTION}({self.escape_and_quote_field(cond.field)}){self.eq_token}{cond.value}"

    return Backend(table=TABLE, collate_nocase=not case_sensitive)


def oracle_query(rule: Any, *, case_sensitive: bool = False) -> OracleQuery:
    """`rule` (a pySigma `SigmaRule`) converted by pySigma's SQLite backend."""
    from sigma.exceptions import SigmaError

    backend = _backend(case_sensitive)
    rule_id = str(rule.id or rule.title)
    try:
        queries = backend.convert_rule(rule)
        if not queries:
            # a rule a correlation refers to is kept as a predicate for that correlation, not
            # emitted as a query: convert it again on its own
            queries = _backend(case_sensitive).convert_rule(type(rule).from_dict(rule.to_dict()))
    except SigmaError as error:
        raise OracleError(f"rule {rule_id}: the SQLite backend cannot convert it: {error}") from None
    if not queries:
        raise OracleError(f"rule {rule_id}: the SQLite backend gave no query for it")
    fields = tuple(backend.required_fields(rule))
    for field in fields:
        if '"' in field or not field.strip("."):
            raise OracleError(f"rule {rule_id}: field {field!r} cannot be read as a dotted JSON path")
    return OracleQuery(rule_id, tuple(queries), fields, case_sensitive)


def json_path(field: str) -> str:
    """`userIdentity.arn` -> `$."userIdentity"."arn"`: every key quoted, so any name is a key."""
    return "$" + "".join(f'."{part}"' for part in field.split("."))


def _quote_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _column(field: str) -> str:
    path = "'" + json_path(field).replace("'", "''") + "'"
    return (f"CASE json_type(doc, {path}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
            f"WHEN 'null' THEN NULL ELSE json_extract(doc, {path}) END AS {_quote_identifier(field)}")


def view_sql(fields: Iterable[str]) -> str:
    """The `CREATE TEMP VIEW` exposing `fields` of the stored events (see the module docstring)."""
    columns = ", ".join([f"position AS {EVENT_COLUMN}", *(_column(field) for field in fields)])
    return f"CREATE TEMP VIEW {TABLE} AS SELECT {columns} FROM {_DOCUMENTS}"


def _regexp(pattern: str, value: Any) -> bool:
    return value is not None and re.search(pattern, str(value)) is not None


def evaluate(query: OracleQuery, events: Sequence[Mapping[str, Any]]) -> list[bool]:
    """For each event, whether the rule matches it (in input order)."""
    connection = sqlite3.connect(":memory:")
    try:
        connection.create_function("regexp", 2, _regexp, deterministic=True)
        connection.create_function(NUMBER_FUNCTION, 1, number_value, deterministic=True)
        connection.execute(f"PRAGMA case_sensitive_like = {'ON' if query.case_sensitive else 'OFF'}")
        connection.execute(f"CREATE TEMP TABLE {_DOCUMENTS} (position INTEGER PRIMARY KEY, doc TEXT NOT NULL)")
        connection.executemany(f"INSERT INTO {_DOCUMENTS} VALUES (?, ?)",
                               ((i, json.dumps(event)) for i, event in enumerate(events)))
        connection.execute(view_sql(query.fields))
        matched: set[int] = set()
        for sql in query.queries:
            selected = sql.replace("SELECT * FROM", f"SELECT {EVENT_COLUMN} FROM", 1)
            try:
                matched.update(row[0] for row in connection.execute(selected))
            except sqlite3.Error as error:
                raise OracleError(f"rule {query.rule_id}: SQLite refused the backend's query {sql!r}: {error}") from None
        return [i in matched for i in range(len(events))]
    finally:
        connection.close()


def rule_matches(rule: Any, events: Sequence[Mapping[str, Any]], *, case_sensitive: bool = False) -> list[bool]:
    """For each event, whether the Sigma `rule` matches it, by the SQLite backend's query."""
    return evaluate(oracle_query(rule, case_sensitive=case_sensitive), events)
