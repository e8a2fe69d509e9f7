"""moto's Athena, Glue and S3 as one real server process on 127.0.0.1, for the Athena engine's tests.

moto 5.2.5 runs no SQL: a query's rows are queued beforehand through its results-injection
endpoint (`/moto-api/static/athena/query-results`), its state advances as the state manager says
(`/moto-api/state-manager/set-transition`, model `athena::execution`), and its Athena has no
GetTableMetadata, so the table's layout is read from Glue GetTable (which is what Athena's own
catalogue is for AwsDataCatalog tables).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Any, Iterator, Mapping, Sequence

import boto3

from bench.local_s3 import free_port

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


@contextlib.contextmanager
def moto_server_checking_iam(unchecked_calls: int, timeout: float = 30.0) -> Iterator[str]:
    """A moto server that checks IAM policies after its first `unchecked_calls` calls (moto's
    INITIAL_NO_AUTH_ACTION_COUNT): those create the user, its policy and its access key."""
    port = free_port()
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT=str(unchecked_calls))
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto server did not start on port {port}") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def user_allowed(endpoint: str, name: str, actions: Sequence[str]) -> Any:
    """A boto3 session for a new IAM user whose only policy allows `actions` on everything
    (three calls: CreateUser, PutUserPolicy, CreateAccessKey)."""
    iam = session().client("iam", endpoint_url=endpoint)
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="backtest", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.session.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                                 region_name=REGION)
