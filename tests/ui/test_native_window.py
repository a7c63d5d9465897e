"""The main window keeps its native window for its whole life: re-creating it (a new X window id)
blanks the screen for a moment and loses keyboard focus — Ctrl+T did nothing until a click.

Qt re-creates a top-level's native window when a GPU-backed widget (the QWebEngineView) is first
shown, or moved in, after the window is on screen. Only a real X server shows it (the offscreen
platform keeps no native windows), so ``test_window_id_is_kept_under_xvfb`` runs the checks below
in a pytest under ``xvfb-run``; they skip themselves anywhere else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from desktop_app.core.control import Control
from desktop_app.services import Services
from tests.conftest import REPO_ROOT
from tests.fakes import scripted_llm as sl
from tests.helpers import wait_until
from tests.ui.actions import click
from tests.ui.conftest import dispose

UNDER_X = os.environ.get("HANDOFF_TEST_QPA") == "xcb"
needs_x = pytest.mark.skipif(not UNDER_X, reason="needs a real X server: run by test_window_id_is_kept_under_xvfb")
# Xvfb has no GPU either: WebEngine says so, in other words than offscreen.
x_gpu_messages = pytest.mark.qt_log_ignore("vulkan", "Vulkan", "Unable to detect GPU vendor")


@pytest.mark.skipif(UNDER_X or shutil.which("xvfb-run") is None, reason="needs xvfb-run (apt-get install xvfb xauth)")
def test_window_id_is_kept_under_xvfb(tmp_path: Path) -> None:
    env = dict(os.environ, HANDOFF_TEST_QPA="xcb")
    env.pop("DISPLAY", None)
    env.pop("QTWEBENGINE_REMOTE_DEBUGGING", None)  # this process's DevTools port: the inner run picks its own
    done = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1440x900x24", sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "--basetemp", str(tmp_path / "inner"), str(Path(__file__).relative_to(REPO_ROOT)), "-k", "not under_xvfb"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=280,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "2 passed" in done.stdout, done.stdout[-2000:]


def _window_as_the_app_builds_it(services: Services, qtbot: Any) -> Any:
    """As app.py does: the frame with the live view is shown first, the panel is attached after."""
    from desktop_app.ui.live_view import make_live_view
    from desktop_app.ui.main_window import MainWindow

    window = MainWindow(make_live_view(services.paths, is_browser=services.controller.capabilities.view_is_browser))
    window.show()
    qtbot.waitExposed(window)
    return window


def _check_window_id_kept(services: Services, qtbot: Any, qrun: Any, opened: Any) -> None:
    window = _window_as_the_app_builds_it(services, qtbot)
    first_id = int(window.winId())
    try:

        async def scenario() -> None:
            window.attach(services)
            await wait_until(lambda: window.live_view.first_load_done or not window.live_view.is_browser, what="the first page")
            assert int(window.winId()) == first_id, "attaching the panel re-created the window"
            click(window.task_panel.new_session_button)
            await wait_until(lambda: services.controller.state is Control.IDLE, what="the session to open")
            await wait_until(opened, what="the live view to show the session")
            await wait_until(lambda: window.live_view.web_view.isVisible(), what="the view on screen")

        qrun(scenario(), timeout=60)
        qtbot.wait(300)
        assert int(window.winId()) == first_id, "starting the first session re-created the window"
        assert window.live_view.web_view.isVisible()
    finally:
        if hasattr(window, "closed") and not window.closed.done():
            qrun(window.close_gracefully())
        services.close()
        dispose(window)


@needs_x
@x_gpu_messages
def test_cloud_first_session_keeps_the_window(cloud_services: Services, qtbot: Any, qrun: Any) -> None:
    def live() -> bool:
        return "/live/" in window_url(cloud_services)

    _check_window_id_kept(cloud_services, qtbot, qrun, live)


@needs_x
@x_gpu_messages
def test_local_first_session_keeps_the_window(local_services: Services, install: Any, qtbot: Any, qrun: Any) -> None:
    install(sl.ScriptedModel([sl.done("Nothing to do")]))
    _check_window_id_kept(local_services, qtbot, qrun, lambda: True)


def window_url(services: Services) -> str:
    session = services.controller.session
    return session.live_url if session is not None and session.live_url else ""
