"""Warm-ups in worker threads hand the GIL back quickly and leave the collector as they found it."""

from __future__ import annotations

import gc
import importlib.util
import sys
import threading

from desktop_app.system.warm_up import WARM_UP_SWITCH_INTERVAL, import_quietly, window_first


def test_the_switch_interval_is_short_only_while_a_warm_up_runs() -> None:
    before = sys.getswitchinterval()
    with window_first():
        assert sys.getswitchinterval() == min(before, WARM_UP_SWITCH_INTERVAL)
        with window_first():  # nested, or two threads at once: the last one out restores it
            pass
        assert sys.getswitchinterval() == min(before, WARM_UP_SWITCH_INTERVAL)
    assert sys.getswitchinterval() == before


def test_a_one_time_warm_up_pauses_the_collector_and_freezes_what_it_loaded() -> None:
    assert gc.isenabled()
    frozen_before = gc.get_freeze_count()
    try:
        with window_first(freeze=True):
            assert not gc.isenabled()
            kept = [object() for _ in range(100)]  # noqa: F841 — alive at the freeze
        assert gc.isenabled()
        assert gc.get_freeze_count() >= frozen_before + 100
    finally:
        gc.unfreeze()


def test_a_collector_switched_off_by_someone_else_stays_off() -> None:
    gc.disable()
    try:
        with window_first(freeze=True):
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


def test_imports_that_fail_are_left_for_their_real_user() -> None:
    thread = threading.Thread(target=import_quietly, args=(["json", "desktop_app.no_such_module"],))
    thread.start()
    thread.join()
    assert "json" in sys.modules
    assert gc.isenabled()
    gc.unfreeze()


def test_the_startup_warm_up_names_modules_that_exist() -> None:
    from desktop_app.app import WARM_UP_BACKEND, WARM_UP_MODULES

    for name in (*WARM_UP_MODULES, *(name for names in WARM_UP_BACKEND.values() for name in names)):
        assert importlib.util.find_spec(name) is not None, name


def test_the_first_run_warm_up_names_modules_that_exist() -> None:
    """A browser-use or websockets upgrade that renames them would silently put imports back on
    the window's thread (bench/responsiveness.py --stacks would show it)."""
    from desktop_app.backends import browser_use_setup

    for name in (*browser_use_setup.FIRST_RUN_MODULES, *browser_use_setup.FIRST_RUN_PACKAGES):
        assert importlib.util.find_spec(name) is not None, name
    assert any(name.startswith("cdp_use.cdp.") for name in browser_use_setup.first_run_modules())
