"""Local-mode faults mid-run: the model endpoint failing, the page's renderer dying, the DevTools
connection dropping. Each time the run stops cleanly and the person gets control."""

from __future__ import annotations

import os
import signal

from desktop_app.core import timeline as tl
from desktop_app.core.control import Control
from tests.fakes import scripted_llm as sl
from tests.fakes.site import SiteServer
from tests.helpers import wait_until
from tests.ui.actions import run_task
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
    assert controller.backend.actions_refused == 0


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


def test_the_devtools_connection_dropping_mid_run(local_services, install, site, make_window, qrun) -> None:
    model = sl.ScriptedModel(long_script(site))
    install(model)
    window = make_window(local_services)
    controller = local_services.controller

    async def scenario() -> None:
        run_task(window, "Fill in the form slowly")
        await wait_until(lambda: len(model.calls) >= 3, timeout=60, what="a few steps")
        await controller.backend._browser._cdp_client_root.ws.close()  # the socket goes away under the agent
        await wait_until(lambda: controller.state is Control.HUMAN, timeout=30, what="control to reach the person")

    qrun(scenario(), timeout=90)
    assert "connection between the agent and the built-in browser dropped" in window.banner.message
    assert not window.live_view.locked
    assert finished(window).result.status.value == "failed"
