"""Recovery after a restart, the provider's session clock, and the browser page crashing."""

from __future__ import annotations

from pathlib import Path

from desktop_app.core import timeline as tl
from desktop_app.core.control import Control
from desktop_app.core.controller import SessionController
from desktop_app.core.messages import KEEP_ALIVE_TASK
from desktop_app.core.errors import BackendError, Problem
from desktop_app.core.events import EventBus, Notice, NoticeAction, SessionOpened
from desktop_app.core.ports import RemoteSession, StepReport
from desktop_app.core.recovery import (
    close_local_leftovers,
    find_left_running,
    recorded_steps,
)
from desktop_app.core.session_clock import SessionClock
from desktop_app.core.store import HistoryStore
from tests.fakes.clock import FakeClock
from tests.fakes.scripted_backend import CLOUD_LIKE, LOCAL_LIKE, ScriptedBackend
from tests.helpers import wait_until


def test_left_running_sessions_are_found_and_the_rest_closed(tmp_path: Path, arun) -> None:
    history = HistoryStore.open(tmp_path / "h.sqlite3")
    for number in (1, 2, 3):
        history.record(tl.SessionStarted(float(number), f"cloud-{number}", "Cloud", "cloud"))
    history.record(tl.SessionEnded(4.0, "cloud-3", "Stopped by you"))
    history.record(tl.SessionStarted(5.0, "local-1", "Local", "local"))
    checker = ScriptedBackend()
    checker.live_sessions = [RemoteSession("cloud-2", 2.0), RemoteSession("someone-else", 9.0)]
    live = arun(find_left_running(history, checker))
    assert [s.id for s in live] == ["cloud-2"]
    assert checker.last("find_live_sessions").args[0] == {"cloud-1", "cloud-2"}
    assert [s.id for s in history.open_sessions("cloud")] == ["cloud-2"]
    assert history.session("cloud-1").end_reason == "Had already ended when Handoff started again"
    close_local_leftovers(history, ["local"])
    assert history.open_sessions("local") == [] and history.session("local-1").end_reason == "Handoff closed unexpectedly"


def test_when_the_provider_cannot_be_asked_nothing_is_marked_ended(tmp_path: Path, arun) -> None:
    history = HistoryStore.open(tmp_path / "h.sqlite3")
    history.record(tl.SessionStarted(1.0, "cloud-1", "Cloud", "cloud"))
    checker = ScriptedBackend()
    checker.fail_next("find_live_sessions", BackendError(Problem.NETWORK, "offline"))
    try:
        arun(find_left_running(history, checker))
    except BackendError:
        pass
    assert [s.id for s in history.open_sessions("cloud")] == ["cloud-1"]


def test_reattaching_follows_the_task_still_running_without_repeating_steps(arun) -> None:
    backend = ScriptedBackend()
    backend.adopted_task = "Buy the mug"
    bus = EventBus()
    opened: list[SessionOpened] = []
    bus.subscribe(lambda e: opened.append(e) if isinstance(e, SessionOpened) else None)
    controller = SessionController(backend, bus)

    async def scenario() -> None:
        assert await controller.reattach("cloud-7", {"adopted-task": 2}).done

    arun(scenario())
    assert controller.state is Control.AGENT and controller.session.id == "cloud-7"
    assert opened[0].reattached
    assert controller.status().activity == "Working on step 3"  # steps 1-2 happened before the reattach
    for number in (1, 2, 3):
        backend.report_step("adopted-task", number)
    steps = [e.step.number for e in controller.timeline.entries if isinstance(e, tl.AgentStep)]
    assert steps == [3]
    assert [e.kind for e in controller.timeline.entries][0] == "SessionReattached"


def clocked() -> tuple[FakeClock, ScriptedBackend, list[Notice], SessionController]:
    """A controller on a fake clock, with the notices it publishes."""
    clock = FakeClock()
    backend = ScriptedBackend()
    bus = EventBus()
    notices: list[Notice] = []
    bus.subscribe(lambda e: notices.append(e) if isinstance(e, Notice) else None)
    return clock, backend, notices, SessionController(backend, bus, clock=clock)


def test_the_clock_warns_once_then_notices_the_timeout(arun) -> None:
    clock, backend, notices, controller = clocked()

    async def scenario() -> None:
        await controller.new_session().done
        controller.lifecycle.tick()
        assert notices == []
        clock.now += 15 * 60 - 100  # 100 s left
        controller.lifecycle.tick()
        controller.lifecycle.tick()
        assert len(notices) == 1 and notices[0].action is NoticeAction.KEEP_ALIVE
        assert controller.status().text.endswith(" · session ends in 1:40 without agent activity")
        backend.alive = False
        clock.now += 101
        controller.lifecycle.tick()
        await wait_until(lambda: controller.state is Control.NO_SESSION, timeout=2.0, interval=0.01)

    arun(scenario())
    assert "timed out after 15 minutes without agent activity" in notices[-1].text
    assert notices[-1].action is NoticeAction.NEW_SESSION


def test_agent_activity_resets_the_idle_clock_but_not_the_lifetime(arun) -> None:
    clock = SessionClock(limits=ScriptedBackend().capabilities.limits, started_at=0.0)
    clock.touch(14_000.0)
    reading = clock.read(14_000.0)
    assert reading.reason == "lifetime" and reading.remaining == 400.0
    early = SessionClock(limits=ScriptedBackend().capabilities.limits, started_at=0.0)
    early.touch(100.0)
    assert early.read(200.0).reason == "idle" and early.read(200.0).remaining == 800.0


def test_a_session_the_provider_still_runs_is_not_dropped(arun) -> None:
    clock = FakeClock()
    backend = ScriptedBackend()
    controller = SessionController(backend, clock=clock)

    async def scenario() -> None:
        await controller.new_session().done
        clock.now += 16 * 60
        controller.lifecycle.tick()
        import asyncio

        await asyncio.sleep(0.05)

    arun(scenario())
    assert backend.count("session_alive") == 1 and controller.state is Control.IDLE
    assert controller.status().text.endswith(" · session ends in 15:00 without agent activity")  # the provider said it runs: trusted


def test_keep_alive_runs_a_short_task_only_when_idle(arun) -> None:
    backend = ScriptedBackend()
    controller = SessionController(backend)

    async def scenario() -> None:
        await controller.new_session().done
        assert await controller.keep_alive().done
        assert not controller.keep_alive().accepted  # the agent is busy now

    arun(scenario())
    assert backend.last("start_task").args[0].text == KEEP_ALIVE_TASK
    assert [e for e in controller.timeline.entries if isinstance(e, tl.TaskStarted)][0].origin is tl.TaskOrigin.KEEP_ALIVE


def crash_the_view_mid_run(arun, capabilities) -> tuple[SessionController, ScriptedBackend]:
    """A run that has taken a step, then the page in the window crashes."""
    import asyncio

    backend = ScriptedBackend(capabilities)
    controller = SessionController(backend)

    async def scenario() -> None:
        await controller.new_session().done
        await controller.run("Fill the form").done
        backend.report_step(controller.work.run.handle.task_id, 1)
        controller.on_view_crashed("the page crashed")
        await asyncio.sleep(0.02)  # the stop it may start

    arun(scenario())
    return controller, backend


def test_a_crashed_page_ends_a_local_run_and_gives_control(arun) -> None:
    controller, backend = crash_the_view_mid_run(arun, LOCAL_LIKE)  # the page is the agent's browser
    assert controller.state is Control.HUMAN
    assert backend.count("stop_task") == 1
    finished = [e for e in controller.timeline.entries if isinstance(e, tl.TaskFinished)][-1]
    assert "stopped working" in finished.result.output


def test_a_crashed_remote_viewer_does_not_touch_the_agent(arun) -> None:
    controller, backend = crash_the_view_mid_run(arun, CLOUD_LIKE)  # only a viewer of the remote browser
    assert controller.state is Control.AGENT and backend.count("stop_task") == 0


def test_steps_numbered_past_the_history_are_recorded(tmp_path: Path) -> None:
    history = HistoryStore.open(tmp_path / "h.sqlite3")
    history.record(tl.SessionStarted(1.0, "s", "Cloud", "cloud"))
    for number in (1, 2):
        history.record(tl.AgentStep(2.0, "s", StepReport("t", number, "g", "u")))
    assert recorded_steps(history, "s") == {"t": 2}


def test_the_clock_watch_goes_on_after_a_stop_that_failed(arun) -> None:
    """The watch runs as a core task: a Stop session that fails must not end it (the session lives on, billed)."""
    import asyncio

    clock, backend, notices, controller = clocked()

    async def scenario() -> None:
        await controller.new_session().done
        release = backend.gate("end_session")
        backend.fail_next("end_session", BackendError(Problem.SERVER, "Browser Use is having problems right now."))
        stopping = controller.stop_session().done
        await asyncio.sleep(1.3)  # the watch ticks while the session is ending
        release.set()
        assert await stopping is False and controller.state is Control.IDLE
        clock.now += 15 * 60 - 100  # 100 s left: only the watch itself can say so now
        await wait_until(lambda: any(n.action is NoticeAction.KEEP_ALIVE for n in notices), timeout=3.0, what="the warning")

    arun(scenario())
