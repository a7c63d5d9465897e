"""Memory with several sessions open: Handoff and its QtWebEngine helper processes together.

Cloud: 1, 3 and 5 sessions, each tab with its own live view showing the fake Browser Use Cloud's
stand-in live page (a small page served on 127.0.0.1). Local: 1 and 2 sessions, each its own view
and profile on its start page, each agent connected (browser-use attached to its page). Each figure
is taken in a fresh process, 3 s after the last session opened (the pages have loaded and settled).

    .venv/bin/python bench/sessions_memory.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SETTLE_SECONDS = 3.0


def tree_memory_mib() -> dict[str, float]:
    """RSS summed over the processes (counts shared pages once per process: an overestimate) and
    PSS summed (each shared page split among the processes sharing it: the real total)."""
    import psutil

    me = psutil.Process()
    rss = pss = 0
    for process in [me, *me.children(recursive=True)]:
        try:
            info = process.memory_full_info()
        except psutil.Error:
            continue
        rss, pss = rss + info.rss, pss + info.pss
    return {"rss_mib": rss / 2**20, "pss_mib": pss / 2**20}


def child(mode: str, sessions: int) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    from common import run_on_qt

    async def measure() -> dict[str, float]:
        from common import EARLY, PATHS
        from desktop_app.core.control import Control
        from desktop_app.services import Services
        from desktop_app.system.keychain import SecretName
        from desktop_app.ui.main_window import MainWindow
        from desktop_app.ui.window_wiring import add_session_tab
        from tests.fakes.cloud_server import FakeCloud
        from tests.helpers import wait_until

        if mode == "local":
            services = Services(PATHS, EARLY.devtools_url, backend_override="local")
            window = MainWindow.open(services, interactive=False)
            window.show()
            for _ in range(sessions - 1):
                add_session_tab(window)
            await wait_until(lambda: all(t.live_view.first_load_done for t in window.tabs), timeout=30, what="the start pages")
            for tab in window.tabs:
                tab.actions.new_session()
            await wait_until(
                lambda: all(t.controller.state is Control.IDLE for t in window.tabs), timeout=60, what="the agents to connect"
            )
            await asyncio.sleep(SETTLE_SECONDS)
            rss = tree_memory_mib()
            await window.close_gracefully(ask=False)
            return rss
        with FakeCloud(manual_steps=True) as fake:
            os.environ["BROWSER_USE_BASE_URL"] = fake.base_url
            services = Services(PATHS, None, backend_override="cloud")
            services.keychain.set(SecretName.BROWSER_USE, fake.api_key)
            window = MainWindow.open(services, interactive=False)
            window.show()
            for _ in range(sessions - 1):
                add_session_tab(window)
            for tab in window.tabs:
                window.tab_widget.setCurrentWidget(tab.page)
                tab.actions.new_session()
            await wait_until(
                lambda: all(t.controller.state is Control.IDLE for t in window.tabs), timeout=60, what="the sessions to open"
            )
            for tab in window.tabs:  # each tab shown once, so each live view has painted its page
                window.tab_widget.setCurrentWidget(tab.page)
                await asyncio.sleep(0.3)
            await asyncio.sleep(SETTLE_SECONDS)
            rss = tree_memory_mib()
            await window.close_gracefully(ask=False)
            return rss

    print(json.dumps(run_on_qt(measure)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "SESSIONS"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"), "QTWEBENGINE_DISABLE_SANDBOX": "1"}
    print("| mode | sessions | RSS summed over Handoff and its browser processes | PSS summed |")
    print("|---|---|---|---|")
    for mode, sessions in (("cloud", 1), ("cloud", 3), ("cloud", 5), ("local", 1), ("local", 2)):
        done = subprocess.run(
            [sys.executable, __file__, "--child", mode, str(sessions)], env=env, capture_output=True, text=True, cwd=REPO, timeout=300
        )
        if done.returncode != 0:
            print(f"| {mode} | {sessions} | failed (exit {done.returncode}): {done.stderr.strip().splitlines()[-1:]} | |")
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"| {mode} | {sessions} | {result['rss_mib']:.0f} MiB | {result['pss_mib']:.0f} MiB |")


if __name__ == "__main__":
    main()
