"""Bootstrap: arguments, paths, early environment, logging, the qasync loop, the window.

Startup puts the browser on screen first: the window frame and the live view are built and shown,
Qt runs until the first page is loaded (the person can already browse), and only then are asyncio,
qasync and the rest of the app imported and attached — so startup stays close to a bare
QWebEngineView app (bench/startup.py).

The loop runs as ``with loop: loop.run_until_complete(main())`` — measured here, ``asyncio.Runner``
with a qasync loop factory segfaults at exit once a QWebEngineView existed (docs/architecture.md, facts). The main
coroutine ends when the window has closed, which happens only after the core has stopped the
session and closed its HTTP clients; Qt quits after that.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from desktop_app import APP_ID, APP_NAME, __version__
from desktop_app.core.backend_kind import BackendKind
from desktop_app.system.early_init import check_dependencies, prepare_environment
from desktop_app.system.logs import log_event, setup_logging
from desktop_app.system.paths import Paths, resources_dir

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from desktop_app.system.crash import CrashReporter
    from desktop_app.services import Services
    from desktop_app.ui.live_view import LiveView
    from desktop_app.ui.main_window import MainWindow

log = logging.getLogger(__name__)

SMOKE_TEST_TIMEOUT = 60.0
FIRST_PAGE_WAIT_MS = 10_000
FIRST_FRAME_WAIT_S = 0.5  # the warm-up waits at most this long for the window's first frame
WARM_UP_WAIT_MS = 30_000  # never hang startup on an import either: the window's thread imports what is left
# What the window needs once the page is on screen, imported in a worker thread while QtWebEngine
# loads the first page (the window's thread only waits for Chromium then). Importing them on the
# window's thread afterwards took ~150 ms before the task panel could be used (bench/startup.py).
WARM_UP_MODULES = (
    "asyncio",
    "qasync",
    "desktop_app.system.crash",
    "desktop_app.event_log",
    "desktop_app.services",
    "desktop_app.core.tasks",
    "desktop_app.ui.window_wiring",  # the task panel, the bridge, the window's actions and views
)
# The adapter of each mode (build_backend imports it): Cloud's pulls in httpx and browser-use-sdk,
# and its first request httpx's transport (httpcore, h11, anyio: bench/responsiveness.py --imports).
WARM_UP_BACKEND = {
    BackendKind.LOCAL: ("desktop_app.backends.agent_process", "desktop_app.backends.agent_host"),
    BackendKind.CLOUD: (
        "desktop_app.backends.cloud_check",
        "httpcore",
        "h11",
        "certifi",
        "sniffio",
        "anyio",
        "anyio._backends._asyncio",
        "anyio.to_thread",
        "anyio.streams.tls",
    ),
}
# A --task run without dialogs whose settings cannot work: it says why (config_problem) and exits
# with this code, rather than wait with a window nobody will see (2, as for a wrong command line).
CONFIG_PROBLEM_EXIT = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=APP_ID, description=f"{APP_NAME}: share a live browser with an AI agent.")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument("--backend", choices=[k.value for k in BackendKind], help="where the browser runs, for this run only")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--basedir", metavar="DIR", help="keep config, data and cache under DIR")
    where.add_argument("--temp-basedir", action="store_true", help="use fresh config/data dirs, removed at exit")
    parser.add_argument("--no-err-windows", action="store_true", help="never open dialogs for errors; log them")
    parser.add_argument("--json-logging", action="store_true", help="log one JSON object per line on stderr")
    parser.add_argument("--debug", action="store_true", help="verbose logging")
    parser.add_argument("--task", metavar="TEXT", help="start a session and run this task")
    parser.add_argument("--smoke-test", action="store_true", help="open the window, load a page, exit")
    return parser


def display_problem(environ: dict[str, str] | os._Environ[str] = os.environ, platform: str = sys.platform) -> str | None:
    """Why Qt would abort (code 134, "could not connect to display") before it starts, or None.
    Only Linux needs a display server named in the environment; QT_QPA_PLATFORM overrides it."""
    if not platform.startswith("linux") or environ.get("QT_QPA_PLATFORM"):
        return None
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    return (
        f"No display found (DISPLAY/WAYLAND_DISPLAY unset): {APP_NAME} is a desktop app and needs one. "
        "Start it from your desktop session, or over SSH with X forwarding (ssh -X). "
        "Without a screen, QT_QPA_PLATFORM=offscreen runs it invisibly (for tests)."
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    # Everything Handoff writes (history, logs, the browser profile, screenshots, exports) is for
    # this user's eyes only: files 0600, folders 0700.
    os.umask(0o077)
    paths = Paths.from_options(basedir=args.basedir, temp_basedir=args.temp_basedir)
    try:
        paths.ensure()
    except OSError as error:
        print(f"{APP_NAME} cannot create its folders ({error}). Check the disk and permissions.", file=sys.stderr)
        return 2
    if paths.temporary:
        # Chromium writes its profile while QtWebEngine shuts down, after main() returns. atexit runs
        # last-in first-out, and this is registered before PySide6 is imported, so it runs after.
        atexit.register(paths.remove_if_temporary)
    kind = _chosen_backend(args, paths)
    quiet = not (args.debug or args.json_logging)  # a person at a terminal: only what is wrong
    quiet_stderr = None
    if quiet:
        from desktop_app.system.quiet_stderr import QuietStderr

        quiet_stderr = QuietStderr()
        quiet_stderr.install()
        atexit.register(quiet_stderr.uninstall)
    # Before QtWebEngine starts, which reads this once: only a Local run opens the DevTools port.
    early = prepare_environment(paths.data / "browser-use", open_devtools=kind.needs_devtools, quiet_chromium=quiet)
    setup_logging(log_dir=paths.logs, json_lines=args.json_logging, debug=args.debug)
    problem = check_dependencies()
    if problem:
        log.critical(problem)
        return 1
    try:
        code, restart_backend = _run_qt(args, paths, kind, early.devtools_url)
    finally:
        paths.remove_if_temporary()
    if restart_backend is not None:
        from desktop_app.system.relaunch import relaunch

        if quiet_stderr is not None:
            quiet_stderr.uninstall()  # the new run gets the real terminal, not this run's pipe
        # Only now: the new run must not find this one still holding the window (single instance).
        log_event("restarting", f"{APP_NAME} is starting again in {restart_backend} mode", backend=restart_backend, pid=relaunch(args, restart_backend))
    return code


def _chosen_backend(args: argparse.Namespace, paths: Paths) -> BackendKind:
    from desktop_app.settings import SettingsStore, chosen_backend

    return chosen_backend(SettingsStore(paths.settings_file).load(), args.backend)


def _run_qt(args: argparse.Namespace, paths: Paths, kind: BackendKind, devtools_url: str | None) -> tuple[int, str | None]:
    from PySide6.QtCore import QCoreApplication, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop_app.system import qt_messages
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.system.system_signals import SignalWatcher

    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setOrganizationName(APP_NAME)
    QCoreApplication.setApplicationVersion(__version__)
    qt_messages.install()
    app = QApplication([sys.argv[0]])
    app.setDesktopFileName(APP_ID)
    app.setQuitOnLastWindowClosed(False)  # quitting waits for the core to shut down
    from desktop_app.system.single_instance import (
        InstanceServer,
        ask_running_instance,
        server_name,
    )

    instance_name = server_name(paths.data)
    if ask_running_instance(instance_name):
        log_event("already_running", f"{APP_NAME} is already running with this data folder; brought it forward")
        return 0, None
    from desktop_app.system.page_rendering import choose_page_rendering

    log_event("page_rendering", f"Pages are drawn by: {choose_page_rendering()}")
    window = MainWindow(_start_live_view(kind, paths))
    window.restore_geometry(paths.window_geometry)
    instance = InstanceServer(instance_name, window.bring_to_front)
    watcher = SignalWatcher(lambda number: _on_signal(window, number))
    window.show()
    log_event("window_shown", "The window is on screen; the first page is loading")
    # Once Qt's loop runs, the task box takes input (the rest of the panel comes after the page).
    QTimer.singleShot(0, lambda: log_event("task_box_ready", "The task box takes input"))
    warm_up = start_warm_up(kind)
    window.after_first_frame(warm_up.release)
    _wait_until_browsable(window, warm_up)

    # The look of the task panel; the frame shown so far has nothing it styles.
    style = resources_dir() / "style.qss"
    if style.exists():
        app.setStyleSheet(style.read_text(encoding="utf-8"))

    # Crash reports from here on (before this, Python's own handler prints the traceback): the
    # reporter's imports cost ~15 ms that the first paint does not wait for.
    from desktop_app.system.crash import CrashReporter

    crashes = CrashReporter(paths.crash_dir)
    crashes.install()

    import asyncio

    from desktop_app.system.event_loop import WindowEventLoop

    loop = WindowEventLoop(app)
    asyncio.set_event_loop(loop)
    loop.set_exception_handler(crashes.loop_exception_handler)
    try:
        with loop:
            code = loop.run_until_complete(_main(app, args, paths, devtools_url, window, crashes))
        return code, window.restart_backend
    finally:
        watcher.close()
        instance.close()
        crashes.uninstall()
        _shut_down_qt(app, window)


def _shut_down_qt(app: QApplication, window: MainWindow) -> None:
    """Take QtWebEngine down now rather than in an exit handler: Chromium writes the browser profile
    as it shuts down, and the --temp-basedir folder is removed after this returns. (A frozen build
    imports PySide6 before main(), so exit-handler order cannot be relied on there.)"""
    import shiboken6

    if shiboken6.isValid(window):
        shiboken6.delete(window)  # its pages go before their profiles, as WebEngine requires
    app.processEvents()
    app.shutdown()


def _start_live_view(kind: BackendKind, paths: Paths) -> LiveView:
    from desktop_app.ui.live_view import make_live_view

    return make_live_view(paths, is_browser=kind.view_is_browser)


class WarmUp:
    """Imports what the rest of startup needs, and finds the system keychain, in a worker thread.

    Only imports (and keyring's choice of backend, which keyring keeps process-wide): nothing is
    built here, no Qt object is made. The window's thread waits for it to end before it imports
    anything itself (``_wait_until_browsable``), so the two never import at the same time."""

    def __init__(self, kind: BackendKind) -> None:
        self._kind = kind
        self._lock = threading.Lock()
        self._done = False
        self._waiting: Any = None  # the QEventLoop to quit when done
        # Set once the window's first frame is painted (``release``): importing meanwhile took the
        # GIL and a core from that paint, 60 → 100–120 ms under Xvfb (bench/responsiveness.py).
        self._go = threading.Event()
        self._thread = threading.Thread(target=self._work, name="handoff-warm-up", daemon=True)
        self._thread.start()

    def release(self) -> None:
        self._go.set()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _work(self) -> None:
        from desktop_app.system.keychain import Keychain
        from desktop_app.system.warm_up import import_quietly, window_first

        self._go.wait(FIRST_FRAME_WAIT_S)  # a window never painted (minimised?) must not hold startup up
        try:
            with window_first(freeze=True):  # see desktop_app/system/warm_up.py
                import_quietly([*WARM_UP_MODULES, *WARM_UP_BACKEND[self._kind]])
                Keychain.find_system_keychain()
        finally:
            with self._lock:
                self._done = True
                waiting = self._waiting
            if waiting is not None:
                from PySide6.QtCore import QMetaObject, Qt

                # Queued to the window's thread, where QEventLoop.quit runs as C++: while it waits,
                # Qt's loop needs no Python (no GIL) to wake up, unlike a polling timer.
                QMetaObject.invokeMethod(waiting, "quit", Qt.ConnectionType.QueuedConnection)

    def wait_in(self, waiting: Any) -> None:
        """Run ``waiting`` (a QEventLoop on the window's thread) until the warm-up is done."""
        with self._lock:
            if self._done:
                return
            self._waiting = waiting
        waiting.exec()


def start_warm_up(kind: BackendKind) -> WarmUp:
    return WarmUp(kind)


def _wait_until_browsable(window: MainWindow, warm_up: WarmUp | None = None) -> None:
    """Run Qt (only Qt) until the first page is on screen: the person can browse from here on.
    Then, still only Qt, until the warm-up thread has imported the rest."""
    from PySide6.QtCore import QEventLoop, QTimer

    live_view = window.live_view
    waiting = QEventLoop()
    if live_view.is_browser and not live_view.first_load_done:
        live_view.web_view.loadFinished.connect(waiting.quit)
        QTimer.singleShot(FIRST_PAGE_WAIT_MS, waiting.quit)  # never hang startup on a page
        waiting.exec()
        live_view.web_view.loadFinished.disconnect(waiting.quit)
    log_event("view_ready", "The browser is on screen", first_page_loaded=live_view.first_load_done)
    if warm_up is not None and warm_up.is_alive():
        after_page = QEventLoop()
        QTimer.singleShot(WARM_UP_WAIT_MS, after_page.quit)  # never hang startup on an import either
        warm_up.wait_in(after_page)
        log_event("warm_up_waited", "The rest of the app was still loading after the first page", still_loading=warm_up.is_alive())


async def _main(
    app: QApplication, args: argparse.Namespace, paths: Paths, devtools_url: str | None, window: MainWindow, crashes: CrashReporter
) -> int:
    import asyncio

    from desktop_app.event_log import attach_event_log
    from desktop_app.services import Services

    services = Services(paths, devtools_url, backend_override=args.backend)
    services.each_slot(lambda slot: attach_event_log(slot.bus))
    # The page is on screen and usable meanwhile; the panel's first key check must not find the
    # keychain still undiscovered (its imports would freeze the window).
    await services.keychain.detect()
    window.attach(services, interactive=not args.no_err_windows)
    crashes.on_report = window.dialogs.show_crash
    recovery = asyncio.get_running_loop().create_task(window.actions.check_left_running())
    log_event(
        "app_started",
        f"{APP_NAME} {__version__} started",
        backend=services.backend_kind,
        version=__version__,
        devtools_port=devtools_url is not None,
    )
    exit_code = 0
    if args.task:
        window.task_panel.task_input.setPlainText(args.task)
        if await _ready_for_task(window, services, headless=args.no_err_windows):
            window.actions.run_task(args.task)
        elif args.no_err_windows:
            exit_code = CONFIG_PROBLEM_EXIT
            window.request_close(ask=False)
    smoke: asyncio.Task[bool] | None = None
    if args.smoke_test:
        smoke = asyncio.get_running_loop().create_task(_smoke_test(window))
    await window.closed
    crashes.on_report = None
    if not recovery.done():
        recovery.cancel()
        await asyncio.wait([recovery])  # it may hold a Browser Use client: closed before Qt quits
    services.close()
    log_event("app_exiting", f"{APP_NAME} is exiting")
    if smoke is not None and not (smoke.done() and not smoke.cancelled() and smoke.result()):
        return 3
    return exit_code


async def _ready_for_task(window: MainWindow, services: Services, *, headless: bool) -> bool:
    """Check the settings in effect before the --task starts; False when they cannot work.

    A wrong address or key would otherwise fail later in words about sessions or the internet, and
    a missing key would only show a banner — in a run without windows, nothing at all."""
    from desktop_app.core.events import Level, Notice, NoticeAction

    problem = await services.configuration_problem()
    if problem is None or not problem.definite:
        return True  # an unreachable address may be a passing network fault: the run says so if it fails
    log_event(
        "config_problem",
        problem.message,
        logging.ERROR,
        setting=problem.setting.value,
        backend=services.backend_kind,
        action="exiting" if headless else "waiting for Settings",
    )
    # With windows, Settings opens on it; the task stays in the task box for Run.
    services.bus.publish(Notice(Level.ERROR, f"The task was not started: {problem.message}", NoticeAction.OPEN_SETTINGS))
    return False


def _on_signal(window: MainWindow, number: int) -> None:
    log.info("Received signal %d: closing (the session is stopped first)", number)
    window.request_close(ask=False, stop_session=True)


async def _smoke_test_agent() -> str | None:
    """browser-use's version as the agent's process reports it, or None if it could not start."""
    import asyncio

    from desktop_app.backends.agent_process import agent_process_answers

    try:
        return await asyncio.wait_for(agent_process_answers(), SMOKE_TEST_TIMEOUT)
    except Exception as error:  # noqa: BLE001 — the smoke test reports it
        log.error("Smoke test: the agent's process did not answer: %s: %s", type(error).__name__, error)
        return None


async def _smoke_test(window: MainWindow) -> bool:
    """Load a local page in the live view, check it rendered, then close as a user would."""
    import asyncio

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
    agent = await _smoke_test_agent()
    passed = ok and "Handoff" in title and agent is not None
    log_event("smoke_test", "Smoke test " + ("passed" if passed else "failed"), passed=passed, title=title, agent=agent)
    window.request_close(ask=False)
    return passed
