"""browser-use reads the page on a thread and event loop of its own, not on the window's.

Each step, browser-use reads the page: DevTools' DOM, layout and accessibility trees, built into
one tree of Python objects, then turned into the model's view of the page. On a page of 1,500
table rows that is 2–4 s of plain Python per step (bench/responsiveness.py --journey large_page),
and on the event loop it shares with the window, the window froze for all of it.

So the whole read (``DomService.get_serialized_dom_tree``) runs in a daemon thread with an event
loop of its own; while it runs, the window's thread gets the interpreter back every 5 ms (Python's
switch interval). The DevTools connection stays on the window's loop, where it was opened: a
request the reading thread makes is carried out there and its answer handed back
(``_requests_on_the_connections_loop``). A daemon thread, not the loop's executor: a read still
under way when the app quits must not hold the exit up.

What stays on the window's thread: decoding DevTools' answers, and Python's full garbage
collections, which stop every thread (docs/benchmarks.md).

The read is browser-use's ``DomService.get_serialized_dom_tree`` as it is in the pinned version,
minus its timing bookkeeping.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

_patched = False


def read_pages_off_the_window_thread() -> None:
    global _patched
    if _patched:
        return
    _requests_on_the_connections_loop()
    _page_read_in_a_thread_of_its_own()
    _patched = True


async def in_a_thread_of_its_own(make: Callable[[], Awaitable[T]], *, name: str) -> T:
    """``await make()`` on a new event loop in a new daemon thread; its result (or exception) here.
    Cancelling this leaves the thread to finish on its own; what it returns is then dropped."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[T] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if answer.done():
            return  # cancelled meanwhile
        if error is not None:
            answer.set_exception(error)
        else:
            answer.set_result(result)

    def run() -> None:
        try:
            result, error = asyncio.run(make()), None  # type: ignore[arg-type]
        except BaseException as failure:  # noqa: BLE001 (handed to the caller, whatever it is)
            result, error = None, failure
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:
            pass  # the app's loop has closed: nobody is waiting any more

    threading.Thread(target=run, name=name, daemon=True).start()
    return await answer


def _requests_on_the_connections_loop() -> None:
    """cdp-use's client sends and answers on the loop that opened its connection. A request made
    from another loop (the page-reading thread's) is carried out on that one, and awaited here."""
    from cdp_use.client import CDPClient

    send_raw = CDPClient.send_raw

    async def send_from_any_loop(self: Any, method: str, params: Any = None, session_id: str | None = None) -> Any:
        reader = getattr(self, "_message_handler_task", None)
        home = reader.get_loop() if reader is not None else None
        if home is None or home is asyncio.get_running_loop():
            return await send_raw(self, method, params, session_id)
        request = asyncio.run_coroutine_threadsafe(send_raw(self, method, params, session_id), home)
        return await asyncio.wrap_future(request)

    CDPClient.send_raw = send_from_any_loop  # type: ignore[method-assign]


def _page_read_in_a_thread_of_its_own() -> None:
    from browser_use.dom.serializer.serializer import DOMTreeSerializer
    from browser_use.dom.service import DomService

    async def get_serialized_dom_tree(self: Any, previous_cached_state: Any = None) -> tuple[Any, Any, dict[str, float]]:
        target_id = self.browser_session.agent_focus_target_id
        assert target_id is not None
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
