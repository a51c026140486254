"""Waiting for a server a benchmark started: poll its ``/healthz`` until it answers, or fail with a reason."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Callable


def wait_until_healthy(
    base: str,
    process: subprocess.Popen[bytes],
    *,
    seconds: float,
    what: str,
    pause: float = 0.2,
    detail: Callable[[], str] = lambda: "",
) -> None:
    """Return once ``base``/healthz answers; RuntimeError when ``process`` exits or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start on {base}{detail()}") from None
            time.sleep(pause)
