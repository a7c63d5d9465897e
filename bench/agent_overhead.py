"""Per-step cost of Handoff's agent loop vs browser-use alone, same page, same scripted model.

- baseline: a bare QWebEngineView with the DevTools port, and a plain browser-use ``Agent`` driving
  it (the way that works, docs/architecture.md facts: cdp_url, is_local=False, no_viewport).
- handoff: the real app in-process (Local mode, window, core, timeline, screenshots kept, the
  action guard and request_human tool) running the same task.

A step's cost is the time between two consecutive calls to the model (state capture, the model,
the action, and everything around them). Each mode runs in its own process, alternating, and the
peak memory of that process tree (Python plus QtWebEngine's processes) is sampled.

    .venv/bin/python bench/agent_overhead.py --runs 5 --steps 20
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def script(site_url: str, steps: int):  # -> list[Step]
    from tests.fakes import scripted_llm as sl

    return (
        [sl.navigate(site_url)]
        + [sl.type_text("id=name" if i % 2 else "id=email", f"value {i}") for i in range(steps)]
        + [sl.done("Typed everything")]
    )


def step_costs(model) -> list[float]:
    times = [c.at for c in model.calls if c.answer is not None]
    return [(b - a) * 1000 for a, b in zip(times[1:], times[2:], strict=False)]  # skip the first navigation


async def run_baseline(site_url: str, steps: int) -> list[float]:
    import asyncio

    from browser_use import Agent, BrowserProfile, BrowserSession
    from PySide6.QtWebEngineWidgets import QWebEngineView

    from browser_use.llm.openai.chat import ChatOpenAI

    from common import model_server
    from tests.fakes.scripted_llm import ScriptedModel

    view = QWebEngineView()
    view.resize(1280, 800)
    view.setHtml("<title>start</title>")
    view.show()
    await asyncio.sleep(0.5)
    port = os.environ["QTWEBENGINE_REMOTE_DEBUGGING"].rsplit(":", 1)[1]
    session = BrowserSession(
        cdp_url=f"http://127.0.0.1:{port}", is_local=False, browser_profile=BrowserProfile(headless=False, no_viewport=True, keep_alive=True)
    )
    model = ScriptedModel(script(site_url, steps))
    served = model_server().serve(model)  # the same server and model client as the app's agent
    llm = ChatOpenAI(model=served.model, api_key="not-needed", base_url=served.base_url, max_retries=1)
    agent = Agent(task="Type the values", llm=llm, browser_session=session, use_judge=False, enable_signal_handler=False, calculate_cost=False)
    await agent.run(max_steps=steps + 5)
    await session.stop()
    return step_costs(model)


async def run_handoff(site_url: str, steps: int) -> list[float]:
    from desktop_app.core.control import Control
    from tests.fakes import scripted_llm as sl
    from tests.helpers import wait_until

    from common import open_window

    model = sl.ScriptedModel(script(site_url, steps))
    services, window = await open_window("local", model)
    window.actions.run_task("Type the values")
    await wait_until(lambda: services.controller.state is Control.AGENT, timeout=60)
    await wait_until(lambda: services.controller.state is Control.IDLE, timeout=600)
    await window.close_gracefully()
    return step_costs(model)


def child(mode: str, steps: int) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    sys.path.insert(0, str(REPO))
    from common import run_on_qt

    from tests.fakes.site import SiteServer

    with SiteServer() as site:
        runner = run_baseline if mode == "baseline" else run_handoff
        costs = run_on_qt(lambda: runner(site.url("form.html"), steps))
    print(json.dumps({"costs": costs}), flush=True)


def tree_rss(pid: int) -> int:
    import psutil

    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def measure(mode: str, steps: int) -> tuple[list[float], int]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", mode, "--steps", str(steps)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(process.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate(timeout=900)
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"{mode} run failed with exit code {process.returncode}")
    costs = json.loads(output.strip().splitlines()[-1])["costs"]
    return costs, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--child", choices=("baseline", "handoff"))
    args = parser.parse_args()
    if args.child:
        child(args.child, args.steps)
        return
    results: dict[str, dict[str, list]] = {"baseline": {"step": [], "rss": []}, "handoff": {"step": [], "rss": []}}
    for _ in range(args.runs):
        for mode in ("baseline", "handoff"):
            costs, peak = measure(mode, args.steps)
            results[mode]["step"].append(statistics.median(costs))
            results[mode]["rss"].append(peak)
    print(f"{args.runs} runs of each, alternating; {args.steps} typing steps per run; offscreen.\n")
    print("| | per-step cost (median of run medians) | runs' range | peak RSS, process tree (median) |")
    print("|---|---|---|---|")
    for mode, label in (("baseline", "browser-use alone"), ("handoff", "Handoff's agent loop")):
        steps = results[mode]["step"]
        rss = statistics.median(results[mode]["rss"]) / 2**20
        print(f"| {label} | {statistics.median(steps):.0f} ms | {min(steps):.0f}–{max(steps):.0f} ms | {rss:.0f} MiB |")
    ratio = statistics.median(results["handoff"]["step"]) / statistics.median(results["baseline"]["step"])
    print(f"\nratio (Handoff / browser-use alone): {ratio:.2f} (target ≤ 1.10)")


if __name__ == "__main__":
    main()
