"""A local HTTP server on 127.0.0.1 that misbehaves on request, for the scheduler's fault tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from scheduler_fakes import programme_page

SLOW_SECONDS = 1.5
GARBAGE = b"<html><body><div class='maintenance'>Wartung \xff\xfe\x00<<<>>></div></body></html>"
BAD_DATE = b'<ul id="programme"><li class="event" data-id="x" data-start="31.02.">A</li></ul>'


class _Handler(BaseHTTPRequestHandler):
    """Routes: ``/good/<source>?n=&title=``, ``/slow``, ``/500``, ``/429``, ``/truncated``,
    ``/garbage``, ``/empty``, ``/empty-programme``, ``/bad-date``."""

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        if path.startswith("/good/"):
            source = path.removeprefix("/good/")
            count, title = int(query.get("n", 8)), query.get("title", "Konzert")
            self._send(200, programme_page(source, count, title=title))
        elif path == "/slow":
            time.sleep(SLOW_SECONDS)
            self._send(200, programme_page("slow", 3))
        elif path == "/500":
            self._send(500, b"<h1>Internal Server Error</h1>")
        elif path == "/429":
            self._send(429, b"slow down", {"Retry-After": "3600"})
        elif path == "/truncated":
            body = programme_page("truncated", 8)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 3])
            self.wfile.flush()
            self.close_connection = True
        elif path == "/garbage":
            self._send(200, GARBAGE)
        elif path == "/empty":
            self._send(200, b"")
        elif path == "/empty-programme":
            self._send(200, programme_page("empty", 0))
        elif path == "/bad-date":
            self._send(200, BAD_DATE)
        else:
            self._send(404, b"not found")

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout case)
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass(frozen=True, slots=True)
class FaultServer:
    """Where the server listens, and a port on which nothing listens."""

    base: str
    closed_port: int


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def fault_server() -> Iterator[FaultServer]:
    """Run the server in a thread for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield FaultServer(f"http://127.0.0.1:{server.server_address[1]}", _closed_port())
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
