"""The Browser Use Cloud adapter against the fake v2 server on 127.0.0.1 (real HTTP, real SDK)."""

from __future__ import annotations

import json

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from desktop_app.backends.cloud import CloudBackend
from desktop_app.core.errors import BackendError, Problem
from desktop_app.core.ports import (
    InterruptOutcome,
    RunStatus,
    TaskRequest,
)
from desktop_app.core.redaction import redactor
from tests.fakes.backend_listener import RecordingListener
from tests.fakes.cloud_server import DEFAULT_KEY, FakeCloud
from tests.helpers import wait_until


@pytest.fixture
def cloud_options() -> dict[str, Any]:
    return {"step_interval": 0.1, "steps_per_task": 3, "live_url_after": 2}


class Harness:
    def __init__(self, cloud: FakeCloud, **options: Any) -> None:
        self.slept: list[float] = []

        async def record_sleep(seconds: float) -> None:
            self.slept.append(seconds)

        self.key = options.pop("key", DEFAULT_KEY)
        self.backend = CloudBackend(
            lambda: self.key, base_url=cloud.base_url, poll_interval=0.05, sleep=record_sleep, **options
        )
        self.listener = RecordingListener()
        self.backend.attach(self.listener)


@pytest.fixture
def harness(cloud: FakeCloud, arun) -> Iterator[Harness]:
    made = Harness(cloud)
    yield made
    arun(made.backend.aclose())


def request(text: str = "Find the cheapest flight", token: str = "req-1") -> TaskRequest:
    return TaskRequest(text=text, request_id=token)


def test_open_session_waits_for_the_live_url(cloud: FakeCloud, harness: Harness, arun) -> None:
    session = arun(harness.backend.open_session())
    fake = cloud.sessions[session.id]
    assert session.live_url == f"{cloud.origin}/live/{session.id}?token={fake.token}"
    assert cloud.requests_to("POST", r"/sessions")[0].body == {"keepAlive": True}
    assert len(cloud.requests_to("GET", rf"/sessions/{session.id}")) >= 2
    # The live URL is a credential: from now on no log line can show it.
    assert fake.token not in redactor.redact(f"loading {session.live_url}")


def test_a_task_streams_its_steps_and_result(cloud: FakeCloud, harness: Harness, arun) -> None:
    async def scenario() -> None:
        session = await harness.backend.open_session()
        run = await harness.backend.start_task(request())
        await wait_until(lambda: harness.listener.finished, what="the task to finish")
        created = dict(cloud.task_creates()[0].body)
        schema = json.loads(created.pop("structuredOutput"))  # the agent's result, or that it needs the person
        assert schema["required"] == ["status", "result", "person_should"]
        assert schema["properties"]["status"]["enum"] == ["done", "needs_person"]
        assert created == {"task": "Find the cheapest flight", "sessionId": session.id, "metadata": {"handoffRequest": "req-1"}}
        assert run.task_id == cloud.latest_task().id

    arun(scenario())
    assert [s.number for s in harness.listener.steps] == [1, 2, 3]
    step = harness.listener.steps[0]
    assert step.url == "https://example.com/step/1" and step.screenshot_url.endswith("/1.png")
    result = harness.listener.finished[0]
    assert (result.status, result.success, str(result.cost_usd), result.steps) == (RunStatus.FINISHED, True, "0.03", 3)


def test_polling_is_at_most_one_request_per_interval(cloud: FakeCloud, arun) -> None:
    cloud.manual_steps = True
    made = Harness(cloud)
    made.backend._poll_interval = 0.2

    async def scenario() -> None:
        await made.backend.open_session()
        run = await made.backend.start_task(request())
        import asyncio

        await asyncio.sleep(1.0)
        polls = cloud.requests_to("GET", rf"/tasks/{run.task_id}")
        assert 3 <= len(polls) <= 6, len(polls)
        await made.backend.aclose()

    arun(scenario())


def test_interrupt_stops_the_task_in_one_round_trip(cloud: FakeCloud, harness: Harness, arun) -> None:
    cloud.manual_steps = True

    async def scenario() -> None:
        await harness.backend.open_session()
        run = await harness.backend.start_task(request())
        cloud.add_step(run.task_id)
        outcome = await harness.backend.interrupt(run)
        assert outcome is InterruptOutcome.STOPPED
        assert len(cloud.requests_to("PATCH", rf"/tasks/{run.task_id}")) == 1
        assert cloud.requests_to("PATCH", rf"/tasks/{run.task_id}")[0].body == {"action": "stop"}

    arun(scenario())
    assert [r.status for r in harness.listener.finished] == [RunStatus.STOPPED]
    assert [s.number for s in harness.listener.steps] == [1]
    assert cloud.latest_task().status == "stopped"


def test_interrupt_waits_for_a_slow_stop_to_be_confirmed(cloud: FakeCloud, harness: Harness, arun) -> None:
    cloud.manual_steps = True
    cloud.stop_delay = 0.6

    async def scenario() -> None:
        await harness.backend.open_session()
        run = await harness.backend.start_task(request())
        outcome = await harness.backend.interrupt(run)
        assert outcome is InterruptOutcome.STOPPED
        assert cloud.latest_task().status == "stopped"

    arun(scenario())


def test_a_failed_follow_of_a_slow_stop_keeps_following_the_task(cloud: FakeCloud, arun) -> None:
    cloud.manual_steps = True
    cloud.stop_delay = 2.0
    made = Harness(cloud, lost_contact_after=0.2)

    async def scenario() -> None:
        await made.backend.open_session()
        run = await made.backend.start_task(request())
        await asyncio.sleep(0.3)
        cloud.fail(rf"/tasks/{run.task_id}", 500, method="GET", times=10_000)
        with pytest.raises(BackendError):
            await made.backend.interrupt(run)  # the stop was accepted; checking on it failed
        cloud.clear_faults()
        # The agent may still be working: its end must still arrive.
        await wait_until(lambda: made.listener.finished, timeout=10, what="the stopped task")
        assert made.listener.finished[-1].status is RunStatus.STOPPED
        await made.backend.aclose()

    arun(scenario(), timeout=30)


def test_interrupt_of_a_task_that_already_finished(cloud: FakeCloud, harness: Harness, arun) -> None:
    cloud.manual_steps = True

    async def scenario() -> None:
        await harness.backend.open_session()
        run = await harness.backend.start_task(request())
        cloud.finish_task(run.task_id)
        assert await harness.backend.interrupt(run) is InterruptOutcome.ALREADY_OVER

    arun(scenario())
    assert harness.listener.finished[0].status is RunStatus.FINISHED


def test_end_session_stops_it(cloud: FakeCloud, harness: Harness, arun) -> None:
    async def scenario() -> None:
        session = await harness.backend.open_session()
        await harness.backend.end_session()
        assert cloud.sessions[session.id].status == "stopped"
        assert cloud.requests_to("PATCH", rf"/sessions/{session.id}")[0].body == {"action": "stop"}

    arun(scenario())


def test_no_key_asks_for_one(cloud: FakeCloud, arun) -> None:
    made = Harness(cloud, key="")
    with pytest.raises(BackendError) as caught:
        arun(made.backend.open_session())
    assert caught.value.problem is Problem.AUTH and "Settings" in caught.value.message
    assert cloud.requests == []


def test_a_wrong_key_is_reported_as_such(cloud: FakeCloud, arun) -> None:
    made = Harness(cloud, key="bu_wrong_key_123456")
    with pytest.raises(BackendError) as caught:
        arun(made.backend.open_session())
    arun(made.backend.aclose())
    assert caught.value.problem is Problem.AUTH
    assert "did not accept your API key" in caught.value.message


def test_the_spend_limit_says_how_much_was_spent(cloud: FakeCloud, harness: Harness, arun) -> None:
    arun(harness.backend.open_session())
    cloud.fail(
        r"/tasks",
        402,
        method="POST",
        body={"detail": {"code": "api_key_monthly_spend_limit_reached", "message": "Spend limit", "cap": 10, "spent": 10.5}},
    )
    with pytest.raises(BackendError) as caught:
        arun(harness.backend.start_task(request()))
    assert caught.value.problem is Problem.SPEND_LIMIT
    assert "$10.5 of $10" in caught.value.message
    assert cloud.tasks == {}


def test_a_server_error_on_create_is_never_retried(cloud: FakeCloud, harness: Harness, arun) -> None:
    arun(harness.backend.open_session())
    cloud.fail(r"/tasks", 500, method="POST")
    with pytest.raises(BackendError) as caught:
        arun(harness.backend.start_task(request()))
    assert caught.value.problem is Problem.SERVER and "Try again" in caught.value.message
    assert len(cloud.task_creates()) == 1


def test_rate_limits_are_honoured_then_the_create_goes_through_once(cloud: FakeCloud, harness: Harness, arun) -> None:
    arun(harness.backend.open_session())
    cloud.fail(r"/tasks", 429, method="POST", retry_after=30)  # longer than the SDK waits itself
    run = arun(harness.backend.start_task(request()))
    assert harness.slept == [30.0]
    assert len(cloud.task_creates()) == 2 and list(cloud.tasks) == [run.task_id]


def test_rate_limit_waits_are_bounded(cloud: FakeCloud, harness: Harness, arun) -> None:
    arun(harness.backend.open_session())
    cloud.fail(r"/tasks", 429, method="POST", retry_after=40, times=2)
    with pytest.raises(BackendError) as caught:
        arun(harness.backend.start_task(request()))
    assert caught.value.problem is Problem.RATE_LIMITED
    # 40 s waited; a second 40 s would pass the command's 60 s budget (every attempt counts).
    assert harness.slept == [40.0] and cloud.tasks == {}
    assert harness.listener.notices[0] == "Browser Use is busy — retrying in 40 s."


def test_a_lost_answer_to_a_create_finds_the_task_instead_of_resending(cloud: FakeCloud, harness: Harness, arun) -> None:
    arun(harness.backend.open_session())
    cloud.fail(r"/tasks", method="POST", drop=True, after_processing=True)
    run = arun(harness.backend.start_task(request(token="tok-42")))
    assert len(cloud.task_creates()) == 1
    assert list(cloud.tasks) == [run.task_id]
    assert cloud.tasks[run.task_id].metadata == {"handoffRequest": "tok-42"}


def test_a_dropped_create_that_never_happened_is_reported_not_resent(cloud: FakeCloud, harness: Harness, arun) -> None:
    arun(harness.backend.open_session())
    cloud.fail(r"/tasks", method="POST", drop=True)
    with pytest.raises(BackendError) as caught:
        arun(harness.backend.start_task(request()))
    assert caught.value.problem is Problem.UNCERTAIN
    assert "Nothing was sent twice" in caught.value.message
    assert len(cloud.task_creates()) == 1 and cloud.tasks == {}


def test_a_create_that_stalls_mid_answer_times_out_without_a_resend(cloud: FakeCloud, arun) -> None:
    made = Harness(cloud, request_timeout=0.5)

    async def scenario() -> None:
        await made.backend.open_session()
        cloud.fail(r"/tasks", 201, method="POST", stall=2.0)
        with pytest.raises(BackendError) as caught:
            await made.backend.start_task(request())
        assert caught.value.problem is Problem.UNCERTAIN
        await made.backend.aclose()

    arun(scenario())
    assert len(cloud.task_creates()) == 1


def test_connection_refused_is_a_network_problem(arun) -> None:
    from desktop_app.system.early_init import free_loopback_port

    slept: list[float] = []

    async def record_sleep(seconds: float) -> None:
        slept.append(seconds)

    backend = CloudBackend(
        lambda: DEFAULT_KEY, base_url=f"http://127.0.0.1:{free_loopback_port()}/api/v2", command_budget=10.0, sleep=record_sleep
    )
    notices: list[str] = []
    backend.attach(type("L", (RecordingListener,), {"on_notice": lambda self, text, resolved=False: notices.append(text)})())
    with pytest.raises(BackendError) as caught:
        arun(backend.open_session(), timeout=30)
    arun(backend.aclose())
    assert caught.value.problem is Problem.NETWORK
    assert "internet connection" in caught.value.message
    # Nothing reached Browser Use, so the create was tried again — visibly — twice, then it says why.
    assert slept == [1.0, 2.0]
    assert notices[0] == "Lost contact with Browser Use — retrying in 1 s."


def test_a_create_on_an_expired_session_says_the_session_is_gone(cloud: FakeCloud, harness: Harness, arun) -> None:
    session = arun(harness.backend.open_session())
    cloud.expire_session(session.id)
    with pytest.raises(BackendError) as caught:
        arun(harness.backend.start_task(request()))
    assert caught.value.problem is Problem.SESSION_GONE


def test_a_session_that_ends_while_starting_is_reported(cloud: FakeCloud, arun) -> None:
    cloud.live_url_after = 1000
    made = Harness(cloud)

    async def scenario() -> None:
        import asyncio

        opening = asyncio.ensure_future(made.backend.open_session())
        await wait_until(lambda: cloud.sessions)
        cloud.expire_session()
        with pytest.raises(BackendError) as caught:
            await opening
        assert caught.value.problem is Problem.SESSION_GONE
        await made.backend.aclose()

    arun(scenario())


def test_a_failed_start_does_not_leave_a_billed_session(cloud: FakeCloud, arun) -> None:
    cloud.live_url_after = 1000
    made = Harness(cloud, live_url_timeout=0.5)
    with pytest.raises(BackendError) as caught:
        arun(made.backend.open_session())
    arun(made.backend.aclose())
    assert caught.value.problem is Problem.TIMEOUT
    assert [s.status for s in cloud.sessions.values()] == ["stopped"]


def test_a_lost_session_during_a_task_is_reported(cloud: FakeCloud, harness: Harness, arun) -> None:
    cloud.manual_steps = True

    async def scenario() -> None:
        session = await harness.backend.open_session()
        await harness.backend.start_task(request())
        del cloud.tasks[cloud.latest_task().id]
        del cloud.sessions[session.id]
        await wait_until(lambda: harness.listener.lost, what="the session loss")

    arun(scenario())
    assert "ended" in harness.listener.lost[0]


def test_live_sessions_this_app_created_are_found(cloud: FakeCloud, harness: Harness, arun) -> None:
    async def scenario() -> None:
        mine = await harness.backend.open_session()
        other = Harness(cloud)
        await other.backend.open_session()
        await other.backend.aclose()
        found = await harness.backend.find_live_sessions({mine.id, "not-running"})
        assert [s.id for s in found] == [mine.id]

    arun(scenario())


def test_a_failed_session_stop_is_retried_and_told(cloud: FakeCloud, harness: Harness, arun) -> None:
    session = arun(harness.backend.open_session())
    cloud.fail(rf"/sessions/{session.id}", 500, method="PATCH", times=2)
    arun(harness.backend.end_session())  # two 500s, then the stop goes through
    assert cloud.sessions[session.id].status == "stopped"
    assert len(cloud.requests_to("PATCH", rf"/sessions/{session.id}")) == 3
    assert harness.slept == [1.0, 2.0]
    assert harness.listener.notices == [
        "Lost contact with Browser Use — retrying in 1 s.",
        "Lost contact with Browser Use — retrying in 2 s.",
        "Browser Use is answering again.",
    ]


def test_a_session_stop_that_keeps_failing_gives_up_within_its_budget(cloud: FakeCloud, arun) -> None:
    made = Harness(cloud, command_budget=20.0)
    session = arun(made.backend.open_session())
    cloud.fail(rf"/sessions/{session.id}", 500, method="PATCH", times=10_000)
    with pytest.raises(BackendError) as caught:
        arun(made.backend.end_session())
    assert caught.value.problem is Problem.SERVER
    assert made.slept == [1.0, 2.0, 4.0, 8.0]  # the next wait would pass 20 s
    assert cloud.sessions[session.id].status == "active"
    arun(made.backend.aclose())


def test_a_lost_answer_to_a_session_create_finds_the_session(cloud: FakeCloud, harness: Harness, arun) -> None:
    cloud.fail(r"/sessions", method="POST", drop=True, after_processing=True)
    session = arun(harness.backend.open_session())
    assert list(cloud.sessions) == [session.id] and len(cloud.requests_to("POST", r"/sessions")) == 1
    assert session.live_url.endswith(cloud.sessions[session.id].token)


def test_a_lost_session_create_with_another_session_starting_then_uses_neither(cloud: FakeCloud, harness: Harness, arun) -> None:
    from datetime import UTC, datetime

    from tests.fakes.cloud_server import FakeSession

    other = FakeSession(id="00000000-0000-4000-8000-0000000000aa", token="tok" + "o" * 40, started_at=datetime.now(UTC), live_url_after=0)
    cloud.sessions[other.id] = other  # e.g. started from another computer with the same key
    cloud.fail(r"/sessions", method="POST", drop=True, after_processing=True)
    with pytest.raises(BackendError) as caught:
        arun(harness.backend.open_session())
    assert caught.value.problem is Problem.UNCERTAIN and "used none of them" in caught.value.message
    assert all(s.status == "active" for s in cloud.sessions.values())  # nobody's session was stopped
    assert harness.backend._session_id is None


def test_a_session_create_lost_before_it_happened_says_nothing_was_created(cloud: FakeCloud, harness: Harness, arun) -> None:
    cloud.fail(r"/sessions", method="POST", drop=True)
    with pytest.raises(BackendError) as caught:
        arun(harness.backend.open_session())
    assert caught.value.problem is Problem.UNCERTAIN and caught.value.unconfirmed_since is not None
    assert "no new session has appeared" in caught.value.message and cloud.sessions == {}
    # Looked for during the lookup window (10 s) every 2 s, not once.
    assert harness.slept == [2.0] * 5


def test_a_live_view_address_that_cannot_be_opened_does_not_leave_the_session_running(cloud: FakeCloud, arun, monkeypatch) -> None:
    made = Harness(cloud)
    monkeypatch.setattr(cloud, "_session_item", _with_live_url(cloud._session_item, "javascript:alert(1)"))
    with pytest.raises(BackendError) as caught:
        arun(made.backend.open_session())
    arun(made.backend.aclose())
    assert caught.value.problem is Problem.INTERNAL
    assert [s.status for s in cloud.sessions.values()] == ["stopped"]


def _with_live_url(original, url: str):
    def item(session):
        data = original(session)
        if session.status == "active":
            data["liveUrl"] = url
        return data

    return item


def test_a_slow_stop_is_followed_at_most_once_a_second(cloud: FakeCloud, arun) -> None:
    cloud.manual_steps = True
    cloud.stop_delay = 1.5
    made = Harness(cloud)
    made.backend._poll_interval = 0.5

    async def scenario() -> None:
        await made.backend.open_session()
        run = await made.backend.start_task(request())
        assert await made.backend.interrupt(run) is InterruptOutcome.STOPPED
        times = [r.at for r in cloud.requests if r.path == f"/tasks/{run.task_id}" and r.method == "GET"]
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert gaps and min(gaps) >= 0.45, gaps
        await made.backend.aclose()

    arun(scenario())


def test_losing_contact_while_following_a_task_is_told(cloud: FakeCloud, arun) -> None:
    cloud.manual_steps = True
    made = Harness(cloud, lost_contact_after=0.2)

    async def scenario() -> None:
        await made.backend.open_session()
        run = await made.backend.start_task(request())
        cloud.fail(rf"/tasks/{run.task_id}", 500, method="GET", times=3)
        await wait_until(lambda: made.listener.notices, timeout=20, what="the lost-contact notice")
        assert made.listener.notices[0].startswith("Lost contact with Browser Use — retrying.")
        cloud.add_step(run.task_id, goal="Still here")
        await wait_until(lambda: made.listener.steps, timeout=30, what="steps after the outage")
        await made.backend.aclose()

    arun(scenario(), timeout=40)
    assert made.listener.notices[-1] == "Back in contact with Browser Use."
    assert made.listener.resolved == [False, True]  # the trouble as a warning, the recovery as good news


@pytest.mark.parametrize(
    ("output", "shown", "needs_person"),
    [
        ('{"status": "done", "result": "AF1234, 120 EUR", "person_should": ""}', "AF1234, 120 EUR", None),
        (
            '{"status": "needs_person", "result": "", "person_should": "Type the 2FA code sent to your phone"}',
            "Needs you: Type the 2FA code sent to your phone",
            "Type the 2FA code sent to your phone",
        ),
        ("Plain text from an older task", "Plain text from an older task", None),
    ],
)
def test_the_structured_outcome_says_the_result_or_that_the_person_is_needed(
    cloud: FakeCloud, harness: Harness, arun, output: str, shown: str, needs_person: str | None
) -> None:
    cloud.manual_steps = True

    async def scenario() -> None:
        await harness.backend.open_session()
        await harness.backend.start_task(request())
        cloud.finish_task(output=output)
        await wait_until(lambda: harness.listener.finished, what="the task to finish")

    arun(scenario())
    result = harness.listener.finished[0]
    assert (result.output, result.needs_person) == (shown, needs_person)
