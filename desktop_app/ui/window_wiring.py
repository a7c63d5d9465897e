"""Builds the task side of the main window and connects it to the core: nothing here decides anything.

Imported by ``MainWindow.attach()`` once the live view is on screen, so the first page never waits
for the task panel, the timeline or the core's modules to load.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QMessageBox

from desktop_app.backends.capabilities import BILLED_KIND, capabilities_of
from desktop_app.core import messages
from desktop_app.core.events import Level
from desktop_app.core.tasks import TaskSet
from desktop_app.services import Services
from desktop_app.ui.dialogs import ask
from desktop_app.ui.inbox_view import InboxView
from desktop_app.ui.main_window import PANEL_WIDTH, MainWindow
from desktop_app.ui.quitter import Quitter
from desktop_app.ui.recovery_bar import RecoveryBar
from desktop_app.ui.session_tab import SessionTab
from desktop_app.ui.tray import Tray
from desktop_app.ui.window_dialogs import WindowDialogs

log = logging.getLogger(__name__)

KEYCHAIN_CHECK_DELAY = 0.5  # looking for the system keychain takes a moment: after the window is up


def wire(window: MainWindow, services: Services, *, interactive: bool) -> None:
    """``interactive`` False (--no-err-windows): nothing pops up; questions take their safe answer."""
    # The window's own background work, cancelled as it closes; a failure is said, never silent.
    tasks = TaskSet(on_failure=lambda error: window.banner.show_message(messages.went_wrong(error), Level.ERROR))
    window.services = services
    window.background = tasks
    window.interactive = interactive
    window.recovery_bar = RecoveryBar(capabilities_of(BILLED_KIND).display_name, window)
    window.tray = Tray(window)
    early = window.early_task_box
    typing = early.editor.hasFocus()
    window.dialogs = dialogs = WindowDialogs(
        window, services, tasks, interactive=interactive, on_settings_saved=lambda d: _settings_saved(window, d)
    )
    window.inbox_view = InboxView(window)
    window.inbox_view.chosen.connect(window.show_slot)
    window.inbox_view.tick.timeout.connect(window.inbox_changed)
    window.make_tab_widget().new_tab_button.clicked.connect(lambda: add_session_tab(window))
    first = SessionTab(
        window, services, services.slots[0], window.first_live_view, dialogs, tasks, interactive=interactive, task_input=early.editor
    )
    _lay_out(window, first)
    if typing:
        first.task_panel.task_input.setFocus()  # the person was typing their task while the panel was built
    dialogs.run_again_requested = lambda plan: window.queue_actions.run_plan_again(plan)
    window.quitter = Quitter(
        window,
        services.sessions,
        interactive=interactive,
        on_closing=window.closing,
        on_closed=window.closed_for_good,
        on_stayed=lambda: setattr(window, "restart_backend", None),  # the person stayed: no restart either
        also_cancel=tasks,
    )
    services.inbox.on_change(window.inbox_changed)

    window.recovery_bar.reattachRequested.connect(lambda session_id: window.actions.reattach(session_id))
    window.recovery_bar.stopRequested.connect(lambda session_id: window.actions.stop_left_running(session_id))
    _install_shortcuts(window)

    first.start()
    window.inbox_changed()
    for problem in (services.settings_store.problem, services.history.problem, services.playbooks.problem):
        if problem:
            first.banner.show_message(problem, Level.WARNING)
    asyncio.get_event_loop().call_later(
        KEYCHAIN_CHECK_DELAY, lambda: tasks.spawn(first.actions.warn_if_no_keychain(lambda: not window.quitter.done))
    )


def _settings_saved(window: MainWindow, dialog: object) -> None:
    """Said in the tab on screen; every other tab's "set up first" hint is checked again."""
    window.actions.settings_saved(dialog)
    for tab in window.tabs:
        if tab is not window.current_tab:
            tab.actions.settings_saved_elsewhere()


def add_session_tab(window: MainWindow) -> SessionTab | None:
    """One more session, in a tab of its own (refused, and said, where the mode allows no more)."""
    services = window.services
    refused = services.may_open_slot()
    if refused is not None:
        window.banner.show_message(refused, Level.INFO)
        return None
    from desktop_app.ui.live_view import make_live_view

    assert window.tab_widget is not None
    beside = window.current_tab  # the new page takes the width of the one on screen
    slot = services.open_slot()
    try:
        live_view = make_live_view(services.paths, is_browser=capabilities_of(services.backend_kind).view_is_browser, session=slot.number)
        tab = SessionTab(window, services, slot, live_view, window.dialogs, window.background, interactive=window.interactive)
        tab.lay_out(beside.live_view.width(), window.tab_widget.width())
    except Exception as error:
        services.drop_slot(slot)  # no tab: no slot left counting against the limit
        log.exception("The new session's tab could not be built")
        window.banner.show_message(messages.went_wrong(error), Level.ERROR)
        return None
    window.add_tab(tab)
    tab.start()
    tab.task_panel.focus_task()
    return tab


def _lay_out(window: MainWindow, first: SessionTab) -> None:
    """The recovery bar on top; below it the session tabs, the first holding the page on screen."""
    window._layout.insertWidget(0, window.recovery_bar)
    # The page keeps its width as the panel arrives: it must not reflow under the person's pointer.
    page_width = window.first_live_view.width() if window.isVisible() else window.width() - PANEL_WIDTH
    first.lay_out(page_width, window.width())
    window._frame_row.takeAt(0)  # only the early task box is left in the row (its editor is the panel's now)
    window.early_task_box.deleteLater()
    window.early_task_box = None
    window._layout.removeItem(window._frame_row)
    assert window.tab_widget is not None
    window._layout.addWidget(window.tab_widget, 1)
    # Below the pages: opening it shortens the page on screen, never moves what is under the pointer.
    window.inbox_view.hide()  # shown by the inbox button, or when a session out of sight asks for the person
    window._layout.addWidget(window.inbox_view)
    window.statusBar().addWidget(window.tab_widget.new_tab_button)
    window.statusBar().addWidget(window.tab_widget.inbox_button)
    window.add_tab(first)


def _install_shortcuts(window: MainWindow) -> None:
    """Each acts in the session on screen (the current tab)."""
    bindings: list[tuple[str, Callable[[], None]]] = [
        ("Ctrl+Return", lambda: window.task_panel.request_run()),
        ("Ctrl+Enter", lambda: window.task_panel.request_run()),
        ("Ctrl+T", lambda: window.actions.take_over()),
        ("Ctrl+H", lambda: window.task_panel.request_hand_back()),
        ("Ctrl+,", lambda: window.dialogs.open_settings()),
        ("F1", lambda: window.dialogs.open_help()),
    ]
    for keys, slot in bindings:
        shortcut = QShortcut(QKeySequence(keys), window)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(slot)
    quit_action = QAction("Quit", window)
    quit_action.setShortcut(QKeySequence.StandardKey.Quit)
    quit_action.triggered.connect(window.close)
    window.addAction(quit_action)


async def close_session_tab(window: MainWindow, tab: SessionTab) -> None:
    """Closing a tab stops its session (asked first while one is open; without dialogs it stays)."""
    if tab.closing:
        return  # a second click on its close button while the first is being handled
    tab.closing = True
    try:
        question = tab.controller.close_question(tab.name)
        if question is not None:
            if not window.interactive:
                window.banner.show_message(messages.tab_not_closed(tab.name), Level.INFO)
                return
            title, text, stop, keep = question
            choice = await ask(window, title, text, [(stop, QMessageBox.ButtonRole.AcceptRole), (keep, QMessageBox.ButtonRole.RejectRole)])
            if choice != 0:
                return
        tab.task_panel.setEnabled(False)  # nothing more to click in a tab that is going
        await window.services.close_slot(tab.slot)
        window.remove_tab(tab)
    finally:
        tab.closing = False
