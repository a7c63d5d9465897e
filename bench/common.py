"""Shared set-up for in-process benchmarks: the real window on an offscreen Qt, on a qasync loop."""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from desktop_app.system.early_init import prepare_environment  # noqa: E402
from desktop_app.system.paths import Paths  # noqa: E402

PATHS = Paths.temporary_base().ensure()
EARLY = prepare_environment(PATHS.data / "browser-use")


def run_on_qt(main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with loop:
            return loop.run_until_complete(main())
    finally:
        PATHS.remove_if_temporary()


def summary(values_ms: list[float]) -> str:
    ordered = sorted(values_ms)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return f"{statistics.median(ordered):.0f} ms | {p90:.0f} ms | {ordered[0]:.0f} ms | {ordered[-1]:.0f} ms | {len(ordered)}"


async def open_window(backend: str, model: Any = None) -> tuple[Any, Any]:
    """The real app in-process, started as desktop_app.app does: services, the keychain found,
    then the main window, shown; with ``model`` (a scripted chat model) as the Local agent's model."""
    from desktop_app.services import Services
    from desktop_app.ui.main_window import MainWindow
    from tests.fakes import scripted_llm as sl

    services = Services(PATHS, EARLY.devtools_url, backend_override=backend)
    if model is not None:
        sl.install(model)
        sl.select_for(services)
    await services.keychain.detect()
    window = MainWindow.open(services, interactive=False)
    window.show()
    return services, window
