"""Log records as JSON lines (production) or one readable line each (a person at a terminal).

JSON: one object per line with `time`, `level`, `service`, `logger`, `message`, the ids bound in
`servicekit.logcontext` (request_id, event_id, correlation_id, session_id, user_id), then the record's `extra`
fields, and `exc_info` / `stack_info` as strings. Written with the standard library's `json`: a formatter of
30 lines needs no dependency (python-json-logger would add one for the same output; structlog would change how
every module logs).

Text: `time level service logger: message key=value ...` (the ids and extras as key=value).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from servicekit.logcontext import bound

LogFormat = Literal["json", "text"]

_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
    "taskName",
}
_MARK = "_servicekit_handler"
_IDS = "_servicekit_ids"


def _remember_ids(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    """Each record keeps the ids bound where it was MADE (a handler that formats later, in another task or
    thread, still writes the right ones)."""

    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        setattr(record, _IDS, bound())
        return record

    setattr(make, _IDS, True)
    return make


if not getattr(logging.getLogRecordFactory(), _IDS, False):
    logging.setLogRecordFactory(_remember_ids(logging.getLogRecordFactory()))


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """The ids bound where the record was made, then the record's own `extra` (which wins)."""
    fields = dict(getattr(record, _IDS, None) or bound())
    fields.update((k, v) for k, v in vars(record).items() if k not in _STANDARD_ATTRS and not k.startswith("_"))
    return fields


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _fields(record).items():
            line.setdefault(key, value)
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class LineFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_time(record)} {record.levelname:<7} {self.service} {record.name}: {record.getMessage()}"
        extras = _fields(record)
        if extras:
            line += " " + " ".join(f"{k}={v!r}" if isinstance(v, str) and " " in v else f"{k}={v}"
                                   for k, v in extras.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


def formatter(service: str, fmt: LogFormat) -> logging.Formatter:
    return JsonFormatter(service) if fmt == "json" else LineFormatter(service)


def configure_logging(service: str, level: str = "INFO", fmt: LogFormat = "json") -> None:
    """Send every record to stderr as `fmt` (JSON lines by default). Calling it again replaces, never duplicates."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    setattr(handler, _MARK, True)
    handler.setFormatter(formatter(service, fmt))
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn installs its own handlers; route its records through ours so every line looks the same.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uv = logging.getLogger(name)
        uv.handlers.clear()
        uv.propagate = True
    # One line per outgoing HTTP request (JWKS fetches) is noise at INFO.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
