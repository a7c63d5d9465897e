"""Starting without a display says so and exits, before Qt aborts with a core dump."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from desktop_app.app import display_problem
from tests.conftest import REPO_ROOT

NO_DISPLAY = "No display found (DISPLAY/WAYLAND_DISPLAY unset)"


def test_no_display_is_said_before_qt_starts() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "desktop_app", "--temp-basedir"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr  # not 134 (SIGABRT): no core dump
    assert done.stderr.startswith(NO_DISPLAY), done.stderr
    assert "xcb" not in done.stderr and "Aborted" not in done.stderr


def test_a_display_or_a_platform_override_is_enough() -> None:
    assert display_problem({}, "linux").startswith(NO_DISPLAY)
    assert display_problem({"DISPLAY": ":0"}, "linux") is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({}, "win32") is None
    assert display_problem({}, "darwin") is None


@pytest.mark.e2e
def test_a_first_start_says_nothing_on_the_terminal_when_nothing_is_wrong() -> None:
    from tests.e2e.app_process import app_environment

    done = subprocess.run(
        [sys.executable, "-m", "desktop_app", "--temp-basedir", "--smoke-test"],
        cwd=REPO_ROOT, env=app_environment(), capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == []
    assert done.stdout == ""


@pytest.mark.e2e
def test_debug_still_shows_everything() -> None:
    from tests.e2e.app_process import app_environment

    done = subprocess.run(
        [sys.executable, "-m", "desktop_app", "--temp-basedir", "--smoke-test", "--debug"],
        cwd=REPO_ROOT, env=app_environment(), capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Smoke test passed" in done.stderr and "DevTools listening on ws://127.0.0.1:" in done.stderr
