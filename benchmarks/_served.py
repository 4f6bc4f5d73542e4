"""Start ``ontraport-pandas sandbox serve`` in a subprocess on a free loopback port, for the benchmarks."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ontraport_pandas.sandbox import DEMO_API_KEY, DEMO_APP_ID

__all__ = ["DEMO_API_KEY", "DEMO_APP_ID", "served_sandbox"]


@contextmanager
def served_sandbox(
    *,
    contacts: int,
    latency: float,
    rate_limit: int | None,
    path: str | None = None,
    seed: int = 0,
    port: int = 0,
) -> Iterator[str]:
    """Yield the base URL of a sandbox served by a child process; stop it afterwards.

    ``port`` serves on a given port (0: a free one), so that a client keeps its URL when
    the same store is served again with another latency or rate limit.
    """
    cmd = [
        sys.executable,
        "-m",
        "ontraport_pandas",
        "sandbox",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--contacts",
        str(contacts),
        "--seed",
        str(seed),
        "--latency",
        str(latency),
        "--rate-limit",
        "none" if rate_limit is None else str(rate_limit),
    ]
    if path:
        cmd += ["--path", path]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 300
        url = None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            m = re.search(r"(http://127\.0\.0\.1:\d+/1/)", line)
            if m:
                url = m.group(1)
                break
        if url is None:
            raise RuntimeError("the sandbox server did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
