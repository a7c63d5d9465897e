"""Local-mode faults mid-run: the model endpoint failing, the page's renderer dying, the DevTools
connection dropping. Each time the run stops cleanly and the person gets control."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

from desktop_app.core import timeline as tl
from desktop_app.core.control import Control
from tests.fakes import scripted_llm as sl
from tests.fakes.site import SiteServer
from tests.helpers import agent_processes, wait_until
from tests.ui.actions import click, run_task
from tests.ui.web import load


def long_script(site: SiteServer) -> list[sl.Step]:
    return [sl.navigate(site.url("form.html"))] + [sl.wait(1, delay=0.2) for _ in range(30)]


def finished(window) -> tl.TaskFinished:
    return [e for e in window.task_panel.timeline.timeline_model.entries if isinstance(e, tl.TaskFinished)][-1]


def test_the_model_failing_mid_run(local_services, install, site, make_window, qrun) -> None:
    broken = sl.Step("wait", {"seconds": 1}, fault="gone")  # the model server goes away mid-run
    install(sl.ScriptedModel([sl.navigate(site.url("form.html")), sl.type_text("id=name", "Ada"), broken]))
    window = make_window(local_services)
    controller = local_services.controller

    async def scenario() -> None:
        run_task(window, "Fill in the form slowly")
        await wait_until(lambda: "refused the connection" in window.banner.message, timeout=60)
        await wait_until(lambda: controller.state is Control.HUMAN)

    qrun(scenario(), timeout=90)
    assert not window.live_view.locked and finished(window).result.status.value == "failed"
    assert qrun(controller.backend.guard_counts())["actions_refused"] == 0


def test_the_page_crashing_mid_run(local_services, install, site, make_window, qrun) -> None:
    model = sl.ScriptedModel(long_script(site))
    install(model)
    window = make_window(local_services)
    controller = local_services.controller
    view = window.live_view.web_view

    async def scenario() -> None:
        run_task(window, "Fill in the form slowly")
        await wait_until(lambda: len(model.calls) >= 3, timeout=60, what="a few steps")
        os.kill(view.page().renderProcessPid(), signal.SIGKILL)
        await wait_until(lambda: controller.state is Control.HUMAN, timeout=30, what="control to reach the person")
        assert "stopped working" in window.banner.message or "stopped working" in finished(window).result.output
        calls = len(model.calls)
        # The page is reloaded for the person; then the browser is usable, and the agent stays stopped.
        await wait_until(lambda: view.title() == "Sign up" and not view.page().isLoading(), timeout=30, what="the reload")
        assert await load(view, site.url("links.html"))
        assert len(model.calls) == calls

    qrun(scenario(), timeout=90)
    assert not window.live_view.locked


def test_the_devtools_connection_dropping_mid_run(local_services, install, agent_in_thread, site, make_window, qrun) -> None:
    model = sl.ScriptedModel(long_script(site))
    install(model)
    window = make_window(local_services)
    controller = local_services.controller

    async def scenario() -> None:
        run_task(window, "Fill in the form slowly")
        await wait_until(lambda: len(model.calls) >= 3, timeout=60, what="a few steps")
        agent_in_thread.run(agent_in_thread.backend._browser._cdp_client_root.ws.close())  # the socket goes away under the agent
        await wait_until(lambda: controller.state is Control.HUMAN, timeout=30, what="control to reach the person")

    qrun(scenario(), timeout=90)
    assert "connection between the agent and the built-in browser dropped" in window.banner.message
    assert not window.live_view.locked
    assert finished(window).result.status.value == "failed"


def agent_at_work(local_services, install, site, make_window) -> tuple[sl.ScriptedModel, Any]:
    """A window whose Local agent will work slowly through many steps (run with ``started``)."""
    model = sl.ScriptedModel(long_script(site))
    install(model)
    return model, make_window(local_services)


async def started(window, model: sl.ScriptedModel) -> int:
    """Runs the slow task until a few steps are done: the agent's process id."""
    run_task(window, "Fill in the form slowly")
    await wait_until(lambda: len(model.calls) >= 3, timeout=60, what="a few steps")
    (agent,) = agent_processes()
    return agent


def test_the_agents_process_dying_mid_run(local_services, install, site, make_window, qrun) -> None:
    model, window = agent_at_work(local_services, install, site, make_window)
    controller = local_services.controller

    async def scenario() -> None:
        agent = await started(window, model)
        os.kill(agent, signal.SIGKILL)
        await wait_until(lambda: controller.state is Control.NO_SESSION, timeout=30, what="the session to end")
        assert "The agent's process stopped unexpectedly" in window.banner.message
        assert not window.live_view.locked
        # A new Run starts a new agent, which works.
        install(sl.ScriptedModel([sl.navigate(site.url("links.html")), sl.done("Back again")]))
        run_task(window, "Open the links page")
        outputs = lambda: [e.result.output for e in window.task_panel.timeline.timeline_model.entries if isinstance(e, tl.TaskFinished)]  # noqa: E731
        await wait_until(lambda: outputs() == ["Back again"], timeout=60, what="the next task, in a new session")

    qrun(scenario(), timeout=120)


def test_an_agent_that_stops_answering_is_ended(local_services, install, site, make_window, qrun, monkeypatch) -> None:
    """Take over waits for the agent to confirm it sends no more input; an agent that never answers
    (its process stopped dead) is ended after the time limit, and the person gets the browser."""
    from desktop_app.backends import agent_process

    monkeypatch.setitem(agent_process.CALL_TIMEOUTS, "interrupt", 1.0)
    model, window = agent_at_work(local_services, install, site, make_window)
    controller = local_services.controller

    async def scenario() -> None:
        agent = await started(window, model)
        os.kill(agent, signal.SIGSTOP)  # wedged: it answers nothing
        click(window.task_panel.take_over_button)
        await wait_until(lambda: controller.state is Control.NO_SESSION, timeout=10, what="the stuck agent to be ended")
        assert "The agent stopped answering, so Handoff ended it" in window.banner.message
        assert not window.live_view.locked
        await wait_until(lambda: agent_processes() == [], timeout=10, what="the agent's process to be gone")

    qrun(scenario(), timeout=120)


def test_stop_session_with_an_agent_that_stops_answering_ends_it(local_services, install, site, make_window, qrun, monkeypatch) -> None:
    """Stop session while the agent is wedged: its stop times out, the agent is ended, and the
    session ends cleanly (the session lost meanwhile does not make the ending fail)."""
    from desktop_app.backends import agent_process

    monkeypatch.setitem(agent_process.CALL_TIMEOUTS, "stop_task", 1.0)
    model, window = agent_at_work(local_services, install, site, make_window)
    controller = local_services.controller

    async def scenario() -> None:
        agent = await started(window, model)
        os.kill(agent, signal.SIGSTOP)
        assert await asyncio.wait_for(controller.stop_session().done, 15)
        assert controller.state is Control.NO_SESSION
        await wait_until(lambda: agent_processes() == [], timeout=10, what="the agent's process to be gone")

    qrun(scenario(), timeout=120)
