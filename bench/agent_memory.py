"""What a Local run on a large page costs in memory, at a real model's pace.

The real window in Local mode (offscreen), the scripted model answering after ``--delay`` seconds
(a real model takes seconds), ``--steps`` steps on a page of 1,500 table rows. At the end: the
memory of the window's process and of the agent's (browser-use runs in a process of its own), the
window's full garbage collections during the run, and its stalls.

    QTWEBENGINE_DISABLE_SANDBOX=1 .venv/bin/python bench/agent_memory.py [--steps 8] [--delay 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import run_on_qt  # noqa: E402


def memory_mb(pid: int | str = "self") -> tuple[float, float]:
    """(resident now, peak) in MiB, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def run(steps: int, delay: float) -> dict[str, Any]:
    from responsiveness import LoopSampler, open_local_window, stop_session_and_quit

    from desktop_app.core.control import Control
    from tests.fakes import scripted_llm as sl
    from tests.fakes.site import SiteServer
    from tests.helpers import wait_until

    with SiteServer() as site:
        script = [sl.navigate(site.url("catalogue.html"))]
        script += [dataclasses.replace(sl.type_text(f"name=qty-{n}", "1"), delay=delay) for n in range(1, steps + 1)]
        script.append(sl.done("Done"))
        sampler = LoopSampler()
        services, window = await open_local_window(sampler, sl.ScriptedModel(script))
        collections_before_the_run = len(sampler.full_collections)
        started = time.perf_counter()
        window.actions.run_task("Order one of each of the first items")
        await wait_until(lambda: services.controller.state is Control.AGENT, timeout=120)
        await wait_until(lambda: services.controller.state is Control.IDLE, timeout=60 + steps * (delay + 60))
        took = time.perf_counter() - started
        stalls = sampler.stop()
        collections = sampler.full_collections[collections_before_the_run:]
        from tests.helpers import agent_processes

        resident, peak = memory_mb()
        agents = [memory_mb(pid) for pid in agent_processes()]
        await stop_session_and_quit(sampler, services, window)
    return {
        "run_s": took,
        "resident": resident,
        "peak": peak,
        "agents": agents,
        "collections": collections,
        "worst_ms": stalls["worst_ms"],
        "over_100ms": stalls["over_100ms"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--delay", type=float, default=3.0, help="seconds the scripted model thinks each step")
    args = parser.parse_args()
    result = run_on_qt(lambda: run(args.steps, args.delay))
    durations = result["collections"]
    print(
        "| steps | model's delay | run | window's memory at the end (peak) | agent's process (peak) "
        "| window's full collections | longest | all together | longest stall | stalls > 100 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    agents = ", ".join(f"{now:.0f} MiB ({peak:.0f})" for now, peak in result["agents"]) or "none found"
    print(
        f"| {args.steps} | {args.delay:g} s | {result['run_s']:.0f} s "
        f"| {result['resident']:.0f} MiB ({result['peak']:.0f}) | {agents} | {len(durations)} | {max(durations, default=0):.0f} ms "
        f"| {sum(durations):.0f} ms | {result['worst_ms']:.0f} ms | {result['over_100ms']} |"
    )


if __name__ == "__main__":
    main()
