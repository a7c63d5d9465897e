"""The queue's rules on a plain asyncio loop with the scripted backend (no Qt, no HTTP): what runs
next after finished / failed / stopped / taken over / handed back / agent asked, editing while it
runs, the session lost mid-queue, a double Run and a double Hand back."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from desktop_app.core import timeline as tl
from desktop_app.core.control import Control
from desktop_app.core.controller import SessionController
from desktop_app.core.errors import BackendError, Problem
from desktop_app.core.events import Notice, PersonStepReached, QueueChanged, QueueFinished
from desktop_app.core.playbooks import PlaybookStep
from desktop_app.core.ports import RunResult, RunStatus
from desktop_app.core.queue import QueueRefused, StepKind, StepState
from desktop_app.core.queue_runner import QueueRunner
from tests.fakes.event_recorder import Recorder
from tests.fakes.scripted_backend import LOCAL_LIKE, ScriptedBackend
from tests.helpers import wait_until

A, YOU = StepKind.AGENT, StepKind.PERSON
FLIGHTS = [
    PlaybookStep(A, "Search flights from Paris to Rome"),
    PlaybookStep(YOU, "Pick a flight"),
    PlaybookStep(A, "Get the details of the selected flight"),
]


def make(capabilities=None) -> tuple[SessionController, QueueRunner, ScriptedBackend, Recorder]:
    backend = ScriptedBackend(capabilities) if capabilities else ScriptedBackend()
    controller = SessionController(backend)
    runner = QueueRunner(controller)
    return controller, runner, backend, Recorder(controller.bus)


def states(runner: QueueRunner) -> list[str]:
    return [s.state.value for s in runner.steps]


def task_texts(backend: ScriptedBackend) -> list[str]:
    return [c.args[0].text for c in backend.calls if c.name == "start_task"]


async def started(runner: QueueRunner, steps: list[PlaybookStep] = FLIGHTS) -> None:
    runner.load(steps)
    result = runner.start()
    assert result.accepted, result.reason


async def wait_state(controller: SessionController, state: Control) -> None:
    await wait_until(lambda: controller.state is state, what=f"control {state.value}")


def test_three_steps_agent_you_agent_run_on_one_session_with_outputs_and_note(arun) -> None:
    controller, runner, backend, events = make()

    async def scenario() -> None:
        await started(runner)
        await wait_until(lambda: backend.count("start_task") == 1)
        await wait_state(controller, Control.AGENT)
        backend.report_finished("task-1", output="AF1234 at 10:05 for 120 EUR")
        await wait_state(controller, Control.HUMAN)
        assert states(runner) == ["done", "needs_you", "waiting"]
        assert controller.hand_back("Picked the 10:05 Air France flight").accepted
        await wait_until(lambda: backend.count("start_task") == 2)
        await wait_state(controller, Control.AGENT)
        backend.report_finished("task-2", output="Air France, 120 EUR, 10:05 → 12:10")
        await wait_until(lambda: not runner.running)

    arun(scenario())
    assert backend.count("open_session") == 1
    assert backend.count("start_task") == 2  # one task per agent step
    assert task_texts(backend)[0] == "Search flights from Paris to Rome"
    second = task_texts(backend)[1]
    assert second.startswith("Get the details of the selected flight\n")
    assert "1. Agent: Search flights from Paris to Rome — result: AF1234 at 10:05 for 120 EUR" in second
    assert "2. You: Pick a flight — the person's note: Picked the 10:05 Air France flight" in second
    assert second.count("Picked the 10:05 Air France flight") == 1  # told once, not again as a carried note
    assert states(runner) == ["done", "done", "done"]
    assert [s.output for s in runner.steps] == [
        "AF1234 at 10:05 for 120 EUR",
        "Picked the 10:05 Air France flight",
        "Air France, 120 EUR, 10:05 → 12:10",
    ]
    assert events.of(PersonStepReached) == [PersonStepReached(2, "Pick a flight")]
    finished = events.of(QueueFinished)
    assert len(finished) == 1
    assert finished[0].summary == (
        "Queue summary\n"
        "1. Agent: Search flights from Paris to Rome [done]\n"
        "   Result: AF1234 at 10:05 for 120 EUR\n"
        "2. You: Pick a flight [done]\n"
        "   Note: Picked the 10:05 Air France flight\n"
        "3. Agent: Get the details of the selected flight [done]\n"
        "   Result: Air France, 120 EUR, 10:05 → 12:10\n"
        "Cost: $0.00"
    )
    kinds = [e.kind for e in controller.timeline.entries]
    assert kinds.count("QueueStarted") == 1 and kinds[-1] == "QueueEnded"
    # The audit trail has the You step (why the person got the browser) and the summary.
    handoffs = [(e.to, e.by, e.reason, e.note) for e in controller.timeline.entries if isinstance(e, tl.Handoff)]
    assert handoffs == [
        (tl.Actor.PERSON, tl.Actor.PERSON, "Step 2 is yours: Pick a flight", ""),
        (tl.Actor.NOBODY, tl.Actor.PERSON, "", "Picked the 10:05 Air France flight"),
    ]
    assert controller.timeline.entries[-1].summary == finished[0].summary


def test_a_double_run_starts_one_queue(arun) -> None:
    controller, runner, backend, _ = make()

    async def scenario() -> None:
        runner.load(FLIGHTS)
        first, second = runner.start(), runner.start()
        assert first.accepted
        assert not second.accepted and second.reason == "The queue is already running."
        await wait_state(controller, Control.AGENT)
        await asyncio.sleep(0.05)

    arun(scenario())
    assert backend.count("open_session") == 1
    assert backend.count("start_task") == 1


def test_a_double_hand_back_completes_one_step(arun) -> None:
    controller, runner, backend, _ = make()
    steps = [PlaybookStep(YOU, "Log in"), PlaybookStep(YOU, "Enter the 2FA code"), PlaybookStep(A, "Download the report")]

    async def scenario() -> None:
        await started(runner, steps)
        await wait_state(controller, Control.HUMAN)
        first, second = controller.hand_back("logged in"), controller.hand_back("logged in")
        assert first.accepted and not second.accepted
        await wait_until(lambda: runner.steps[1].state is StepState.NEEDS_YOU)

    arun(scenario())
    assert states(runner) == ["done", "needs_you", "waiting"]
    assert controller.state is Control.HUMAN
    assert backend.count("start_task") == 0


def test_take_over_mid_step_local_pauses_and_hand_back_resumes_the_same_step(arun) -> None:
    controller, runner, backend, _ = make(LOCAL_LIKE)

    async def scenario() -> None:
        await started(runner, [PlaybookStep(A, "Fill the form"), PlaybookStep(A, "Submit it")])
        await wait_state(controller, Control.AGENT)
        assert controller.take_over().accepted
        await wait_state(controller, Control.HUMAN)
        assert states(runner) == ["running", "waiting"]
        assert controller.hand_back("typed the address myself").accepted
        await wait_until(lambda: backend.count("resume") == 1)
        await wait_state(controller, Control.AGENT)
        backend.report_finished("task-1", output="Form filled")
        await wait_until(lambda: backend.count("start_task") == 2)

    arun(scenario())
    assert states(runner) == ["done", "running"]
    assert runner.steps[0].task_ids == ("task-1",)
    assert "1. Agent: Fill the form — result: Form filled" in task_texts(backend)[1]


def test_take_over_mid_step_cloud_continues_with_a_follow_up_task_of_the_same_step(arun) -> None:
    controller, runner, backend, _ = make()

    async def scenario() -> None:
        await started(runner, [PlaybookStep(A, "Fill the form"), PlaybookStep(A, "Submit it")])
        await wait_state(controller, Control.AGENT)
        assert controller.take_over().accepted
        await wait_state(controller, Control.HUMAN)
        backend.report_finished("task-1", RunStatus.STOPPED, output="")
        assert states(runner) == ["running", "waiting"]
        assert controller.hand_back("fixed the date").accepted
        await wait_until(lambda: backend.count("start_task") == 2)
        await wait_state(controller, Control.AGENT)
        backend.report_finished("task-2", output="Form filled")
        await wait_until(lambda: backend.count("start_task") == 3)

    arun(scenario())
    assert runner.steps[0].task_ids == ("task-1", "task-2")
    assert task_texts(backend)[1].startswith("Continue this task from where the browser is now: Fill the form")
    assert states(runner) == ["done", "running"]


def test_the_agent_asking_marks_the_step_needs_you_and_hand_back_goes_on(arun) -> None:
    controller, runner, backend, _ = make(LOCAL_LIKE)

    async def scenario() -> None:
        await started(runner, [PlaybookStep(A, "Log in"), PlaybookStep(A, "Download the report")])
        await wait_state(controller, Control.AGENT)
        backend.listener.on_human_requested("task-1", "Type the 2FA code")
        assert states(runner) == ["needs_you", "waiting"]
        assert runner.steps[0].reason == "Type the 2FA code"
        assert controller.hand_back("done").accepted
        await wait_state(controller, Control.AGENT)
        assert states(runner) == ["running", "waiting"]
        backend.report_finished("task-1", output="Logged in")
        await wait_until(lambda: backend.count("start_task") == 2)

    arun(scenario())
    assert states(runner) == ["done", "running"]


def test_cloud_structured_needs_you_passes_control_and_hand_back_continues_on_the_same_session(arun) -> None:
    controller, runner, backend, events = make()

    async def scenario() -> None:
        await started(runner, [PlaybookStep(A, "Log in"), PlaybookStep(A, "Download the report")])
        await wait_state(controller, Control.AGENT)
        backend.listener.on_finished(
            RunResult("task-1", RunStatus.FINISHED, output="Needs you: enter the 2FA code", success=True, needs_person="Enter the 2FA code")
        )
        assert controller.state is Control.HUMAN
        assert states(runner) == ["needs_you", "waiting"]
        assert controller.hand_back("entered it").accepted
        await wait_until(lambda: backend.count("start_task") == 2)
        await wait_state(controller, Control.AGENT)
        backend.report_finished("task-2", output="Logged in")
        await wait_until(lambda: backend.count("start_task") == 3)

    arun(scenario())
    assert backend.count("open_session") == 1
    texts = task_texts(backend)
    assert texts[1].startswith("Continue this task from where the browser is now: Log in")
    assert "entered it" in texts[1]
    assert runner.steps[0].task_ids == ("task-1", "task-2")
    assert [e.reason for e in controller.timeline.entries if isinstance(e, tl.Handoff) and e.by is tl.Actor.AGENT] == [
        "Enter the 2FA code"
    ]


def test_a_failed_step_stops_the_queue_with_the_reason_and_keeps_the_rest(arun) -> None:
    controller, runner, backend, events = make()

    async def scenario() -> None:
        await started(runner)
        await wait_state(controller, Control.AGENT)
        backend.report_finished("task-1", RunStatus.FAILED, output="Google Flights did not load")
        await wait_until(lambda: not runner.running)
        await asyncio.sleep(0.05)

    arun(scenario())
    assert states(runner) == ["failed", "waiting", "waiting"]
    assert runner.steps[0].reason == "Google Flights did not load"
    assert backend.count("start_task") == 1
    assert controller.state is Control.IDLE
    assert events.of(Notice)[-1].text == (
        "Step 1 failed, so the queue stopped: Google Flights did not load The other steps are kept; "
        "Run again or Skip it, then Run the queue."
    )
    assert events.of(QueueFinished) == []


def test_skip_a_failed_step_then_run_goes_on_from_the_next(arun) -> None:
    controller, runner, backend, _ = make()

    async def scenario() -> None:
        await started(runner, [PlaybookStep(A, "One"), PlaybookStep(A, "Two")])
        await wait_state(controller, Control.AGENT)
        backend.report_finished("task-1", RunStatus.FAILED, output="broken")
        await wait_until(lambda: not runner.running)
        await wait_state(controller, Control.IDLE)
        runner.skip(runner.steps[0].id)
        assert runner.start().accepted
        await wait_until(lambda: backend.count("start_task") == 2)

    arun(scenario())
    assert task_texts(backend)[1] == "Two\n\nThis is one step of a longer job, shared with a person. The steps before it, and what they produced:\n1. Agent: One — skipped\nThe browser is in the state the person left it in. Look at the current page first and do not repeat steps the person already completed."
    assert states(runner) == ["skipped", "running"]


def test_run_again_makes_a_done_step_run_next(arun) -> None:
    controller, runner, backend, _ = make()

    async def scenario() -> None:
        await started(runner, [PlaybookStep(A, "One")])
        await wait_state(controller, Control.AGENT)
        backend.report_finished("task-1", output="first try")
        await wait_until(lambda: not runner.running)
        runner.run_again(runner.steps[0].id)
        assert runner.steps[0].output == ""
        await wait_state(controller, Control.IDLE)
        assert runner.start().accepted
        await wait_until(lambda: backend.count("start_task") == 2)

    arun(scenario())
    assert task_texts(backend) == ["One", "One"]


def test_a_step_added_while_the_queue_runs_runs_in_its_turn(arun) -> None:
    controller, runner, backend, _ = make()

    async def scenario() -> None:
        await started(runner, [PlaybookStep(A, "One")])
        await wait_state(controller, Control.AGENT)
        runner.add(A, "Two")
        backend.report_finished("task-1", output="1")
        await wait_until(lambda: backend.count("start_task") == 2)

    arun(scenario())
    assert task_texts(backend)[1].startswith("Two\n")


def test_editing_while_running_leaves_the_running_step_alone(arun) -> None:
    controller, runner, backend, _ = make()

    async def scenario() -> None:
        await started(runner, [PlaybookStep(A, "One"), PlaybookStep(A, "Two"), PlaybookStep(A, "Three")])
        await wait_state(controller, Control.AGENT)
        running, two, three = runner.steps
        with pytest.raises(QueueRefused, match="in progress"):
            runner.edit(running.id, "Changed")
        with pytest.raises(QueueRefused, match="in progress"):
            runner.remove(running.id)
        runner.edit(three.id, "Three, changed")
        runner.move(three.id, 1)
        runner.remove(two.id)
        backend.report_finished("task-1", output="1")
        await wait_until(lambda: backend.count("start_task") == 2)

    arun(scenario())
    assert [s.text for s in runner.steps] == ["One", "Three, changed"]
    assert task_texts(backend)[1].startswith("Three, changed\n")


def test_session_lost_mid_queue_stops_it_and_the_next_run_continues_from_that_step(arun) -> None:
    controller, runner, backend, events = make()

    async def scenario() -> None:
        await started(runner)
        await wait_state(controller, Control.AGENT)
        backend.report_finished("task-1", output="AF1234")
        await wait_state(controller, Control.HUMAN)
        backend.listener.on_session_lost("The Browser Use session has ended.")
        assert controller.state is Control.NO_SESSION
        assert not runner.running
        assert states(runner) == ["done", "waiting", "waiting"]
        assert runner.continue_offer() == (
            "The queue stopped at step 2 (Pick a flight). Continue from there, or run it from the start?"
        )
        assert runner.start().accepted
        await wait_state(controller, Control.HUMAN)

    arun(scenario())
    assert backend.count("open_session") == 2
    assert states(runner) == ["done", "needs_you", "waiting"]
    assert runner.steps[0].output == "AF1234"  # nothing lost
    assert runner.continue_offer() is None
    assert "Nothing is lost" in [n.text for n in events.of(Notice) if "queue" in n.text][0]


def test_session_lost_while_an_agent_step_runs_puts_that_step_back_to_wait(arun) -> None:
    controller, runner, backend, _ = make()

    async def scenario() -> None:
        await started(runner)
        await wait_state(controller, Control.AGENT)
        backend.listener.on_session_lost("gone")
        await asyncio.sleep(0.05)

    arun(scenario())
    assert states(runner) == ["waiting", "waiting", "waiting"]
    assert runner.stopped_at == runner.steps[0].id


def test_run_from_the_start_forgets_every_output(arun) -> None:
    controller, runner, backend, _ = make()

    async def scenario() -> None:
        await started(runner, [PlaybookStep(A, "One"), PlaybookStep(A, "Two")])
        await wait_state(controller, Control.AGENT)
        backend.report_finished("task-1", output="1")
        await wait_until(lambda: backend.count("start_task") == 2)
        backend.listener.on_session_lost("gone")
        assert runner.start(from_start=True).accepted
        await wait_until(lambda: backend.count("start_task") == 3)

    arun(scenario())
    assert task_texts(backend)[2] == "One"
    assert states(runner) == ["running", "waiting"]


def test_a_step_that_cannot_start_fails_with_the_core_s_reason(arun) -> None:
    controller, runner, backend, _ = make()
    backend.fail_next("start_task", BackendError(Problem.INVALID, "The task was refused."))

    async def scenario() -> None:
        await started(runner, [PlaybookStep(A, "One"), PlaybookStep(A, "Two")])
        await wait_until(lambda: not runner.running)

    arun(scenario())
    assert states(runner) == ["failed", "waiting"]
    assert runner.steps[0].reason == "The agent could not start: The task was refused. Your task is kept."


def test_start_is_refused_while_the_agent_works_on_another_task(arun) -> None:
    controller, runner, backend, _ = make()

    async def scenario() -> Any:
        assert controller.new_session().accepted
        await wait_state(controller, Control.IDLE)
        assert controller.run("Something else").accepted
        runner.load(FLIGHTS)
        return runner.start()

    result = arun(scenario())
    assert not result.accepted
    assert result.reason == "The agent is already working. Take over first, or wait until it finishes."


def test_an_empty_queue_and_an_empty_step_are_refused(arun) -> None:
    controller, runner, backend, _ = make()

    async def scenario() -> Any:
        with pytest.raises(QueueRefused, match="Type what the step should do first."):
            runner.add(A, "   ")
        return runner.start()

    assert arun(scenario()).reason == "Add a step to the queue first."


def test_every_change_is_published(arun) -> None:
    controller, runner, backend, events = make()

    async def scenario() -> None:
        step = runner.add(A, "One")
        runner.add(YOU, "Two", at=0)
        runner.edit(step.id, "One!")

    arun(scenario())
    last = events.of(QueueChanged)[-1]
    assert [(s.kind, s.text) for s in last.steps] == [(YOU, "Two"), (A, "One!")]
    assert last.running is False


def test_costs_add_up_per_step(arun) -> None:
    controller, runner, backend, events = make()

    async def scenario() -> None:
        await started(runner, [PlaybookStep(A, "One")])
        await wait_state(controller, Control.AGENT)
        backend.listener.on_finished(RunResult("task-1", RunStatus.FINISHED, "ok", True, cost_usd=Decimal("0.12")))
        await wait_until(lambda: not runner.running)

    arun(scenario())
    assert runner.steps[0].cost == Decimal("0.12")
    assert events.of(QueueFinished)[0].summary.endswith("Cost: $0.12")


def test_a_session_that_never_opens_stops_the_queue(arun) -> None:
    controller, runner, backend, events = make()
    backend.fail_next("open_session", BackendError(Problem.AUTH, "Check your key."))
    gate = backend.gate("open_session")

    async def scenario() -> None:
        assert controller.new_session().accepted  # the person pressed New session first
        runner.load(FLIGHTS)
        assert runner.start().accepted  # while it opens
        gate.set()
        await wait_state(controller, Control.NO_SESSION)
        await asyncio.sleep(0.05)

    arun(scenario())
    assert not runner.running
    assert states(runner) == ["waiting", "waiting", "waiting"]
    assert backend.count("start_task") == 0
    assert runner.continue_offer() == "The queue stopped at step 1 (Search flights from Paris to Rome). Continue from there, or run it from the start?"
