"""Unexpected errors: a redacted crash report in the data directory, and whoever wants to know is told.

Covers ``sys.excepthook`` (also exceptions in Qt slots), ``threading.excepthook``, the asyncio
loop's exception handler, and ``faulthandler`` for hard crashes (it writes only code locations).
"""

from __future__ import annotations

import faulthandler
import itertools
import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from desktop_app import __version__
from desktop_app.system.logs import log_event, recent_lines
from desktop_app.core.redaction import redactor

log = logging.getLogger(__name__)


class CrashReporter:
    def __init__(self, crash_dir: Path) -> None:
        self.crash_dir = crash_dir
        self.on_report: Callable[[Path, str], None] | None = None  # path, one-line summary
        self._fatal_file: TextIO | None = None
        self._previous_hooks: tuple[Any, Any] | None = None

    def install(self) -> None:
        self.crash_dir.mkdir(parents=True, exist_ok=True)
        self._previous_hooks = (sys.excepthook, threading.excepthook)
        sys.excepthook = self._excepthook
        threading.excepthook = self._thread_excepthook
        self._fatal_file = open(self.crash_dir / "fatal-errors.log", "a", encoding="utf-8")  # noqa: SIM115
        faulthandler.enable(file=self._fatal_file, all_threads=True)

    def uninstall(self) -> None:
        if self._previous_hooks is not None:
            sys.excepthook, threading.excepthook = self._previous_hooks
            self._previous_hooks = None
        if self._fatal_file is not None:
            faulthandler.disable()
            self._fatal_file.close()
            self._fatal_file = None

    def loop_exception_handler(self, loop: Any, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if error is None:
            log.error("Event loop problem: %s", context.get("message"))
            return
        self.report(type(error), error, error.__traceback__, where="event loop")

    def _excepthook(self, kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, tb)
            return
        self.report(kind, error, tb, where="main thread")

    def _thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            self.report(args.exc_type, args.exc_value, args.exc_traceback, where=f"thread {args.thread.name if args.thread else '?'}")

    def _new_report_path(self) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for number in itertools.count(1):
            path = self.crash_dir / f"crash-{stamp}-{number}.txt"
            if not path.exists():  # several errors within one second each get their own report
                return path
        raise AssertionError("unreachable")

    def report(self, kind: type[BaseException], error: BaseException, tb: TracebackType | None, *, where: str) -> Path | None:
        summary = redactor.redact(f"{kind.__name__}: {error}")
        details = redactor.redact("".join(traceback.format_exception(kind, error, tb)))
        path = self._new_report_path()
        text = "\n".join(
            [
                f"Handoff {__version__} — unexpected error in the {where}",
                f"Time: {time.strftime('%Y-%m-%d %H:%M:%S %z')}",
                f"Python {sys.version.split()[0]} on {sys.platform}",
                "",
                details,
                "Recent log lines:",
                *recent_lines()[-200:],
                "",
            ]
        )
        try:
            self.crash_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(redactor.redact(text), encoding="utf-8")
        except OSError as write_error:
            log.error("Could not write the crash report: %s", write_error)
            path = None
        log_event("crash", f"Unexpected error: {summary}", logging.ERROR, report=str(path) if path else None, where=where)
        if self.on_report is not None and path is not None:
            try:
                self.on_report(path, summary)
            except Exception:  # the reporter must never raise into the code that crashed
                log.exception("Could not tell the user about the crash")
        return path
