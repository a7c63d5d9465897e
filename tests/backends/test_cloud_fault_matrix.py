"""Every Browser Use call × every way it can fail, through the real core (controller, history) and
the real adapter and SDK, against the fake v2 server on 127.0.0.1.

One scenario per case — Run, a step, Take over, Hand back with a note, quit — with the fault put on
one call, once or without end. Whatever happens, these must hold:

- no task is created twice (each create carries a request token: no token twice);
- no session is left active on the server without an open record in the history (so the next
  start offers to reattach or stop it);
- quitting ends within its bound;
- no silent wait: within the bound after a call first fails, the person has been told something,
  or the call has gone through.

Time is scaled, not skipped: one virtual second of waiting is ``SCALE`` real seconds, request
timeouts and the "lost contact" delay are a fraction of a second, the quit bound is 2 s.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from desktop_app.backends.cloud import CloudBackend
from desktop_app.core.control import Control
from desktop_app.core.controller import SessionController
from desktop_app.core.events import EventBus, Notice
from desktop_app.core.store import HistoryStore
from tests.fakes.cloud_server import DEFAULT_KEY, FakeCloud
from tests.helpers import wait_until

SCALE = 0.02  # real seconds per virtual second of waiting between attempts
QUIT_WITHIN = 2.0
TOLD_WITHIN = 0.8  # real seconds: "told within 5 s", scaled with the lost-contact delay (0.25 s)

CALLS = {
    "session create": ("POST", r"/sessions"),
    "task create": ("POST", r"/tasks"),
    "task poll": ("GET", r"/tasks/[^/]+"),
    "task stop": ("PATCH", r"/tasks/[^/]+"),
    "session stop": ("PATCH", r"/sessions/[^/]+"),
}
FAULTS: dict[str, dict[str, Any]] = {
    "401": {"status": 401},
    "402": {"status": 402},
    "404": {"status": 404},
    "422": {"status": 422},
    "429 with Retry-After": {"status": 429, "retry_after": 1},
    "429 without Retry-After": {"status": 429},
    "500": {"status": 500},
    "503": {"status": 503},
    "latency past the timeout": {"status": 200, "stall": 1.0, "after_processing": True},
    "server gone": {"drop": True},
}
CASES = [
    pytest.param(call, fault, times, id=f"{call}-{fault}-{'once' if times == 1 else 'always'}")
    for call in CALLS
    for fault in FAULTS
    for times in (1, 10_000)
]


async def scaled_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds * SCALE)


@pytest.mark.parametrize(("call", "fault", "times"), CASES)
def test_every_call_under_every_fault(call: str, fault: str, times: int, tmp_path: Path, arun) -> None:
    with FakeCloud(manual_steps=True, live_url_after=1) as cloud:
        history = HistoryStore.open(tmp_path / "history.sqlite3")
        bus = EventBus()
        history.attach(bus.subscribe, bus.publish)
        told: list[float] = []
        notices: list[str] = []
        bus.subscribe(lambda event: isinstance(event, Notice) and (told.append(time.monotonic()), notices.append(event.text)))
        backend = CloudBackend(
            lambda: DEFAULT_KEY,
            base_url=cloud.base_url,
            poll_interval=0.05,
            request_timeout=0.3,
            lost_contact_after=0.25,
            stop_confirm_timeout=1.0,
            find_created_for=10.0,
            command_budget=30.0,
            live_url_timeout=2.0,
            sleep=scaled_sleep,
        )
        controller = SessionController(backend, bus)
        method, path = CALLS[call]
        cloud.fail(path, method=method, times=times, **FAULTS[fault])

        async def scenario() -> float:
            # Each command as far as the fault lets it go; what matters is what holds below.
            if await controller.run("Book a table for two").done and cloud.tasks:
                cloud.add_step(next(iter(cloud.tasks)), goal="Open the booking page")
                await asyncio.sleep(0.2)
                if controller.state is Control.AGENT and await _settled(controller.take_over()):
                    if controller.state is Control.HUMAN:
                        await _settled(controller.hand_back(note="Picked the 8 pm slot"))
                        await asyncio.sleep(0.3)
            started = time.monotonic()
            await controller.shutdown(within=QUIT_WITHIN)
            return time.monotonic() - started

        quit_took = arun(scenario(), timeout=30)
        arun(backend.aclose())

        tokens = [t.metadata.get("handoffRequest") for t in cloud.tasks.values()]
        assert len(tokens) == len(set(tokens)), "a task was created twice"
        open_ids = {s.id for s in history.open_sessions("cloud")}
        unconfirmed = any(i.startswith("unconfirmed-") for i in open_ids)
        left_active = [s.id for s in cloud.sessions.values() if s.status == "active"]
        assert all(i in open_ids or unconfirmed for i in left_active), "a billed session was left without a record"
        assert quit_took <= QUIT_WITHIN + 0.5, f"quitting took {quit_took:.1f} s"
        faulted = [r for r in cloud.requests if r.method == method and _matches(path, r.path)]
        if faulted:
            first = faulted[0].at
            through = [r.at for r in faulted[1:]] if times == 1 else []  # a retry after a single fault went through
            heard = [t for t in told if t >= first] + through
            # Silent from the first failure until told, or (never told) until the last failure.
            silence = (min(heard) if heard else faulted[-1].at) - first
            assert silence <= TOLD_WITHIN, f"a wait nobody was told about ({notices}; {[(round(r.at - first, 2), r.method, r.path) for r in cloud.requests]})"
        history.close()


async def _settled(result: Any) -> bool:
    return bool(result.accepted and await result.done)


def _matches(pattern: str, path: str) -> bool:
    import re

    return re.fullmatch(pattern, path) is not None


def test_a_session_is_in_the_history_before_it_is_ready(tmp_path: Path, arun) -> None:
    """A crash while the live view is awaited must not lose a billed session: it is recorded as soon
    as Browser Use says it exists (the next start offers to reattach or stop it)."""
    with FakeCloud(live_url_after=10_000) as cloud:  # the live view never comes
        history = HistoryStore.open(tmp_path / "history.sqlite3")
        bus = EventBus()
        history.attach(bus.subscribe, bus.publish)
        backend = CloudBackend(lambda: DEFAULT_KEY, base_url=cloud.base_url, live_url_timeout=30.0, sleep=scaled_sleep)
        controller = SessionController(backend, bus)

        async def scenario() -> list[str]:
            controller.new_session()
            await wait_until(lambda: cloud.sessions, timeout=5)
            await asyncio.sleep(0.3)
            recorded = [s.id for s in history.open_sessions("cloud")]
            await controller.shutdown(within=QUIT_WITHIN)
            return recorded

        recorded = arun(scenario(), timeout=30)
        arun(backend.aclose())
        assert recorded == list(cloud.sessions)  # in the history while still starting
        assert [s.status for s in cloud.sessions.values()] == ["stopped"]  # and quitting stopped it
        history.close()


def test_quitting_while_a_create_is_rate_limited_still_stops_the_session(tmp_path: Path, arun) -> None:
    with FakeCloud(manual_steps=True) as cloud:
        backend = CloudBackend(lambda: DEFAULT_KEY, base_url=cloud.base_url, command_budget=600.0, sleep=scaled_sleep)
        controller = SessionController(backend, EventBus())

        async def scenario() -> float:
            assert await controller.new_session().done
            cloud.fail(r"/tasks", 429, method="POST", retry_after=5, times=10_000)
            controller.run("Book a table")
            await wait_until(lambda: len(cloud.task_creates()) >= 2, timeout=5)
            started = time.monotonic()
            await controller.shutdown(within=QUIT_WITHIN)
            return time.monotonic() - started

        took = arun(scenario(), timeout=30)
        arun(backend.aclose())
        assert took < 1.0  # the create was let go at once, not waited out
        assert [s.status for s in cloud.sessions.values()] == ["stopped"]


def test_a_start_cut_off_while_asking_leaves_a_marker_the_next_start_looks_into(tmp_path: Path, arun) -> None:
    """Quitting (or a crash) while the session create is still unanswered: the history holds a
    marker, and the next start finds the session that was made meanwhile, and offers it."""
    from desktop_app.core.recovery import find_left_running

    with FakeCloud() as cloud:
        history = HistoryStore.open(tmp_path / "history.sqlite3")
        bus = EventBus()
        history.attach(bus.subscribe, bus.publish)
        backend = CloudBackend(lambda: DEFAULT_KEY, base_url=cloud.base_url, request_timeout=5.0, sleep=scaled_sleep)
        controller = SessionController(backend, bus)
        cloud.fail(r"/sessions", 201, method="POST", stall=1.5, after_processing=True)  # made, answer slow

        async def scenario() -> list[str]:
            controller.new_session()
            await wait_until(lambda: cloud.sessions, timeout=5)
            marked = [s.id for s in history.open_sessions("cloud")]
            await controller.shutdown(within=0.2)  # cut off before the answer
            return marked

        marked = arun(scenario(), timeout=30)
        arun(backend.aclose())
        assert len(marked) == 1 and marked[0].startswith("unconfirmed-")
        assert history.sessions() == []  # History lists sessions, not markers
        made = next(iter(cloud.sessions))

        checker = CloudBackend(lambda: DEFAULT_KEY, base_url=cloud.base_url)
        offered = arun(find_left_running(history, checker))
        arun(checker.aclose())
        assert [s.id for s in offered] == [made]
        assert history.open_sessions("cloud") == []  # the marker is settled
        history.close()
