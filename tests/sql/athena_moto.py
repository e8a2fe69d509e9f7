"""moto's Athena, Glue and S3 as one real server process on 127.0.0.1, for the Athena engine's tests.

moto 5.2.5 runs no SQL: a query's rows are queued beforehand through its results-injection
endpoint (`/moto-api/static/athena/query-results`), its state advances as the state manager says
(`/moto-api/state-manager/set-transition`, model `athena::execution`), and its Athena has no
GetTableMetadata, so the table's layout is read from Glue GetTable (which is what Athena's own
catalogue is for AwsDataCatalog tables).
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any, Mapping, Sequence

import boto3

REGION = "us-east-1"
ACCOUNT = "123456789012"


def session() -> Any:
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)


def post(endpoint: str, path: str, body: Mapping[str, Any] | None = None) -> None:
    data = json.dumps(body or {}).encode()
    request = urllib.request.Request(endpoint + path, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status in (200, 201), answer.status


def reset(endpoint: str) -> None:
    post(endpoint, "/moto-api/reset")
    post(endpoint, "/moto-api/state-manager/unset-transition", {"model_name": "athena::execution"})


def queue_results(endpoint: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[str | None]],
                  header: bool = True) -> None:
    """Queue one query result: `columns` as (name, Athena type), `rows` as text (None: NULL);
    with `header`, the first row holds the column names, as Athena's first page does."""
    def row(values: Sequence[str | None]) -> dict[str, Any]:
        return {"Data": [{} if value is None else {"VarCharValue": value} for value in values]}

    body_rows = ([row([name for name, _ in columns])] if header else []) + [row(values) for values in rows]
    info = [{"Name": name, "Label": name, "Type": kind, "Nullable": "UNKNOWN", "CaseSensitive": False}
            for name, kind in columns]
    post(endpoint, "/moto-api/static/athena/query-results",
         {"account_id": ACCOUNT, "region": REGION, "results": [{"rows": body_rows, "column_info": info}]})


def hold_queries(endpoint: str, polls: int) -> None:
    """Each query state (QUEUED, RUNNING) lasts `polls` GetQueryExecution calls."""
    post(endpoint, "/moto-api/state-manager/set-transition",
         {"model_name": "athena::execution", "transition": {"progression": "manual", "times": polls}})
