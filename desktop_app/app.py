"""Bootstrap: arguments, paths, early environment, logging, the qasync loop, the window.

The loop runs as ``with loop: loop.run_until_complete(main())`` — measured here, ``asyncio.Runner``
with a qasync loop factory segfaults at exit once a QWebEngineView existed (DESIGN.md). The main
coroutine ends when the window has closed, which happens only after the core has stopped the
session and closed its HTTP clients; Qt quits after that.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from desktop_app import APP_ID, APP_NAME, __version__
from desktop_app.early_init import check_dependencies, prepare_environment
from desktop_app.logs import log_event, setup_logging
from desktop_app.paths import Paths, resources_dir

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from desktop_app.ui.main_window import MainWindow

log = logging.getLogger(__name__)

SMOKE_TEST_TIMEOUT = 60.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=APP_ID, description=f"{APP_NAME}: share a live browser with an AI agent.")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument("--backend", choices=("local", "cloud"), help="where the browser runs, for this run only")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--basedir", metavar="DIR", help="keep config, data and cache under DIR")
    where.add_argument("--temp-basedir", action="store_true", help="use fresh config/data dirs, removed at exit")
    parser.add_argument("--no-err-windows", action="store_true", help="never open dialogs for errors; log them")
    parser.add_argument("--json-logging", action="store_true", help="log one JSON object per line on stderr")
    parser.add_argument("--debug", action="store_true", help="verbose logging")
    parser.add_argument("--task", metavar="TEXT", help="start a session and run this task")
    parser.add_argument("--smoke-test", action="store_true", help="open the window, load a page, exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    paths = Paths.from_options(basedir=args.basedir, temp_basedir=args.temp_basedir)
    try:
        paths.ensure()
    except OSError as error:
        print(f"{APP_NAME} cannot create its folders ({error}). Check the disk and permissions.", file=sys.stderr)
        return 2
    early = prepare_environment(paths.data / "browser-use")
    setup_logging(log_dir=paths.logs, json_lines=args.json_logging, debug=args.debug)
    problem = check_dependencies()
    if problem:
        log.critical(problem)
        return 1
    try:
        return _run_qt(args, paths, early.devtools_url)
    finally:
        paths.remove_if_temporary()


def _run_qt(args: argparse.Namespace, paths: Paths, devtools_url: str) -> int:
    import qasync
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from desktop_app.ui import qt_messages

    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setOrganizationName(APP_NAME)
    QCoreApplication.setApplicationVersion(__version__)
    qt_messages.install()
    app = QApplication([sys.argv[0]])
    app.setDesktopFileName(APP_ID)
    app.setQuitOnLastWindowClosed(False)  # quitting waits for the core to shut down
    style = resources_dir() / "style.qss"
    if style.exists():
        app.setStyleSheet(style.read_text(encoding="utf-8"))
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        return loop.run_until_complete(_main(app, args, paths, devtools_url))


async def _main(app: QApplication, args: argparse.Namespace, paths: Paths, devtools_url: str) -> int:
    from desktop_app.event_log import attach_event_log
    from desktop_app.services import Services
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.system_signals import SignalWatcher

    services = Services(paths, devtools_url, backend_override=args.backend)
    attach_event_log(services.bus)
    window = MainWindow(services, interactive=not args.no_err_windows)
    watcher = SignalWatcher(lambda number: _on_signal(window, number))
    window.show()
    log_event("app_started", f"{APP_NAME} {__version__} started", backend=services.backend_kind, version=__version__)
    if args.task:
        window.task_panel.task_input.setPlainText(args.task)
        window.run_task(args.task)
    smoke: asyncio.Task[bool] | None = None
    if args.smoke_test:
        smoke = asyncio.get_running_loop().create_task(_smoke_test(window))
    try:
        await window.closed
    finally:
        watcher.close()
    log_event("app_exiting", f"{APP_NAME} is exiting")
    if smoke is not None and not (smoke.done() and not smoke.cancelled() and smoke.result()):
        return 3
    return 0


def _on_signal(window: MainWindow, number: int) -> None:
    log.info("Received signal %d: closing (the session is stopped first)", number)
    window.request_close(ask=False, stop_session=True)


async def _smoke_test(window: MainWindow) -> bool:
    """Load a local page in the live view, check it rendered, then close as a user would."""
    from PySide6.QtCore import QUrl

    view = window.live_view.web_view
    target = QUrl.fromLocalFile(str(resources_dir() / "start.html"))
    loaded: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def finished(ok: bool) -> None:
        log.debug("Smoke test: load finished ok=%s", ok)
        if view.url() == target and not loaded.done():
            loaded.set_result(ok)

    view.loadFinished.connect(finished)
    window.live_view.show_page(target.toString())
    try:
        ok = await asyncio.wait_for(loaded, SMOKE_TEST_TIMEOUT)
    except TimeoutError:
        ok = False
    title = view.title()
    passed = ok and "Handoff" in title
    log_event("smoke_test", "Smoke test " + ("passed" if passed else "failed"), passed=passed, title=title)
    window.request_close(ask=False)
    return passed
