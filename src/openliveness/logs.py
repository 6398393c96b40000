"""Server logging: one JSON object per line (or plain text), each carrying the request id of the request it
belongs to. What may be logged: methods, route paths, statuses, timings, addresses, ids, error types. What may
never be: headers (API keys, session tokens), bodies (images), query strings."""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = ["JsonFormatter", "RequestIds", "log_config", "request_ids"]


class RequestIds:
    __slots__ = ("client_request_id", "request_id")

    def __init__(self, request_id: str, client_request_id: str | None) -> None:
        self.request_id = request_id
        self.client_request_id = client_request_id


# Set by the request middleware for the duration of each request (tasks it spawns inherit it).
request_ids: ContextVar[RequestIds | None] = ContextVar("openliveness_request_ids", default=None)

# LogRecord attributes that are not user fields.
_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", "requestId", "clientRequestId", ...extra fields}`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        ids = request_ids.get()
        if ids is not None:
            entry["requestId"] = ids.request_id
            if ids.client_request_id:
                entry["clientRequestId"] = ids.client_request_id
        entry.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED and not k.startswith("_")})
        if record.exc_info and record.exc_info[0] is not None:
            # The type and where, not the message: exception texts can quote request data.
            entry["error"] = record.exc_info[0].__name__
            entry["trace"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ids = request_ids.get()
        line = super().format(record)
        return f"{line} [{ids.request_id}]" if ids is not None else line


def log_config(fmt: Literal["json", "text"], level: str = "info") -> dict[str, Any]:
    """A `logging.config.dictConfig` for the server and uvicorn (whose access log is replaced by ours)."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter}
        if fmt == "json"
        else {"()": _TextFormatter, "format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    handler = {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}
    loggers = {name: {"level": level.upper()} for name in ("uvicorn", "uvicorn.error", "openliveness")}
    loggers["uvicorn.access"] = {"level": "WARNING"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": "WARNING"},
        "loggers": loggers,
    }
