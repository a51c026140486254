"""Logging: readable on a terminal, one JSON object per line otherwise."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_CONTEXT_KEYS = ("source", "run_id", "status", "error", "route", "method", "path")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the source and run ids when present."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in _CONTEXT_KEYS:
            value = record.__dict__.get(key)
            if value is not None:
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def configure_logging(*, verbose: bool = False, stream: object = None) -> None:
    """Set up the root logger once for the process."""
    target = stream or sys.stderr
    handler: logging.Handler = logging.StreamHandler(target)  # type: ignore[arg-type]
    if getattr(target, "isatty", lambda: False)():
        from rich.logging import RichHandler

        handler = RichHandler(show_path=False)
    else:
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in (
        "urllib3",
        "apscheduler.executors.default",
        "sqlalchemy.engine",
        "httpx",
        "alembic",
        "apscheduler.scheduler",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
