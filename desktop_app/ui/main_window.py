"""The main window: live view on the left, task panel on the right, notices across the top.

It only builds and wires. Built in two steps so the browser is on screen as early as possible:
``MainWindow(live_view)`` is the frame around the live view (cheap to import and build);
``attach(services)`` then adds the task panel and connects the core. Clicks go to
``SessionActions``; what the core reports is shown by ``CoreView``; the dialogs are
``WindowDialogs``; closing is ``Quitter``'s.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QEvent, QObject, QSize, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QMainWindow, QVBoxLayout, QWidget

from desktop_app import APP_NAME
from desktop_app.system.logs import log_event
from desktop_app.ui.early_task_box import EarlyTaskBox
from desktop_app.system.paths import resources_dir

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

    from PySide6.QtGui import QCloseEvent

    from PySide6.QtWidgets import QSplitter

    from desktop_app.core.backend_kind import BackendKind
    from desktop_app.core.controller import SessionController
    from desktop_app.services import Services
    from desktop_app.ui.core_view import CoreView
    from desktop_app.ui.live_view import LiveView
    from desktop_app.ui.notice_banner import NoticeBanner
    from desktop_app.ui.queue_actions import QueueActions
    from desktop_app.ui.session_actions import SessionActions
    from desktop_app.ui.session_tab import SessionTab
    from desktop_app.ui.session_tabs import SessionTabs
    from desktop_app.ui.task_panel import TaskPanel

log = logging.getLogger(__name__)

# The task panel's starting width, a little over its minimum with the app's style (456 px: its Run / Take
# over / Hand back row); the page gets the rest, and keeps it as the panel arrives.
PANEL_WIDTH = 460


class _FirstFrame(QObject):
    """Calls back once the window's first frame is painted: on its first paint event, then in the
    next turn of the loop (the paint of the children and the flush to the screen come first)."""

    def __init__(self, window: QWidget, callback: Callable[[], None]) -> None:
        super().__init__(window)
        self._callback = callback
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self._callback)
        return False


class MainWindow(QMainWindow):
    def __init__(self, live_view: LiveView) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_NAME)
        self.resize(QSize(1280, 800))
        self.setWindowIcon(QIcon(str(resources_dir() / "icons" / "handoff.svg")))
        self.first_live_view = live_view  # the page on screen from the start: the first tab's
        self.tab_widget: SessionTabs | None = None  # the session tabs (attach() adds them)
        self.quitter = None  # built by attach(); until then a close waits for it
        self._close_asked_early = False
        self._geometry_file: Path | None = None  # where size and place are kept (restore_geometry)
        # Set when the person pressed Restart: the mode the next run starts in (app.py starts it).
        self.restart_backend: BackendKind | None = None
        self.setMinimumSize(QSize(900, 560))
        central = QWidget(self)
        self._layout = QVBoxLayout(central)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(0)
        # A plain row until attach() puts both sides in a QSplitter: its first handle builds PySide's
        # whole ``Qt`` enum namespace (~12 ms, bench/startup.py), which the first page need not wait for.
        # The row has the splitter's proportions, so the page keeps its width when the panel arrives.
        self._frame_row = QHBoxLayout()
        self._frame_row.setSpacing(0)
        self._frame_row.addWidget(live_view, 1)
        # Where the task panel will be: its task box already, so the task can be typed meanwhile.
        self.early_task_box = EarlyTaskBox(self)
        self.early_task_box.setFixedWidth(PANEL_WIDTH)
        self._frame_row.addWidget(self.early_task_box)
        self._layout.addLayout(self._frame_row, 1)
        self.setCentralWidget(central)

    @classmethod
    def open(cls, services: Services, *, interactive: bool = True, live_view: LiveView | None = None) -> MainWindow:
        """Both steps at once (tests, tools)."""
        from desktop_app.ui.live_view import make_live_view

        window = cls(live_view or make_live_view(services.paths))
        window.restore_geometry(services.paths.window_geometry)
        window.attach(services, interactive=interactive)
        return window

    def after_first_frame(self, callback: Callable[[], None]) -> None:
        """``callback`` once the window has painted its first frame."""
        handle = self.windowHandle()
        if handle is not None and handle.isExposed():  # painted as it was exposed: already on screen
            QTimer.singleShot(0, callback)
        else:
            _FirstFrame(self, callback)

    def restore_geometry(self, file: Path) -> None:
        """Size and place as the person left them (before the window is shown); saved on closing."""
        self._geometry_file = file
        try:
            saved = file.read_bytes()
        except OSError:
            return  # the first start: the default size
        self.restoreGeometry(QByteArray.fromBase64(QByteArray(saved)))

    def _save_geometry(self) -> None:
        if self._geometry_file is None:
            return
        try:
            self._geometry_file.write_bytes(bytes(self.saveGeometry().toBase64().data()))
        except OSError as error:
            log.warning("Could not save the window's size and place: %s", error)

    def attach(self, services: Services, *, interactive: bool = True) -> None:
        """Add the task panel and connect the core (needs the qasync loop to be set)."""
        if self.quitter is not None:
            raise RuntimeError("MainWindow.attach() runs once")
        from desktop_app.ui.window_wiring import wire

        wire(self, services, interactive=interactive)
        if self._close_asked_early:
            self.request_close(ask=False)

    # -- the session tabs (window_wiring builds them) ---------------------------------------------

    @property
    def tabs(self) -> list[SessionTab]:
        return self.tab_widget.tabs if self.tab_widget is not None else []

    @property
    def current_tab(self) -> SessionTab:
        """The session on screen; what the shortcuts, the dialogs and the recovery bar act on."""
        assert self.tab_widget is not None, "attach() first"
        return self.tab_widget.current

    # What a one-session reader (the start-up, tools, tests) asks of the window: the tab on screen's.
    @property
    def live_view(self) -> LiveView:
        return self.current_tab.live_view if self.tabs else self.first_live_view

    @property
    def task_panel(self) -> TaskPanel:
        return self.current_tab.task_panel

    @property
    def banner(self) -> NoticeBanner:
        return self.current_tab.banner

    @property
    def actions(self) -> SessionActions:
        return self.current_tab.actions

    @property
    def queue_actions(self) -> QueueActions:
        return self.current_tab.queue_actions

    @property
    def view(self) -> CoreView:
        return self.current_tab.view

    @property
    def splitter(self) -> QSplitter:
        return self.current_tab.splitter

    @property
    def status(self) -> QLabel:
        return self.current_tab.status

    @property
    def controller(self) -> SessionController:
        return self.current_tab.controller

    @property
    def closed(self) -> asyncio.Future[None]:
        assert self.quitter is not None, "attach() first"
        return self.quitter.closed

    def make_tab_widget(self) -> SessionTabs:
        from desktop_app.ui.session_tabs import SessionTabs

        self.tab_widget = SessionTabs(self)
        self.tab_widget.currentChanged.connect(lambda _index: self._current_changed())
        self.tab_widget.tabCloseRequested.connect(lambda index: self._close_requested(index))
        self.tab_widget.inbox_button.toggled.connect(lambda shown: self.inbox_view.setVisible(shown))
        return self.tab_widget

    def add_tab(self, tab: SessionTab) -> None:
        assert self.tab_widget is not None
        self.statusBar().addPermanentWidget(tab.status)
        self.tab_widget.add(tab)
        self._current_changed()

    def remove_tab(self, tab: SessionTab) -> None:
        assert self.tab_widget is not None
        self.tab_widget.remove(tab)
        self.statusBar().removeWidget(tab.status)
        tab.status.deleteLater()
        self._current_changed()

    def show_slot(self, number: int) -> None:
        """Open a session's tab (from the inbox): the person has its browser already."""
        tab = self.tab_widget.of_slot(number) if self.tab_widget is not None else None
        if tab is None:
            return
        self.tab_widget.setCurrentWidget(tab.page)
        self.bring_to_front()
        tab.live_view.web_view.setFocus()

    def session_title_changed(self, tab: SessionTab) -> None:
        if self.tab_widget is None or tab not in self.tabs:
            return
        self.tab_widget.retitle(tab, self.services.inbox.items())
        if tab is self.current_tab:
            self.setWindowTitle(tab.window_title())

    def inbox_changed(self) -> None:
        """A request for the person opened or closed in some session (or a second passed while any waits)."""
        assert self.tab_widget is not None
        items = self.services.inbox.items()
        self.tab_widget.show_waiting(items)
        self.inbox_view.show_items(items)
        self.tray.show_count(len(items))

    def _current_changed(self) -> None:
        if not self.tabs:
            return
        assert self.tab_widget is not None
        current = self.current_tab
        for tab in self.tabs:
            tab.status.setVisible(tab is current)
        self.tab_widget.show_pages()
        self.tab_widget.allow_new_tab(self.services.may_open_slot())
        focused = QApplication.focusWidget()
        if focused is None or (not current.page.isAncestorOf(focused) and any(t.page.isAncestorOf(focused) for t in self.tabs)):
            current.task_panel.focus_task()  # keys typed after switching go to the tab on screen
        self.setWindowTitle(current.window_title())

    def _close_requested(self, index: int) -> None:
        tab = self.tab_widget.tab_at(index) if self.tab_widget is not None else None
        if tab is not None:
            from desktop_app.ui.window_wiring import close_session_tab

            self.background.spawn(close_session_tab(self, tab))

    def bring_to_front(self) -> None:
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()
        QApplication.alert(self)

    # -- closing ---------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.quitter is not None and self.quitter.done:
            event.accept()
            return
        event.ignore()
        self.request_close(ask=self.quitter is not None)

    def request_close(self, *, ask: bool = False, stop_session: bool = True) -> None:
        if self.quitter is None:
            self._close_asked_early = True  # closed while starting: close once the core is up
            return
        self.quitter.request(ask=ask, stop_session=stop_session)

    async def close_gracefully(self, *, ask: bool = False, stop_session: bool = True) -> None:
        self.request_close(ask=ask, stop_session=stop_session)
        await self.closed

    def restart_in(self, kind: BackendKind) -> None:
        """Close as the person would (asking first if something would be lost); app.py then starts again in ``kind``."""
        log_event("restart_requested", f"Restarting in {kind} mode", backend=str(kind))
        self.restart_backend = kind
        self.request_close(ask=True)

    def closing(self) -> None:
        """The core is shutting down: nothing more to click."""
        self._save_geometry()
        self.statusBar().showMessage("Closing…")
        for tab in self.tabs:
            tab.task_panel.setEnabled(False)

    def closed_for_good(self) -> None:
        for tab in self.tabs:
            tab.bridge.detach()
        self.close()
