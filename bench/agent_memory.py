"""What a Local run on a large page leaves alive, at a real model's pace.

The real window in Local mode (offscreen), the scripted model answering after ``--delay`` seconds
(a real model takes seconds), ``--steps`` steps on a page of 1,500 table rows. At the end, after a
full collection: how many of browser-use's page trees are still alive, the process's memory, and
the full garbage collections during the run (each stops every thread, the window's too).

    QTWEBENGINE_DISABLE_SANDBOX=1 .venv/bin/python bench/agent_memory.py [--steps 8] [--delay 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import run_on_qt  # noqa: E402


def memory_mb() -> tuple[float, float]:
    """(resident now, peak) in MiB, from /proc."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def page_trees_alive() -> int:
    """Roots of browser-use's DOM trees (documents with children) still alive after a full collection."""
    from browser_use.dom.views import EnhancedDOMTreeNode

    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is EnhancedDOMTreeNode and o.parent_node is None and o.children_nodes)


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
        trees = page_trees_alive()
        resident, peak = memory_mb()
        await stop_session_and_quit(sampler, services, window)
    return {
        "run_s": took,
        "trees": trees,
        "resident": resident,
        "peak": peak,
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
        "| steps | model's delay | run | page trees alive at the end | memory at the end (peak) "
        "| full collections | longest | all together | longest stall | stalls > 100 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {args.steps} | {args.delay:g} s | {result['run_s']:.0f} s | {result['trees']} "
        f"| {result['resident']:.0f} MiB ({result['peak']:.0f}) | {len(durations)} | {max(durations, default=0):.0f} ms "
        f"| {sum(durations):.0f} ms | {result['worst_ms']:.0f} ms | {result['over_100ms']} |"
    )


if __name__ == "__main__":
    main()
