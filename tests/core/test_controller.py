"""The session controller's rules, on a plain asyncio loop with a scripted backend (no Qt, no HTTP)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from desktop_app.core.state_words import state_words
from desktop_app.core import timeline as tl
from desktop_app.core.control import Control
from desktop_app.core.controller import SessionController
from desktop_app.core.errors import BackendError, Problem
from desktop_app.core.events import (
    HumanRequested,
    Level,
    Notice,
    NoticeAction,
    PrivacyDecision,
    SessionClosed,
    SessionOpened,
    TaskReturned,
)
from desktop_app.core.ports import InterruptOutcome, RunResult, RunStatus
from tests.fakes.event_recorder import Recorder
from tests.fakes.scripted_backend import LOCAL_LIKE, ScriptedBackend
from tests.helpers import wait_until


def make(capabilities=None) -> tuple[SessionController, ScriptedBackend, Recorder]:
    backend = ScriptedBackend(capabilities) if capabilities else ScriptedBackend()
    controller = SessionController(backend)
    return controller, backend, Recorder(controller.bus)


async def open_session(controller: SessionController) -> None:
    result = controller.new_session()
    assert result.accepted
    assert await result.done


async def running(controller: SessionController, text: str = "Book a table for two") -> str:
    await open_session(controller)
    result = controller.run(text)
    assert result.accepted and await result.done
    return controller.work.run.handle.task_id


async def call(command: Any) -> Any:
    """Issue a command from inside the loop, as the app always does."""
    return command()


async def run_held_at_creation(controller: SessionController, backend: ScriptedBackend, text: str) -> tuple[asyncio.Event, Any]:
    """Run a task whose creation the provider has not answered yet; set the event to answer."""
    gate = backend.gate("start_task")
    result = controller.run(text)
    await wait_until(lambda: backend.count("start_task") == 1)
    return gate, result


def entries(controller: SessionController, kind: type) -> list[Any]:
    return [e for e in controller.timeline.entries if isinstance(e, kind)]


def test_new_session_goes_through_starting_to_idle(arun) -> None:
    controller, backend, events = make()
    arun(open_session(controller))
    assert events.states() == [Control.STARTING, Control.IDLE]
    assert events.of(SessionOpened)[0].session.id == "session-1"
    assert [e.kind for e in controller.timeline.entries] == ["SessionStarted"]


def test_a_second_new_session_is_refused(arun) -> None:
    controller, backend, _ = make()
    arun(open_session(controller))
    assert not controller.new_session().accepted
    assert backend.count("open_session") == 1


def test_session_start_failure_returns_to_no_session_with_a_message(arun) -> None:
    controller, backend, events = make()
    backend.fail_next("open_session", BackendError(Problem.AUTH, "Check your key."))

    async def scenario() -> None:
        assert controller.new_session().accepted
        await wait_until(lambda: controller.state is Control.NO_SESSION)

    arun(scenario())
    notice = events.of(Notice)[-1]
    assert notice.level is Level.ERROR and "Check your key." in notice.text
    assert notice.action is NoticeAction.OPEN_SETTINGS


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_an_empty_task_is_refused(arun, text: str) -> None:
    controller, backend, _ = make()
    arun(open_session(controller))
    result = controller.run(text)
    assert not result.accepted and "Type a task" in result.reason
    assert backend.count("start_task") == 0


def test_a_task_over_the_limit_is_refused_with_its_length(arun) -> None:
    controller, backend, _ = make()
    arun(open_session(controller))
    result = controller.run("x" * 50_001)
    assert not result.accepted
    assert "50,001" in result.reason and "50,000" in result.reason and "kept" in result.reason
    assert backend.count("start_task") == 0
    assert arun(call(lambda: controller.run("x" * 50_000))).accepted


def test_run_without_a_session_starts_one_then_runs(arun) -> None:
    controller, backend, events = make()

    async def scenario() -> None:
        result = controller.run("Find flights")
        assert result.accepted
        assert await result.done

    arun(scenario())
    assert backend.names() == ["open_session", "start_task"]
    assert controller.state is Control.AGENT
    assert events.states() == [Control.STARTING, Control.IDLE, Control.AGENT]


def test_run_creates_the_task_and_records_it(arun) -> None:
    controller, backend, _ = make()
    task_id = arun(running(controller, "Find flights"))
    assert backend.last("start_task").args[0].text == "Find flights"
    started = entries(controller, tl.TaskStarted)[0]
    assert (started.task_id, started.text, started.origin) == (task_id, "Find flights", tl.TaskOrigin.RUN)


def test_steps_and_result_reach_the_timeline_and_control_returns_to_idle(arun) -> None:
    controller, backend, _ = make()
    task_id = arun(running(controller))
    backend.report_step(task_id, 1)
    backend.report_step(task_id, 2)
    backend.report_finished(task_id)
    assert [e.step.number for e in entries(controller, tl.AgentStep)] == [1, 2]
    assert entries(controller, tl.TaskFinished)[0].result.output == "Done"
    assert controller.state is Control.IDLE


def test_reports_about_unknown_tasks_are_ignored(arun) -> None:
    controller, backend, _ = make()
    arun(running(controller))
    backend.report_step("someone-elses-task", 1)
    backend.report_finished("someone-elses-task")
    assert entries(controller, tl.AgentStep) == [] and entries(controller, tl.TaskFinished) == []
    assert controller.state is Control.AGENT


def test_a_failed_create_returns_to_idle_and_says_why(arun) -> None:
    controller, backend, events = make()
    arun(open_session(controller))
    backend.fail_next("start_task", BackendError(Problem.SERVER, "Browser Use is having problems."))

    async def scenario() -> bool:
        return await controller.run("Find flights").done

    assert arun(scenario()) is False
    assert controller.state is Control.IDLE
    assert events.of(Notice)[-1].text == "The agent could not start: Browser Use is having problems. Your task is kept."


def test_a_start_that_fails_because_the_session_was_lost_is_said_once(arun) -> None:
    """The agent's process dies as a task starts: the backend reports the session lost, then the
    start fails. The person is told that the session was lost, not also that the agent could not start."""
    controller, backend, events = make(LOCAL_LIKE)
    arun(open_session(controller))

    async def dies(request: Any) -> Any:
        assert backend.listener is not None
        backend.listener.on_session_lost("The agent's process stopped unexpectedly.")
        raise BackendError(Problem.BROWSER_GONE, "The agent's process stopped unexpectedly.")

    backend.start_task = dies  # type: ignore[method-assign]

    async def scenario() -> bool:
        return await controller.run("Find flights").done

    assert arun(scenario()) is False
    assert controller.state is Control.NO_SESSION
    texts = [n.text for n in events.of(Notice)]
    assert [t for t in texts if "could not start" in t] == []
    assert sum("stopped unexpectedly" in t for t in texts) == 1, texts


def test_take_over_stops_the_task_and_unlocks_only_after_confirmation(arun) -> None:
    controller, backend, events = make()
    arun(running(controller))

    async def scenario() -> None:
        gate = backend.gate("interrupt")
        result = controller.take_over()
        assert result.accepted
        await wait_until(lambda: backend.count("interrupt") == 1)
        assert controller.state is Control.TAKING_OVER and controller.state.view_locked
        gate.set()
        assert await result.done

    arun(scenario())
    assert controller.state is Control.HUMAN
    handoff = entries(controller, tl.Handoff)[-1]
    assert (handoff.to, handoff.by) == (tl.Actor.PERSON, tl.Actor.PERSON)


def test_take_over_twice_sends_one_stop(arun) -> None:
    controller, backend, _ = make()
    arun(running(controller))

    async def scenario() -> None:
        gate = backend.gate("interrupt")
        first = controller.take_over()
        second = controller.take_over()
        assert first.accepted and not second.accepted
        gate.set()
        await first.done

    arun(scenario())
    assert backend.count("interrupt") == 1


def test_take_over_when_no_task_runs_gives_control_at_once(arun) -> None:
    controller, backend, _ = make()
    arun(open_session(controller))

    async def scenario() -> None:
        result = controller.take_over()
        assert result.accepted and await result.done

    arun(scenario())
    assert controller.state is Control.HUMAN
    assert backend.count("interrupt") == 0


def test_a_failed_stop_keeps_the_view_locked_and_says_so(arun) -> None:
    controller, backend, events = make()
    arun(running(controller))
    backend.fail_next("interrupt", BackendError(Problem.NETWORK, "No connection."))

    async def scenario() -> bool:
        return await controller.take_over().done

    assert arun(scenario()) is False
    assert controller.state is Control.AGENT and controller.state.view_locked
    assert "stays locked" in events.of(Notice)[-1].text
    assert arun(call(controller.take_over)).accepted  # and the person can try again


def test_take_over_while_the_task_is_being_created_stops_it_once_created(arun) -> None:
    controller, backend, _ = make()
    arun(open_session(controller))

    async def scenario() -> None:
        gate, run = await run_held_at_creation(controller, backend, "Find flights")
        take = controller.take_over()
        assert take.accepted and controller.state is Control.TAKING_OVER
        await asyncio.sleep(0.05)
        assert backend.count("interrupt") == 0  # nothing to stop yet
        gate.set()
        assert await run.done and await take.done

    arun(scenario())
    assert backend.names()[-1] == "interrupt"
    assert controller.state is Control.HUMAN


def test_the_task_ending_on_its_own_while_stopping_gives_control(arun) -> None:
    controller, backend, _ = make()
    task_id = arun(running(controller))

    async def scenario() -> None:
        backend.gate("interrupt")  # the stop never answers
        controller.take_over()
        await wait_until(lambda: backend.count("interrupt") == 1)
        backend.report_finished(task_id)

    arun(scenario())
    assert controller.state is Control.HUMAN
    assert controller.work.interrupted_goal is None  # it finished: nothing to continue


def test_hand_back_creates_one_follow_up_carrying_note_and_goal(arun) -> None:
    controller, backend, _ = make()
    arun(running(controller, "Book a table for two at Luigi's"))

    async def scenario() -> None:
        await controller.take_over().done
        first = controller.hand_back(note="Entered the card details", instruction="")
        second = controller.hand_back(note="Entered the card details", instruction="")
        assert first.accepted and not second.accepted
        assert await first.done

    arun(scenario())
    assert backend.count("start_task") == 2
    follow_up = backend.last("start_task").args[0].text
    assert "Entered the card details" in follow_up
    assert "Book a table for two at Luigi's" in follow_up
    assert controller.state is Control.AGENT
    handoff = entries(controller, tl.Handoff)[-1]
    assert (handoff.to, handoff.note) == (tl.Actor.AGENT, "Entered the card details")
    assert entries(controller, tl.TaskStarted)[-1].origin is tl.TaskOrigin.HAND_BACK


def test_hand_back_with_an_instruction_makes_it_the_new_goal(arun) -> None:
    controller, backend, _ = make()
    arun(running(controller, "Search flights NYC to London"))

    async def scenario() -> None:
        await controller.take_over().done
        assert await controller.hand_back(note="Picked the 9am BA flight", instruction="Get its price").done
        await controller.take_over().done
        assert await controller.hand_back(note="", instruction="").done

    arun(scenario())
    texts = [c.args[0].text for c in backend.calls if c.name == "start_task"]
    assert texts[1].startswith("Get its price")
    assert "Search flights NYC to London" in texts[1]
    # After the second take over the goal carried on is the instruction, not the first task.
    assert "Get its price" in texts[2] and "Search flights" not in texts[2]


def test_a_failed_hand_back_returns_control_to_the_person(arun) -> None:
    controller, backend, events = make()
    arun(running(controller))
    backend.fail_next("start_task", BackendError(Problem.SERVER, "Down."))

    async def scenario() -> bool:
        await controller.take_over().done
        return await controller.hand_back(note="Logged in").done

    assert arun(scenario()) is False
    assert controller.state is Control.HUMAN
    assert "Down." in events.of(Notice)[-1].text
    # The audit trail does not claim a hand back that did not happen.
    assert [h.to for h in entries(controller, tl.Handoff)] == [tl.Actor.PERSON]


def test_hand_back_with_nothing_to_do_releases_and_carries_the_note(arun) -> None:
    controller, backend, _ = make()
    arun(open_session(controller))

    async def scenario() -> None:
        await controller.take_over().done
        assert await controller.hand_back(note="Accepted the cookie banner").done
        assert controller.state is Control.IDLE
        assert await controller.run("Now search for shoes").done

    arun(scenario())
    text = backend.last("start_task").args[0].text
    assert text.startswith("Now search for shoes") and "Accepted the cookie banner" in text


def test_hand_back_over_the_limit_is_refused_and_keeps_control(arun) -> None:
    controller, backend, _ = make()
    arun(running(controller))

    async def scenario() -> None:
        await controller.take_over().done

    arun(scenario())
    result = controller.hand_back(note="n" * 50_000, instruction="go")
    assert not result.accepted and "limit" in result.reason
    assert controller.state is Control.HUMAN


def test_local_take_over_pauses_and_hand_back_resumes_the_same_run(arun) -> None:
    controller, backend, _ = make(LOCAL_LIKE)
    task_id = arun(running(controller, "Fill the form"))

    async def scenario() -> None:
        await controller.take_over().done
        assert controller.work.paused_run is not None
        assert await controller.hand_back(note="Typed the 2FA code", instruction="Then submit").done

    arun(scenario())
    resume = backend.last("resume")
    run, context = resume.args
    assert run.task_id == task_id
    assert "Typed the 2FA code" in context.message and "Then submit" in context.message
    assert backend.count("start_task") == 1
    assert controller.state is Control.AGENT and controller.work.paused_run is None


def test_the_agent_asking_for_a_person_hands_control_over(arun) -> None:
    controller, backend, events = make(LOCAL_LIKE)
    task_id = arun(running(controller))
    controller.runs.on_human_requested(task_id, "Enter the 2FA code sent to your phone")
    assert controller.state is Control.HUMAN and controller.work.paused_run is not None
    assert events.of(HumanRequested)[0].reason == "Enter the 2FA code sent to your phone"
    handoff = entries(controller, tl.Handoff)[-1]
    assert (handoff.to, handoff.by, handoff.reason) == (tl.Actor.PERSON, tl.Actor.AGENT, "Enter the 2FA code sent to your phone")


def test_a_run_fault_stops_cleanly_and_gives_the_person_control(arun) -> None:
    controller, backend, events = make(LOCAL_LIKE)
    task_id = arun(running(controller, "Fill the form"))
    backend.report_step(task_id, 1)  # the agent has been at work in the browser
    controller.runs.on_run_fault(task_id, BackendError(Problem.LLM_FAILED, "The model server stopped answering."))
    assert controller.state is Control.HUMAN
    assert entries(controller, tl.TaskFinished)[-1].result.status is RunStatus.FAILED
    assert "The model server stopped answering." in events.of(Notice)[-1].text
    assert controller.work.interrupted_goal == "Fill the form"
    handoff = entries(controller, tl.Handoff)[-1]
    assert handoff.fault and handoff.title == "The agent stopped — you have control"


def test_a_run_that_fails_before_doing_anything_gives_the_task_back(arun) -> None:
    controller, backend, events = make(LOCAL_LIKE)
    task_id = arun(running(controller, "Fill the form"))
    controller.runs.on_run_fault(task_id, BackendError(Problem.LLM_FAILED, "The AI model server refused the connection."))
    assert controller.state is Control.IDLE  # nobody needs to take control of an untouched page
    assert events.of(TaskReturned) == [TaskReturned("Fill the form")]
    notice = events.of(Notice)[-1]
    assert "could not start" in notice.text and "refused the connection" in notice.text and "press Run" in notice.text
    assert entries(controller, tl.Handoff) == []  # no "you have control" handoff
    assert controller.work.interrupted_goal is None


def test_run_without_a_key_or_model_is_refused_before_a_session_opens(arun) -> None:
    controller, backend, events = make(LOCAL_LIKE)
    backend.fail_next("preflight", BackendError(Problem.LLM_NOT_CONFIGURED, "Choose the AI model in Settings."))
    result = controller.run("Fill the form")
    assert not result.accepted and result.needs_settings and "Choose the AI model" in result.reason
    assert controller.state is Control.NO_SESSION and backend.names() == []


@pytest.mark.parametrize(
    ("status", "success", "output", "level", "words"),
    [
        (RunStatus.FINISHED, True, "Booked for 8pm", Level.INFO, "Done: Booked for 8pm"),
        (RunStatus.FINISHED, False, "No tables left", Level.WARNING, "could not do it: No tables left"),
        (RunStatus.FAILED, None, "Too many errors", Level.WARNING, "The task failed: Too many errors"),
    ],
)
def test_the_outcome_of_a_task_is_told(arun, status: RunStatus, success: bool | None, output: str, level: Level, words: str) -> None:
    controller, backend, events = make()
    task_id = arun(running(controller))
    backend.listener.on_finished(RunResult(task_id, status, output=output, success=success))
    notice = events.of(Notice)[-1]
    assert notice.level is level and words in notice.text
    assert controller.state is Control.IDLE


def test_stop_session_stops_the_running_task_first(arun) -> None:
    controller, backend, events = make()
    arun(running(controller))

    async def scenario() -> bool:
        return await controller.stop_session().done

    assert arun(scenario())
    assert backend.names()[-2:] == ["stop_task", "end_session"]
    assert controller.state is Control.NO_SESSION
    assert events.of(SessionClosed)[0].reason == "Stopped by you"


def test_stop_session_while_starting_cancels_the_start_and_ends_the_session(arun) -> None:
    controller, backend, _ = make()

    async def scenario() -> None:
        backend.gate("open_session")  # never answers
        controller.new_session()
        await wait_until(lambda: backend.count("open_session") == 1)
        assert await controller.stop_session().done

    arun(scenario())
    assert backend.names() == ["open_session", "end_session"]
    assert controller.state is Control.NO_SESSION


def test_a_failed_session_stop_is_reported_and_can_be_retried(arun) -> None:
    controller, backend, events = make()
    arun(open_session(controller))
    backend.fail_next("end_session", BackendError(Problem.NETWORK, "No connection."))

    async def scenario() -> bool:
        return await controller.stop_session().done

    assert arun(scenario()) is False
    assert controller.state is Control.IDLE
    assert "may still be running" in events.of(Notice)[-1].text
    assert arun(scenario()) is True  # pressing Stop session again really stops it
    assert backend.count("end_session") == 2 and controller.state is Control.NO_SESSION


def test_a_lost_session_ends_everything_and_offers_a_new_one(arun) -> None:
    controller, backend, events = make()
    arun(running(controller))
    controller.runs.on_session_lost("The browser session has timed out.")
    assert controller.state is Control.NO_SESSION
    notice = events.of(Notice)[-1]
    assert notice.action is NoticeAction.NEW_SESSION and "timed out" in notice.text
    assert entries(controller, tl.SessionEnded)[0].reason == "The browser session has timed out."


def test_shutdown_stops_task_and_session_and_closes_the_backend(arun) -> None:
    controller, backend, _ = make()
    arun(running(controller))
    arun(controller.shutdown(stop_session=True))
    assert backend.names()[-3:] == ["stop_task", "end_session", "aclose"]


def test_shutdown_can_keep_the_session_but_still_stops_the_agent(arun) -> None:
    controller, backend, _ = make()
    arun(running(controller))
    arun(controller.shutdown(stop_session=False))
    assert "end_session" not in backend.names()
    assert backend.names()[-2:] == ["stop_task", "aclose"]


def test_switching_backends_needs_no_session(arun) -> None:
    controller, backend, _ = make()
    other = ScriptedBackend(LOCAL_LIKE)

    async def scenario() -> None:
        await open_session(controller)
        assert not controller.replace_backend(other).accepted
        await controller.stop_session().done
        result = controller.replace_backend(other)
        assert result.accepted and await result.done

    arun(scenario())
    assert controller.backend is other and backend.closed and other.listener is controller.runs


def test_interrupt_outcome_already_over_leaves_nothing_to_continue(arun) -> None:
    controller, backend, _ = make()
    arun(running(controller))
    backend.interrupt_outcome = InterruptOutcome.ALREADY_OVER

    async def scenario() -> None:
        await controller.take_over().done

    arun(scenario())
    assert controller.work.interrupted_goal is None
    assert arun(call(controller.hand_back)).accepted
    assert controller.state is Control.IDLE  # nothing to run: released
    assert entries(controller, tl.Handoff)[-1].to is tl.Actor.NOBODY


@pytest.mark.parametrize(
    ("operation", "command", "state_after"),
    [
        ("open_session", "new_session", Control.NO_SESSION),
        ("start_task", "run", Control.IDLE),
    ],
)
def test_an_unexpected_error_in_a_backend_ends_in_a_clear_state(arun, operation: str, command: str, state_after: Control) -> None:
    controller, backend, events = make()
    if command == "run":
        arun(open_session(controller))
    backend.fail_next(operation, PermissionError("Permission denied: '/home/ada/Downloads'"))

    async def scenario() -> bool:
        result = controller.new_session() if command == "new_session" else controller.run("Do it")
        return await result.done

    assert arun(scenario()) is False
    assert controller.state is state_after
    assert "Something unexpected went wrong (PermissionError" in events.of(Notice)[-1].text


def test_take_over_while_a_resume_is_in_flight_pauses_again(arun) -> None:
    controller, backend, _ = make(LOCAL_LIKE)
    arun(running(controller))

    async def scenario() -> None:
        await controller.take_over().done
        gate = backend.gate("resume")
        back = controller.hand_back(note="Done")
        await wait_until(lambda: backend.count("resume") == 1)
        take = controller.take_over()
        assert take.accepted and controller.state is Control.TAKING_OVER
        await asyncio.sleep(0.05)
        assert backend.count("interrupt") == 1  # not yet: the resume is still under way
        gate.set()
        assert await back.done and await take.done

    arun(scenario())
    assert backend.count("interrupt") == 2
    assert controller.state is Control.HUMAN and controller.work.paused_run is not None


def test_closing_while_stop_session_is_under_way_lets_it_finish(arun) -> None:
    controller, backend, events = make()
    arun(open_session(controller))

    async def scenario() -> None:
        gate = backend.gate("end_session")
        controller.stop_session()
        await wait_until(lambda: backend.count("end_session") == 1)
        closing = asyncio.ensure_future(controller.shutdown(stop_session=True))
        await asyncio.sleep(0.05)
        gate.set()
        await closing

    arun(scenario())
    assert backend.count("end_session") == 1 and backend.closed
    assert controller.state is Control.NO_SESSION and events.of(SessionClosed)


def test_a_second_run_while_the_first_waits_for_the_session_is_refused(arun) -> None:
    controller, backend, _ = make()

    async def scenario() -> None:
        gate = backend.gate("open_session")
        assert controller.run("First").accepted
        second = controller.run("Second")
        assert not second.accepted and "already waiting" in second.reason
        gate.set()
        await wait_until(lambda: backend.count("start_task") == 1)

    arun(scenario())
    assert backend.last("start_task").args[0].text == "First"


def test_activity_says_which_step_the_agent_is_on_and_for_how_long(arun) -> None:
    now = [1000.0]
    backend = ScriptedBackend(LOCAL_LIKE)
    controller = SessionController(backend, clock=lambda: now[0])
    assert controller.status().activity is None  # no session, nothing to say
    task_id = arun(running(controller))
    assert controller.status().activity == "Working on step 1"
    now[0] += 12
    assert controller.status().activity == "Working on step 1 · 12 s"
    backend.report_step(task_id, 1)
    assert controller.status().activity == "Working on step 2"
    now[0] += 60
    assert controller.status().activity == "Working on step 2 · 60 s (the model is slow to answer)"

    async def take_over_and_back() -> None:
        await controller.take_over().done
        assert controller.status().activity is None  # the person has control: the agent is doing nothing
        now[0] += 300  # time with the person is not the agent's
        assert await controller.hand_back(note="done").done

    arun(take_over_and_back())
    assert controller.status().activity == "Working on step 2"
    backend.report_finished(task_id)
    assert controller.status().activity is None


def test_stop_session_concern_names_what_would_be_cut_short(arun) -> None:
    controller, backend, _ = make(LOCAL_LIKE)
    arun(open_session(controller))
    assert controller.stop_session_concern is None  # idle: nothing to lose
    arun(call(lambda: controller.run("Fill the form").done))
    assert "still working" in controller.stop_session_concern

    async def take_over() -> None:
        await controller.take_over().done

    arun(take_over())
    assert "paused while you have the browser" in controller.stop_session_concern


def test_stop_session_concern_covers_a_stopped_task_and_not_a_keep_alive(arun) -> None:
    controller, backend, events = make()  # Cloud-like: Take over stops the task
    arun(running(controller, "Compare three laptops"))

    async def take_over() -> None:
        await controller.take_over().done

    arun(take_over())
    assert controller.work.run is None and "task is unfinished. Stopping the session ends it; the task goes back" in controller.stop_session_concern
    assert arun(call(lambda: controller.stop_session().done))
    assert events.of(TaskReturned)[-1].text == "Compare three laptops"  # back to the box, not lost

    arun(open_session(controller))
    assert arun(call(lambda: controller.keep_alive().done))
    assert controller.state is Control.AGENT and controller.stop_session_concern is None


def test_a_lost_session_gives_the_unfinished_task_back(arun) -> None:
    controller, backend, events = make()
    arun(running(controller, "Book the train"))
    controller.runs.on_session_lost("The browser session has timed out.")
    assert [e.text for e in events.of(TaskReturned)] == ["Book the train"]


def test_a_session_lost_while_the_task_is_created_leaves_no_run_behind(arun) -> None:
    controller, backend, events = make()
    arun(open_session(controller))

    async def scenario() -> bool:
        gate, result = await run_held_at_creation(controller, backend, "Book the train")
        controller.runs.on_session_lost("The browser session has timed out.")
        gate.set()
        return await result.done

    assert arun(scenario()) is False  # the window keeps the text in the box
    assert controller.state is Control.NO_SESSION and controller.work.run is None
    assert [e.text for e in events.of(TaskReturned)] == ["Book the train"]
    assert entries(controller, tl.TaskStarted) == []


@pytest.mark.parametrize("person_has_it", [False, True], ids=["agent working", "paused for the person"])
def test_stop_session_gives_the_unfinished_task_back(arun, person_has_it: bool) -> None:
    controller, backend, events = make(LOCAL_LIKE)
    arun(running(controller, "Fill the form"))
    if person_has_it:
        controller.runs.on_human_requested(controller.work.run.handle.task_id, "Enter the card")
        assert controller.state is Control.HUMAN
    assert arun(call(lambda: controller.stop_session().done))
    assert controller.state is Control.NO_SESSION
    assert [e.text for e in events.of(TaskReturned)] == ["Fill the form"]


def test_stop_session_after_the_task_finished_gives_nothing_back(arun) -> None:
    controller, backend, events = make()
    task_id = arun(running(controller))
    backend.report_finished(task_id)
    assert arun(call(lambda: controller.stop_session().done))
    assert events.of(TaskReturned) == []


def test_card_numbers_in_a_note_never_reach_the_agent_or_the_history(arun) -> None:
    controller, backend, events = make()
    arun(running(controller, "Buy the blue mug"))

    async def scenario() -> None:
        await controller.take_over().done
        result = controller.hand_back(note="Paid with 4111 1111 1111 1111 exp 11/29 cvc 737", instruction="")
        assert result.accepted and await result.done

    arun(scenario())
    follow_up = backend.last("start_task").args[0].text
    assert "Paid with •••• 1111 exp ••/•• cvc •••" in follow_up
    assert "4111" not in follow_up.replace("•••• 1111", "") and "737" not in follow_up
    assert entries(controller, tl.Handoff)[-1].note == "Paid with •••• 1111 exp ••/•• cvc •••"
    assert [e.event for e in events.of(PrivacyDecision)] == ["note_redacted"]
    assert "shortened to their last four digits" in events.of(Notice)[-1].text


def test_an_agent_output_quoting_a_card_is_kept_shortened(arun) -> None:
    controller, backend, _ = make()
    task_id = arun(running(controller))
    backend.report_finished(task_id, output="Card on file: 5555-5555-5555-4444, thanks")
    assert entries(controller, tl.TaskFinished)[-1].result.output == "Card on file: •••• 4444, thanks"


def test_hand_back_without_screenshots_applies_to_the_next_task_only(arun) -> None:
    controller, backend, _ = make()
    arun(running(controller))

    async def scenario() -> None:
        await controller.take_over().done
        assert await controller.hand_back(note="Logged in", instruction="Download the report", screenshots=False).done
        backend.report_finished(controller.work.run.handle.task_id)
        assert await controller.run("Now log out").done

    arun(scenario())
    requests = [c.args[0] for c in backend.calls if c.name == "start_task"]
    assert [r.screenshots for r in requests] == [True, False, True]


def test_the_timeline_shows_the_persons_words_and_keeps_the_composed_task_for_the_detail(arun) -> None:
    controller, backend, _ = make()
    arun(running(controller, "Order the blue mug"))

    async def scenario() -> None:
        await controller.take_over().done
        assert await controller.hand_back(note="Paid with my card", instruction="Check that the order went through").done

    arun(scenario())
    follow_up = entries(controller, tl.TaskStarted)[-1]
    assert follow_up.title == "Follow-up task started"
    assert follow_up.detail == "Check that the order went through"
    sent = backend.last("start_task").args[0].text
    assert follow_up.text == sent and "A person had control" in sent
    assert follow_up.full_detail == "Check that the order went through\n\nSent to the agent:\n" + sent
    first = entries(controller, tl.TaskStarted)[0]
    assert (first.detail, first.full_detail) == ("Order the blue mug", "Order the blue mug")


def test_an_entry_recorded_before_goals_were_kept_shows_the_first_line() -> None:
    old = tl.entry_from_dict(
        {"kind": "TaskStarted", "at": 1.0, "session_id": "s", "task_id": "t", "origin": "hand_back",
         "text": "Check the order\n\nA person had control of this browser and has handed it back to you."}
    )
    assert old.detail == "Check the order"


def test_what_the_person_did_while_idle_is_told_with_the_next_run(arun) -> None:
    from desktop_app.core.events import PersonActed

    controller, backend, _ = make()
    arun(open_session(controller))
    controller.bus.publish(PersonActed("Opened shop.example/cart. Pressed “Remove”."))

    async def scenario() -> None:
        assert await controller.run("Check out").done

    arun(scenario())
    sent = backend.last("start_task").args[0].text
    assert sent.startswith("Check out\n")
    assert "What the person did:\n- Opened shop.example/cart. Pressed “Remove”." in sent
    assert entries(controller, tl.TaskStarted)[-1].detail == "Check out"

    # Told once: the next run (after the agent had the browser) does not repeat it.
    controller.runs.on_finished(RunResult(controller.work.run.handle.task_id, RunStatus.FINISHED, success=True))

    async def again() -> None:
        assert await controller.run("Print the receipt").done

    arun(again())
    assert backend.last("start_task").args[0].text == "Print the receipt"


def test_the_idle_state_says_who_has_the_browser() -> None:
    assert state_words(Control.IDLE).indicator == "Ready — the browser is yours until you press Run"


def test_a_failed_follow_up_gives_back_the_note_with_the_instruction(arun) -> None:
    controller, backend, events = make(LOCAL_LIKE)
    arun(running(controller, "Order the blue mug"))

    async def scenario() -> None:
        await controller.take_over().done
        controller.work.run = None  # as after a stopped task: the hand back starts a follow-up task
        controller.work.interrupted_goal = "Order the blue mug"
        assert await controller.hand_back(note="Paid with my card", instruction="Check that the order went through").done

    arun(scenario())
    task_id = controller.work.run.handle.task_id
    controller.runs.on_run_fault(task_id, BackendError(Problem.LLM_FAILED, "The model refused the request."))
    assert controller.state is Control.IDLE
    assert events.of(TaskReturned)[-1] == TaskReturned("Check that the order went through", "Paid with my card")

    async def rerun() -> None:
        assert await controller.run("Check that the order went through", note="Paid with my card").done

    arun(rerun())
    sent = backend.last("start_task").args[0].text
    assert sent.startswith("Check that the order went through\n") and "- Paid with my card" in sent


def test_a_note_sent_with_run_comes_back_with_the_task_when_the_agent_cannot_start(arun) -> None:
    controller, backend, events = make(LOCAL_LIKE)

    async def scenario() -> str:
        await open_session(controller)
        assert await controller.run("Fill the form", note="Use my work address").done
        return controller.work.run.handle.task_id

    task_id = arun(scenario())
    controller.runs.on_run_fault(task_id, BackendError(Problem.LLM_FAILED, "The AI model server refused the connection."))
    assert events.of(TaskReturned) == [TaskReturned("Fill the form", "Use my work address")]


def test_over_limit_counts_what_run_or_hand_back_would_send(arun) -> None:
    controller, _, _ = make()  # 50,000 characters at most
    short, long_note = "Book a table for two", "n" * 50_000
    assert not controller.over_limit(short, long_note)  # no session: the note box is not sent with Run
    assert controller.over_limit("t" * 50_001)

    async def scenario() -> None:
        await open_session(controller)
        assert controller.over_limit(short, long_note)  # idle: the note goes with Run
        assert not controller.over_limit(short, "I logged in")
        await call(controller.take_over)
        assert controller.over_limit(short, long_note)  # the hand back's follow-up would carry it
        assert not controller.over_limit("", "I logged in")

    arun(scenario())
