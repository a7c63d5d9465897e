"""What one change to the shown window costs the window's thread: its layout and repaint (a real
X11 window under Xvfb paints in software through the X server), with and without moving the live
view into a splitter the way ``MainWindow.attach`` does when the task panel arrives.

    xvfb-run -a -s "-screen 0 1440x900x24" .venv/bin/python bench/repaint_cost.py --platform xcb
    .venv/bin/python bench/repaint_cost.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


async def measure(change: str) -> tuple[float, float]:
    """(building the change, the window's first turn of events after it) in ms."""
    import asyncio

    from common import PATHS
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QLabel, QSplitter

    from desktop_app.ui.live_view import make_live_view
    from desktop_app.ui.main_window import MainWindow

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    window = MainWindow(make_live_view(PATHS, is_browser=True))
    window.show()
    loaded = asyncio.get_running_loop().create_future()
    window.live_view.web_view.loadFinished.connect(lambda _ok: loaded.done() or loaded.set_result(None))
    await asyncio.wait_for(loaded, 20)
    await asyncio.sleep(0.5)  # settled
    started = time.perf_counter()
    if change == "splitter":  # as attach(): the view moves into a splitter beside the panel
        splitter = QSplitter(Qt.Orientation.Horizontal, window)
        splitter.addWidget(window.live_view)
        splitter.addWidget(QLabel("panel"))
        window._layout.removeItem(window._frame_row)
        window._layout.addWidget(splitter, 1)
    else:  # only a label added: layout and repaint, nothing moved
        window._layout.addWidget(QLabel("panel", window))
    built = time.perf_counter()
    app.processEvents()
    app.processEvents()
    done = time.perf_counter()
    window.close()
    return (built - started) * 1000, (done - built) * 1000


def child(change: str) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    sys.path.insert(0, str(REPO))
    from common import run_on_qt

    build, events = run_on_qt(lambda: measure(change))
    print(f"{build:.1f} {events:.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--platform", default="offscreen")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    env = dict(os.environ, QT_QPA_PLATFORM=args.platform, PYTHONPATH=str(REPO))
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
    results: dict[str, list[float]] = {"label": [], "splitter": []}
    for _ in range(args.runs):
        for change in results:
            done = subprocess.run([sys.executable, __file__, "--child", change], env=env, capture_output=True, text=True, cwd=REPO, check=True)
            build, events = (float(v) for v in done.stdout.split()[-2:])
            results[change].append(build + events)
    print(f"Platform: {args.platform}, {args.runs} runs each; the window's thread, from the change to its first turn of events done.")
    print("| change to the shown window | median | min | max |")
    print("|---|---|---|---|")
    for change, label in (("label", "a label added (layout, repaint)"), ("splitter", "the live view moved into a splitter, as attach() does")):
        values = results[change]
        print(f"| {label} | {statistics.median(values):.0f} ms | {min(values):.0f} ms | {max(values):.0f} ms |")


if __name__ == "__main__":
    main()
