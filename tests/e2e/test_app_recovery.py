"""Nothing left running, nothing lost, nothing leaked — the real app as a subprocess."""

from __future__ import annotations

import sqlite3
import sys
import time
from typing import Any
from pathlib import Path

import pytest

from tests.e2e.app_process import AppProcess, app_environment, cloud_environment
from tests.fakes.cloud_server import FakeCloud

pytestmark = pytest.mark.e2e


@pytest.fixture
def cloud_options() -> dict[str, Any]:
    return {"manual_steps": True}


def test_after_sigkill_mid_task_the_session_is_offered_and_the_history_intact(cloud: FakeCloud, tmp_path: Path) -> None:
    basedir = tmp_path / "handoff"
    with AppProcess(["--basedir", str(basedir), "--no-err-windows", "--backend", "cloud", "--task", "Fill in the long form"], cloud_environment(cloud)) as first:
        first.wait_for_event("task_created", timeout=90)
        cloud.add_step(goal="Open the form")
        cloud.add_step(goal="Fill in the first page")
        first.wait_for(lambda: first.event_names().count("agent_step") == 2, what="two steps")
        first.process.kill()
        assert first.wait_exit() == -9
    [session_id] = list(cloud.sessions)
    assert cloud.sessions[session_id].status == "active"  # billed, and nobody stopped it

    with AppProcess(["--basedir", str(basedir), "--no-err-windows", "--backend", "cloud"], cloud_environment(cloud)) as second:
        found = second.wait_for_event("left_running_found", timeout=90)
        code = second.terminate_and_wait()
    assert code == 0, second.stderr
    assert found["sessions"] == [session_id]
    # The history written before the kill is all there.
    with sqlite3.connect(basedir / "data" / "history.sqlite3") as db:
        session = db.execute("SELECT id, backend_kind, ended_at FROM sessions").fetchall()
        kinds = [row[0] for row in db.execute("SELECT kind FROM events WHERE session_id = ? ORDER BY seq", (session_id,))]
    assert session == [(session_id, "cloud", None)]
    assert kinds == ["SessionStarted", "TaskStarted", "AgentStep", "AgentStep"]


def test_no_key_and_no_live_url_is_left_in_any_file_or_log(cloud: FakeCloud, tmp_path: Path) -> None:
    cloud.manual_steps = False
    cloud.step_interval = 0.2
    basedir = tmp_path / "handoff"
    with AppProcess(["--basedir", str(basedir), "--no-err-windows", "--backend", "cloud", "--task", "Look around the shop"], cloud_environment(cloud)) as app:
        app.wait_for_event("task_finished", timeout=90)
        code = app.terminate_and_wait()
    assert code == 0, app.stderr
    [session] = cloud.sessions.values()
    live_url = f"{cloud.origin}/live/{session.id}?token={session.token}"
    secrets = [cloud.api_key, session.token, live_url]
    files = [p for p in basedir.rglob("*") if p.is_file()]
    assert any(p.name == "history.sqlite3" for p in files) and any(p.suffix == ".log" for p in files)
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"{secret[:12]}… found in {path.relative_to(basedir)}"
    for secret in secrets:
        assert secret not in app.stderr and secret not in "\n".join(app.stdout_lines)


def test_a_second_launch_brings_the_first_forward(tmp_path: Path) -> None:
    basedir = tmp_path / "handoff"
    env = app_environment()
    with AppProcess(["--basedir", str(basedir), "--no-err-windows", "--backend", "local"], env) as first:
        first.wait_for_event("app_started", timeout=90)
        started = time.monotonic()
        with AppProcess(["--basedir", str(basedir), "--no-err-windows", "--backend", "local"], env) as second:
            assert second.wait_exit(60) == 0, second.stderr
        assert "already_running" in second.event_names() and "app_started" not in second.event_names()
        assert time.monotonic() - started < 30
        first.wait_for(lambda: "Another launch asked for this window" in first.stderr, what="the first window to be asked")
        code = first.terminate_and_wait()
    assert code == 0


@pytest.mark.parametrize("qt_first", [False, True], ids=["from-source", "qt-imported-first-like-a-frozen-build"])
def test_a_temporary_basedir_is_gone_after_exit(tmp_path: Path, qt_first: bool) -> None:
    # A frozen build imports PySide6 before main() (PyInstaller's runtime hook); the removal must
    # not depend on the order of exit handlers.
    command = [sys.executable, "-c", "import PySide6.QtWidgets, sys; from desktop_app.app import main; sys.exit(main())"]
    env = app_environment(TMPDIR=str(tmp_path))
    with AppProcess(["--temp-basedir", "--no-err-windows", "--smoke-test"], env, command=command if qt_first else None) as app:
        assert app.wait_exit() == 0, app.stderr
    assert list(tmp_path.iterdir()) == []
