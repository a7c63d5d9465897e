"""Restart: a Cloud run asked for Local mode closes and starts again, now with its DevTools port.

The app has no test hook: a few lines run before ``main()`` press Restart (``restart_in``, what the
notice's button calls) once the window is attached, as in test_app_recovery's frozen-order run.
"""

from __future__ import annotations

import sys
import time

import psutil
import pytest

from tests.e2e.app_process import AppProcess, cloud_environment
from tests.fakes.cloud_server import FakeCloud

pytestmark = pytest.mark.e2e

PRESS_RESTART = """
import sys
from desktop_app.ui import main_window

attach = main_window.MainWindow.attach

def attach_then_press_restart(self, services, **options):
    attach(self, services, **options)
    from PySide6.QtCore import QTimer
    QTimer.singleShot(0, lambda: self.restart_in("local"))

main_window.MainWindow.attach = attach_then_press_restart
from desktop_app.app import main
sys.exit(main())
"""


def events_named(app: AppProcess, name: str) -> list[dict]:
    with app._lock:
        return [e for e in app.events if e["event"] == name]


def until(condition, timeout: float, what: str, app: AppProcess):
    # The first process exits on purpose, so AppProcess.wait_for (which stops at its exit) does not fit.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; events: {app.event_names()}\n" + "\n".join(app.stderr_lines[-30:]))


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_restart_from_cloud_starts_a_local_run_with_its_port(cloud: FakeCloud) -> None:
    env = cloud_environment(cloud)
    command = [sys.executable, "-c", PRESS_RESTART]
    with AppProcess(["--temp-basedir", "--no-err-windows", "--backend", "cloud"], env, command=command) as app:
        assert app.process.wait(90) == 0, app.stderr
        restarting = until(lambda: events_named(app, "restarting"), 10, "the restart", app)[0]
        child = restarting["pid"]
        try:
            started = until(lambda: len(events_named(app, "app_started")) == 2 and events_named(app, "app_started"), 90, "the new run", app)
        finally:
            if not gone(child):
                psutil.Process(child).terminate()  # SIGTERM: it closes as the window would
            until(lambda: gone(child), 60, "the new run to exit", app)
    first, second = started
    assert (first["backend"], first["devtools_port"]) == ("cloud", False)
    assert (second["backend"], second["devtools_port"]) == ("local", True)
    assert restarting["backend"] == "local"
    names = app.event_names()
    assert names.index("restart_requested") < names.index("restarting") < len(names) - 1 - names[::-1].index("app_started")
    assert names.count("app_exiting") == 2  # both runs closed as the window would
