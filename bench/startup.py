"""Startup to an interactive window: Handoff (Local mode) vs a bare PySide6 app showing a
QWebEngineView with the same start page.

"Interactive" = the task box takes input (the app's ``task_box_ready`` event: its first loop turn
after the window is shown; typed text stays when the panel comes). Also: the start page loaded and
browsable (``view_ready``; the bare app prints READY on loadFinished), and the task panel attached
to the core (``app_started``: Run works). Runs alternate between
the two, each in a fresh process with a fresh data directory (cold as far as the app's own state
goes; the OS file cache is warm for both alike). Prints a Markdown table.

    .venv/bin/python bench/startup.py --runs 7
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

BARE_APP = """
import sys
from PySide6.QtWidgets import QApplication
from PySide6.QtWebEngineWidgets import QWebEngineView
app = QApplication(sys.argv)
view = QWebEngineView()
view.resize(1280, 800)
def ready(ok):
    print("READY", flush=True)
    app.quit()
view.loadFinished.connect(ready)
view.setHtml(open(sys.argv[1], encoding="utf-8").read())
view.show()
print("SHOWN", flush=True)
app.exec()
"""


# Python's bytecode, kept outside the worktree: an installed app runs from compiled modules (pip
# compiles site-packages, a first run or the packaged build compiles the app's own). With
# PYTHONDONTWRITEBYTECODE set (as in this development environment) every start compiled all of
# desktop_app (~40 ms) — a cost no user pays. The first, unmeasured run of each app writes it.
BYTECODE = Path(tempfile.gettempdir()) / "handoff-bench-bytecode"


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(BYTECODE)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
    env.pop("QTWEBENGINE_REMOTE_DEBUGGING", None)
    return env


def time_bare() -> tuple[float, float]:
    """(window shown, page loaded)."""
    started = time.perf_counter()
    shown = 0.0
    process = subprocess.Popen(
        [sys.executable, "-c", BARE_APP, str(REPO / "resources" / "start.html")],
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip() == "SHOWN":
            shown = time.perf_counter() - started
        if line.strip() == "READY":
            elapsed = time.perf_counter() - started
            break
    else:
        raise RuntimeError("the bare app never became ready")
    process.wait(30)
    process.stdout.close()
    return shown, elapsed


def time_app() -> dict[str, float]:
    """When each start-up event was logged: window_shown, view_ready (the page is loaded: the
    browser can be used), warm_up_waited (only when the page was quicker than the warm-up
    imports), app_started (the task panel attached to the core: the whole window can be used)."""
    with tempfile.TemporaryDirectory(prefix="handoff-bench-") as base:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "desktop_app", "--basedir", base, "--no-err-windows", "--json-logging", "--backend", "local"],
            cwd=REPO,
            env=environment(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        seen: dict[str, float] = {}
        for line in process.stderr:
            event = json.loads(line).get("event") if line.startswith("{") else None
            if event in ("window_shown", "task_box_ready", "view_ready", "warm_up_waited", "app_started"):
                seen[event] = time.perf_counter() - started
            if event == "app_started":
                process.send_signal(signal.SIGTERM)
                break
        code = process.wait(60)
        process.stderr.close()
        if not {"task_box_ready", "view_ready", "app_started"} <= seen.keys() or code != 0:
            raise RuntimeError(f"the app did not start cleanly (exit {code})")
        return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--phases", action="store_true", help="also say where the time goes")
    args = parser.parse_args()
    time_bare(), time_app()  # warm the OS file cache (and write the bytecode) for both alike
    bare, bare_shown, browsable, attached, shown, waited, typing = [], [], [], [], [], [], []
    for _ in range(args.runs):
        window, page = time_bare()
        bare_shown.append(window)
        bare.append(page)
        events = time_app()
        browsable.append(events["view_ready"])
        attached.append(events["app_started"])
        shown.append(events.get("window_shown", 0.0))
        typing.append(events["task_box_ready"])
        waited.append(events.get("warm_up_waited", events["view_ready"]))

    def row(label: str, values: list[float]) -> str:
        return f"| {label} | {statistics.median(values) * 1000:.0f} ms | {min(values) * 1000:.0f} ms | {max(values) * 1000:.0f} ms |"

    base = statistics.median(bare)
    print(f"platform: {environment()['QT_QPA_PLATFORM']}, runs: {args.runs} each, alternating")
    print("| | median | min | max |")
    print("|---|---|---|---|")
    print(row("bare QWebEngineView app: page loaded", bare))
    print(row("Handoff, Local mode: the task box takes input (the task can be typed)", typing))
    print(row("Handoff, Local mode: window shown, start page loaded, browsable", browsable))
    print(row("Handoff, Local mode: task panel attached to the core", attached))
    print(f"\nratio, window taking the task (target ≤ 1.30): {statistics.median(typing) / base:.2f}")
    print(f"ratio, browsable window: {statistics.median(browsable) / base:.2f}")
    print(f"ratio, whole window with its task panel: {statistics.median(attached) / base:.2f}")
    if args.phases and all(shown):
        median = lambda values: statistics.median(values) * 1000  # noqa: E731
        print("\nWhere the time goes (medians; the phases are medians of each run's own differences):")
        print("| phase | bare app | Handoff |")
        print("|---|---|---|")
        print(f"| process start → window shown (Python, PySide6, Qt, the app's own set-up) | {median(bare_shown):.0f} ms | {median(shown):.0f} ms |")
        gaps = lambda late, early: [a - b for a, b in zip(late, early, strict=True)]  # noqa: E731
        print(f"| window shown → first page loaded (Chromium) | {median(gaps(bare, bare_shown)):.0f} ms | {median(gaps(browsable, shown)):.0f} ms |")
        print(f"| first page → warm-up imports done (waited for, in Qt's loop) | — | {median(gaps(waited, browsable)):.0f} ms |")
        print(f"| warm-up done → task panel attached (services, keychain, the panel built) | — | {median(gaps(attached, waited)):.0f} ms |")


if __name__ == "__main__":
    main()
