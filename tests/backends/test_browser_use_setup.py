"""What Handoff changes in browser-use: reading a page (its DOM, then the model's view of it)
happens on a thread and loop of its own, not on the event loop the window shares (a large page took
seconds there), and a run's end forces no full garbage collection."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import threading
import weakref
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from bubus import BaseEvent

from desktop_app.backends import page_reading
from desktop_app.backends.browser_use_setup import import_browser_use


def test_the_page_is_read_and_serialized_off_the_event_loops_thread(monkeypatch: pytest.MonkeyPatch, qrun: Any) -> None:
    import_browser_use()
    from browser_use.dom.serializer.serializer import DOMTreeSerializer
    from browser_use.dom.service import DomService

    seen: dict[str, Any] = {}

    def init(self: Any, root: Any, previous: Any, *, paint_order_filtering: bool, session_id: str) -> None:
        seen["built_with"] = (root, previous, paint_order_filtering, session_id)

    def serialize(self: Any) -> tuple[str, dict[str, float]]:
        seen["serialized_on"] = threading.current_thread()
        return "the model's view", {"create_simplified_tree": 0.25}

    monkeypatch.setattr(DOMTreeSerializer, "__init__", init)
    monkeypatch.setattr(DOMTreeSerializer, "serialize_accessible_elements", serialize)

    async def get_dom_tree(*, target_id: str, all_frames: Any) -> tuple[str, dict[str, float]]:
        assert (target_id, all_frames) == ("target-1", None)
        seen["read_on"] = threading.current_thread()
        await asyncio.sleep(0)  # an event loop of its own: awaiting works there
        return "the tree", {"get_dom_tree_total_ms": 12.0}

    service = SimpleNamespace(
        browser_session=SimpleNamespace(agent_focus_target_id="target-1", id="session-1"),
        paint_order_filtering=True,
        get_dom_tree=get_dom_tree,
    )
    state, tree, timing = qrun(DomService.get_serialized_dom_tree(service, previous_cached_state="the last view"))

    assert (state, tree) == ("the model's view", "the tree")
    assert timing == {"get_dom_tree_total_ms": 12.0, "create_simplified_tree_ms": 250.0}
    assert seen["built_with"] == ("the tree", "the last view", True, "session-1")
    assert seen["read_on"] is not threading.main_thread()
    assert seen["serialized_on"] is seen["read_on"]
    assert seen["read_on"].daemon is True  # a read under way never holds the app's exit up


def test_a_failed_read_raises_on_the_event_loop(qrun: Any) -> None:
    async def broken() -> None:
        raise LookupError("the page went away")

    with pytest.raises(LookupError, match="the page went away"):
        qrun(page_reading.in_a_thread_of_its_own(broken, name="test-read"))


def test_a_page_read_with_no_page_says_so(qrun: Any) -> None:
    import_browser_use()
    from browser_use.dom.service import DomService

    service = SimpleNamespace(browser_session=SimpleNamespace(agent_focus_target_id=None, id="session-1"))
    with pytest.raises(page_reading.NoPageToRead, match="^The agent has no page to read: the page it was using has closed.$"):
        qrun(DomService.get_serialized_dom_tree(service))


def test_a_devtools_request_from_the_reading_thread_is_sent_on_the_connections_loop(qrun: Any) -> None:
    """The DevTools connection belongs to the window's loop: a request the reading thread makes
    is sent there, and its answer comes back to the reading thread."""
    import_browser_use()
    from cdp_use.client import CDPClient

    client = CDPClient("ws://127.0.0.1:9/devtools/browser/unused")
    sent_on: list[threading.Thread] = []

    class Connection:
        async def send(self, message: str) -> None:
            sent_on.append(threading.current_thread())
            request = json.loads(message)
            assert request == {"id": 1, "method": "DOM.getDocument", "params": {"depth": -1}}
            client.pending_requests[request["id"]].set_result({"root": {"nodeId": 1}})

    async def exchange() -> Any:
        client._handoff_loop = asyncio.get_running_loop()  # type: ignore[attr-defined]  # as start() records it
        client.ws = Connection()  # type: ignore[assignment]
        client._message_handler_task = asyncio.get_running_loop().create_task(asyncio.sleep(60))  # type: ignore[assignment]
        try:
            return await page_reading.in_a_thread_of_its_own(
                lambda: client.send_raw("DOM.getDocument", {"depth": -1}), name="test-read"
            )
        finally:
            client._message_handler_task.cancel()  # type: ignore[union-attr]

    assert qrun(exchange()) == {"root": {"nodeId": 1}}
    assert sent_on == [threading.main_thread()]


def test_the_agent_forces_no_full_collection_when_a_run_ends(qrun: Any) -> None:
    """browser-use's Agent.close() calls gc.collect() at the end of every run: a full collection
    stops the window's thread too, for over a second with a large page's trees alive."""

    browser_use = import_browser_use()

    generations: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            generations.append(info["generation"])

    # The real close() of an agent that has no browser and no skills left to close.
    agent = SimpleNamespace(browser_session=None, skill_service=None, logger=logging.getLogger("test-agent"))
    gc.callbacks.append(record)
    try:
        qrun(browser_use.Agent.close(agent))
    finally:
        gc.callbacks.remove(record)

    assert 2 not in generations
    assert generations[-1:] == [0]  # what close() asked for, collecting only the youngest


def test_cancelling_a_read_cancels_it_on_its_own_loop(qrun: Any) -> None:
    """A step cancelled (Stop, a timeout) must not leave its read going on against the page."""
    outcome: list[str] = []
    reading = threading.Event()

    async def long_read() -> None:
        reading.set()
        try:
            await asyncio.sleep(30)
            outcome.append("read to the end")
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    async def cancel_it() -> None:
        read = asyncio.ensure_future(page_reading.in_a_thread_of_its_own(long_read, name="test-read"))
        while not reading.is_set():
            await asyncio.sleep(0.01)
        read.cancel()
        with pytest.raises(asyncio.CancelledError):
            await read
        for _ in range(200):
            if outcome:
                return
            await asyncio.sleep(0.01)

    qrun(cancel_it())
    assert outcome == ["cancelled"]


def test_a_request_after_the_connection_closed_fails_at_once(qrun: Any) -> None:
    import_browser_use()
    from cdp_use.client import CDPClient

    client = CDPClient("ws://127.0.0.1:9/devtools/browser/unused")

    async def after_close() -> None:
        client._handoff_loop = asyncio.get_running_loop()  # type: ignore[attr-defined]  # as start() records it
        client.ws = None  # stop() has run
        await page_reading.in_a_thread_of_its_own(lambda: client.send_raw("DOM.getDocument"), name="test-read")

    with pytest.raises(page_reading.ConnectionClosed):
        qrun(after_close(), timeout=5)


def test_the_targets_table_is_read_as_a_copy_and_a_target_gone_is_not_valid(qrun: Any) -> None:
    """The reading thread walks it while the window's loop adds and removes targets."""
    import_browser_use()
    from browser_use.browser.session_manager import SessionManager

    manager = SimpleNamespace(_targets={"page-1": "a page"}, _target_sessions={"page-1": {"session-1"}})
    targets = SessionManager.get_all_targets(manager)
    manager._targets["frame-2"] = "a frame attached meanwhile"
    assert targets == {"page-1": "a page"}
    assert qrun(SessionManager.validate_session(manager, "page-1")) is True
    assert qrun(SessionManager.validate_session(manager, "frame-2")) is False


class PageRead(BaseEvent):  # type: ignore[type-arg]
    pass


class Step(BaseEvent):  # type: ignore[type-arg]
    pass


class Detail(BaseEvent):  # type: ignore[type-arg]
    pass


class Slow(BaseEvent):  # type: ignore[type-arg]
    pass


class PageTree:
    """Stands for what a page read returns."""


@contextlib.asynccontextmanager
async def session_bus() -> AsyncIterator[Any]:
    """A browser session's event bus, as Handoff sets browser-use up; stopped afterwards."""
    import_browser_use()
    from browser_use.browser.session import ResilientEventBus

    bus = ResilientEventBus()
    try:
        yield bus
    finally:
        await bus.stop(timeout=1)


def test_a_browser_sessions_event_bus_forgets_old_events_and_what_they_returned(qrun: Any) -> None:
    trees: list[weakref.ref[PageTree]] = []

    def read_page(event: PageRead) -> PageTree:
        tree = PageTree()
        trees.append(weakref.ref(tree))
        return tree

    async def trees_alive_after_thirty_page_reads() -> int:
        async with session_bus() as bus:
            bus.on(PageRead, read_page)
            for _ in range(30):
                await bus.dispatch(PageRead())
            gc.collect()
            return sum(1 for tree in trees if tree() is not None)

    assert qrun(trees_alive_after_thirty_page_reads()) == 10


def test_an_event_whose_children_outlast_the_history_still_completes(qrun: Any) -> None:
    # A handler that dispatches more children than the history holds, without awaiting them (as
    # browser-use's connect() does for each tab): the parent completes when the last child does.
    async def detail(event: Detail) -> None:
        await asyncio.sleep(0.05)

    async def completed_in_time() -> bool:
        async with session_bus() as bus:

            def step(event: Step) -> None:
                for _ in range(12):
                    bus.dispatch(Detail())

            bus.on(Step, step)
            bus.on(Detail, detail)
            try:
                await asyncio.wait_for(bus.dispatch(Step()), timeout=10)
            except TimeoutError:
                return False
            return True

    assert qrun(completed_in_time()) is True


def test_with_browser_use_loaded_a_full_collection_is_considered_ten_times_less_often() -> None:
    import_browser_use()
    assert gc.get_threshold()[2] == 100


def test_an_event_cut_off_by_its_parents_time_limit_is_forgotten_too(qrun: Any) -> None:
    # bubus never marks an event complete when its handler was cancelled (here: by its parent's
    # time limit, as browser-use's screenshot limit does): it must not stay in the history for ever.
    async def detail(event: Detail) -> None:
        await asyncio.sleep(0.2)

    async def history_after_twenty_cut_off_steps() -> int:
        async with session_bus() as bus:

            async def step(event: Step) -> None:
                await bus.dispatch(Detail())

            bus.on(Step, step)
            bus.on(Detail, detail)
            for _ in range(20):
                await bus.dispatch(Step(event_timeout=0.05))
            return len(bus.event_history)

    assert qrun(history_after_twenty_cut_off_steps()) <= 10


def test_events_left_unfinished_by_stopped_runs_never_fill_the_bus(qrun: Any) -> None:
    # Agent.close() stops the session's bus after every run, whatever is under way; bubus refuses
    # every new event once 100 in its history are unfinished.
    async def slow(event: Slow) -> None:
        await asyncio.sleep(5)

    async def history_after_sixty_stopped_runs() -> int:
        async with session_bus() as bus:
            bus.on(Slow, slow)
            for _ in range(60):
                bus.dispatch(Slow())
                bus.dispatch(Slow())
                await asyncio.sleep(0.01)
                # As Agent.close() does with a session kept alive (browser-use's agent/service.py).
                await bus.stop(clear=False, timeout=0.01)
                bus.event_queue = None
                bus._on_idle = None
            await bus.dispatch(Detail())  # refused with "EventBus at capacity" if the history filled up
            return len(bus.event_history)

    assert qrun(history_after_sixty_stopped_runs()) <= 50
