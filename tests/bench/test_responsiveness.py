"""The responsiveness benchmark's instrument can see a stall, and says where it happened.

(The journeys themselves are timed by bench/responsiveness.py, not in CI.)"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_the_loop_sampler_records_the_largest_stall_and_the_event_before_it(qtbot, caplog) -> None:
    caplog.set_level(logging.INFO)  # the app's level (bench/common.run_on_qt sets the app's logging up)
    sys.path.insert(0, str(BENCH))
    try:
        from responsiveness import LoopSampler
    finally:
        sys.path.remove(str(BENCH))
    sampler = LoopSampler()
    sampler.start()
    qtbot.wait(60)
    logging.getLogger("handoff.events").info("first Run", extra={"event": "task_created"})
    logging.getLogger("browser_use.browser.session").error("Failed to grant permissions")  # a library's: no label
    time.sleep(0.15)  # the event loop is blocked: what the person would feel as a frozen window
    qtbot.wait(60)
    result = sampler.stop()
    assert result["worst_ms"] >= 140
    assert result["where"] == "task_created"
    assert result["over_100ms"] == 1
    assert result["p99_ms"] < result["worst_ms"]


def test_the_loop_sampler_counts_full_garbage_collections(qtbot) -> None:
    """A full collection stops every thread, the window's too: the benchmark says how many ran."""
    import gc

    sys.path.insert(0, str(BENCH))
    try:
        from responsiveness import LoopSampler
    finally:
        sys.path.remove(str(BENCH))
    sampler = LoopSampler()
    gc.collect()  # before sampling: not counted
    sampler.start()
    qtbot.wait(30)
    gc.collect()
    gc.collect(1)  # a younger generation's: not a full one
    qtbot.wait(30)
    result = sampler.stop()
    gc.collect()  # after: not counted
    assert result["full_collections"] == 1
    assert result["longest_collection_ms"] > 0
