from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

from desktop_app.system.crash import CrashReporter
from desktop_app.core.redaction import redactor


def test_a_crash_report_is_written_redacted_with_recent_log_lines(tmp_path: Path) -> None:
    redactor.add_secret("bu_crash_secret_0987654321")
    logging.getLogger("handoff.test").warning("just before the crash")
    reporter = CrashReporter(tmp_path / "crashes")
    told: list[tuple[Path, str]] = []
    reporter.on_report = lambda path, summary: told.append((path, summary))
    try:
        raise ValueError("key bu_crash_secret_0987654321 rejected")
    except ValueError as error:
        path = reporter.report(type(error), error, error.__traceback__, where="main thread")
    text = path.read_text()
    assert "ValueError" in text and "bu_crash_secret_0987654321" not in text and "[redacted]" in text
    assert told == [(path, "ValueError: key [redacted] rejected")]


def test_installed_hooks_catch_uncaught_errors_in_threads_and_the_loop(tmp_path: Path) -> None:
    import threading

    reporter = CrashReporter(tmp_path / "crashes")
    reporter.install()
    try:
        assert sys.excepthook == reporter._excepthook
        thread = threading.Thread(target=lambda: 1 / 0, name="worker")
        thread.start()
        thread.join()
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(reporter.loop_exception_handler)
        loop.call_exception_handler({"message": "boom", "exception": RuntimeError("in a callback")})
        loop.close()
        sys.excepthook(KeyError, KeyError("missing"), None)
    finally:
        reporter.uninstall()
    reports = sorted((tmp_path / "crashes").glob("crash-*.txt"))
    texts = " ".join(p.read_text() for p in reports)
    assert len(reports) == 3 and "ZeroDivisionError" in texts and "in a callback" in texts and "KeyError" in texts
    assert (tmp_path / "crashes" / "fatal-errors.log").exists()
    assert sys.excepthook is not reporter._excepthook
