"""browser-use reads the page on a thread and event loop of its own, not on the window's.

Each step, browser-use reads the page: DevTools' DOM, layout and accessibility trees, built into
one tree of Python objects, then turned into the model's view of the page. On a page of 1,500
table rows that is 2–4 s of plain Python per step (bench/responsiveness.py --journey large_page),
and on the event loop it shares with the window, the window froze for all of it.

So the whole read (``DomService.get_serialized_dom_tree``) runs in a daemon thread with an event
loop of its own; while it runs, the window's thread gets the interpreter back every 5 ms (Python's
switch interval). The DevTools connection stays on the window's loop, where it was opened: a
request the reading thread makes is carried out there and its answer handed back
(``_requests_on_the_connections_loop``); the table of DevTools targets it walks, which the window's
loop changes as frames attach and detach, is read as a copy. A daemon thread, not the loop's
executor: a read still under way when the app quits must not hold the exit up; a read whose step
was cancelled (Take over, Stop) is cancelled on its own loop too.

What stays on the window's thread: decoding DevTools' answers, and Python's full garbage
collections, which stop every thread (docs/benchmarks.md).

The read is browser-use's ``DomService.get_serialized_dom_tree`` as it is in the pinned version,
minus its timing bookkeeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

_patched = False


def read_pages_off_the_window_thread() -> None:
    global _patched
    if _patched:
        return
    _requests_on_the_connections_loop()
    _targets_read_as_copies()
    _page_read_in_a_thread_of_its_own()
    _patched = True


async def in_a_thread_of_its_own(make: Callable[[], Awaitable[T]], *, name: str) -> T:
    """``await make()`` on a new event loop in a new daemon thread; its result (or exception) here.
    Cancelling this cancels it there too (a stopped agent's read must not go on reading the page
    the person now uses); whatever it still returns is dropped."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[T] = loop.create_future()
    running: dict[str, Any] = {}  # its loop and task, once started; "cancelled" if cancelled before

    def settle(result: Any, error: BaseException | None) -> None:
        if answer.done():
            return  # cancelled meanwhile
        if error is not None:
            answer.set_exception(error)
        else:
            answer.set_result(result)

    async def work() -> T:
        running["loop"], running["task"] = asyncio.get_running_loop(), asyncio.current_task()
        if running.get("cancelled"):
            raise asyncio.CancelledError
        return await make()

    def run() -> None:
        try:
            result, error = asyncio.run(work()), None
        except BaseException as failure:  # noqa: BLE001 (handed to the caller, whatever it is)
            result, error = None, failure
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:
            pass  # the app's loop has closed: nobody is waiting any more

    threading.Thread(target=run, name=name, daemon=True).start()
    try:
        return await answer
    except asyncio.CancelledError:
        running["cancelled"] = True
        worker_loop, task = running.get("loop"), running.get("task")
        if worker_loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # it has just finished
                worker_loop.call_soon_threadsafe(task.cancel)
        raise


class ConnectionClosed(ConnectionError):
    pass


class NoPageToRead(LookupError):
    pass


def _requests_on_the_connections_loop() -> None:
    """cdp-use's client sends and answers on the loop that opened its connection. A request made
    from another loop (the page-reading thread's) is carried out on that one, and awaited here;
    after the connection has closed, it fails at once."""
    from cdp_use.client import CDPClient

    send_raw = CDPClient.send_raw
    start = CDPClient.start

    async def start_and_remember_the_loop(self: Any) -> None:
        self._handoff_loop = asyncio.get_running_loop()
        await start(self)

    async def send_from_any_loop(self: Any, method: str, params: Any = None, session_id: str | None = None) -> Any:
        home = getattr(self, "_handoff_loop", None)
        if home is None or home is asyncio.get_running_loop():
            return await send_raw(self, method, params, session_id)
        if self.ws is None or self._message_handler_task is None or home.is_closed():
            raise ConnectionClosed(f"The DevTools connection closed before {method} could be sent")
        request = asyncio.run_coroutine_threadsafe(send_raw(self, method, params, session_id), home)
        return await asyncio.wrap_future(request)

    CDPClient.start = start_and_remember_the_loop  # type: ignore[method-assign]
    CDPClient.send_raw = send_from_any_loop  # type: ignore[method-assign]


def _targets_read_as_copies() -> None:
    """The reading thread walks browser-use's table of DevTools targets (cross-origin frames) while
    the window's loop adds and removes targets as they attach and detach: it gets a copy (one
    C-level step, which no thread switch can split), and a target gone between two looks at the
    table is simply not valid."""
    from browser_use.browser.session_manager import SessionManager

    def get_all_targets(self: Any) -> dict[Any, Any]:
        return dict(self._targets)

    async def validate_session(self: Any, target_id: Any) -> bool:
        return len(self._target_sessions.get(target_id, ())) > 0

    SessionManager.get_all_targets = get_all_targets  # type: ignore[method-assign]
    SessionManager.validate_session = validate_session  # type: ignore[method-assign]


def _page_read_in_a_thread_of_its_own() -> None:
    from browser_use.dom.serializer.serializer import DOMTreeSerializer
    from browser_use.dom.service import DomService

    async def get_serialized_dom_tree(self: Any, previous_cached_state: Any = None) -> tuple[Any, Any, dict[str, float]]:
        target_id = self.browser_session.agent_focus_target_id
        if target_id is None:  # browser-use asserts; a step's error should say what happened
            raise NoPageToRead("The agent has no page to read: the page it was using has closed.")
        session_id = self.browser_session.id

        async def read() -> tuple[Any, Any, dict[str, float]]:
            tree, timing = await self.get_dom_tree(target_id=target_id, all_frames=None)
            # Reads the previous state (its element ids) and writes only the new tree's nodes.
            state, serializer_timing = DOMTreeSerializer(
                tree, previous_cached_state, paint_order_filtering=self.paint_order_filtering, session_id=session_id
            ).serialize_accessible_elements()
            timing.update({f"{name}_ms": seconds * 1000 for name, seconds in serializer_timing.items()})
            return state, tree, timing

        return await in_a_thread_of_its_own(read, name="handoff-page-read")

    DomService.get_serialized_dom_tree = get_serialized_dom_tree  # type: ignore[method-assign]
