"""The window's asyncio loop: qasync's, with a cancelled timer let go at once.

qasync runs every ``call_later`` (and ``call_soon``) as a Qt timer and keeps its handle until the
timer fires, cancelled or not. A cancelled handle still holds the context it was made in. browser-use's
event bus keeps the event it is handling in a context variable, and the event keeps its results: a
page read's result is the page's whole tree. Timeouts of minutes (a step's, a model call's, each
event handler's) are set and cancelled at every step: after the 4-step large-page benchmark, 222
cancelled timers were still waiting, holding every step's page read, and every full garbage collection
walked those trees (up to ~1 s, the window frozen) — more of them with each step of a long run
(bench/agent_memory.py).

Here a cancelled timer is stopped and forgotten as it is cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import qasync
from PySide6.QtCore import QObject, QTimerEvent

log = logging.getLogger(__name__)


class _TimerHandle(asyncio.Handle):
    """A handle whose cancel() also stops its Qt timer and drops it, with what its context holds."""

    __slots__ = ("_forget",)

    def __init__(self, callback: Any, args: Any, loop: asyncio.AbstractEventLoop, context: Any) -> None:
        super().__init__(callback, args, loop, context=context)
        self._forget: Any = None

    def cancel(self) -> None:
        super().cancel()
        forget, self._forget = self._forget, None
        if forget is not None:
            forget()


class _Timers(QObject):
    """qasync's timer object (``add_callback``, ``stop``, ``set_debug``), plus ``forget``."""

    def __init__(self) -> None:
        super().__init__()
        self._handles: dict[int, asyncio.Handle] = {}
        self._stopped = False
        self._debug = False
        self._thread = threading.get_ident()

    def add_callback(self, handle: asyncio.Handle, delay: float = 0) -> asyncio.Handle:
        timer_id = self.startTimer(int(max(0.0, delay) * 1000))
        self._handles[timer_id] = handle
        if isinstance(handle, _TimerHandle):
            handle._forget = lambda: self.forget(timer_id)
        return handle

    def forget(self, timer_id: int) -> None:
        # Qt timers are stopped on their own thread only; a cancel from elsewhere (a misuse of
        # asyncio, but seen in libraries) leaves it to the timer's firing, as qasync does.
        if threading.get_ident() == self._thread and self._handles.pop(timer_id, None) is not None:
            self.killTimer(timer_id)

    def timerEvent(self, event: QTimerEvent) -> None:  # noqa: N802 (Qt's name)
        timer_id = event.timerId()
        self.killTimer(timer_id)
        handle = self._handles.pop(timer_id, None)
        if handle is None:
            return
        if isinstance(handle, _TimerHandle):
            handle._forget = None  # Qt reuses the id: a later cancel() must not drop another timer
        if handle.cancelled() or self._stopped:
            return
        if not self._debug:
            handle._run()
            return
        # As qasync's timer does in debug mode: the handle asyncio reports, and slow callbacks named.
        loop = asyncio.get_event_loop()
        loop._current_handle = handle  # type: ignore[attr-defined]
        started = time.monotonic()
        try:
            handle._run()
        finally:
            loop._current_handle = None  # type: ignore[attr-defined]
        took = time.monotonic() - started
        if took >= loop.slow_callback_duration:
            log.warning("Executing %s took %.3f seconds", handle, took)

    def stop(self) -> None:
        self._stopped = True

    def set_debug(self, enabled: bool) -> None:
        self._debug = enabled


class WindowEventLoop(qasync.QEventLoop):  # type: ignore[misc,valid-type]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer = _Timers()

    def call_later(self, delay: float, callback: Any, *args: Any, context: Any = None) -> asyncio.Handle:
        if asyncio.iscoroutinefunction(callback):
            raise TypeError("coroutines cannot be used with call_later")
        if not callable(callback):
            raise TypeError(f"callback must be callable: {type(callback).__name__}")
        handle: asyncio.Handle = self._timer.add_callback(_TimerHandle(callback, args, self, context), delay)
        return handle
