"""The seed's flow in the real window against the fake cloud: Run → steps → Take over → type in
the page → Hand back with a note → exactly one follow-up task on the same session."""

from __future__ import annotations

from PySide6.QtTest import QTest

from desktop_app.core import timeline as tl
from desktop_app.core.control import Control
from tests.fakes.cloud_server import FakeCloud
from tests.helpers import wait_until
from tests.ui.actions import click
from tests.ui.web import js, type_into, type_into_field


def step_rows(window) -> list[tl.AgentStep]:
    return [e for e in window.task_panel.timeline.timeline_model.entries if isinstance(e, tl.AgentStep)]


def test_run_take_over_type_and_hand_back(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    window = make_window(cloud_services)
    panel = window.task_panel
    view = window.live_view.web_view
    controller = cloud_services.controller

    async def scenario() -> None:
        assert not panel.run_button.isEnabled()  # empty task: Run disabled
        QTest.keyClicks(panel.task_input, "Buy the blue mug and go to checkout")
        assert panel.run_button.isEnabled()
        top_of_take_over = panel.take_over_button.y()
        click(panel.run_button)

        # A session is started for the task, its live view loads, and the task is created on it.
        await wait_until(lambda: cloud.tasks, what="the task to be created")
        session = next(iter(cloud.sessions.values()))
        assert cloud.latest_task().session_id == session.id
        await wait_until(lambda: "/live/" in view.url().toString(), what="the live view to load")
        await wait_until(lambda: panel.task_input.toPlainText() == "", what="the sent task to be cleared")

        # While the agent works the view is view-only: keys typed into it do not reach the page.
        assert controller.state is Control.AGENT
        assert window.live_view.shield.isVisible() and not view.isEnabled()
        assert "Take over (Ctrl+T)" in window.live_view.shield.message.text()
        await wait_until(lambda: js_value_ready(view), what="the live page")
        type_into(view, "agent-time keys")
        assert await js(view, "document.getElementById('field').value") == ""

        # Steps appear in the timeline as they happen on the server.
        cloud.add_step(goal="Open the shop")
        cloud.add_step(goal="Add the blue mug to the cart")
        await wait_until(lambda: len(step_rows(window)) == 2, what="two step rows")
        assert step_rows(window)[1].step.next_goal == "Add the blue mug to the cart"
        # Between steps the page may not move; the panel says the agent is on it.
        await wait_until(lambda: panel.activity_label.text().startswith("Working on step 3"), what="the activity line")
        assert panel.take_over_button.y() == top_of_take_over  # the line appeared without moving the buttons
        assert "Did: Clicked on the page" in step_rows(window)[1].detail

        # Take over: the task is stopped, then (only then) the view unlocks.
        click(panel.take_over_button)
        await wait_until(lambda: controller.state is Control.HUMAN, what="control to reach the person")
        assert cloud.latest_task().status == "stopped"
        assert not window.live_view.shield.isVisible() and view.isEnabled()
        assert panel.indicator.text() == "You are in control"
        assert panel.activity_label.text() == ""  # the agent is doing nothing now

        # The person types into the page with real key events.
        await type_into_field(view, "field", "Ada Lovelace")

        # Hand back with a note, clicked twice: one follow-up task, same session, note in its text.
        assert panel.note_input.isVisible()
        QTest.keyClicks(panel.note_input, "Filled in the card holder name")
        click(panel.hand_back_button)
        click(panel.hand_back_button)
        await wait_until(lambda: len(cloud.task_creates()) == 2, what="the follow-up task")
        await wait_until(lambda: controller.state is Control.AGENT and panel.note_input.toPlainText() == "")

    def js_value_ready(view) -> bool:
        return view.page().url().toString().startswith(cloud.origin) and not view.page().isLoading()

    qrun(scenario())
    creates = cloud.task_creates()
    assert len(creates) == 2
    follow_up = creates[1].body
    assert follow_up["sessionId"] == creates[0].body["sessionId"]
    assert "Filled in the card holder name" in follow_up["task"]
    assert "Buy the blue mug and go to checkout" in follow_up["task"]
    # Cloud cannot hide what the person typed; with no dialog to ask, the safe answer: the task
    # after the takeover reads the page's text only.
    assert "vision" not in creates[0].body and follow_up["vision"] is False
    kinds = [type(e).__name__ for e in window.task_panel.timeline.timeline_model.entries]
    assert kinds == [
        "SessionStarted",
        "TaskStarted",
        "AgentStep",
        "AgentStep",
        "TaskFinished",
        "Handoff",
        "Handoff",
        "TaskStarted",
    ]


def test_cloud_hand_back_asks_and_can_leave_screenshots_out(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    from tests.ui.actions import answer_question, open_question

    window = make_window(cloud_services, interactive=True)
    panel = window.task_panel
    controller = cloud_services.controller

    async def take_over_and_hand_back(answer: str) -> str:
        assert await controller.take_over().done
        assert "Finish payments and logins first" in panel.privacy_hint.text()
        click(panel.hand_back_button)
        box = await wait_until(open_question, what="the hand back question")
        text = box.text()
        assert answer_question(answer)
        return text

    async def scenario() -> None:
        assert controller.run("Renew my subscription").accepted
        await wait_until(lambda: controller.state is Control.AGENT, what="the task")
        question = await take_over_and_hand_back("Hand back without screenshots")
        assert "cannot hide what you typed" in question
        await wait_until(lambda: len(cloud.task_creates()) == 2, what="the follow-up task")
        await wait_until(lambda: controller.state is Control.AGENT)
        await take_over_and_hand_back("Hand back")
        await wait_until(lambda: len(cloud.task_creates()) == 3, what="the second follow-up task")

    qrun(scenario())
    assert [c.body.get("vision") for c in cloud.task_creates()] == [None, False, None]
