"""A venue's web server on loopback for the feed tests: fixed pages by path, anything else 404."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def ics(*events: tuple[str, str, str, str | None]) -> bytes:
    """A calendar of (uid, Berlin start ``YYYYMMDDTHHMMSS``, title, location or None) events."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Konzerthaus//DE"]
    for uid, start, title, location in events:
        lines += ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTART;TZID=Europe/Berlin:{start}", f"SUMMARY:{title}"]
        lines += [f"LOCATION:{location}"] if location else []
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


@contextmanager
def venue_site(pages: Mapping[str, bytes]) -> Iterator[str]:
    """Serve ``pages`` (path → body; ``.ics`` as text/calendar, the rest as HTML) at the yielded base URL."""

    class Served(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            body = pages.get(path)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            kind = "text/calendar" if path.endswith(".ics") else "text/html"
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Served)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
