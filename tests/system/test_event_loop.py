"""The window's event loop (qasync's) lets go of a cancelled timer at once: a cancelled handle keeps
the context it was made in, and with it whatever a library keeps in a context variable (browser-use's
event bus: the event being handled, with a page's whole tree in its result)."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import logging
import re
import time
import weakref
from typing import Any

import pytest

current_event: contextvars.ContextVar[object] = contextvars.ContextVar("current_event")


class PageTree:
    """Stands for what a handled event keeps alive."""


def test_a_timeout_that_did_not_fire_keeps_nothing_of_its_context(qrun: Any) -> None:
    async def scenario() -> weakref.ref[PageTree]:
        tree = PageTree()
        tree_gone = weakref.ref(tree)

        async def handle_event() -> None:
            current_event.set(tree)  # as bubus does while a handler runs
            # The timeout's timer is made here, in this context, and cancelled when the wait ends.
            await asyncio.wait_for(asyncio.sleep(0), timeout=600)

        await asyncio.get_running_loop().create_task(handle_event())
        return tree_gone

    tree_gone = qrun(scenario())
    gc.collect()
    assert tree_gone() is None


def test_timers_run_in_the_order_of_their_delays_and_a_cancelled_one_never(qrun: Any) -> None:
    ran: list[str] = []

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, ran.append, "later")
        loop.call_soon(ran.append, "soon")
        loop.call_later(0.01, ran.append, "cancelled").cancel()
        await asyncio.sleep(0.2)

    qrun(scenario())
    assert ran == ["soon", "later"]


def test_cancelling_a_timer_that_already_ran_stops_no_timer(qrun: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # asyncio.timeout() cancels its handle on the way out, whether it fired or not; by then Qt may
    # have given the stopped timer's number to another timer, which must not be the one stopped.
    from desktop_app.system import event_loop

    stopped: list[int] = []
    ran: list[str] = []

    async def scenario() -> None:
        first = asyncio.get_running_loop().call_soon(ran.append, "first")
        await asyncio.sleep(0.05)
        with monkeypatch.context() as patched:
            patched.setattr(event_loop._Timers, "forget", lambda self, timer_id: stopped.append(timer_id))
            first.cancel()

    qrun(scenario())
    assert (ran, stopped) == (["first"], [])


def test_a_timer_cancelled_from_another_thread_does_not_run(qrun: Any) -> None:
    # Qt stops a timer only on its own thread (a warning, which fails this test, otherwise).
    ran: list[str] = []

    async def scenario() -> None:
        handle = asyncio.get_running_loop().call_later(1.0, ran.append, "cancelled")
        await asyncio.to_thread(handle.cancel)
        await asyncio.sleep(1.2)

    qrun(scenario())
    assert ran == []


def test_in_debug_mode_a_slow_callback_is_named(qrun: Any, caplog: pytest.LogCaptureFixture) -> None:
    def slow() -> None:
        time.sleep(0.15)

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        loop.set_debug(True)
        try:
            loop.slow_callback_duration = 0.1
            loop.call_soon(slow)
            await asyncio.sleep(0.3)
        finally:
            loop.set_debug(False)

    with caplog.at_level(logging.WARNING, logger="desktop_app.system.event_loop"):
        qrun(scenario())
    assert [bool(re.fullmatch(r"Executing <.*slow\(\).*> took 0\.1\d\d seconds", r.getMessage())) for r in caplog.records] == [True]
