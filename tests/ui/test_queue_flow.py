"""The queue in the real window against the fake Browser Use Cloud: a three-step queue (agent, you,
agent) built with the panel's buttons runs on one session, one task per agent step, the second
task told the first one's output and the person's note; a structured "needs you" moves control to
the person; playbooks start with their variables, and a damaged playbook file is reported."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop_app.core.control import Control
from desktop_app.core.playbooks import Playbook, PlaybookStep, PlaybookStore
from desktop_app.core.queue import StepKind, StepState
from desktop_app.services import Services
from desktop_app.system.paths import Paths
from tests.fakes.cloud_server import FakeCloud
from tests.helpers import wait_until
from tests.ui.actions import click


def done(result: str) -> str:
    return json.dumps({"status": "done", "result": result, "person_should": ""})


def needs_you(what: str) -> str:
    return json.dumps({"status": "needs_person", "result": "", "person_should": what})


def add_step(queue, kind: StepKind, text: str) -> None:
    queue.step_input.setText(text)
    click(queue.add_agent_button if kind is StepKind.AGENT else queue.add_person_button)


def rows(queue) -> list[str]:
    return [queue.queue_list.item(i).text() for i in range(queue.queue_list.count())]


def test_agent_you_agent_on_one_session(cloud: FakeCloud, cloud_services: Services, make_window, qrun) -> None:
    window = make_window(cloud_services)
    queue = window.task_panel.queue_panel
    panel = window.task_panel
    controller = cloud_services.controller

    async def scenario() -> None:
        add_step(queue, StepKind.AGENT, "Search flights from Paris to Rome on Google Flights")
        add_step(queue, StepKind.PERSON, "Pick a flight")
        add_step(queue, StepKind.AGENT, "Get the details of the selected flight")
        assert queue.step_input.text() == ""
        assert rows(queue) == [
            "○ 1. Agent: Search flights from Paris to Rome on Google Flights  — waiting",
            "○ 2. You: Pick a flight  — waiting",
            "○ 3. Agent: Get the details of the selected flight  — waiting",
        ]
        click(queue.run_queue_button)
        click(queue.run_queue_button)  # a double Run starts one queue
        await wait_until(lambda: len(cloud.task_creates()) == 1, what="the first agent step's task")
        await wait_until(lambda: controller.state is Control.AGENT)
        assert rows(queue)[0].startswith("▶ 1. Agent:")
        assert not queue.run_queue_button.isEnabled()
        cloud.add_step(goal="Open Google Flights")
        cloud.add_step(goal="Search")
        cloud.finish_task(output=done("AF1234 at 10:05 for 120 EUR"))

        # The You step: the browser is the person's, the step's text shown big.
        await wait_until(lambda: controller.state is Control.HUMAN, what="the You step")
        assert queue.person_step_label.isVisible()
        assert queue.person_step_label.text().startswith("Step 2 is yours: Pick a flight")
        assert rows(queue)[0] == (
            "✓ 1. Agent: Search flights from Paris to Rome on Google Flights  — done\n    Result: AF1234 at 10:05 for 120 EUR"
        )
        QTest.keyClicks(panel.note_input, "Picked the 10:05 Air France flight")
        click(panel.hand_back_button)
        click(panel.hand_back_button)  # a double Hand back completes one step

        await wait_until(lambda: len(cloud.task_creates()) == 2, what="the third step's task")
        await wait_until(lambda: controller.state is Control.AGENT)
        assert not queue.person_step_label.isVisible()
        cloud.add_step(goal="Read the details")
        cloud.finish_task(output=done("Air France, 120 EUR, 10:05 → 12:10"))
        await wait_until(lambda: queue.summary_box.isVisible(), what="the summary")

    qrun(scenario())
    creates = cloud.task_creates()
    assert len(creates) == 2  # exactly one task per agent step
    assert len(cloud.sessions) == 1
    assert {cloud.tasks[t].session_id for t in cloud.tasks} == set(cloud.sessions)
    second = creates[1].body["task"]
    assert second.startswith("Get the details of the selected flight\n")
    assert "1. Agent: Search flights from Paris to Rome on Google Flights — result: AF1234 at 10:05 for 120 EUR" in second
    assert "2. You: Pick a flight — the person's note: Picked the 10:05 Air France flight" in second
    assert [s.state for s in cloud_services.queue.steps] == [StepState.DONE] * 3
    assert queue.summary_box.toPlainText() == (
        "Queue summary\n"
        "1. Agent: Search flights from Paris to Rome on Google Flights [done]\n"
        "   Result: AF1234 at 10:05 for 120 EUR\n"
        "2. You: Pick a flight [done]\n"
        "   Note: Picked the 10:05 Air France flight\n"
        "3. Agent: Get the details of the selected flight [done]\n"
        "   Result: Air France, 120 EUR, 10:05 → 12:10\n"
        "Cost: $0.03"
    )
    click(queue.copy_summary_button)
    from PySide6.QtWidgets import QApplication

    assert QApplication.clipboard().text().startswith("Queue summary\n1. Agent: Search flights")


def test_structured_needs_you_moves_control_and_hand_back_continues_on_the_session(
    cloud: FakeCloud, cloud_services: Services, make_window, qrun
) -> None:
    window = make_window(cloud_services)
    queue = window.task_panel.queue_panel
    panel = window.task_panel
    controller = cloud_services.controller

    async def scenario() -> None:
        add_step(queue, StepKind.AGENT, "Log in and download the report")
        click(queue.run_queue_button)
        await wait_until(lambda: len(cloud.task_creates()) == 1 and controller.state is Control.AGENT)
        cloud.finish_task(output=needs_you("Type the 2FA code sent to your phone"))
        await wait_until(lambda: controller.state is Control.HUMAN, what="control to pass to the person")
        assert panel.request_label.text() == "The agent asks for you: Type the 2FA code sent to your phone"
        assert rows(queue) == [
            "! 1. Agent: Log in and download the report  — needs you\n    The agent asks: Type the 2FA code sent to your phone"
        ]
        assert not window.live_view.locked
        QTest.keyClicks(panel.note_input, "Entered the code")
        click(panel.hand_back_button)
        await wait_until(lambda: len(cloud.task_creates()) == 2, what="the follow-up task")
        await wait_until(lambda: controller.state is Control.AGENT)
        cloud.finish_task(output=done("report.pdf downloaded"))
        await wait_until(lambda: not cloud_services.queue.running)

    qrun(scenario())
    follow_up = cloud.task_creates()[1].body
    assert follow_up["sessionId"] == cloud.task_creates()[0].body["sessionId"]
    assert follow_up["task"].startswith("Continue this task from where the browser is now: Log in and download the report")
    assert "Entered the code" in follow_up["task"]
    assert cloud_services.queue.steps[0].output == "report.pdf downloaded"
    assert cloud_services.queue.steps[0].state is StepState.DONE


def test_a_playbook_starts_with_its_variables_and_edits_reorder_by_keyboard(
    cloud: FakeCloud, cloud_services: Services, make_window, qrun
) -> None:
    window = make_window(cloud_services)
    queue = window.task_panel.queue_panel
    actions = window.queue_actions
    assert [queue.playbook_list.itemText(i) for i in range(queue.playbook_list.count())] == ["Flight search (example)"]

    async def scenario() -> None:
        assert await actions.start_playbook("Flight search (example)", {"from": "Paris", "to": "Rome"})
        await wait_until(lambda: len(cloud.task_creates()) == 1)

    qrun(scenario())
    assert cloud.task_creates()[0].body["task"] == "Search flights from Paris to Rome on Google Flights"
    # While it runs: a step added, moved up with Ctrl+Up, the running step left alone.
    add_step(queue, StepKind.AGENT, "Email me the details")
    assert rows(queue)[3] == "○ 4. Agent: Email me the details  — waiting"
    queue.select_row(3)
    QTest.keyClick(queue.queue_list, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert [s.text for s in cloud_services.queue.steps] == [
        "Search flights from Paris to Rome on Google Flights",
        "Pick a flight",
        "Email me the details",
        "Get the details of the selected flight: airline, price, departure and arrival times",
    ]
    assert queue.selected_step() == cloud_services.queue.steps[2].id
    queue.select_row(0)
    assert not queue.remove_button.isEnabled()  # the running step stays
    queue.select_row(2)
    QTest.keyClick(queue.queue_list, Qt.Key.Key_Delete)
    assert len(cloud_services.queue.steps) == 3


def test_saving_the_queue_as_a_playbook_and_a_damaged_file_reported_at_start(
    paths: Paths, cloud: FakeCloud, cloud_services: Services, make_window, qrun
) -> None:
    paths.playbooks_file.write_text('{"format": "handoff-playbooks", "version": 1, "playbooks": [', encoding="utf-8")
    cloud_services.playbooks = PlaybookStore(paths.playbooks_file)
    window = make_window(cloud_services)
    assert window.banner.message == (
        "Your playbooks file was damaged and has been kept aside as playbooks.json.bad; the example playbook is shown instead."
    )
    assert (paths.config / "playbooks.json.bad").exists()
    queue = window.task_panel.queue_panel
    add_step(queue, StepKind.AGENT, "Open {{site}}")
    add_step(queue, StepKind.PERSON, "Log in")
    assert qrun(window.queue_actions.save_playbook("Log in somewhere"))
    assert queue.playbook_list.currentText() == "Log in somewhere"
    assert PlaybookStore(paths.playbooks_file).load()[-1] == Playbook(
        "Log in somewhere", (PlaybookStep(StepKind.AGENT, "Open {{site}}"), PlaybookStep(StepKind.PERSON, "Log in"))
    )
