"""Bad input and faults in the window: a clear message, and nothing the user typed is lost."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel

from desktop_app.ui.quitter import QuitState
from desktop_app.core.control import Control
from desktop_app.system.early_init import free_loopback_port
from tests.fakes.cloud_server import FakeCloud
from tests.helpers import wait_until
from tests.ui.actions import answer_question, click, open_question, run_task


def test_an_over_long_task_is_explained_and_kept(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    window = make_window(cloud_services)
    panel = window.task_panel
    text = "a" * 50_001
    panel.task_input.setPlainText(text)
    assert "too long" in panel.char_count.text() and "50,001 / 50,000" in panel.char_count.text()
    assert panel.run_button.isEnabled()  # pressing it explains instead of doing nothing

    async def scenario() -> None:
        click(panel.run_button)

    qrun(scenario())
    assert "50,001 characters" in window.banner.message and "kept" in window.banner.message
    assert panel.task_input.toPlainText() == text
    assert cloud.requests == []


def test_a_rejected_key_opens_settings_and_keeps_the_task(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    from desktop_app.system.keychain import SecretName

    cloud_services.keychain.set(SecretName.BROWSER_USE, "bu_revoked_key_000000")
    window = make_window(cloud_services, interactive=True)
    panel = window.task_panel
    panel.task_input.setPlainText("Order the groceries")

    async def scenario() -> None:
        click(panel.run_button)
        await wait_until(lambda: window.dialogs.settings is not None and window.dialogs.settings.isVisible(), what="Settings")

    qrun(scenario())
    assert "did not accept your API key" in window.banner.message
    assert panel.task_input.toPlainText() == "Order the groceries"
    assert cloud_services.controller.state is Control.NO_SESSION
    window.dialogs.settings.reject()


def test_network_down_shows_a_banner_and_keeps_the_task(paths, make_window, qrun, monkeypatch) -> None:
    from desktop_app.system.keychain import SecretName
    from desktop_app.services import Services

    monkeypatch.setenv("BROWSER_USE_BASE_URL", f"http://127.0.0.1:{free_loopback_port()}/api/v2")  # nobody listens
    services = Services(paths, None, backend_override="cloud")
    services.keychain.set(SecretName.BROWSER_USE, "bu_some_valid_looking_key")
    window = make_window(services)

    async def scenario() -> None:
        run_task(window, "Check the weather")
        await wait_until(lambda: "Lost contact with Browser Use — retrying" in window.banner.message, timeout=5, what="the retry notice")
        await wait_until(lambda: "(the connection was refused)" in window.banner.message, timeout=30, what="the network error")

    qrun(scenario(), timeout=40)
    assert window.task_panel.task_input.toPlainText() == "Check the weather"
    assert services.controller.state is Control.NO_SESSION


def test_a_server_error_on_the_task_keeps_the_text(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    window = make_window(cloud_services)
    cloud.fail(r"/tasks", 503, method="POST")
    window.task_panel.task_input.setPlainText("Compare three laptops")

    async def scenario() -> None:
        click(window.task_panel.run_button)
        await wait_until(lambda: "having problems" in window.banner.message, what="the server error")

    qrun(scenario())
    assert window.task_panel.task_input.toPlainText() == "Compare three laptops"
    assert cloud_services.controller.state is Control.IDLE
    assert len(cloud.task_creates()) == 1  # never re-sent


def test_a_failed_hand_back_keeps_note_and_instruction(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    window = make_window(cloud_services)
    panel = window.task_panel
    controller = cloud_services.controller

    async def scenario() -> None:
        run_task(window, "Book the hotel")
        await wait_until(lambda: controller.state is Control.AGENT and cloud.tasks)
        click(panel.take_over_button)
        await wait_until(lambda: controller.state is Control.HUMAN)
        panel.note_input.setPlainText("Chose the room with a view")
        panel.task_input.setPlainText("Now pay with the saved card")
        cloud.fail(r"/tasks", 500, method="POST")
        click(panel.hand_back_button)
        await wait_until(lambda: "having problems" in window.banner.message, what="the error")
        await wait_until(lambda: controller.state is Control.HUMAN)

    qrun(scenario())
    assert panel.note_input.toPlainText() == "Chose the room with a view"
    assert panel.task_input.toPlainText() == "Now pay with the saved card"
    assert not window.live_view.locked


def test_shortcuts_work_with_focus_in_the_page(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    window = make_window(cloud_services)
    panel = window.task_panel
    controller = cloud_services.controller
    view = window.live_view.web_view

    async def scenario() -> None:
        window.activateWindow()
        panel.task_input.setFocus()
        QTest.keyClicks(panel.task_input, "Find a train")
        QTest.keyClick(panel.task_input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        await wait_until(lambda: controller.state is Control.AGENT and cloud.tasks, what="Ctrl+Enter to run")
        await wait_until(lambda: panel.task_input.toPlainText() == "", what="the sent task to be cleared")  # no stray newline kept
        await wait_until(lambda: "/live/" in view.url().toString() and not view.page().isLoading())
        QTest.keyClick(window.live_view.shield, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
        await wait_until(lambda: controller.state is Control.HUMAN, what="Ctrl+T to take over")
        view.setFocus()
        QTest.keyClick(view.focusProxy(), Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
        await wait_until(lambda: len(cloud.task_creates()) == 2, what="Ctrl+H to hand back")
        await wait_until(lambda: controller.state is Control.AGENT)

    qrun(scenario())


@pytest.mark.parametrize(
    ("answer", "session_after"),
    [("Stop the session and quit", "stopped"), ("Quit and leave the session running (billed)", "active")],
)
def test_closing_asks_whether_to_stop_the_billed_session(cloud: FakeCloud, cloud_services, make_window, qrun, answer, session_after) -> None:
    window = make_window(cloud_services, interactive=True)

    async def scenario() -> None:
        assert await cloud_services.controller.new_session().done
        window.close()
        box = await wait_until(open_question, what="the question")
        assert box.defaultButton().text() == "Stop the session and quit"  # Enter stops the billed session
        # It names the session and the bill; its headline is in the box, not only in the title bar.
        session_id = cloud_services.controller.session.id
        assert box.windowTitle() == "Stop the Browser Use Cloud session before quitting?"
        assert box.text() == (
            "<p><b>Stop the Browser Use Cloud session before quitting?</b></p>"
            f"<p>The Browser Use Cloud session ({session_id if len(session_id) <= 12 else session_id[:8] + '…'}) is billed "
            "for as long as it runs — also after Handoff quits, until Browser Use Cloud ends it or you stop it.</p>"
        )
        assert box.informativeText() == "The next start offers to reattach to a session left running, or to stop it."
        assert answer_question(answer)
        await window.closed

    qrun(scenario())
    assert [s.status for s in cloud.sessions.values()] == [session_after]
    cloud.sessions.clear()  # a session left running is not the fake's to complain about


def test_closing_can_be_cancelled(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    window = make_window(cloud_services, interactive=True)

    async def scenario() -> None:
        assert await cloud_services.controller.new_session().done
        window.close()
        await wait_until(lambda: answer_question("Cancel"), what="the question")
        await wait_until(lambda: window.quitter.state is QuitState.RUNNING)

    qrun(scenario())
    assert window.isVisible() and not window.closed.done()
    assert cloud_services.controller.state is Control.IDLE


def test_a_quit_signal_while_the_close_question_is_open_quits_and_stops(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    window = make_window(cloud_services, interactive=True)

    async def scenario() -> None:
        assert await cloud_services.controller.new_session().done
        window.close()
        await wait_until(lambda: window.quitter.question is not None and window.quitter.question.isVisible(), what="the question")
        window.request_close(ask=False)  # what SIGTERM / SIGINT do
        await window.closed

    qrun(scenario())
    assert [s.status for s in cloud.sessions.values()] == ["stopped"]
    assert open_question() is None


def test_after_take_over_the_keyboard_is_in_the_browser_not_on_hand_back(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    window = make_window(cloud_services)
    panel = window.task_panel
    controller = cloud_services.controller

    async def scenario() -> None:
        window.activateWindow()
        panel.task_input.setPlainText("Find a train")
        panel.run_button.setFocus()  # as after pressing Tab from the task box
        QTest.keyClick(panel.run_button, Qt.Key.Key_Space)
        await wait_until(lambda: controller.state is Control.AGENT and cloud.tasks, what="the task")
        QTest.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
        await wait_until(lambda: controller.state is Control.HUMAN, what="control")
        assert window.focusWidget() in (window.live_view.web_view, window.live_view.web_view.focusProxy())
        QTest.keyClick(window.focusWidget(), Qt.Key.Key_Space)  # a person starting to type
        await asyncio.sleep(0.3)

    qrun(scenario())
    assert controller.state is Control.HUMAN and len(cloud.task_creates()) == 1


async def agent_working(window, cloud: FakeCloud) -> None:
    """Run a task from the panel and wait until the agent works on it (its steps held back)."""
    cloud.manual_steps = True
    run_task(window, "Find the opening hours")
    await wait_until(lambda: window.controller.state is Control.AGENT and cloud.tasks, what="the agent to work")


def test_ctrl_enter_while_the_agent_works_says_why_nothing_ran(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    window = make_window(cloud_services)
    panel = window.task_panel

    async def scenario() -> None:
        await agent_working(window, cloud)
        panel.task_input.setPlainText("Then book a ticket")
        QTest.keyClick(panel.task_input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        assert "already working" in window.banner.message
        assert panel.task_input.toPlainText() == "Then book a ticket"  # kept

    qrun(scenario())


def test_what_to_set_up_is_said_before_the_first_run(paths, make_window, monkeypatch) -> None:
    from desktop_app.services import Services

    monkeypatch.delenv("BROWSER_USE_API_KEY", raising=False)
    window = make_window(Services(paths, None, backend_override="cloud"))
    assert window.banner.message == (
        "Before the agent can work: Add your Browser Use API key in Settings (or set BROWSER_USE_API_KEY) to use Browser Use Cloud."
    )
    assert window.banner.action_button.text() == "Open Settings"


def test_a_bad_address_in_the_environment_is_said_at_start_and_refuses_run(paths, make_window, monkeypatch) -> None:
    # BROWSER_USE_BASE_URL gets the same rule as the Settings field (it used to fail as "the internet").
    from desktop_app.system.keychain import SecretName
    from desktop_app.services import Services

    monkeypatch.setenv("BROWSER_USE_BASE_URL", "ftp://x")
    services = Services(paths, None, backend_override="cloud")
    services.keychain.set(SecretName.BROWSER_USE, "bu_some_valid_looking_key")
    window = make_window(services)
    said = (
        "BROWSER_USE_BASE_URL must be an address starting with http:// or https:// "
        "(for example https://api.browser-use.com/api/v2); it is “ftp://x”."
    )
    assert window.banner.message == f"Before the agent can work: {said}"
    run_task(window, "Check the weather")
    assert window.banner.message == f"{said} Your task is kept."
    assert window.banner.action_button.text() == "Open Settings"
    assert services.controller.state is Control.NO_SESSION
    assert window.task_panel.task_input.toPlainText() == "Check the weather"


def test_switching_mode_clears_the_other_modes_timeline(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    # The app never gets here (the switch needs a restart, see test_choosing_local_…): this keeps the
    # window's answer to a backend change honest while the core still offers the switch.
    from tests.conftest import EARLY

    cloud_services.context = replace(cloud_services.context, devtools_url=EARLY.devtools_url)
    window = make_window(cloud_services)
    selector = window.task_panel.backend_selector

    async def scenario() -> None:
        assert await cloud_services.controller.new_session().done
        assert await cloud_services.controller.stop_session().done
        assert window.task_panel.timeline.timeline_model.entries  # the Cloud session's rows
        selector.setCurrentIndex(selector.findData("local"))
        selector.activated.emit(selector.currentIndex())
        await wait_until(lambda: cloud_services.backend_kind == "local")

    qrun(scenario())
    assert window.task_panel.timeline.timeline_model.entries == []
    assert window.task_panel.cost_label.text() == ""


def test_stop_session_while_the_agent_works_asks_first(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    window = make_window(cloud_services, interactive=True)
    panel = window.task_panel
    controller = cloud_services.controller

    async def scenario() -> None:
        await agent_working(window, cloud)
        click(panel.stop_session_button)
        await wait_until(lambda: answer_question("Keep working"), what="the question")
        await asyncio.sleep(0.2)
        assert controller.state is Control.AGENT  # nothing was stopped
        click(panel.stop_session_button)
        await wait_until(lambda: answer_question("Stop session"), what="the question again")
        await wait_until(lambda: controller.state is Control.NO_SESSION, what="the session to end")

    qrun(scenario())
    assert [s.status for s in cloud.sessions.values()] == ["stopped"]
    assert cloud.latest_task().status == "stopped"
    assert panel.task_input.toPlainText() == "Find the opening hours"  # unfinished: back in the box


def test_stop_session_with_nothing_running_does_not_ask(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    window = make_window(cloud_services, interactive=True)
    controller = cloud_services.controller

    async def scenario() -> None:
        assert await controller.new_session().done
        click(window.task_panel.stop_session_button)
        await wait_until(lambda: controller.state is Control.NO_SESSION, what="the session to end")

    qrun(scenario())
    assert open_question() is None


def test_choosing_local_in_settings_during_a_cloud_run_offers_a_restart(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    # A Cloud run has no DevTools port, and QtWebEngine cannot open one later.
    window = make_window(cloud_services, interactive=True)
    assert "Before the agent can work" not in window.banner.message  # Cloud has its key

    async def scenario() -> None:
        window.dialogs.open_settings()
        dialog = window.dialogs.settings
        assert "Switching between Local and Cloud restarts Handoff." in [label.text() for label in dialog.findChildren(QLabel)]
        dialog.backend_buttons["local"].setChecked(True)
        click(dialog.save_button)
        await wait_until(lambda: window.banner.action_button.text() == "Restart Handoff", what="the restart offer")
        assert window.banner.message == (
            "Local mode needs Handoff to restart: a run in Cloud mode keeps the built-in browser's control port "
            "closed, and it can only be opened as Handoff starts."
        )
        assert cloud_services.backend_kind == "cloud" and cloud_services.settings_store.load().backend == "local"
        click(window.banner.action_button)
        await window.closed  # nothing to lose: no question

    qrun(scenario())
    assert window.restart_backend == "local"


def test_a_session_lost_while_the_stop_question_is_open_keeps_its_notice(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    window = make_window(cloud_services, interactive=True)
    controller = cloud_services.controller

    async def scenario() -> None:
        await agent_working(window, cloud)
        click(window.task_panel.stop_session_button)
        await wait_until(open_question, what="the question")
        controller.runs.on_session_lost("The Browser Use Cloud session has timed out.")  # as the backend reports it
        await wait_until(lambda: answer_question("Stop session"), what="the answer")
        await asyncio.sleep(0.2)

    qrun(scenario())
    assert controller.state is Control.NO_SESSION
    assert "timed out" in window.banner.message and window.banner.action_button.text() == "New session"
    assert window.task_panel.task_input.toPlainText() == "Find the opening hours"  # the unfinished task is back
