"""`load_records` lets DuckDB's JSON reader build the rows; `table_row` (the SerDe's rules in Python)
stays the reference. Every table loaded here is compared, row for row and column for column, with
the table the reference loader fills: `table_row` for each record, written as JSON lines and read
with the table's own types (how `load_records` loaded before)."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import duckdb
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sql.corpus import project_events, shared_events
from trailguard.backtest import from_detection_ids
from trailguard.sql import duckdb_engine
from trailguard.sql.table import (ARRAY, FIELDS_BY_COLUMN, MAP, RAW_COLUMN, STRUCT, TABLE, Field, _load_plan, _shown,
                                  RecordLoader, _struct_plan, create_table, duckdb_columns, load_records, loadable_paths,
                                  table_row)


def reference_rows(records: list[Any]) -> list[tuple[Any, ...]]:
    """The rows `table_row` gives, loaded by DuckDB with the table's declared types."""
    con = duckdb.connect()
    create_table(con, "reference")
    columns = duckdb_columns()
    handle, path = tempfile.mkstemp(suffix=".ndjson")
    try:
        with os.fdopen(handle, "wb") as out:
            for record in records:
                out.write(orjson.dumps(table_row(record)) + b"\n")
        if records:
            spec = "{" + ", ".join(f"'{name}': '{type_}'" for name, type_ in columns.items()) + "}"
            con.execute(f"INSERT INTO reference SELECT * FROM read_json(?, format = 'newline_delimited', "
                        f"columns = {spec})", [path])
    finally:
        os.unlink(path)
    return con.execute("SELECT * FROM reference ORDER BY rowid").fetchall()


def loaded_rows(records: list[Any], columns: Any = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    assert load_records(con, records, columns=columns) == len(records)
    return con.execute("SELECT * FROM cloudtrail ORDER BY rowid").fetchall()


def assert_loaded_as_reference(records: list[Any]) -> None:
    assert loaded_rows(records) == reference_rows(records)


def test_project_events_load_as_the_reference() -> None:
    events = project_events()
    assert len(events) > 20
    assert_loaded_as_reference(events)


def test_shared_real_events_load_as_the_reference() -> None:
    events = shared_events()
    if not events:
        pytest.skip("../shared is not present")
    assert_loaded_as_reference(events)


def test_real_events_take_the_readers_way_and_odd_ones_the_reference_way() -> None:
    plan = _struct_plan(TABLE)
    events = project_events() + shared_events()
    assert all(_shown(plan, event) is not None for event in events), "real events are shaped by DuckDB, not table_row"
    odd = [{"EventName": "X"}, {"eventName": "a", "EVENTNAME": "b"}, {"vpcEndpointId": 1.5},
           {"eventName": {"a": 1e16}}, {"userIdentity": "root"}, {"resources": ["x"]},
           {"userIdentity": {"sessionContext": {"webIdFederationData": {"attributes": {"n": 3}}}}},
           {"userIdentity": {"sessionContext": {"sessionIssuer": {"UserName": "admin"}}}}]
    assert all(_shown(plan, record) is None for record in odd)
    assert_loaded_as_reference(odd + events[:5])


def test_the_line_of_a_plain_record_is_not_the_reference_but_its_row_is() -> None:
    # what the reader is handed is the record itself, JSON-text columns dumped; the row is the same
    record = {"eventName": "A", "readOnly": True, "vpcEndpointId": 18446744073709551615, "eventTime": "2026-01-02T03:04:05Z",
              "requestParameters": {"n": 1e16, "s": "a\u2028\x01\"\\/é"}, "managementEvent": False, "_raw": "mine",
              "_RAW": "mine too", "userIdentity": {}, "resources": [], "tlsDetails": None}
    line = orjson.loads(_load_plan(None).line(record))
    assert line["requestParameters"] == orjson.dumps(record["requestParameters"]).decode()
    assert line[RAW_COLUMN] == orjson.dumps(record).decode()
    assert_loaded_as_reference([record])


def masked(value: Any, field: Field, path: str, chosen: set[str]) -> Any:
    """A reference value with what `chosen` leaves out as NULL (a struct keeps its named members)."""
    if path in chosen or value is None:
        return value
    if field.kind != STRUCT or not any(name.startswith(path + ".") for name in chosen):
        return None
    return {child.name: masked(value[child.name], child, f"{path}.{child.name}", chosen) for child in field.fields}


def assert_chosen_as_reference(records: list[Any], chosen: list[str]) -> None:
    names = list(duckdb_columns())
    rows = loaded_rows(records, chosen)
    want = [[masked(value, FIELDS_BY_COLUMN.get(name, Field(name, name, "string")), name, set(chosen))
             for name, value in zip(names, row)] for row in reference_rows(records)]
    assert [list(row) for row in rows] == want, chosen


def test_chosen_columns_are_the_references_and_the_others_null() -> None:
    events = project_events() + shared_events()
    names = list(duckdb_columns())
    for chosen in (["eventname"], ["useridentity", "region", "day"], ["requestparameters", RAW_COLUMN],
                   ["year", "month"], names[::3], names, ["useridentity.arn", "useridentity.type"],
                   ["useridentity.sessioncontext.sessionissuer", "useridentity.onbehalfof.userid", "resources"],
                   ["useridentity.sessioncontext.webidfederationdata.attributes", "tlsdetails.tlsversion"]):
        assert_chosen_as_reference(events, chosen)
    odd = [{"userIdentity": {"ARN": "a", "Type": "b", "type": "c", "sessionContext": {"SessionIssuer": {}}}},
           {"userIdentity": {"arn": 1.5, "accessKeyId": 2.5}}, {"userIdentity": {"arn": "x", "accessKeyId": 2.5}}]
    assert_chosen_as_reference(odd, ["useridentity.arn", "useridentity.type"])


def test_an_unknown_column_is_named() -> None:
    with pytest.raises(ValueError, match=r"columns \['eventName'\]: allowed eventversion, "):
        load_records(duckdb.connect(), [{}], columns=["eventName"])


def test_the_engine_loads_every_column_its_query_names() -> None:
    query = duckdb_engine.prepare(from_detection_ids(["all"]))
    read = duckdb_engine.columns_read(query.sql)
    assert {"eventtime", "eventname", "eventsource", "useridentity.arn", "errorcode", "additionaleventdata",
            "requestparameters"} <= read  # monitoring-tampering reads requestParameters.name / .rule
    assert RAW_COLUMN not in read and "serviceeventdetails" not in read and "useridentity" not in read
    assert "tlsdetails" not in read and "resources" not in read
    assert duckdb_engine.columns_read("""SELECT "eventname", x FROM t WHERE errorcode = 'readonly''s eventid'""") == \
        {"eventname", "errorcode"}
    assert duckdb_engine.columns_read("SELECT t.useridentity.sessioncontext.sessionissuer.arn, tlsdetails IS NULL, "
                                      'useridentity."Type", useridentity.nothing, '
                                      "useridentity.sessioncontext.webidfederationdata.attributes['sub'] FROM t") == {
        "useridentity.sessioncontext.sessionissuer.arn", "tlsdetails", "useridentity.type", "useridentity",
        "useridentity.sessioncontext.webidfederationdata.attributes"}
    assert read <= set(loadable_paths())


# ------------------------------------------------------------------ generated records, odd ones included

KEY_SPELLINGS = st.sampled_from(["as CloudTrail"] * 6 + ["lower", "upper", "swapped", "both"])  # mostly plain
UNDECLARED = ["managementEvent", "identityProvider", "_raw", "_RAW", "Extra", "x"]

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**63, max_value=2**64 - 1),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=6))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)), max_leaves=6)
strings = st.one_of(st.text(max_size=8), st.sampled_from(["2026-01-02T03:04:05Z", "eu-west-1", "", "é\u2028\x00"]))


@st.composite
def values(draw: Any, field: Field) -> Any:
    if field.kind in (STRUCT, ARRAY):
        if draw(st.integers(0, 5)) == 0:
            return draw(json_values)  # the wrong shape: NULL (or NULL elements)
        if field.kind == ARRAY:
            return draw(st.lists(st.one_of(members(field), json_scalars), max_size=3))
        return draw(members(field))
    if field.kind == MAP:
        return draw(st.one_of(st.dictionaries(st.text(max_size=3), st.one_of(strings, json_scalars), max_size=3),
                              json_values))
    return draw(st.one_of(strings, strings, json_values))


@st.composite
def members(draw: Any, field: Field) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in draw(st.lists(st.sampled_from(field.fields), max_size=len(field.fields), unique=True)):
        spelling = draw(KEY_SPELLINGS)
        keys = {"as CloudTrail": [child.key], "lower": [child.name], "upper": [child.key.upper()],
                "swapped": [child.key.swapcase()], "both": [child.key, child.key.upper()]}[spelling]
        for key in keys:
            out[key] = draw(values(child))
    for key in draw(st.lists(st.sampled_from(UNDECLARED), max_size=2, unique=True)):
        out[key] = draw(json_values)
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(members(TABLE), min_size=1, max_size=6))
def test_generated_records_load_as_the_reference(records: list[dict[str, Any]]) -> None:
    assert_loaded_as_reference(records)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(members(TABLE), min_size=1, max_size=6),
       st.lists(st.sampled_from(loadable_paths()), min_size=1, unique=True))
def test_generated_records_load_chosen_columns_as_the_reference(records: list[dict[str, Any]],
                                                                chosen: list[str]) -> None:
    assert_chosen_as_reference(records, chosen)


def test_streamed_batches_insert_in_order_as_the_reference() -> None:
    events = project_events() + shared_events()
    con = duckdb.connect()
    with RecordLoader(con, lines_per_insert=7) as loader:
        for start in range(0, len(events), 5):
            loader.add(events[start:start + 5])
        assert loader.finish() == len(events)
    assert con.execute("SELECT * FROM cloudtrail ORDER BY rowid").fetchall() == reference_rows(events)


def test_a_failed_insert_is_raised_and_leaves_no_file(tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    con = duckdb.connect()
    con.execute("CREATE TABLE cloudtrail (x INTEGER)")  # not the CloudTrail table: every insert fails
    with pytest.raises(duckdb.BinderException, match="eventversion"):
        with RecordLoader(con, lines_per_insert=2) as loader:
            loader.add(project_events()[:3])  # the first insert is handed over here
            assert con.execute("SELECT 1").fetchone() == (1,), "the caller's connection stays free meanwhile"
            loader.add(project_events()[:3])
            loader.finish()
    assert list(tmp_path.iterdir()) == []
