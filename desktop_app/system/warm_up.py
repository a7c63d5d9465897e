"""Heavy imports in worker threads, without the window's thread feeling them.

A worker thread that imports holds Python's GIL most of the time, and two things make the window's
thread wait for it:

- The GIL changes hands only after 5 ms (``sys.getswitchinterval()``), and the window's thread
  needs it for every Python callback Qt makes (a timer, a slot, each qasync step): twenty small
  callbacks in one turn of the loop waited 100 ms. While a warm-up runs it changes hands every
  0.5 ms instead.
- Python's garbage collector runs a full collection whenever enough objects were made, and an
  import makes many: with browser-use loaded, one walks ~1 million objects in one C call (40–130
  ms measured, bench/responsiveness.py), whichever thread triggered it. During a one-time warm-up
  the automatic collector is paused, and what was loaded is then moved out of its sight for good
  (``gc.freeze()``: modules, classes and functions stay for the app's life anyway), so no later
  collection walks it again (with browser-use's page trees alive, full collections are frequent:
  ``backends/browser_use_setup``). Garbage made meanwhile (in any thread) is kept as well: a one-time
  cost, paid once per warm-up (at start-up, at the first Local session and run).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import logging
import sys
import threading
from collections.abc import Iterator

log = logging.getLogger(__name__)

WARM_UP_SWITCH_INTERVAL = 0.0005  # seconds

_lock = threading.Lock()
_running = 0
_freezing = 0
_default_interval = sys.getswitchinterval()
_collector_was_enabled = True


@contextlib.contextmanager
def window_first(*, freeze: bool = False) -> Iterator[None]:
    """Around work in a worker thread: the window's thread waits at most ~0.5 ms for the GIL.

    ``freeze``: a one-time warm-up (what it loads lives as long as the app). The automatic
    collector pauses meanwhile, and afterwards everything alive is frozen (``gc.freeze()``). Not
    for work done again and again: what is alive then is never collected."""
    global _running, _freezing, _default_interval, _collector_was_enabled
    with _lock:
        if _running == 0:
            _default_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(_default_interval, WARM_UP_SWITCH_INTERVAL))
        _running += 1
        if freeze:
            if _freezing == 0:
                _collector_was_enabled = gc.isenabled()
                gc.disable()
            _freezing += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                sys.setswitchinterval(_default_interval)
            if freeze:
                _freezing -= 1
                if _freezing == 0:
                    gc.freeze()
                    if _collector_was_enabled:
                        gc.enable()


def import_quietly(names: tuple[str, ...] | list[str]) -> None:
    """Import ``names`` once, in a worker thread; a module that fails is left for its real user to
    import again and report."""
    with window_first(freeze=True):
        for name in names:
            try:
                importlib.import_module(name)
            except Exception as error:  # noqa: BLE001 — a warm-up only
                log.debug("Warm-up could not import %s: %s", name, error)
