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
    from PySide6.QtWidgets import QApplication

    from desktop_app.system.event_loop import WindowEventLoop
    from desktop_app.system.logs import setup_logging
    from desktop_app.system.page_rendering import choose_page_rendering

    # As the app logs by default (INFO to its log file, chatty libraries at WARNING): formatting
    # what the app never writes (browser-use's DEBUG lines of every DevTools message, qasync's of
    # every worker result) would put time on the window's thread that no person pays.
    setup_logging(log_dir=PATHS.logs, json_lines=False)
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv)
        choose_page_rendering()  # as app.py does, before the first web view
    loop = WindowEventLoop(app)
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


async def open_window(backend: str, model: Any = None, *, on_shown: Callable[[], None] | None = None, on_mark: Callable[[str], None] | None = None
) -> tuple[Any, Any]:
    """The real app in-process, started in the order desktop_app.app starts it: the live view and
    the window's frame, shown; the warm-up imports in a worker thread while the first page loads;
    then the services, the keychain found, and the task panel attached. ``on_shown`` is called as
    the window appears (benchmarks start timing there: before, there is no window to freeze);
    ``on_mark`` is told each phase as it starts (a stall is then reported with its phase).
    With ``model`` (a scripted chat model) as the Local agent's model."""
    import asyncio
    from dataclasses import replace

    from desktop_app.app import start_warm_up
    from desktop_app.core.backend_kind import BackendKind
    from desktop_app.system.paths import resources_dir
    from desktop_app.settings import SettingsStore
    from desktop_app.ui.live_view import make_live_view
    from desktop_app.ui.main_window import MainWindow

    if model is not None:  # the harness's model server, in Settings before the app reads them
        store = SettingsStore(PATHS.settings_file)
        store.save(replace(store.load(), llm=model_server().serve(model)))
    window = MainWindow(make_live_view(PATHS, is_browser=BackendKind(backend).view_is_browser))
    window.restore_geometry(PATHS.window_geometry)
    window.show()
    if on_shown is not None:
        on_shown()
    mark = on_mark or (lambda _what: None)
    mark("window shown, first page loading")
    warm_up = start_warm_up(backend)
    window.after_first_frame(warm_up.release)
    live_view = window.live_view
    if live_view.is_browser and not live_view.first_load_done:
        loaded = asyncio.get_running_loop().create_future()
        live_view.web_view.loadFinished.connect(lambda _ok: loaded.done() or loaded.set_result(None))
        await asyncio.wait_for(loaded, 10)
    mark("first page loaded, warm-up importing")
    while warm_up.is_alive():  # as app.py: Qt keeps running meanwhile
        await asyncio.sleep(0.002)
    mark("warm-up done, building the services")
    from PySide6.QtWidgets import QApplication

    style = resources_dir() / "style.qss"
    app = QApplication.instance()
    if style.exists() and isinstance(app, QApplication):
        app.setStyleSheet(style.read_text(encoding="utf-8"))
    from desktop_app.services import Services

    services = Services(PATHS, EARLY.devtools_url, backend_override=backend)
    await services.keychain.detect()
    mark("attaching the task panel")
    window.attach(services, interactive=False)
    mark("task panel attached")
    return services, window


_model_server: Any = None


def model_server() -> Any:  # -> FakeModelServer
    """This process's scripted model server (tests/fakes/model_server.py), started on first use: the
    Local agent asks it over HTTP with the app's own model client, as it would a real server."""
    global _model_server
    if _model_server is None:
        from tests.fakes.model_server import FakeModelServer

        _model_server = FakeModelServer().start()
    return _model_server
