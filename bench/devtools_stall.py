"""Does a large DevTools answer stall the window's thread, with nothing of Handoff running?

A bare QWebEngineView shows the 1,500-row catalogue page (tests/fakes/site/catalogue.html); a 5 ms
QTimer samples its event loop; a DevTools client in *another process* asks for what browser-use asks
for on each step (the DOM snapshot, the full accessibility tree, the DOM), twice. QtWebEngine's
browser side runs on Qt's main thread: if it stalls here, no Python code of ours is the cause.

    QTWEBENGINE_DISABLE_SANDBOX=1 QT_QPA_PLATFORM=offscreen .venv/bin/python bench/devtools_stall.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CLIENT = r"""
import asyncio, json, sys, time, urllib.request, websockets
REQUESTS = [
    ("DOMSnapshot.captureSnapshot", {"computedStyles": [], "includeDOMRects": True}),
    ("Accessibility.getFullAXTree", {}),
    ("DOM.getDocument", {"depth": -1, "pierce": True}),
] * 2
async def main(port):
    targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
    page = next(t for t in targets if t["type"] == "page")
    async with websockets.connect(page["webSocketDebuggerUrl"], max_size=None) as ws:
        for number, (method, params) in enumerate(REQUESTS, 1):
            start = time.perf_counter()
            await ws.send(json.dumps({"id": number, "method": method, "params": params}))
            answer = await ws.recv()
            print(f"| {method} | {len(answer) / 1e6:.1f} MB | {(time.perf_counter() - start) * 1000:.0f} ms |", flush=True)
            await asyncio.sleep(1)
asyncio.run(main(sys.argv[1]))
"""


def main() -> None:
    from desktop_app.system.early_init import free_loopback_port

    port = free_loopback_port()
    os.environ["QTWEBENGINE_REMOTE_DEBUGGING"] = f"127.0.0.1:{port}"
    from PySide6.QtCore import QTimer, QUrl
    from PySide6.QtWebEngineWidgets import QWebEngineView
    from PySide6.QtWidgets import QApplication

    from tests.fakes.site import SiteServer

    app = QApplication(sys.argv)
    site = SiteServer().start()
    view = QWebEngineView()
    view.resize(1280, 800)
    view.show()
    view.load(QUrl(site.url("catalogue.html")))
    lateness: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        lateness.append((now - last[0]) * 1000 - 5)
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(5)

    def ask() -> None:
        lateness.clear()
        print("| DevTools request (another process) | answer | took |\n|---|---|---|", flush=True)
        client = subprocess.Popen([sys.executable, "-c", CLIENT, str(port)])

        def wait() -> None:
            if client.poll() is None:
                QTimer.singleShot(100, wait)
                return
            worst = sorted(lateness)[-5:]
            print(f"\nThe window's timer, {len(lateness)} ticks meanwhile: longest stalls {', '.join(f'{w:.0f}' for w in reversed(worst))} ms")
            app.quit()

        QTimer.singleShot(100, wait)

    QTimer.singleShot(4000, ask)  # the page loaded and settled
    app.exec()
    site.stop()


if __name__ == "__main__":
    main()
