"""Startup to an interactive window: Handoff (Local mode) vs a bare PySide6 app showing a
QWebEngineView with the same start page.

"Interactive" = the process was spawned and its view has finished loading the start page (the
app's ``view_ready`` event; the bare app prints READY on loadFinished). Runs alternate between
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


def time_bare() -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", BARE_APP, str(REPO / "resources" / "start.html")],
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip() == "READY":
            elapsed = time.perf_counter() - started
            break
    else:
        raise RuntimeError("the bare app never became ready")
    process.wait(30)
    process.stdout.close()
    return elapsed


def time_app() -> tuple[float, float]:
    """(browser on screen and its page loaded, whole window attached to the core)."""
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
        browsable = attached = None
        for line in process.stderr:
            event = json.loads(line).get("event") if line.startswith("{") else None
            if event == "view_ready":
                browsable = time.perf_counter() - started
            elif event == "app_started":
                attached = time.perf_counter() - started
                process.send_signal(signal.SIGTERM)
                break
        code = process.wait(60)
        process.stderr.close()
        if browsable is None or attached is None or code != 0:
            raise RuntimeError(f"the app did not start cleanly (exit {code})")
        return browsable, attached


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    time_bare(), time_app()  # warm the OS file cache for both alike
    bare, browsable, attached = [], [], []
    for _ in range(args.runs):
        bare.append(time_bare())
        ready, full = time_app()
        browsable.append(ready)
        attached.append(full)

    def row(label: str, values: list[float]) -> str:
        return f"| {label} | {statistics.median(values) * 1000:.0f} ms | {min(values) * 1000:.0f} ms | {max(values) * 1000:.0f} ms |"

    base = statistics.median(bare)
    print(f"platform: {environment()['QT_QPA_PLATFORM']}, runs: {args.runs} each, alternating")
    print("| | median | min | max |")
    print("|---|---|---|---|")
    print(row("bare QWebEngineView app: page loaded", bare))
    print(row("Handoff, Local mode: window shown, start page loaded, browsable", browsable))
    print(row("Handoff, Local mode: task panel attached to the core", attached))
    print(f"\nratio, browsable window (target ≤ 1.30): {statistics.median(browsable) / base:.2f}")
    print(f"ratio, whole window with its task panel: {statistics.median(attached) / base:.2f}")


if __name__ == "__main__":
    main()
