"""History and exports, sessions left running by an earlier run, keep-alive, crash reports — in the window."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from desktop_app.core import timeline as tl
from desktop_app.core.control import Control
from desktop_app.core.messages import KEEP_ALIVE_TASK
from desktop_app.core.ports import RunResult, RunStatus
from tests.fakes.cloud_server import FakeCloud, FakeSession
from tests.helpers import wait_until
from tests.ui.actions import click, run_task


def run_a_task(window, cloud: FakeCloud, qrun) -> str:
    controller = window.controller

    async def scenario() -> None:
        run_task(window, "Find the museum's opening hours")
        await wait_until(lambda: controller.state is Control.AGENT and cloud.tasks)
        cloud.add_step(goal="Open the museum site")
        cloud.finish_task(output="Open 10:00-18:00")
        await wait_until(lambda: controller.state is Control.IDLE)
        assert await controller.stop_session().done

    qrun(scenario())
    return next(iter(cloud.sessions))


def test_history_lists_sessions_and_exports_them(cloud: FakeCloud, cloud_services, make_window, qrun, tmp_path: Path) -> None:
    window = make_window(cloud_services)
    session_id = run_a_task(window, cloud, qrun)
    window.dialogs.open_history()
    dialog = window.dialogs.history
    assert dialog.sessions.count() == 1 and "1 task ·" in dialog.sessions.item(0).text()
    assert dialog.sessions.item(0).text().startswith("Find the museum's opening hours\n")  # recognisable by its task
    qrun(wait_until(lambda: dialog.timeline.timeline_model.entries and dialog.status.text() == "", what="the timeline"))
    titles = [e.title for e in dialog.timeline.timeline_model.entries]
    assert titles[:3] == ["Session started (Browser Use Cloud)", "Task started", "Step 1: Open the museum site"]
    assert dialog.show_folder.isHidden()
    assert qrun(dialog.export_to(tmp_path / "trail.json", "json")) and qrun(dialog.export_to(tmp_path / "trail.html", "html"))
    assert not dialog.show_folder.isHidden()
    assert shown_folders(lambda: click(dialog.show_folder)) == [tmp_path]
    trail = json.loads((tmp_path / "trail.json").read_text())
    assert trail["session"]["id"] == session_id and trail["events"][-1]["title"] == "Session ended"
    page = (tmp_path / "trail.html").read_text()
    assert "Who had control" in page and "Open 10:00-18:00" in page
    token = cloud.sessions[session_id].token
    assert token not in page and token not in (tmp_path / "trail.json").read_text()
    assert not qrun(dialog.export_to(tmp_path / "missing-folder" / "trail.json", "json"))
    assert "Could not save" in dialog.status.text() and dialog.show_folder.isHidden()
    dialog.close()


def shown_folders(action) -> list[Path]:
    """The folders ``action`` asked the system to show, caught by Qt's own URL-handler hook."""
    from PySide6.QtCore import QObject, Slot
    from PySide6.QtGui import QDesktopServices

    class Catcher(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.urls: list[Path] = []

        @Slot("QUrl")
        def show(self, url) -> None:
            self.urls.append(Path(url.toLocalFile()))

    catcher = Catcher()
    QDesktopServices.setUrlHandler("file", catcher, "show")
    try:
        action()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    return catcher.urls


def test_the_export_button_asks_where_and_saves(cloud: FakeCloud, cloud_services, make_window, qrun, tmp_path: Path) -> None:
    window = make_window(cloud_services)
    run_a_task(window, cloud, qrun)
    assert not cloud_services.paths.exports.exists()
    window.dialogs.open_history()
    dialog = window.dialogs.history
    target = tmp_path / "exported.html"

    async def scenario() -> None:
        click(dialog.export_html)
        chooser = await wait_until(lambda: dialog.findChild(QFileDialog, "exportFileDialog"), what="the file chooser")
        suggested = Path(chooser.selectedFiles()[0])
        assert suggested.name.startswith("handoff-session-") and suggested.suffix == ".html"
        # Documents (here the base folder's exports), created when it did not exist yet.
        assert suggested.parent == cloud_services.paths.exports and cloud_services.paths.exports.is_dir()
        chooser.selectFile(str(target))
        chooser.accept()
        await wait_until(target.exists, what="the exported file")

    qrun(scenario())
    assert target.read_text().startswith("<!doctype html>")
    dialog.close()


def left_running_session(cloud: FakeCloud, services, steps: int = 0) -> str:
    """A session an earlier run created and never stopped: on the fake, and in the history."""
    session = FakeSession(id="0b1e2c3d-0000-4000-8000-000000000001", token="tok" + "z" * 40, started_at=__import__("datetime").datetime.now(__import__("datetime").UTC), live_url_after=0)
    cloud.sessions[session.id] = session
    services.history.record(tl.SessionStarted(time.time(), session.id, "Browser Use Cloud", "cloud"))
    return session.id


def test_a_session_left_running_can_be_reattached(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    session_id = left_running_session(cloud, cloud_services)
    earlier = RunResult("t0", RunStatus.FINISHED, output="Done before the crash", cost_usd=Decimal("0.04"))
    cloud_services.history.record(tl.TaskFinished(time.time(), session_id, earlier))
    window = make_window(cloud_services)
    controller = cloud_services.controller

    async def scenario() -> None:
        await window.actions.check_left_running()
        assert window.recovery_bar.isVisible() and window.recovery_bar.session_ids == [session_id]
        click(window.recovery_bar.findChild(type(window.task_panel.run_button), "reattachButton"))
        await wait_until(lambda: controller.state is Control.IDLE and controller.session is not None)
        await wait_until(lambda: f"/live/{session_id}" in window.live_view.web_view.url().toString())

    qrun(scenario())
    assert not window.recovery_bar.isVisible()
    assert controller.session.id == session_id
    kinds = [e.kind for e in window.task_panel.timeline.timeline_model.entries]
    assert kinds == ["SessionStarted", "TaskFinished", "SessionReattached"]  # the earlier run's entries come first
    assert controller.session_cost == Decimal("0.04")  # what it cost before the restart still counts
    assert window.task_panel.cost_label.text() == "Cost this session: $0.04"


def test_a_key_added_later_still_finds_a_session_left_running(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:

    from desktop_app.system.keychain import SecretName

    session_id = left_running_session(cloud, cloud_services)
    cloud_services.keychain.delete(SecretName.BROWSER_USE)
    window = make_window(cloud_services)

    async def scenario() -> None:
        await window.actions.check_left_running()
        assert "may still be running (and billed)" in window.banner.message
        assert window.banner.action_button.text() == "Open Settings"
        cloud_services.keychain.set(SecretName.BROWSER_USE, cloud.api_key)
        window.dialogs.open_settings()
        dialog = window.dialogs.settings
        dialog.save()
        await wait_until(lambda: window.recovery_bar.isVisible(), what="the bar once the key is there")
        assert window.recovery_bar.session_ids == [session_id]
        # This run's own session is never offered as "left running".
        assert await cloud_services.controller.new_session().done
        await window.actions.check_left_running()
        assert window.recovery_bar.session_ids == [session_id]

    qrun(scenario())


def test_a_session_left_running_can_be_stopped(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    session_id = left_running_session(cloud, cloud_services)
    window = make_window(cloud_services)

    async def scenario() -> None:
        await window.actions.check_left_running()
        click(window.recovery_bar.findChild(type(window.task_panel.run_button), "stopLeftRunningButton"))
        await wait_until(lambda: not window.recovery_bar.isVisible(), what="the bar to go")

    qrun(scenario())
    assert cloud.sessions[session_id].status == "stopped"
    assert cloud_services.history.session(session_id).end_reason == "Stopped after Handoff started again"
    assert cloud_services.controller.state is Control.NO_SESSION


def test_keep_alive_is_a_visible_billed_choice(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    window = make_window(cloud_services)
    controller = cloud_services.controller

    async def scenario() -> None:
        assert await controller.new_session().done
        controller.lifecycle.tick(now=time.time() + 14 * 60)
        assert "will end in about" in window.banner.message
        assert window.banner.action_button.text() == "Keep it alive (billed)"
        click(window.banner.action_button)
        await wait_until(lambda: cloud.task_creates())

    qrun(scenario())
    assert cloud.task_creates()[0].body["task"].startswith(KEEP_ALIVE_TASK)  # then the site rules it is told


def test_the_window_shows_the_time_left(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    window = make_window(cloud_services)

    async def scenario() -> None:
        assert await cloud_services.controller.new_session().done
        await wait_until(lambda: "without agent activity" in window.status.text(), timeout=5)

    qrun(scenario())
    assert "session ends in 1" in window.status.text()  # 14:5x or 15:00


def test_a_crash_report_is_offered(cloud_services, make_window, qrun, tmp_path: Path) -> None:
    window = make_window(cloud_services, interactive=True)
    report = tmp_path / "crash.txt"
    report.write_text("report")
    window.dialogs.show_crash(report, "ValueError: broken")
    box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.objectName() == "crashDialog")
    assert box.isVisible() and "ValueError: broken" in box.text()
    assert str(report) in window.banner.message
    box.reject()


def test_no_crash_dialog_without_error_windows(cloud_services, make_window, tmp_path: Path) -> None:
    window = make_window(cloud_services, interactive=False)
    window.dialogs.show_crash(tmp_path / "crash.txt", "ValueError: broken")
    assert not any(w.objectName() == "crashDialog" and w.isVisible() for w in QApplication.topLevelWidgets())
    assert "ValueError: broken" in window.banner.message


def test_reattaching_from_a_local_run_offers_a_restart_into_cloud(cloud: FakeCloud, paths, make_window, qrun, monkeypatch) -> None:
    # A Local run has its DevTools port open: the session's live view must not be shown in it.
    from desktop_app.system.keychain import SecretName
    from desktop_app.services import Services
    from tests.conftest import EARLY

    monkeypatch.setenv("BROWSER_USE_BASE_URL", cloud.base_url)
    services = Services(paths, EARLY.devtools_url, backend_override="local")
    services.keychain.set(SecretName.BROWSER_USE, cloud.api_key)
    session_id = left_running_session(cloud, services)
    window = make_window(services)

    async def scenario() -> None:
        await window.actions.check_left_running()
        click(window.recovery_bar.findChild(type(window.task_panel.run_button), "reattachButton"))

    qrun(scenario())
    assert window.banner.message == (
        "Browser Use Cloud needs Handoff to restart: in a Local run other programs on this computer could reach "
        "the built-in browser's control port, and through it the Cloud live view. "
        "The session will be offered again after the restart."
    )
    assert window.banner.action_button.text() == "Restart Handoff"
    assert services.backend_kind == "local" and services.controller.session is None
    assert window.recovery_bar.session_ids == [session_id]  # still offered
    assert cloud.sessions[session_id].status == "active" and cloud.sessions[session_id].gets == 0  # never opened here
