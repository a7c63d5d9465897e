"""Setting browser-use up for Handoff: importing it (in a worker thread, the window first), warming
the first agent up off the window's thread, the browser session and profile that drive the app's
own view over DevTools, and the Agent subclass that keeps nothing of its own on disk."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import importlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_app.backends import page_reading
from desktop_app.system.warm_up import import_quietly, window_first

log = logging.getLogger(__name__)

_imported = False


def import_browser_use() -> Any:
    global _imported
    first = not _imported
    with window_first(freeze=first):  # the first time: ~1 s of imports (see desktop_app.system.warm_up)
        module = importlib.import_module("browser_use")
        # Its names load lazily on first access: touch them here, off the UI thread.
        for name in ("Agent", "BrowserSession", "BrowserProfile", "Tools", "ActionResult"):
            getattr(module, name)
        _no_about_blank_screensaver()
        _no_stray_downloads_folder()
        page_reading.read_pages_off_the_window_thread()
        _no_forced_collection_after_each_run()
        _short_event_history()
        _fewer_full_collections()
        if first:  # what connecting to the browser imports next, on the window's thread otherwise
            _importfirst_run_modules()
    _imported = True
    return module


def window_first_call(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` in a worker thread that imports as it goes the first time (see
    desktop_app.system.warm_up): the model client's SDK."""
    with window_first(freeze=not _warmed):
        return function(*args)


def devtools_answers(url: str) -> None:
    """OSError when the DevTools endpoint does not answer (refused, timed out, an HTTP error)."""
    import urllib.request

    with urllib.request.urlopen(url, timeout=5.0) as answer:  # noqa: S310 (our own loopback port)
        answer.read()


def _no_stray_downloads_folder() -> None:
    """browser-use builds a default profile on import, which makes an empty
    /tmp/browser-use-downloads-* folder; Handoff always passes its own profile."""
    from browser_use.browser import session

    folder = session.DEFAULT_BROWSER_PROFILE.downloads_path
    if folder is not None and Path(folder).name.startswith("browser-use-downloads-"):
        with contextlib.suppress(OSError):
            Path(folder).rmdir()  # only if empty


_warmed = False
# Imported on first use while the first session starts and runs (connecting over DevTools, the
# DOM watchers, the first screenshot): warmed with the throwaway agent, so none of it is imported
# on the window's thread (~110 ms stalls; `bench/responsiveness.py --imports` lists what is left).
FIRST_RUN_MODULES = (
    "websockets.asyncio.client",
    "websockets.extensions.permessage_deflate",
    "httpcore",
    "h11",
    "certifi",
    "email.policy",
    "email.headerregistry",
    "email.contentmanager",
    "zipp",
    "zipp.compat.overlay",
    "importlib_metadata",
    "importlib_metadata._adapters",
    "importlib_metadata._text",
    "importlib.readers",
    "importlib.resources.readers",
    "browser_use.actor",
    "browser_use.browser.session_manager",
    "browser_use.browser.video_recorder",
    # A model client's first request: its async backend, the OpenAI API's chat resources and the
    # Anthropic client's tracing headers, each loaded as first used.
    "anyio._backends._asyncio",
    "opentelemetry.propagate",
    "truststore",
    "openai.lib._chat_completion_resources",
    "openai.lib.streaming.chat",
    "openai.pagination",
)
# Every module in these packages (the model client's HTTP transport loads its connection pool, its
# protocols and backends at its first request); cdp_use: each protocol domain's client and event
# registration.
FIRST_RUN_PACKAGES = ("browser_use.browser.watchdogs", "httpcore2", "openai.resources.chat", "openai.types.chat.completions")
CDP_DOMAIN_MODULES = ("library", "registration")


def first_run_modules() -> list[str]:
    import pkgutil

    names = list(FIRST_RUN_MODULES)
    for package in FIRST_RUN_PACKAGES:
        with contextlib.suppress(ImportError):
            found = pkgutil.walk_packages(importlib.import_module(package).__path__, f"{package}.", onerror=lambda _name: None)
            names += [m.name for m in found]
    with contextlib.suppress(ImportError):
        cdp = importlib.import_module("cdp_use.cdp")
        domains = [m.name for m in pkgutil.iter_modules(cdp.__path__) if m.ispkg]
        names += [f"cdp_use.cdp.{d}.{part}" for d in domains for part in CDP_DOMAIN_MODULES]
    return names


def _importfirst_run_modules() -> None:
    import_quietly(first_run_modules())


def warm_up_agent(browser_use: Any, scratch: Path) -> None:
    """Building the first Agent imports ~2,500 modules (model SDKs, aiohttp, ssl …) in ~1.3 s: do it
    once in a worker thread, with a throwaway agent on a throwaway loop, so the real one is built
    on the UI thread in milliseconds (the window must not freeze at the first Run)."""
    global _warmed
    if _warmed:
        return

    class NoModel:
        model = "warm-up"
        provider = "none"
        name = "warm-up"
        model_name = "warm-up"
        _verified_api_keys = True

        async def ainvoke(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("never called")

    async def build() -> None:
        session = browser_use.BrowserSession(
            cdp_url="http://127.0.0.1:9", is_local=False, browser_profile=_profile(browser_use, scratch)
        )
        HandoffAgent = agent_class(browser_use)  # noqa: N806
        HandoffAgent(task="warm up", llm=NoModel(), browser_session=session, file_system_path=str(scratch), **AGENT_OPTIONS)

    try:
        with window_first(freeze=True):
            asyncio.run(build())
            _importfirst_run_modules()
        _warmed = True
    except Exception as error:  # a warm-up only: the real agent still gets built, just more slowly
        log.info("Warming up the agent failed (%s: %s)", type(error).__name__, error)


def browser_session(browser_use: Any, cdp_url: str | None, downloads: Path) -> Any:
    """In a worker thread: the session builds a Browser Use Cloud client it never uses here, and
    with it an HTTP client's TLS context (30–60 ms on the window's thread as the session opens).
    Nothing in it is bound to an event loop until it is started, on the window's loop."""
    return browser_use.BrowserSession(cdp_url=cdp_url, is_local=False, browser_profile=_profile(browser_use, downloads))


def _profile(browser_use: Any, downloads: Path) -> Any:
    return browser_use.BrowserProfile(
        headless=False,
        no_viewport=True,  # otherwise an emulated 1920×1080 viewport stays on the view (docs/architecture.md, facts)
        keep_alive=True,  # the view outlives every run
        downloads_path=str(downloads),
        auto_download_pdfs=False,
    )


@functools.cache
def agent_class(browser_use: Any) -> Any:
    class HandoffAgent(browser_use.Agent):  # type: ignore[misc,name-defined]
        """browser-use's Agent, keeping nothing of its own on disk: it would store every step's
        screenshot in a world-readable /tmp folder and leave it there. Handoff keeps its own
        (masked) thumbnails under its private data folder; the agent's files live there too."""

        def _set_screenshot_service(self) -> None:
            self.screenshot_service = _NoScreenshots()

    return HandoffAgent


class _NoScreenshots:
    async def store_screenshot(self, screenshot_b64: str, step_number: int) -> None:
        return None


# Every Agent Handoff builds, the warm-up's too.
AGENT_OPTIONS: dict[str, Any] = {
    "use_judge": False,
    "enable_signal_handler": False,
    "calculate_cost": False,
    "directly_open_url": False,
}


def _no_about_blank_screensaver() -> None:
    """browser-use paints an animated logo (fetched from the web) over about:blank pages and opens
    an about:blank tab when it sees none. Handoff's start page lives at about:blank and QtWebEngine
    puts any "new tab" into the one view, so both would replace what the person is looking at."""
    from browser_use.browser.watchdogs.aboutblank_watchdog import AboutBlankWatchdog

    async def do_nothing(self: Any, *args: Any) -> None:
        return None

    AboutBlankWatchdog._show_dvd_screensaver_on_about_blank_tabs = do_nothing  # type: ignore[method-assign]
    AboutBlankWatchdog._check_and_ensure_about_blank_tab = do_nothing  # type: ignore[method-assign]


class _CollectorLeftToItself:
    """The ``gc`` module as browser-use's Agent module sees it. ``Agent.close()`` forces a full
    collection at the end of every run, on the event loop the window shares: 1.2–1.7 s with a large
    page's DOM trees alive (bench/responsiveness.py --journey large_page). Python's collector runs
    on its own when enough objects were made; forcing it frees nothing that would otherwise leak,
    so here it collects only the youngest generation (a few milliseconds at most)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(gc, name)

    @staticmethod
    def collect(generation: int = 2) -> int:
        return gc.collect(0)


def _no_forced_collection_after_each_run() -> None:
    from browser_use.agent import service

    if not isinstance(service.gc, _CollectorLeftToItself):
        service.gc = _CollectorLeftToItself()  # type: ignore[assignment]


# Finished events a browser session's bus keeps (bubus's default: 50). Each keeps its results, and a
# page read's result is the page's whole tree (an action's event keeps its element, and through it
# the tree): at 50, about ten steps' trees stayed alive on a large page, each walked by every full
# garbage collection (bench/agent_memory.py). browser-use reads the history for its recent-events
# report (10 events) and bubus's debug logs.
EVENT_HISTORY = 10
HISTORY_CEILING = 50


def _short_event_history() -> None:
    """Only an event that is wholly complete is forgotten. bubus marks a parent event complete
    through the history when its last child ends; a parent forgotten before that would never
    complete, and whoever awaits it would wait for ever. bubus's own clean-up drops events whose
    handlers are done even while their children run. Past ``HISTORY_CEILING`` (bubus's own limit)
    the oldest go whatever their state, so events left unfinished (a run stopped mid-event) cannot
    fill the bus: bubus refuses every new event once 100 are pending."""
    from browser_use.browser.session import ResilientEventBus

    if getattr(ResilientEventBus, "short_history", False):
        return
    default_init = ResilientEventBus.__init__

    @functools.wraps(default_init)
    def short_history_init(self: Any, name: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("max_history_size", EVENT_HISTORY)
        default_init(self, name, **kwargs)

    def forget_complete_events(self: Any) -> int:
        history = self.event_history
        excess = len(history) - (self.max_history_size or len(history))
        if excess <= 0:
            return 0
        # The history is in dispatch order: the oldest complete events go first.
        complete = [event_id for event_id, event in history.items() if _marked_complete(event)][:excess]
        for event_id in complete:
            del history[event_id]
        beyond = list(history)[: max(0, len(history) - HISTORY_CEILING)]
        for event_id in beyond:
            del history[event_id]
        return len(complete) + len(beyond)

    ResilientEventBus.__init__ = short_history_init  # type: ignore[method-assign]
    ResilientEventBus.cleanup_event_history = forget_complete_events  # type: ignore[method-assign]
    ResilientEventBus.short_history = True  # type: ignore[attr-defined]


def _marked_complete(event: Any) -> bool:
    """Whether bubus has marked the event complete: its handlers and all its children done. When a
    handler was cancelled (a time limit, a stop) bubus never checks, so an event whose handlers are
    all done is checked (and marked) here first."""
    signal = event._event_completed_signal
    if (signal is None or not signal.is_set()) and event.event_results and event.event_completed_at is not None:
        event.event_mark_complete_if_all_handlers_completed()  # sets the signal once its children are done too
        signal = event._event_completed_signal
    return signal is not None and signal.is_set()


# Python considers a full garbage collection after every 10 collections of its middle generation
# (and makes one when the objects kept since the last have passed a quarter of those alive). Reading
# a large page keeps ~300,000 objects a step, so with browser-use there were ~5 a step, each walking
# every page tree alive and stopping every thread (bench/agent_memory.py: 41 in 8 steps, 21.5 s in
# all). Considered after every 100, there were 8.
FULL_COLLECTION_EVERY = 100


def _fewer_full_collections() -> None:
    young, middle, full = gc.get_threshold()
    if full < FULL_COLLECTION_EVERY:
        gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
