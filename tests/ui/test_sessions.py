"""Several sessions at once in one window, against the fake Browser Use Cloud on 127.0.0.1."""

from __future__ import annotations

import asyncio
import re
from desktop_app.core import timeline as tl
from desktop_app.core.control import Control
from desktop_app.services import Services
from desktop_app.ui.session_tab import SessionTab
from desktop_app.ui.window_wiring import add_session_tab
from tests.fakes import scripted_llm as sl
from tests.fakes.cloud_server import FakeCloud
from tests.helpers import wait_until
from tests.ui.actions import answer_question, click, open_question
from tests.ui.test_queue_flow import needs_you
from tests.ui.web import js

TASKS = ["Book a flight to Rome", "File the expense report", "Renew the subscription"]


def step_goals(tab: SessionTab) -> list[str]:
    return [e.step.next_goal for e in tab.task_panel.timeline.timeline_model.entries if isinstance(e, tl.AgentStep)]


def seen_tabs(state: str) -> list[str]:
    """The tabs browser-use listed to the model in one browser state ("Tab 095D: <url> - <title>")."""
    return re.findall(r"^Tab ([0-9A-F]{4}):", state, flags=re.MULTILINE)


def step_entries(tab: SessionTab, kind: type) -> list:
    return [e for e in tab.task_panel.timeline.timeline_model.entries if isinstance(e, kind)]


def task_of(tab: SessionTab) -> str:
    run = tab.controller.work.run
    assert run is not None
    return run.handle.task_id


def inbox_rows(window) -> list[str]:
    listed = window.inbox_view.list
    return [listed.item(i).text() for i in range(listed.count())]


def test_three_cloud_sessions_run_at_once_with_one_inbox(cloud: FakeCloud, cloud_services: Services, make_window, qrun) -> None:
    window = make_window(cloud_services)

    async def scenario() -> None:
        click(window.tab_widget.new_tab_button)
        click(window.tab_widget.new_tab_button)
        tabs = list(window.tabs)
        assert [t.name for t in tabs] == ["Session 1", "Session 2", "Session 3"]
        assert window.current_tab is tabs[2]
        for tab, text in zip(tabs, TASKS):
            window.tab_widget.setCurrentWidget(tab.page)
            tab.task_panel.task_input.setPlainText(text)
            click(tab.task_panel.run_button)
        await wait_until(
            lambda: all(t.controller.state is Control.AGENT and t.controller.work.run is not None for t in tabs),
            timeout=20,
            what="three agents at work",
        )
        sessions = {t.controller.session.id for t in tabs}
        assert len(sessions) == 3 and sessions == set(cloud.sessions), "each tab its own Browser Use session"

        for tab in tabs:
            cloud.add_step(task_of(tab), goal=f"Working on {tab.name}")
        await wait_until(lambda: all(step_goals(t) for t in tabs), timeout=10, what="a step row in each tab")
        assert [step_goals(t) for t in tabs] == [["Working on Session 1"], ["Working on Session 2"], ["Working on Session 3"]]

        # Take over in one session: exactly one stop, to that session's task.
        second_task = task_of(tabs[1])
        window.tab_widget.setCurrentWidget(tabs[1].page)
        click(tabs[1].task_panel.take_over_button)
        await wait_until(lambda: tabs[1].controller.state is Control.HUMAN, what="the take over")
        assert [r.path for r in cloud.requests_to("PATCH", r"/tasks/.+")] == [f"/tasks/{second_task}"]
        assert tabs[0].controller.state is Control.AGENT and tabs[2].controller.state is Control.AGENT
        assert inbox_rows(window) == [], "a take over is the person's own doing, not a request"

        # Two agents ask for the person, one after the other: the inbox lists both, newest first.
        cloud.finish_task(task_of(tabs[0]), output=needs_you("Type the 2FA code sent to your phone"))
        await wait_until(lambda: tabs[0].controller.state is Control.HUMAN, what="session 1 to ask")
        cloud.finish_task(task_of(tabs[2]), output=needs_you("Confirm the renewal price"))
        await wait_until(lambda: tabs[2].controller.state is Control.HUMAN, what="session 3 to ask")
        rows = inbox_rows(window)
        assert [row.split(" — ")[0] for row in rows] == [
            "Session 3: Confirm the renewal price",
            "Session 1: Type the 2FA code sent to your phone",
        ]
        assert window.tab_widget.inbox_button.text() == "Inbox (2)"
        assert window.tab_widget.inbox_button.font().bold(), "something waits: the button says so (the layout stays)"
        assert not window.inbox_view.isVisible()
        click(window.tab_widget.inbox_button)
        assert window.inbox_view.isVisible()
        assert window.tray.count == 2
        assert window.tab_widget.tabText(0).startswith("● Session 1 — Needs you")

        # Handling one from the inbox opens its session (the person has it) and hands back there only.
        creates_before = len(cloud.task_creates())
        window.inbox_view.list.itemClicked.emit(window.inbox_view.list.item(1))
        assert window.current_tab is tabs[0]
        assert not tabs[0].live_view.locked
        click(window.task_panel.hand_back_button)
        await wait_until(lambda: len(cloud.task_creates()) == creates_before + 1, what="session 1's follow-up")
        follow_up = cloud.task_creates()[-1].body
        assert follow_up["sessionId"] == tabs[0].controller.session.id
        await wait_until(lambda: tabs[0].controller.state is Control.AGENT)
        assert tabs[2].controller.state is Control.HUMAN
        assert [row.split(" — ")[0] for row in inbox_rows(window)] == ["Session 3: Confirm the renewal price"]
        assert window.tab_widget.inbox_button.text() == "Inbox (1)"

    qrun(scenario(), timeout=90)


def test_five_cloud_sessions_open_and_quitting_stops_them_all(cloud: FakeCloud, cloud_services: Services, make_window, qrun) -> None:
    window = make_window(cloud_services)

    async def scenario() -> None:
        for _ in range(4):
            click(window.tab_widget.new_tab_button)
        assert len(window.tabs) == 5
        for tab in window.tabs:
            window.tab_widget.setCurrentWidget(tab.page)
            click(tab.task_panel.new_session_button)
        await wait_until(lambda: all(t.controller.state is Control.IDLE for t in window.tabs), timeout=30, what="five sessions")
        assert len({t.controller.session.id for t in window.tabs}) == 5
        await window.close_gracefully(ask=False)

    qrun(scenario(), timeout=60)
    stopped = {r.path for r in cloud.requests_to("PATCH", r"/sessions/.+")}
    assert len(stopped) == 5, "every session stopped as the window closed"


def test_two_local_sessions_each_agent_acts_only_in_its_own_view(local_services: Services, install: Any, site, make_window, qrun) -> None:
    window = make_window(local_services)
    first = window.current_tab
    ada = sl.ScriptedModel([sl.navigate(site.url("input_log.html")), sl.type_text("id=name", "Ada Lovelace"), sl.done("Typed Ada")])
    grace = sl.ScriptedModel([sl.navigate(site.url("input_log.html")), sl.type_text("id=name", "Grace Hopper"), sl.done("Typed Grace")])

    async def scenario() -> None:
        second = add_session_tab(window)
        assert second is not None and second.live_view is not first.live_view
        await wait_until(lambda: second.live_view.first_load_done, timeout=20, what="the second view's start page")
        # The agent's model is made as its first task starts: each session gets its own script.
        install(ada)
        window.tab_widget.setCurrentWidget(first.page)
        first.task_panel.task_input.setPlainText("Type Ada Lovelace into the form")
        click(first.task_panel.run_button)
        await wait_until(lambda: len(ada.calls) >= 1, timeout=60, what="the first agent")
        install(grace)
        # The second tab on screen: the first session's agent works on, out of sight.
        window.tab_widget.setCurrentWidget(second.page)
        assert not first.page.isEnabled() and first.page.isVisible()
        second.task_panel.task_input.setPlainText("Type Grace Hopper into the form")
        click(second.task_panel.run_button)
        for tab in (first, second):
            await wait_until(lambda tab=tab: tab.controller.state is Control.IDLE and tab.controller.work.run is None, timeout=90, what=f"{tab.name}'s task")
        logs = [await js(tab.live_view.web_view, "document.getElementById('log').textContent") for tab in (first, second)]
        assert logs[0].splitlines()[-1] == "Ada Lovelace" and "Grace" not in logs[0]
        assert logs[1].splitlines()[-1] == "Grace Hopper" and "Ada" not in logs[1]
        # Each agent was shown one tab only, its own page (browser-use names a tab by its target id's end).
        for tab, model in ((first, ada), (second, grace)):
            own = tab.live_view.browser_page().devToolsId()[-4:]
            tab_lists = [seen_tabs(text) for call in model.calls for text in call.texts if "Available tabs:" in text]
            assert tab_lists and all(listed == [own] for listed in tab_lists), f"{tab.name}'s agent saw {tab_lists}"
        # The second session stopped and its tab closed: its view and profile go; the first works on.
        click(second.task_panel.stop_session_button)
        await wait_until(lambda: second.controller.state is Control.NO_SESSION, what="the second session to stop")
        window.tab_widget.tabCloseRequested.emit(window.tab_widget.indexOf(second.page))
        await wait_until(lambda: len(window.tabs) == 1, what="the tab to close")
        assert window.current_tab is first and first.controller.state is Control.IDLE
        await window.close_gracefully(ask=False)

    qrun(scenario(), timeout=240)
    assert [e.result.output for e in step_entries(first, tl.TaskFinished)] == ["Typed Ada"]


def test_local_mode_holds_three_sessions_and_says_why_not_a_fourth(local_services: Services, make_window) -> None:
    window = make_window(local_services)
    for _ in range(2):
        click(window.tab_widget.new_tab_button)
    assert [t.name for t in window.tabs] == ["Session 1", "Session 2", "Session 3"]
    assert not window.tab_widget.new_tab_button.isEnabled()
    assert window.tab_widget.new_tab_button.toolTip() == (
        "Local mode runs up to 3 sessions at once: each is a browser and an AI agent working on this computer."
    )


def test_closing_a_tab_asks_and_stops_its_session_and_quitting_asks_once_for_the_rest(
    cloud: FakeCloud, cloud_services: Services, make_window, qrun
) -> None:
    window = make_window(cloud_services, interactive=True)
    asked: list[str] = []

    async def scenario() -> None:
        for _ in range(2):
            click(window.tab_widget.new_tab_button)
        for tab in window.tabs:
            window.tab_widget.setCurrentWidget(tab.page)
            click(tab.task_panel.new_session_button)
        await wait_until(lambda: all(t.controller.state is Control.IDLE for t in window.tabs), timeout=30, what="three sessions")
        second = window.tabs[1]
        second_id = second.controller.session.id

        # Closing a tab: asked first; "Keep it" keeps it, "Stop the session and close" stops that session only.
        window.tab_widget.tabCloseRequested.emit(1)
        await wait_until(lambda: open_question() is not None, what="the close question")
        asked.append(open_question().text())
        assert answer_question("Keep it")
        await wait_until(lambda: open_question() is None)
        assert len(window.tabs) == 3
        window.tab_widget.tabCloseRequested.emit(1)
        await wait_until(lambda: answer_question("Stop the session and close"), what="the close question again")
        await wait_until(lambda: len(window.tabs) == 2, what="the tab to close")
        assert cloud.sessions[second_id].status == "stopped"
        assert [s.status for i, s in cloud.sessions.items() if i != second_id] == ["active", "active"]
        assert [t.name for t in window.tabs] == ["Session 1", "Session 3"]

        # Quitting: one question naming both sessions left.
        window.close()
        await wait_until(lambda: window.quitter.question is not None, what="the quit question")
        asked.append(window.quitter.question.text())
        assert answer_question("Stop the sessions and quit")
        await window.closed

    qrun(scenario(), timeout=60)
    assert "Closing the tab stops its Browser Use Cloud session" in asked[0]
    assert "• Session 1 (" in asked[1] and "• Session 3 (" in asked[1]
    assert [s.status for s in cloud.sessions.values()] == ["stopped", "stopped", "stopped"]


def test_the_providers_limit_on_sessions_at_once_is_said_at_once(cloud: FakeCloud, cloud_services: Services, make_window, qrun) -> None:
    cloud.max_active_sessions = 2
    window = make_window(cloud_services)

    async def scenario() -> None:
        for _ in range(2):
            click(window.tab_widget.new_tab_button)
        for tab in window.tabs[:2]:
            window.tab_widget.setCurrentWidget(tab.page)
            click(tab.task_panel.new_session_button)
        await wait_until(lambda: all(t.controller.state is Control.IDLE for t in window.tabs[:2]), timeout=30, what="two sessions")
        third = window.tabs[2]
        window.tab_widget.setCurrentWidget(third.page)
        click(third.task_panel.new_session_button)
        await wait_until(lambda: third.banner.message != "", timeout=10, what="the refusal")
        assert third.controller.state is Control.NO_SESSION

    qrun(scenario(), timeout=60)
    third = window.tabs[2]
    assert "Browser Use runs no more sessions at once on your plan" in third.banner.message
    assert len(cloud.requests_to("POST", r"/sessions")) == 3, "not retried: waiting would not free a session"


def test_each_session_keeps_its_own_allowed_sites(cloud: FakeCloud, cloud_services: Services, make_window, qrun) -> None:
    window = make_window(cloud_services)

    async def scenario() -> None:
        click(window.tab_widget.new_tab_button)
        first, second = window.tabs
        window.tab_widget.setCurrentWidget(first.page)
        first.task_panel.allowed_sites.edit.setText("mybank.com")
        first.task_panel.task_input.setPlainText("Download my statement")
        click(first.task_panel.run_button)
        await wait_until(lambda: first.controller.work.run is not None, what="the first task")
        window.tab_widget.setCurrentWidget(second.page)
        second.task_panel.task_input.setPlainText("Read the news")  # this tab's field is empty
        click(second.task_panel.run_button)
        await wait_until(lambda: second.controller.work.run is not None, what="the second task")
        window.tab_widget.setCurrentWidget(first.page)
        click(first.task_panel.take_over_button)
        await wait_until(lambda: first.controller.state is Control.HUMAN, what="the take over")
        click(first.task_panel.hand_back_button)
        await wait_until(lambda: len(cloud.task_creates()) == 3, what="the first session's follow-up")

    qrun(scenario(), timeout=60)
    statement, news, follow_up = (create.body for create in cloud.task_creates())
    assert statement["allowedDomains"] == ["https://mybank.com"]
    assert "allowedDomains" not in news
    assert follow_up["allowedDomains"] == ["https://mybank.com"], "another tab's empty list must not lift this one's"


def test_after_closing_the_first_tab_another_opens_and_a_double_click_closes_once(
    cloud: FakeCloud, cloud_services: Services, make_window, qrun
) -> None:
    window = make_window(cloud_services)

    async def scenario() -> None:
        click(window.tab_widget.new_tab_button)
        first = window.tabs[0]
        # Two clicks on its close button before the first is handled: one close, no error.
        window.tab_widget.tabCloseRequested.emit(0)
        window.tab_widget.tabCloseRequested.emit(0)
        await wait_until(lambda: len(window.tabs) == 1, what="the first tab to close")
        await asyncio.sleep(0.2)
        assert window.tabs[0].name == "Session 2" and first not in window.tabs
        assert len(cloud_services.slots) == 1
        click(window.tab_widget.new_tab_button)  # its view (the one on screen at start) is gone
        assert [t.name for t in window.tabs] == ["Session 2", "Session 1"]
        assert len(cloud_services.slots) == 2 and window.current_tab is window.tabs[1]
        assert window.banner.message == ""

    qrun(scenario(), timeout=30)


def test_tab_never_moves_the_keyboard_into_a_session_out_of_sight(local_services: Services, make_window) -> None:
    """What Tab may reach is what Qt's focus chain offers: shown, enabled, taking Tab focus."""
    from PySide6.QtCore import Qt

    window = make_window(local_services)
    first = window.current_tab
    second = add_session_tab(window)
    assert second is not None and first.page.isVisible(), "a Local page out of sight keeps painting"
    reachable = []
    widget = window.nextInFocusChain()
    while widget is not window:
        if widget.isVisible() and widget.isEnabled() and widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            reachable.append(widget)
        widget = widget.nextInFocusChain()
    assert [w.objectName() for w in reachable if first.page.isAncestorOf(w)] == []
    assert {"vaultButton", "stepInput", "addressBar"} <= {w.objectName() for w in reachable if second.page.isAncestorOf(w)}


def test_the_inbox_keeps_the_keyboard_choice_when_it_is_redrawn(qtbot) -> None:
    from desktop_app.core.inbox import InboxItem
    from desktop_app.ui.inbox_view import InboxView
    from PySide6.QtWidgets import QWidget

    parent = QWidget()
    qtbot.addWidget(parent)
    view = InboxView(parent)
    items = [InboxItem(3, "Session 3", "Confirm the price", 20.0, None), InboxItem(1, "Session 1", "Log in", 10.0, None)]
    view.show_items(items)
    view.list.setCurrentRow(1)
    view.show_items(items)  # the every-second redraw
    assert view.list.currentRow() == 1
    view.show_items(items[1:])  # Session 3's request was handled elsewhere: the choice follows its row
    assert view.list.currentItem().text().startswith("Session 1: Log in")


def test_a_tab_that_cannot_be_built_is_said_and_leaves_no_session_behind(
    cloud: FakeCloud, cloud_services: Services, make_window, monkeypatch
) -> None:
    import desktop_app.ui.live_view as live_view

    window = make_window(cloud_services)

    def no_view(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(live_view, "make_live_view", no_view)
    assert add_session_tab(window) is None
    assert window.banner.message == "Something went wrong: OSError: [Errno 28] No space left on device"
    assert len(window.tabs) == 1 and len(cloud_services.slots) == 1 and len(cloud_services.sessions.members) == 1
