"""What hiding the person's fields costs the Local agent per step (issue: target ≤ 30 ms median added).

The real app in-process (Local mode, the window, the scripted model; the agent on a thread of the
app's process instead of a process of its own, so its masking can be timed) on a payment page where the
person typed a card into three fields (real key events); the agent then takes typing steps on the
same page, so every step's screenshot has three boxes to paint and every model call has values to
remove. Two measures:

- the masking work itself, timed where it happens: the page reads around each screenshot, the
  painting, and the read and text scrub before each model call — summed per step;
- the whole step (time between two model calls), with masking on vs switched off in the same
  harness (runs alternate, each in its own process).

    .venv/bin/python bench/masking.py --runs 3 --steps 12
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def script(site_url: str, steps: int):  # -> list[Step]
    from tests.fakes import scripted_llm as sl

    return (
        [sl.navigate(site_url), sl.ask_human("Enter your card")]
        + [sl.type_text("id=name", f"Ada {i}") for i in range(steps)]
        + [sl.done("Typed")]
    )


def instrument(work: dict[str, list[float]]) -> None:
    """Time each piece of masking work as it runs (bench only: wraps, never changes, what it does)."""
    import desktop_app.backends.llm as llm
    from desktop_app.backends import screenshot_masking
    from desktop_app.core import privacy

    def timed(owner, name, key, is_async):
        original = getattr(owner, name)
        if is_async:
            async def wrapper(*args, **kwargs):
                start = time.perf_counter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    work[key].append((time.perf_counter() - start) * 1000)
        else:
            def wrapper(*args, **kwargs):
                start = time.perf_counter()
                try:
                    return original(*args, **kwargs)
                finally:
                    work[key].append((time.perf_counter() - start) * 1000)
        setattr(owner, name, wrapper)

    timed(privacy.PrivacyGuard, "read", "page reads", True)
    timed(screenshot_masking, "mask_screenshot", "painting", False)
    timed(llm, "scrub_messages", "text scrub", False)


def switch_off() -> None:
    import desktop_app.backends.llm as llm
    from desktop_app.backends import screenshot_masking

    screenshot_masking.protect = lambda *args: None

    async def unchanged(self, messages):
        return messages

    llm.GuardedModel._hide_from_model = unchanged


async def run(site_url: str, steps: int, masking: bool) -> dict:
    from desktop_app.core.control import Control
    from tests.fakes import scripted_llm as sl
    from tests.helpers import wait_until
    from tests.ui.web import type_into_field

    from common import open_window

    work: dict[str, list[float]] = defaultdict(list)
    if masking:
        instrument(work)
    else:
        switch_off()
    model = sl.ScriptedModel(script(site_url, steps))
    services, window = await open_window("local", model)
    window.actions.run_task("Type the values")
    await wait_until(lambda: services.controller.state is Control.HUMAN, timeout=120)
    view = window.live_view.web_view
    for element_id, value in (("number", "4111 1111 1111 1111"), ("expiry", "11/29"), ("cvc", "737")):
        await type_into_field(view, element_id, value)
    handed_back = len(model.calls)
    work.clear()
    window.actions.hand_back("", "")
    await wait_until(lambda: services.controller.state is Control.IDLE, timeout=600)
    await window.close_gracefully()
    times = [c.at for c in model.calls[handed_back:] if c.answer is not None]
    costs = [(b - a) * 1000 for a, b in zip(times[1:], times[2:], strict=False)]
    agent_steps = max(len(times), 1)
    return {"costs": costs, "work": {k: sum(v) / agent_steps for k, v in work.items()}, "per_step": [
        sum(v) / agent_steps for v in work.values()]}


def child(masking: bool, steps: int) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    sys.path.insert(0, str(REPO))
    from common import run_on_qt

    from tests.fakes.site import SiteServer

    # The agent on a thread of this process (tests/fakes/agent_in_thread.py), where its masking code
    # can be timed and switched off; in the app it runs in a process of its own.
    from desktop_app.backends import agent_process
    from tests.fakes.agent_in_thread import AgentInThread

    agent_process.start_agent_process = AgentInThread().launch
    with SiteServer() as site:
        result = run_on_qt(lambda: run(site.url("pay.html"), steps, masking))
    print(json.dumps(result), flush=True)


def measure(masking: bool, steps: int) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
    output = subprocess.run(
        [sys.executable, __file__, "--child", "on" if masking else "off", "--steps", str(steps)],
        env=env, capture_output=True, text=True, cwd=REPO, timeout=900, check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--child", choices=("on", "off"))
    args = parser.parse_args()
    if args.child:
        child(args.child == "on", args.steps)
        return
    steps: dict[bool, list[float]] = {True: [], False: []}
    work: dict[str, list[float]] = defaultdict(list)
    for _ in range(args.runs):
        for masking in (True, False):
            result = measure(masking, args.steps)
            steps[masking].extend(result["costs"])
            for key, value in result["work"].items():
                work[key].append(value)
    print(f"{args.runs} runs each, alternating; {args.steps} agent steps after the hand back, 3 hidden fields; offscreen.\n")
    print("| masking work per agent step | median of runs | slowest run |")
    print("|---|---|---|")
    totals = [sum(values) for values in zip(*work.values(), strict=False)]
    for key, values in [*work.items(), ("total", totals)]:
        print(f"| {key} | {statistics.median(values):.1f} ms | {max(values):.1f} ms |")
    print("\n| whole step | median | p90 |")
    print("|---|---|---|")
    for masking, label in ((False, "masking off"), (True, "masking on")):
        print(f"| {label} | {statistics.median(steps[masking]):.0f} ms | {percentile(steps[masking], 0.9):.0f} ms |")
    added = statistics.median(steps[True]) - statistics.median(steps[False])
    print(f"\nadded per step: {statistics.median(totals):.1f} ms of masking work (median); "
          f"{added:.0f} ms between whole-step medians (target ≤ 30 ms)")


if __name__ == "__main__":
    main()
