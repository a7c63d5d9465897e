"""The window's parts are kept alive by the window: PySide drops a slot whose plain-Python owner is
collected, so a part nothing holds would silently stop hearing the core."""

from __future__ import annotations

import gc

from desktop_app.core.events import Level, Notice, StatusChanged


def test_the_window_still_hears_the_core_after_a_garbage_collection(cloud_services, make_window) -> None:
    window = make_window(cloud_services)
    gc.collect()
    cloud_services.bus.publish(Notice(Level.WARNING, "Something to see"))
    assert window.banner.message == "Something to see"
    cloud_services.bus.publish(StatusChanged("Browser Use Cloud · session ends in 3:00 without agent activity", "Working on step 2"))
    assert window.status.text() == "Browser Use Cloud · session ends in 3:00 without agent activity"
    assert window.task_panel.activity_label.text() == "Working on step 2"
