"""moto's S3 server as a separate process on 127.0.0.1, for the S3 tests and the benchmark.

Both need a real HTTP endpoint (boto3 talks to it exactly as to AWS), started on a free port and
stopped afterwards; moto[server] is a development requirement.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from typing import Iterator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def moto_server(timeout: float = 30.0) -> Iterator[str]:
    """Start `python -m moto.server` on a free port; yields its endpoint URL; stops it on exit."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto server did not start on {url}") from None
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
