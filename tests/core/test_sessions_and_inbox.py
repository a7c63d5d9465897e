"""Several sessions at once, in core: the inbox across them and the one quit question (no Qt)."""

from __future__ import annotations

from desktop_app.core.control import Control
from desktop_app.core.controller import QuitConcern, SessionController
from desktop_app.core.events import HumanRequested
from desktop_app.core.inbox import Inbox
from desktop_app.core.session_group import SessionGroup
from tests.core.test_controller import running
from tests.fakes.clock import FakeClock
from tests.fakes.scripted_backend import LOCAL_LIKE, ScriptedBackend
from tests.helpers import wait_until


def watched(inbox: Inbox, number: int, controller: SessionController, time_left: float | None = None) -> None:
    inbox.watch(number, controller.bus, lambda: f"Session {number}", lambda: time_left)


def test_requests_from_two_sessions_are_listed_newest_first_and_close_on_hand_back(arun) -> None:
    clock = FakeClock(1_000.0)
    inbox = Inbox(clock)
    changes: list[int] = []
    inbox.on_change(lambda: changes.append(len(inbox)))
    first, second, third = (SessionController(ScriptedBackend(LOCAL_LIKE)) for _ in range(3))
    for number, controller in enumerate((first, second, third), start=1):
        watched(inbox, number, controller)
    first_task = arun(running(first))
    second_task = arun(running(second))
    arun(running(third))

    first.runs.on_human_requested(first_task, "Enter the 2FA code")
    clock.now = 1_060.0
    second.runs.on_human_requested(second_task, "Pick a flight")

    assert [(i.session, i.asks, i.since) for i in inbox.items()] == [
        ("Session 2", "Pick a flight", 1_060.0),
        ("Session 1", "Enter the 2FA code", 1_000.0),
    ]
    assert changes == [1, 2]

    assert first.hand_back("Typed the code").accepted
    assert [i.session for i in inbox.items()] == ["Session 2"]
    assert len(inbox) == 1


def test_a_session_near_its_end_comes_first_and_says_so() -> None:
    clock = FakeClock(2_000.0)
    inbox = Inbox(clock)
    calm, hurried = SessionController(ScriptedBackend()), SessionController(ScriptedBackend())
    watched(inbox, 1, calm, time_left=600.0)
    watched(inbox, 2, hurried, time_left=90.0)
    hurried.bus.publish(HumanRequested("Log in"))
    clock.now = 2_300.0
    calm.bus.publish(HumanRequested("Enter the card"))

    items = inbox.items()
    assert [i.session for i in items] == ["Session 2", "Session 1"]  # the urgent one, though older
    assert items[0].describe(2_300.0) == "Session 2: Log in — waiting 5 min — session ends in 1:30 — keep it alive"
    assert items[1].describe(2_300.0) == "Session 1: Enter the card — just now — session ends in 10 min"


def test_a_closed_tab_leaves_the_inbox() -> None:
    inbox = Inbox(FakeClock())
    controller = SessionController(ScriptedBackend())
    forget = inbox.watch(1, controller.bus, lambda: "Session 1", lambda: None)
    controller.bus.publish(HumanRequested("Log in"))
    assert len(inbox) == 1
    forget()
    assert inbox.items() == [] and len(inbox) == 0


def test_quitting_asks_once_naming_every_billed_session(arun) -> None:
    group = SessionGroup()
    idle = SessionController(ScriptedBackend())
    group.add("Session 1", idle)
    assert group.quit_concern is None
    billed = [SessionController(ScriptedBackend(session_id=f"cloud-{n}")) for n in (2, 3)]
    for number, controller in enumerate(billed, start=2):
        group.add(f"Session {number}", controller)
        arun(running(controller))

    assert group.quit_concern is QuitConcern.BILLED_SESSION
    question = group.quit_question()
    assert question.title == "Stop the 2 Scripted cloud sessions before quitting?"
    assert question.text.splitlines()[1:] == ["• Session 2 (cloud-2)", "• Session 3 (cloud-3)"]
    assert question.stop == "Stop the sessions and quit"
    assert question.keep == "Quit and leave them running (billed)"

    arun(group.shutdown(stop_session=True, within=5))
    assert all(not c.state.session_alive for c in billed)
    assert group.quit_concern is None


def test_one_billed_session_among_idle_ones_is_asked_about_alone(arun) -> None:
    group = SessionGroup()
    group.add("Session 1", SessionController(ScriptedBackend()))
    billed = SessionController(ScriptedBackend())
    group.add("Session 2", billed)
    arun(running(billed))
    question = group.quit_question()
    assert question.title == "Stop the Scripted cloud session before quitting?"
    assert question.text.startswith("The Scripted cloud session (session-1) is billed")
    assert question.stop == "Stop the session and quit"


def test_the_mode_is_locked_while_any_session_is_open(arun) -> None:
    group = SessionGroup()
    first, second = SessionController(ScriptedBackend()), SessionController(ScriptedBackend())
    group.add("Session 1", first)
    group.add("Session 2", second)
    assert group.backend_locked_reason is None
    arun(running(second))
    assert group.backend_locked_reason is not None
    group.remove(second)
    assert group.backend_locked_reason is None


def test_a_session_about_to_time_out_is_listed_with_its_time_left_until_a_task_runs(arun) -> None:
    clock = FakeClock()
    controller = SessionController(ScriptedBackend(), clock=clock)
    inbox = Inbox(clock)
    inbox.watch(4, controller.bus, lambda: "Session 4", controller.time_left)

    async def scenario() -> None:
        await controller.new_session().done
        controller.lifecycle.tick()
        assert inbox.items() == []
        clock.now += 15 * 60 - 100  # 100 s left before Browser Use ends the idle session
        controller.lifecycle.tick()
        items = inbox.items()
        assert [i.describe(clock.now) for i in items] == [
            "Session 4: Its session ends soon: open it to keep it alive — just now — session ends in 1:40 — keep it alive"
        ]
        assert controller.keep_alive().accepted  # a short agent task: the clock starts again
        await wait_until(lambda: controller.state is Control.AGENT)

    arun(scenario())
    assert inbox.items() == []


def test_closing_a_tab_asks_only_while_its_session_is_open(arun) -> None:
    controller = SessionController(ScriptedBackend())
    assert controller.close_question("Session 2") is None  # nothing open: the tab just closes
    arun(running(controller))
    assert controller.close_question("Session 2") == (
        "Close Session 2?",
        "Closing the tab stops its Scripted cloud session and the agent's task. The timeline so far stays in History.",
        "Stop the session and close",
        "Keep it",
    )
