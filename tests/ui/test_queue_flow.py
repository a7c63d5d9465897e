"""The queue in the real window against the fake Browser Use Cloud: a three-step queue (agent, you,
agent) built with the panel's buttons runs on one session, one task per agent step, the second
task told the first one's output and the person's note; a structured "needs you" moves control to
the person; playbooks start with their variables, and a damaged playbook file is reported."""

from __future__ import annotations

import json
from typing import Any

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


def asked(create: Any) -> str:
    """A task's own words, without the site rules briefing every task carries (the vault's rules)."""
    return create.body["task"].split("\n\nSite rules:", 1)[0]


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
    assert asked(cloud.task_creates()[0]) == "Search flights from Paris to Rome on Google Flights"
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


def test_stopped_mid_queue_run_queue_asks_and_continues_from_that_step(
    cloud: FakeCloud, cloud_services: Services, make_window, qrun
) -> None:
    from tests.ui.actions import answer_question

    window = make_window(cloud_services, interactive=True)
    panel = window.task_panel
    queue = panel.queue_panel
    controller = cloud_services.controller

    async def scenario() -> None:
        add_step(queue, StepKind.AGENT, "Open the report page")
        add_step(queue, StepKind.PERSON, "Log in")
        add_step(queue, StepKind.AGENT, "Download the report")
        click(queue.run_queue_button)
        await wait_until(lambda: cloud.tasks and controller.state is Control.AGENT)
        cloud.finish_task(output=done("The login page is open"))
        await wait_until(lambda: controller.state is Control.HUMAN, what="the You step")
        click(panel.stop_session_button)  # nothing of the agent's is unfinished: no question
        await wait_until(lambda: controller.state is Control.NO_SESSION)
        assert window.banner.message == (
            "The session ended, so the queue stopped. Nothing is lost: Run the queue to continue from the step that was running."
        )
        assert rows(queue)[1] == "○ 2. You: Log in  — waiting"
        assert not queue.person_step_label.isVisible()
        click(queue.run_queue_button)
        await wait_until(lambda: answer_question("Continue"), what="the question where to continue")
        await wait_until(lambda: controller.state is Control.HUMAN, what="the You step again, on a new session")

    qrun(scenario())
    assert len(cloud.sessions) == 2
    assert len(cloud.task_creates()) == 1  # the done step did not run again
    assert [s.state for s in cloud_services.queue.steps] == [StepState.DONE, StepState.NEEDS_YOU, StepState.WAITING]
    assert cloud_services.queue.steps[0].output == "The login page is open"


def test_skip_run_again_edit_and_drag_in_the_list(cloud_services: Services, make_window, qrun) -> None:
    from PySide6.QtCore import QModelIndex
    from PySide6.QtWidgets import QLineEdit

    window = make_window(cloud_services)
    queue = window.task_panel.queue_panel
    runner = cloud_services.queue
    for text in ("One", "Two", "Three"):
        add_step(queue, StepKind.AGENT, text)

    # Drag the third row to the top (as a drop in the list does).
    assert queue.queue_list.model().moveRows(QModelIndex(), 2, 1, QModelIndex(), 0)
    qrun(wait_until(lambda: [s.text for s in runner.steps] == ["Three", "One", "Two"], what="the drop to reach core"))
    assert rows(queue)[0] == "○ 1. Agent: Three  — waiting"

    # Edit a step in place: the editor holds its text only, not the row's number and state.
    queue.select_row(1)
    queue.queue_list.editItem(queue.queue_list.item(1))
    editor = queue.queue_list.findChild(QLineEdit, "stepEditor")
    assert editor is not None and editor.text() == "One"
    editor.setText("One, changed")
    QTest.keyClick(editor, Qt.Key.Key_Return)
    qrun(wait_until(lambda: runner.steps[1].text == "One, changed", what="the edit to reach core"))

    # Skip a waiting step; Run again makes it wait again.
    queue.select_row(2)
    assert queue.skip_button.isEnabled() and not queue.run_again_button.isEnabled()
    click(queue.skip_button)
    assert rows(queue)[2] == "↷ 3. Agent: Two  — skipped"
    queue.select_row(2)
    assert queue.run_again_button.isEnabled()
    click(queue.run_again_button)
    assert rows(queue)[2] == "○ 3. Agent: Two  — waiting"
    click(queue.remove_button)
    assert [s.text for s in runner.steps] == ["Three", "One, changed"]


def test_a_playbook_survives_a_restart_an_export_and_an_import_in_the_window(
    paths: Paths, tmp_path, cloud: FakeCloud, cloud_services: Services, make_window, qrun
) -> None:
    window = make_window(cloud_services)
    queue = window.task_panel.queue_panel
    add_step(queue, StepKind.AGENT, "Search flights from {{from}} to {{to}}")
    add_step(queue, StepKind.PERSON, "Pick one")
    assert qrun(window.queue_actions.save_playbook("My flights"))
    exported = tmp_path / "my-flights.json"
    assert qrun(window.queue_actions.export_playbook("My flights", exported))
    assert json.loads(exported.read_text(encoding="utf-8")) == {
        "format": "handoff-playbook",
        "version": 1,
        "name": "My flights",
        "steps": [{"kind": "agent", "text": "Search flights from {{from}} to {{to}}"}, {"kind": "you", "text": "Pick one"}],
    }
    qrun(window.close_gracefully())

    # Handoff starts again with the same folders: the playbook is listed.
    again = Services(paths, None, backend_override="cloud")
    second = make_window(again)
    listed = second.task_panel.queue_panel.playbook_list
    assert [listed.itemText(i) for i in range(listed.count())] == ["Flight search (example)", "My flights"]
    second.queue_actions.delete_playbook("My flights")
    assert [listed.itemText(i) for i in range(listed.count())] == ["Flight search (example)"]
    assert qrun(second.queue_actions.import_playbook(exported))
    assert [listed.itemText(i) for i in range(listed.count())] == ["Flight search (example)", "My flights"]
    assert second.banner.message == "Imported the playbook “My flights”."
    not_a_playbook = tmp_path / "notes.json"
    not_a_playbook.write_text('{"hello": 1}', encoding="utf-8")
    assert not qrun(second.queue_actions.import_playbook(not_a_playbook))
    assert second.banner.message == 'That file is not a Handoff playbook: it does not say "format": "handoff-playbook"'


def test_history_run_this_again_puts_the_queue_back_and_runs_it(
    cloud: FakeCloud, cloud_services: Services, make_window, qrun
) -> None:
    window = make_window(cloud_services)
    queue = window.task_panel.queue_panel
    controller = cloud_services.controller

    async def scenario() -> None:
        add_step(queue, StepKind.AGENT, "Check the prices")
        click(queue.run_queue_button)
        await wait_until(lambda: cloud.tasks and controller.state is Control.AGENT)
        cloud.finish_task(output=done("All the same as yesterday"))
        await wait_until(lambda: not cloud_services.queue.running)
        assert cloud_services.controller.stop_session().accepted
        await wait_until(lambda: controller.state is Control.NO_SESSION)
        cloud_services.queue.load([])  # an empty queue, as after a restart
        window.dialogs.open_history()
        history = window.dialogs.history
        await wait_until(lambda: history.run_again.isEnabled(), what="the session's queue to load")
        click(history.run_again)
        await wait_until(lambda: len(cloud.task_creates()) == 2, what="the queue to run again")

    qrun(scenario())
    assert asked(cloud.task_creates()[1]) == "Check the prices"
    assert [s.text for s in cloud_services.queue.steps] == ["Check the prices"]


def test_a_step_added_while_a_row_is_edited_waits_for_the_editor_to_close(cloud_services: Services, make_window, qrun) -> None:
    from PySide6.QtWidgets import QLineEdit

    window = make_window(cloud_services)
    queue = window.task_panel.queue_panel
    add_step(queue, StepKind.AGENT, "One")
    queue.queue_list.editItem(queue.queue_list.item(0))
    editor = queue.queue_list.findChild(QLineEdit, "stepEditor")
    assert editor is not None
    cloud_services.queue.add(StepKind.PERSON, "Two")  # e.g. a playbook step arriving meanwhile
    assert queue.queue_list.count() == 1  # the row under the editor is left alone
    QTest.keyClick(editor, Qt.Key.Key_Escape)
    qrun(wait_until(lambda: rows(queue) == ["○ 1. Agent: One  — waiting", "○ 2. You: Two  — waiting"], what="the rows made again"))
