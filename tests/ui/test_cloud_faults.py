"""Every fault of the fake cloud, in the real window: a message that says what happened and what to
do, the task text and note kept, no duplicate task, and the window responsive throughout."""

from __future__ import annotations

import asyncio
import gc
import time
from dataclasses import dataclass

import pytest

from desktop_app.backends.cloud import CloudBackend
from desktop_app.core.control import Control
from desktop_app.system.early_init import free_loopback_port
from desktop_app.system.keychain import SecretName
from tests.fakes.cloud_server import FakeCloud
from tests.helpers import wait_until
from tests.ui.actions import click, run_task

TASK = "Compare the three cheapest flights to Lisbon"
NOTE = "Logged in with my own account"



class LagProbe:
    """The longest the event loop went without running a 10 ms timer: a stall shows here."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        # What earlier tests left (a Local session's page trees) is collected now, not in a full
        # collection that would fall inside this test's probe.
        gc.collect()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            self.worst = max(self.worst, now - last - 0.01)
            last = now

    def stop(self) -> float:
        if self._task is not None:
            self._task.cancel()
        return self.worst


@dataclass(frozen=True)
class Fault:
    name: str
    status: int = 500
    body: object = None
    retry_after: int | None = None
    drop: bool = False
    stall: float = 0.0
    expect: str = ""
    session_gone: bool = False  # the session disappears on Browser Use's side (the API then answers 404)
    creates: int = 1  # POST /tasks the server receives: never more than the user asked for


FAULTS = [
    Fault("401", 401, expect="did not accept your API key"),
    Fault(
        "402 spend limit",
        402,
        body={"detail": {"code": "api_key_monthly_spend_limit_reached", "message": "limit", "cap": 20, "spent": 20.1}},
        expect="monthly spend limit ($20.1 of $20)",
    ),
    Fault("402 credits", 402, expect="credits are used up"),
    Fault("404 session gone", session_gone=True, expect="session has ended"),
    Fault("422", 422, body={"detail": "Task is too vague"}, expect="refused the request: Task is too vague"),
    Fault("500", 500, expect="having problems right now (HTTP 500)"),
    Fault("502", 502, expect="(HTTP 502)"),
    Fault("503", 503, expect="(HTTP 503)"),
    Fault("dropped connection", drop=True, expect="cannot tell whether it was"),
    Fault("stalled mid-response", 201, stall=3.0, expect="cannot tell whether it was"),
]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_a_fault_on_run_is_explained_and_loses_nothing(fault: Fault, cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    window = make_window(cloud_services)
    panel = window.task_panel
    probe = LagProbe()

    async def scenario() -> None:
        probe.start()
        backend = CloudBackend(
            lambda: cloud_services.keychain.get(SecretName.BROWSER_USE), base_url=cloud.base_url, request_timeout=1.0, find_created_for=1.0
        )
        assert await cloud_services.controller.replace_backend(backend).done
        assert await cloud_services.controller.new_session().done
        if fault.session_gone:
            cloud.sessions.clear()
        else:
            cloud.fail(r"/tasks", fault.status, method="POST", body=fault.body, drop=fault.drop, stall=fault.stall)
        run_task(window, TASK)
        await wait_until(lambda: fault.expect in window.banner.message, timeout=20, what=f"the message for {fault.name}")
        await asyncio.sleep(0.3)

    qrun(scenario(), timeout=40)
    assert panel.task_input.toPlainText() == TASK
    assert len(cloud.task_creates()) == fault.creates
    assert probe.stop() < 0.2, f"the window stalled for {probe.worst * 1000:.0f} ms"
    assert cloud_services.controller.state in (Control.IDLE, Control.NO_SESSION)


def test_rate_limits_are_waited_out_and_the_task_created_once(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    window = make_window(cloud_services)
    probe = LagProbe()

    async def scenario() -> None:
        probe.start()
        assert await cloud_services.controller.new_session().done
        cloud.fail(r"/tasks", 429, method="POST", retry_after=1)
        run_task(window, TASK)
        await wait_until(lambda: cloud.tasks, timeout=20, what="the task after the wait")

    qrun(scenario(), timeout=40)
    creates = cloud.task_creates()
    assert len(creates) == 2 and len(cloud.tasks) == 1
    assert creates[1].at - creates[0].at >= 1.0  # Retry-After honoured
    assert probe.stop() < 0.2


def test_a_fault_on_hand_back_keeps_note_and_instruction(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    window = make_window(cloud_services)
    panel = window.task_panel
    controller = cloud_services.controller

    async def scenario() -> None:
        run_task(window, TASK)
        await wait_until(lambda: controller.state is Control.AGENT and cloud.tasks)
        click(panel.take_over_button)
        await wait_until(lambda: controller.state is Control.HUMAN)
        panel.note_input.setPlainText(NOTE)
        panel.task_input.setPlainText("Pick the 7am one")
        cloud.fail(r"/tasks", 503, method="POST")
        click(panel.hand_back_button)
        await wait_until(lambda: "(HTTP 503)" in window.banner.message)
        await wait_until(lambda: controller.state is Control.HUMAN)

    qrun(scenario())
    assert (panel.note_input.toPlainText(), panel.task_input.toPlainText()) == (NOTE, "Pick the 7am one")
    assert len(cloud.task_creates()) == 2


def test_a_failed_take_over_keeps_the_view_locked(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    window = make_window(cloud_services)
    controller = cloud_services.controller

    async def scenario() -> None:
        backend = CloudBackend(lambda: cloud_services.keychain.get(SecretName.BROWSER_USE), base_url=cloud.base_url, command_budget=3.5)
        assert await controller.replace_backend(backend).done
        run_task(window, TASK)
        await wait_until(lambda: controller.state is Control.AGENT and cloud.tasks)
        cloud.fail(r"/tasks/[^/]+", 500, method="PATCH", times=10_000)
        click(window.task_panel.take_over_button)
        # Told at once that it is retrying, then — the budget spent (1 s + 2 s) — that it failed.
        await wait_until(lambda: "Lost contact with Browser Use — retrying in 1 s." in window.banner.message, timeout=2)
        await wait_until(lambda: "could not be paused" in window.banner.message, timeout=8)

    qrun(scenario())
    assert controller.state is Control.AGENT and window.live_view.locked


def test_connection_refused_keeps_everything(paths, make_window, qrun, monkeypatch) -> None:
    from desktop_app.services import Services

    address = f"http://127.0.0.1:{free_loopback_port()}/api/v2"
    monkeypatch.setenv("BROWSER_USE_BASE_URL", address)
    services = Services(paths, None, backend_override="cloud")
    services.keychain.set(SecretName.BROWSER_USE, "bu_valid_looking_key_000")
    window = make_window(services)
    probe = LagProbe()
    # Not "check your internet connection": the address is the problem (Settings opens on it).
    said = (
        f"The session could not be started: Nothing is answering at {address} (the connection was refused). "
        "Check BROWSER_USE_BASE_URL, or start the server it points to."
    )

    async def scenario() -> None:
        probe.start()
        run_task(window, TASK)
        # Nothing reached Browser Use: starting is tried again, said at once, then the address is named.
        await wait_until(lambda: "Lost contact with Browser Use — retrying" in window.banner.message, timeout=5)
        await wait_until(lambda: window.banner.message == said, timeout=30)

    qrun(scenario(), timeout=40)
    assert window.task_panel.task_input.toPlainText() == TASK
    assert probe.stop() < 0.2


def test_a_read_timeout_while_following_a_task_is_survived(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    window = make_window(cloud_services)
    controller = cloud_services.controller

    async def scenario() -> None:
        backend = CloudBackend(
            lambda: cloud_services.keychain.get(SecretName.BROWSER_USE), base_url=cloud.base_url, request_timeout=0.5, poll_interval=0.2
        )
        assert await controller.replace_backend(backend).done
        run_task(window, TASK)
        await wait_until(lambda: controller.state is Control.AGENT and cloud.tasks)
        cloud.fail(r"/tasks/[^/]+", 200, method="GET", stall=2.0, times=4)  # reads hang, then recover
        cloud.add_step(goal="After the outage")
        await wait_until(lambda: any(getattr(e, "step", None) and e.step.next_goal == "After the outage" for e in controller.timeline.entries), timeout=30)

    qrun(scenario(), timeout=40)
    assert controller.state is Control.AGENT
