"""The window's parts are kept alive by the window: PySide drops a slot whose plain-Python owner is
collected, so a part nothing holds would silently stop hearing the core."""

from __future__ import annotations

import gc

from desktop_app.core.events import Level, Notice, StatusChanged


def test_the_window_still_hears_the_core_after_a_garbage_collection(cloud_services, make_window) -> None:
    window = make_window(cloud_services)
    gc.collect()
    cloud_services.bus.publish(Notice(Level.WARNING, "Something to see"))
    assert window.banner.message == "Something to see"
    cloud_services.bus.publish(StatusChanged("Browser Use Cloud · session ends in 3:00 without agent activity", "Working on step 2"))
    assert window.status.text() == "Browser Use Cloud · session ends in 3:00 without agent activity"
    assert window.task_panel.activity_label.text() == "Working on step 2"


def test_a_failure_in_the_windows_own_work_is_said_not_swallowed(cloud_services, make_window, qrun, monkeypatch) -> None:
    """Hand back's check runs as the window's background work: if it breaks, the person must see it
    (once, a question failed to open and Hand back silently did nothing)."""
    import asyncio

    from desktop_app.core.control import Control
    from tests.helpers import wait_until

    window = make_window(cloud_services)

    async def broken(*args: object) -> None:
        raise RuntimeError("the question could not be shown")

    monkeypatch.setattr(window.actions._gate, "decide", broken)

    async def scenario() -> None:
        assert await cloud_services.controller.new_session().done
        assert await cloud_services.controller.take_over().done
        assert cloud_services.controller.state is Control.HUMAN
        window.actions.hand_back("", "")
        await wait_until(lambda: "Something went wrong" in window.banner.message, what="the notice")
        await asyncio.sleep(0)

    qrun(scenario())
    assert window.banner.message == "Something went wrong: RuntimeError: the question could not be shown"
