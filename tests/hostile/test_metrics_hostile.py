"""``/metrics`` on a real server: a scrape announcing a chunked body it never sends is answered at once."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from _push_fixtures import API_NOW
from sqlalchemy.orm import Session, sessionmaker

from aggregator.config import Settings
from calendar_api.app import create_app
from stadtkalender.extensions import METRICS

pytestmark = pytest.mark.realtime  # a real uvicorn server on a socket


@pytest.fixture
def server(settings: Settings, engine: Any, factory: sessionmaker[Session]) -> Iterator[int]:
    """The app on a uvicorn server on loopback; yields its port."""
    from _data import SPECS
    from calendar_rows import Runtime

    app = create_app(Runtime(settings, engine, factory, SPECS), clock=lambda: API_NOW, extensions=(METRICS,))
    running = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield running.servers[0].sockets[0].getsockname()[1]
    running.should_exit = True
    thread.join(timeout=10)


def _ask(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.settimeout(5)
        connection.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_chunked_scrape_without_a_body_is_answered(server: int, method: str) -> None:
    request = f"{method} /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    try:
        answer = _ask(server, request)
    except TimeoutError:
        pytest.fail("/metrics did not answer within 5 s a request whose chunked body never came")
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert b"text/plain" in answer.split(b"\r\n\r\n")[0]


def test_a_plain_scrape_still_gets_the_metrics(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server), timeout=5) as connection:
        connection.settimeout(5)
        connection.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")
    assert b"stadtkalender_" in answer
