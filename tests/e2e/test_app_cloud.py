"""The real app as a subprocess against the fake cloud: events, session stopped at quit, exit 0."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.app_process import AppProcess, cloud_environment
from tests.fakes.cloud_server import FakeCloud

pytestmark = pytest.mark.e2e


@pytest.fixture
def cloud_options() -> dict[str, Any]:
    return {"step_interval": 0.3, "steps_per_task": 3}


def test_a_cloud_task_from_start_to_a_clean_exit(cloud: FakeCloud) -> None:
    env = cloud_environment(cloud)
    with AppProcess(
        ["--temp-basedir", "--no-err-windows", "--backend", "cloud", "--task", "Find the opening hours of the museum"],
        env,
    ) as app:
        app.wait_for_event("task_finished", timeout=90)
        code = app.terminate_and_wait()
    assert code == 0, app.stderr
    names = app.event_names()
    for earlier, later in [
        ("app_started", "session_created"),
        ("session_created", "task_created"),
        ("task_created", "agent_step"),
        ("agent_step", "task_finished"),
        ("task_finished", "session_stopped"),
        ("session_stopped", "app_exiting"),
    ]:
        assert names.index(earlier) < names.index(later), names
    assert names.count("agent_step") == 3
    finished = next(e for e in app.events if e["event"] == "task_finished")
    assert (finished["status"], finished["success"], finished["cost_usd"]) == ("finished", True, "0.03")
    # The session was stopped at quit, through the API.
    assert [s.status for s in cloud.sessions.values()] == ["stopped"]
    assert len(cloud.requests_to("PATCH", r"/sessions/[^/]+")) == 1
    # The live URL is a credential: its token never reaches the log.
    token = next(iter(cloud.sessions.values())).token
    assert token not in app.stderr and cloud.api_key not in app.stderr


def test_closing_while_the_agent_works_stops_task_then_session(cloud: FakeCloud) -> None:
    cloud.manual_steps = True
    env = cloud_environment(cloud)
    with AppProcess(["--temp-basedir", "--no-err-windows", "--backend", "cloud", "--task", "Keep working"], env) as app:
        app.wait_for_event("task_created", timeout=90)
        code = app.terminate_and_wait()
    assert code == 0, app.stderr
    task = cloud.latest_task()
    assert task.status == "stopped"
    assert [r.body for r in cloud.requests_to("PATCH", rf"/tasks/{task.id}")] == [{"action": "stop"}]
    assert [s.status for s in cloud.sessions.values()] == ["stopped"]
