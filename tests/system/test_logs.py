from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from desktop_app.system.logs import log_event, recent_lines, setup_logging
from desktop_app.core.redaction import redactor


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)


def test_json_lines_carry_events_and_are_redacted(tmp_path: Path, capsys, restore_logging) -> None:
    redactor.add_secret("bu_event_secret_999")
    setup_logging(log_dir=tmp_path, json_lines=True)
    log_event("session_created", "Session bu_event_secret_999 started", session_id="s-1", note="bu_event_secret_999")
    try:
        raise RuntimeError("failed with bu_event_secret_999")
    except RuntimeError:
        logging.getLogger("x").exception("boom")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    event = lines[0]
    assert (event["event"], event["session_id"], event["level"]) == ("session_created", "s-1", "info")
    assert "bu_event_secret_999" not in json.dumps(lines)
    assert "[redacted]" in event["note"] and "RuntimeError" in lines[1]["traceback"]
    file_text = (tmp_path / "handoff.log").read_text()
    assert "boom" in file_text and "bu_event_secret_999" not in file_text
    assert any("boom" in line for line in recent_lines())


def test_plain_lines_by_default(capsys, restore_logging) -> None:
    setup_logging(log_dir=None, json_lines=False)
    logging.getLogger("handoff.test").warning("hello %s", "world")
    err = capsys.readouterr().err
    assert "WARNING" in err and "hello world" in err and not err.startswith("{")


def test_worker_results_stay_out_of_the_log_even_with_debug(tmp_path: Path, restore_logging) -> None:
    """qasync logs each worker thread's result at DEBUG: the page as the agent reads it."""
    setup_logging(log_dir=tmp_path, json_lines=False, debug=True)
    logging.getLogger("qasync._QThreadWorker").debug("Setting Future result: %s", "the page, with Ada's card")
    logging.getLogger("handoff.test").debug("a debug line of our own")
    logging.getLogger("qasync").warning("a qasync warning")
    file_text = (tmp_path / "handoff.log").read_text()
    assert "a debug line of our own" in file_text and "a qasync warning" in file_text
    assert "Ada's card" not in file_text


def test_the_log_is_rotated_at_start_once_it_is_large(tmp_path: Path) -> None:
    from desktop_app.system.logs import rotate_at_start

    log = tmp_path / "handoff.log"
    for generation in range(5):
        log.write_text(f"run {generation}\n" * 10)
        rotate_at_start(log, limit=50, kept=3)
    assert not log.exists()
    assert [p.name for p in sorted(tmp_path.iterdir())] == ["handoff.log.1", "handoff.log.2", "handoff.log.3"]
    assert (tmp_path / "handoff.log.1").read_text().startswith("run 4")
    small = tmp_path / "small.log"
    small.write_text("x")
    rotate_at_start(small, limit=50)
    assert small.exists()
