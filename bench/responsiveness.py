"""Does the window ever freeze? Journeys through the real window, with the event loop sampled.

A 5 ms QTimer runs throughout; each time it fires late, the lateness is a stall the person would
feel (nothing repaints, no click lands). Per journey: the longest stall, the p99 of the timer's
lateness (over the whole journey, and over the time the agent works: the p99 target is for that
time), and where the longest happened (the last log event before it). Sampling starts as the
window appears (before it there is nothing to freeze; bench/startup.py times that part).
``--stacks`` adds what the window's thread (and any busy worker thread holding the GIL) was doing
in the longest stalls; ``--stack-ms 20`` looks at shorter ones too; ``--imports`` lists the modules
first imported on the window's thread once it was shown (each one belongs in a warm-up list).

1. local    — start, the first Run of a session (model client, browser-use, DOM watchers), steps,
              Take over, Hand back, Stop session, quit (scripted model, pages on 127.0.0.1).
2. cloud    — 500 steps streamed into the timeline at the stand-in server's fastest pace, with thumbnails.
3. history  — open History with 1,000 past sessions and 50,000 timeline entries; export the largest.
4. settings — open Settings, switch the model provider (Ollama looked for on a dead port included).
5. large_page — Local, a few steps on a page of 1,500 table rows (a shop, search results).

The last column is Python's full garbage collections during the journey (how many, the longest):
one stops every thread, the window's too, for as long as it takes.

Each journey runs in its own process (offscreen by default; ``--platform xcb`` under Xvfb):

    .venv/bin/python bench/responsiveness.py
    xvfb-run -a -s "-screen 0 1440x900x24" .venv/bin/python bench/responsiveness.py --platform xcb
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BYTECODE = Path(tempfile.gettempdir()) / "handoff-bench-bytecode"
JOURNEYS = ("local", "cloud", "history", "settings", "large_page")
TICK_MS = 5


def describe_stack(stack: traceback.StackSummary | list[traceback.FrameSummary]) -> str:
    """The innermost 12 frames, then the project's own frames further out, innermost first."""
    inner = list(stack)[-12:]
    ours = [f for f in list(stack)[:-12] if "/desktop_app/" in f.filename or "/bench/" in f.filename or "/tests/" in f.filename]
    text = lambda frames: " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))  # noqa: E731
    return text(inner) + (" <<< " + text(ours) if ours else "")


IDLE_FRAMES = ("wait", "get", "select", "_worker", "sleep", "poll", "accept", "recv", "_wait_for_tstate_lock")


def busy_thread_stack(frame: Any) -> str:
    """A worker thread's innermost frames, or "" when it is only waiting."""
    stack = traceback.extract_stack(frame)
    if not stack or stack[-1].name in IDLE_FRAMES:
        return ""
    return " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(stack[-8:]))


class LoopSampler:
    """Lateness of a 5 ms timer, and the last log event before each sample."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.samples: list[tuple[float, str]] = []  # (lateness ms, last event)
        self._agent_working = False
        # Modules first imported on the window's thread once it was shown (``--imports``): each
        # is a stall, and a name for a warm-up list (app.WARM_UP_MODULES, local.FIRST_RUN_MODULES).
        self.imports_watched = False
        self.imported_here: list[str] = []
        if os.environ.get("HANDOFF_BENCH_IMPORTS"):
            main = threading.main_thread()

            def audit(event: str, args: tuple[Any, ...]) -> None:
                if event == "import" and self.imports_watched and threading.current_thread() is main and args[0] not in sys.modules:
                    self.imported_here.append(args[0])

            sys.addaudithook(audit)
        self._working_ticks: set[int] = set()  # which samples were taken while the agent worked
        self.stuck_ms = 0.0
        self._watching = False
        self._watcher: threading.Thread | None = None
        self.stuck_stack = ""  # the GUI thread's stack, seen during the longest stall
        self.stalls: dict[float, tuple[float, str]] = {}  # every stall over stack_ms: (ms, stack)
        self.stack_ms = float(os.environ.get("HANDOFF_BENCH_STACK_MS", "100"))
        self.last_event = "start"
        self._timer = QTimer()
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._last = self._started = time.perf_counter()
        sampler = self

        class LastEvent(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                # The app's own lines: a library's (browser-use's warning that QtWebEngine has no
                # permissions API, at every session start) would label every later stall.
                if record.name.startswith(("desktop_app", "handoff")):
                    sampler.last_event = getattr(record, "event", None) or record.getMessage()[:60]

        self.full_collections: list[float] = []  # ms each; a full collection stops every thread
        collection_started = [0.0]

        def on_collection(phase: str, info: dict[str, int]) -> None:
            if info["generation"] != 2:
                return
            if phase == "start":
                collection_started[0] = time.perf_counter()
            elif self._watching:
                self.full_collections.append((time.perf_counter() - collection_started[0]) * 1000)

        self._on_collection = on_collection
        gc.callbacks.append(on_collection)
        # At the app's levels (bench/common.run_on_qt sets its logging up): lowering them would
        # format, on the window's thread, lines the app never writes.
        self._handler = LastEvent(logging.DEBUG)
        logging.getLogger().addHandler(self._handler)

    def mark(self, what: str) -> None:
        self.last_event = what

    def start(self) -> None:
        self.imports_watched = True
        self._last = self._started = time.perf_counter()
        self._timer.start()
        self._watching = True  # a plain flag: the watcher thread must not touch Qt objects
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        """While the loop is stuck, what the GUI thread is doing: its innermost frames, then the
        app's own frames further out (which call of ours led there)."""
        main = threading.main_thread().ident
        while self._watching:
            time.sleep(min(0.05, self.stack_ms / 4000))
            if not self._watching:
                break
            stuck = (time.perf_counter() - self._last) * 1000
            if stuck > self.stack_ms and main is not None:
                frames = sys._current_frames()
                frame = frames.get(main)
                where = describe_stack(traceback.extract_stack(frame) if frame is not None else [])
                # A worker thread holding the GIL (a long C call: a big import, pydantic building
                # a schema) stalls the window's thread just the same: say what the busy ones did.
                busy = [busy_thread_stack(f) for ident, f in frames.items() if ident not in (main, threading.get_ident())]
                where += "".join(f" ||| other thread: {b}" for b in busy if b)
                episode = self._last  # one entry per stall: the tick it started after
                where = f"[{self.last_event}, +{(episode - self._started) * 1000:.0f} ms] {where}"
                self.stalls[episode] = (stuck, where)
                if stuck > self.stuck_ms:
                    self.stuck_ms, self.stuck_stack = stuck, where

    def stop(self) -> dict[str, object]:
        self._watching = False  # first: a stopped timer would look like a stall to the watcher
        if self._watcher is not None:
            self._watcher.join()
        self._timer.stop()
        gc.callbacks.remove(self._on_collection)
        logging.getLogger().removeHandler(self._handler)
        lateness = sorted(s[0] for s in self.samples)
        worst = max(self.samples, default=(0.0, ""))
        working = sorted(lateness for lateness, _, agent_works in self.working_samples if agent_works)
        return {
            "worst_ms": round(worst[0], 1),
            "where": worst[1],
            "p99_ms": _p99(lateness),
            "p99_working_ms": _p99(working) if working else None,
            "worst_working_ms": round(working[-1], 1) if working else None,
            "over_100ms": sum(1 for s in lateness if s > 100),
            "samples": len(lateness),
            "stack": self.stuck_stack,
            "stalls": sorted(self.stalls.values(), reverse=True)[:8],
            "imports": list(self.imported_here),
            "full_collections": len(self.full_collections),
            "longest_collection_ms": round(max(self.full_collections, default=0.0), 1),
        }

    @property
    def working_samples(self) -> list[tuple[float, str, bool]]:
        return [(lateness, event, index in self._working_ticks) for index, (lateness, event) in enumerate(self.samples)]

    def agent_works(self, works: bool) -> None:
        """From now on, the samples are (or are no longer) taken while the agent works: the p99
        target is for that time ("while the agent works", issue 15), the longest stall for all."""
        self._agent_working = works

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._agent_working:
            self._working_ticks.add(len(self.samples))
        self.samples.append((max(0.0, (now - self._last) * 1000 - TICK_MS), self.last_event))
        self._last = now


def _p99(ordered: list[float]) -> float:
    return round(ordered[int(0.99 * (len(ordered) - 1))], 1) if ordered else 0.0


async def open_local_window(sampler: LoopSampler, model: Any) -> tuple[Any, Any]:
    """The real window in Local mode with a scripted model; sampling starts as it appears."""
    from common import open_window

    services, window = await open_window("local", model, on_shown=sampler.start, on_mark=sampler.mark)
    sampler.mark("window attached")
    return services, window


async def stop_session_and_quit(sampler: LoopSampler, services: Any, window: Any) -> None:
    from desktop_app.core.control import Control
    from tests.helpers import wait_until

    window.actions.stop_session()
    await wait_until(lambda: services.controller.state is Control.NO_SESSION, timeout=60)
    sampler.mark("session stopped")
    await window.close_gracefully()
    services.close()


async def journey_local(sampler: LoopSampler) -> None:
    from desktop_app.core.control import Control
    from tests.fakes import scripted_llm as sl
    from tests.fakes.site import SiteServer
    from tests.helpers import wait_until

    with SiteServer() as site:
        model = sl.ScriptedModel(
            [
                sl.navigate(site.url("form.html")),
                sl.type_text("id=name", "Ada Lovelace"),
                sl.ask_human("Type your email"),
                sl.type_text("id=name", "Ada King"),
                sl.done("Done"),
            ]
        )
        services, window = await open_local_window(sampler, model)
        sampler.agent_works(True)  # the first Run: session, model client, browser-use, steps
        window.actions.run_task("Fill the form")
        await wait_until(lambda: services.controller.state is Control.HUMAN, timeout=120)
        sampler.agent_works(False)
        sampler.mark("agent asked for the person")
        window.actions.hand_back("Typed the email", "")
        sampler.agent_works(True)
        await wait_until(lambda: services.controller.state is Control.IDLE, timeout=120)
        window.actions.run_task("Look again")
        await wait_until(lambda: services.controller.state is Control.AGENT, timeout=60)
        window.actions.take_over()
        await wait_until(lambda: services.controller.state is Control.HUMAN, timeout=60)
        sampler.agent_works(False)
        sampler.mark("took over")
        window.actions.hand_back("", "")
        sampler.agent_works(True)
        await wait_until(lambda: services.controller.state is Control.IDLE, timeout=120)
        sampler.agent_works(False)
        await stop_session_and_quit(sampler, services, window)


async def journey_large_page(sampler: LoopSampler) -> None:
    """Local, on a page of 1,500 table rows (a shop, search results): what browser-use does with
    a large page each step (reading its DOM, collecting the garbage that leaves) is the window's too."""
    from desktop_app.core.control import Control
    from tests.fakes import scripted_llm as sl
    from tests.fakes.site import SiteServer
    from tests.helpers import wait_until

    with SiteServer() as site:
        model = sl.ScriptedModel(
            [
                sl.navigate(site.url("catalogue.html")),
                sl.type_text("name=qty-3", "2"),
                sl.type_text("name=qty-5", "4"),
                sl.done("Done"),
            ]
        )
        services, window = await open_local_window(sampler, model)
        sampler.agent_works(True)
        window.actions.run_task("Order items 3 and 5")
        await wait_until(lambda: services.controller.state is Control.AGENT, timeout=120)
        await wait_until(lambda: services.controller.state is Control.IDLE, timeout=300)
        sampler.agent_works(False)
        await stop_session_and_quit(sampler, services, window)


STAND_IN = """
import sys
from tests.fakes.cloud_server import FakeCloud
with FakeCloud(step_interval=float(sys.argv[1]), steps_per_task=int(sys.argv[2])) as cloud:
    print(cloud.base_url, cloud.api_key, flush=True)
    sys.stdin.read()  # until the benchmark closes it
"""


@contextlib.contextmanager
def stand_in_cloud(*, step_interval: float, steps_per_task: int) -> Iterator[tuple[str, str]]:
    """The stand-in Browser Use Cloud in a process of its own, as the real one is remote: in this
    process its Python threads (JSON for hundreds of steps, every second) would hold the GIL the
    window's thread needs, a cost no person with the real service pays."""
    server = subprocess.Popen(
        [sys.executable, "-c", STAND_IN, str(step_interval), str(steps_per_task)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdin is not None and server.stdout is not None
    try:
        base_url, api_key = server.stdout.readline().split()
        yield base_url, api_key
    finally:
        server.stdin.close()  # it exits; reaped in a thread, so the window's loop is not held up
        threading.Thread(target=lambda: (server.wait(30), server.stdout.close()), daemon=True).start()  # type: ignore[union-attr]


async def journey_cloud(sampler: LoopSampler) -> None:
    from common import open_window

    from desktop_app.core.control import Control
    from desktop_app.system.keychain import SecretName
    from tests.helpers import wait_until

    with stand_in_cloud(step_interval=0.005, steps_per_task=500) as (base_url, api_key):  # its fastest pace
        os.environ["BROWSER_USE_BASE_URL"] = base_url
        services, window = await open_window("cloud", on_shown=sampler.start, on_mark=sampler.mark)
        services.keychain.set(SecretName.BROWSER_USE, api_key)
        sampler.agent_works(True)
        window.actions.run_task("Stream 500 steps")
        await wait_until(lambda: services.controller.state is Control.AGENT, timeout=60)
        sampler.mark("task created")
        await wait_until(lambda: services.controller.state is Control.IDLE, timeout=300)
        sampler.agent_works(False)
        sampler.mark("500 steps in")
        await window.close_gracefully()
        services.close()


async def journey_history(sampler: LoopSampler) -> None:
    import asyncio

    from common import EARLY, PATHS, open_window

    from desktop_app.core import timeline as tl
    from desktop_app.core.ports import StepReport
    from desktop_app.services import Services

    sampler.mark("filling the history")
    filler = Services(PATHS, EARLY.devtools_url, backend_override="cloud")
    db = filler.history
    now = time.time() - 86400 * 30
    for number in range(1000):
        session = f"session-{number:04d}"
        db.record(tl.SessionStarted(now + number * 60, session, "Browser Use Cloud", "cloud"))
        steps = 5_000 if number == 999 else 45  # the largest: 5,000 entries; 50,000 in all
        for step in range(steps):
            db.record(tl.AgentStep(now + number * 60 + step, session, StepReport(f"task-{number}", step + 1, f"Step {step}", "https://shop.example/cart")))
        db.record(tl.SessionEnded(now + number * 60 + 59, session, "Stopped by you"))
    filler.close()
    # Started as the app starts (its warm-up freezes what it imported): a full garbage collection
    # would otherwise walk every module's objects, which in the app it never does.
    services, window = await open_window("cloud")
    await asyncio.sleep(0.5)
    sampler.start()
    sampler.mark("History opened")
    window.dialogs.open_history()
    dialog = window.dialogs.history
    await asyncio.sleep(3)
    sampler.mark("largest session selected")
    dialog.sessions.setCurrentRow(0)
    await asyncio.sleep(3)
    sampler.mark("export JSON")
    dialog.export_to(PATHS.exports / "largest.json", "json")
    sampler.mark("export HTML")
    dialog.export_to(PATHS.exports / "largest.html", "html")
    await asyncio.sleep(2)
    dialog.close()
    await window.close_gracefully()
    services.close()


async def journey_settings(sampler: LoopSampler) -> None:
    import asyncio

    from common import open_window

    services, window = await open_window("local", on_shown=sampler.start, on_mark=sampler.mark)
    await asyncio.sleep(0.5)
    sampler.mark("Settings opened")
    window.dialogs.open_settings()
    dialog = window.dialogs.settings
    await asyncio.sleep(1)
    for provider in ("ollama", "openai", "anthropic", "openai_compatible", "ollama"):
        sampler.mark(f"provider {provider}")
        dialog.provider.setCurrentIndex(dialog.provider.findData(provider))
        await asyncio.sleep(1.5)
    dialog.close()
    await window.close_gracefully()
    services.close()


def child(journey: str) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    sys.path.insert(0, str(REPO))
    os.environ["OLLAMA_HOST"] = "http://127.0.0.1:9"  # a dead port: detection must not freeze anything
    from common import run_on_qt

    async def main() -> dict[str, object]:
        sampler = LoopSampler()  # each journey starts it: as the window appears (history: once its data is written)
        await globals()[f"journey_{journey}"](sampler)
        return sampler.stop()

    print(json.dumps(run_on_qt(main)), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--journey", choices=JOURNEYS, action="append")
    parser.add_argument("--platform", default="offscreen")
    parser.add_argument("--child")
    parser.add_argument("--stacks", action="store_true", help="also print what the GUI thread was doing in the longest stalls")
    parser.add_argument("--stack-ms", type=float, default=100, help="with --stacks: look at stalls longer than this (default 100)")
    parser.add_argument("--imports", action="store_true", help="also list the modules first imported on the window's thread once it was shown")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    env = dict(os.environ, QT_QPA_PLATFORM=args.platform, PYTHONPATH=str(REPO), HANDOFF_BENCH_STACK_MS=str(args.stack_ms))
    if args.imports:
        env["HANDOFF_BENCH_IMPORTS"] = "1"
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
    # From compiled modules, as an installed app runs (see BYTECODE in startup.py).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(BYTECODE)
    subprocess.run([sys.executable, "-m", "compileall", "-q", "desktop_app", "tests", "bench"], env=env, cwd=REPO, check=False, capture_output=True)
    print(f"Platform: {args.platform}. A 5 ms timer; lateness = stall.\n")
    print(
        "| journey | longest stall | where (last event before it) | p99 lateness (whole journey) | p99 while the agent works"
        " | longest while the agent works | stalls > 100 ms | full garbage collections (longest) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for journey in args.journey or JOURNEYS:
        done = subprocess.run(
            [sys.executable, __file__, "--child", journey], env=env, capture_output=True, text=True, cwd=REPO, timeout=900
        )
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            print(f"| {journey} | failed (exit {done.returncode}) | {done.stderr.strip().splitlines()[-1:]} | | | | | |")
            continue
        result = json.loads(lines[-1])
        working = "—" if result.get("p99_working_ms") is None else f"{result['p99_working_ms']} ms"
        worst_working = "—" if result.get("worst_working_ms") is None else f"{result['worst_working_ms']} ms"
        print(
            f"| {journey} | {result['worst_ms']} ms | {result['where']} | {result['p99_ms']} ms | {working} | {worst_working}"
            f" | {result['over_100ms']} | {result['full_collections']} ({result['longest_collection_ms']} ms) |"
        )
        if args.stacks:
            for stalled, stack in result.get("stalls", []):
                print(f"|   | stall of at least {stalled:.0f} ms, GUI thread: {stack} | | | | | | |")
        if args.imports:
            names = result.get("imports", [])
            print(f"|   | {len(names)} modules first imported on the window's thread: {', '.join(names[:60]) or 'none'} | | | | | | |")


if __name__ == "__main__":
    main()
