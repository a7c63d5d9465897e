"""Logging: plain or JSON lines on stderr, a log file, a ring buffer for crash reports.

Every handler redacts (see redaction.py), so no key or live URL reaches a terminal, a file or a
crash report. ``log_event`` writes the named events end-to-end tests and operators look for
(``--json-logging`` puts them in an ``event`` field).
"""

from __future__ import annotations

import collections
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from desktop_app.core.redaction import redactor

EVENT_LOGGER = "handoff.events"
_RING_SIZE = 500
LOG_FILE_LIMIT = 2_000_000
LOG_FILES_KEPT = 3
# Third-party libraries that are chatty at INFO; their warnings still come through.
_QUIET_LOGGERS = ("browser_use", "bubus", "cdp_use", "httpx", "httpcore", "websockets", "asyncio")
# Loggers that write what passes through them, not what happens: qasync logs the result of every
# call run in a worker thread (asyncio.to_thread) at DEBUG — the page as the agent reads it, with
# what the person typed. Warnings only, even with --debug.
_SILENT_LOGGERS = ("qasync",)


# Third-party messages that say nothing is wrong for Handoff (kept in the log file).
KNOWN_NOISE = (
    # browser-use asks the browser for permissions; Handoff's built-in browser denies them all on purpose.
    ("browser_use", "Failed to grant permissions"),
)


def _not_known_noise(record: logging.LogRecord) -> bool:
    message = record.getMessage()
    return not any(record.name.startswith(source) and text in message for source, text in KNOWN_NOISE)


class RedactingFilter(logging.Filter):
    """Formats the message once, redacted, so no formatter ever sees the raw arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redactor.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redactor.redact(record.exc_text)
        # Tracebacks are already rendered into exc_text; drop the live objects (they hold locals).
        record.exc_info = None
        fields = getattr(record, "event_fields", None)
        if fields:
            record.event_fields = json.loads(redactor.redact(json.dumps(fields, default=str)))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        event = getattr(record, "event", None)
        if event:
            entry["event"] = event
            entry.update(getattr(record, "event_fields", None) or {})
        if record.exc_text:
            entry["traceback"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


class RingBufferHandler(logging.Handler):
    """The last few hundred lines, for crash reports."""

    def __init__(self, capacity: int = _RING_SIZE) -> None:
        super().__init__()
        self.lines: collections.deque[str] = collections.deque(maxlen=capacity)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


_ring = RingBufferHandler()


def recent_lines() -> list[str]:
    return list(_ring.lines)


def setup_logging(
    *, log_dir: Path | None, json_lines: bool, debug: bool = False, file_name: str = "handoff.log", process_ids: bool = False
) -> None:
    """``process_ids``: each line names its process (several agents' processes share ``agent.log``)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    plain = logging.Formatter("%(asctime)s %(levelname)-7s " + ("[%(process)d] " if process_ids else "") + "%(name)s: %(message)s")

    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(JsonFormatter() if json_lines else plain)
    if not json_lines and not debug:
        # A person at a terminal sees only what is wrong; the log file keeps everything.
        stderr.setLevel(logging.WARNING)
        stderr.addFilter(_not_known_noise)
    handlers: list[logging.Handler] = [stderr, _ring]
    _ring.setFormatter(plain)
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        log_file = log_dir / file_name
        rotate_at_start(log_file)
        file_handler = logging.FileHandler(log_file, encoding="utf-8")
        file_handler.setFormatter(plain)
        handlers.append(file_handler)
    redacting = RedactingFilter()
    for handler in handlers:
        # A filter on the handler (not the logger) also covers records propagated from children.
        handler.addFilter(redacting)
        root.addHandler(handler)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.WARNING)
    silence_data_loggers()
    logging.captureWarnings(True)


def silence_data_loggers() -> None:
    for name in _SILENT_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def rotate_at_start(path: Path, limit: int = LOG_FILE_LIMIT, kept: int = LOG_FILES_KEPT) -> None:
    """handoff.log → handoff.log.1 → … once it is over the limit (at start, not mid-run: it spares
    startup the ~8 ms logging.handlers costs to import, and one run's log stays in one file)."""
    try:
        if path.stat().st_size < limit:
            return
    except OSError:
        return
    try:
        for number in range(kept - 1, 0, -1):
            older = path.with_name(f"{path.name}.{number}")
            if older.exists():
                os.replace(older, path.with_name(f"{path.name}.{number + 1}"))
        os.replace(path, path.with_name(f"{path.name}.1"))
    except OSError:
        pass  # held open by another process (Windows): rotated at a later start


def log_event(event: str, message: str, level: int = logging.INFO, **fields: Any) -> None:
    logging.getLogger(EVENT_LOGGER).log(level, message, extra={"event": event, "event_fields": fields})
