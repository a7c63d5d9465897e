"""Builds the task side of the main window and connects it to the core: nothing here decides anything.

Imported by ``MainWindow.attach()`` once the live view is on screen, so the first page never waits
for the task panel, the timeline or the core's modules to load.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from desktop_app.backends.capabilities import BILLED_KIND, capabilities_of
from desktop_app.core.backend_kind import BackendKind
from desktop_app.core import messages
from desktop_app.core.events import Level
from desktop_app.core.tasks import TaskSet
from desktop_app.services import Services
from desktop_app.ui.bridge import CoreBridge
from desktop_app.ui.core_view import CoreView
from desktop_app.ui.main_window import PANEL_WIDTH, MainWindow
from desktop_app.ui.notice_banner import NoticeBanner
from desktop_app.ui.page_inspector import QtPageInspector
from desktop_app.ui.queue_actions import QueueActions
from desktop_app.ui.quitter import Quitter
from desktop_app.ui.recovery_bar import RecoveryBar
from desktop_app.ui.session_actions import SessionActions
from desktop_app.ui.task_panel import TaskPanel
from desktop_app.ui.vault_dialog import open_vault_dialog
from desktop_app.ui.window_dialogs import WindowDialogs

KEYCHAIN_CHECK_DELAY = 0.5  # looking for the system keychain takes a moment: after the window is up


def wire(window: MainWindow, services: Services, *, interactive: bool) -> None:
    """``interactive`` False (--no-err-windows): nothing pops up; questions take their safe answer."""
    # The window's own background work, cancelled as it closes; a failure is said, never silent.
    tasks = TaskSet(on_failure=lambda error: window.banner.show_message(messages.went_wrong(error), Level.ERROR))
    window.services = services
    window.recovery_bar = RecoveryBar(capabilities_of(BILLED_KIND).display_name, window)
    early = window.early_task_box
    typing = early.editor.hasFocus()
    window.task_panel = panel = TaskPanel([(kind, kind.label) for kind in BackendKind], window, task_input=early.editor)
    window.banner = banner = NoticeBanner(window)
    _lay_out(window, panel, banner)
    if typing:
        panel.task_input.setFocus()  # the person was typing their task while the panel was built

    window.dialogs = dialogs = WindowDialogs(
        window, services, banner, window.live_view, tasks, interactive=interactive, on_settings_saved=lambda d: actions.settings_saved(d)
    )
    window.actions = actions = SessionActions(
        window, services, panel, banner, window.recovery_bar, dialogs, tasks, interactive=interactive, request_restart=window.restart_in
    )
    window.queue_actions = QueueActions(
        window, services, panel.queue_panel, banner, tasks, actions.follow, interactive=interactive
    )
    dialogs.run_again_requested = window.queue_actions.run_plan_again
    window.view = view = CoreView(window, services, panel, banner, window.live_view, window.status, actions, dialogs, interactive=interactive)
    window.quitter = Quitter(
        window,
        services.controller,
        interactive=interactive,
        on_closing=window.closing,
        on_closed=window.closed_for_good,
        on_stayed=lambda: setattr(window, "restart_backend", None),  # the person stayed: no restart either
        also_cancel=tasks,
    )

    window.bridge = bridge = CoreBridge(services.bus, window)
    bridge.controlChanged.connect(view.on_transition)
    bridge.timelineAdded.connect(view.on_timeline)
    bridge.notice.connect(view.on_notice)
    bridge.sessionOpened.connect(view.on_session_opened)
    bridge.sessionClosed.connect(view.on_session_closed)
    bridge.humanRequested.connect(view.on_human_requested)
    bridge.taskReturned.connect(view.on_task_returned)
    bridge.backendChanged.connect(view.on_backend_changed)
    bridge.statusChanged.connect(view.on_status)
    bridge.personActed.connect(actions.person_acted)
    bridge.queueChanged.connect(view.on_queue_changed)
    bridge.personStepReached.connect(view.on_person_step)
    bridge.queueFinished.connect(view.on_queue_finished)

    services.privacy.attach_inspector(QtPageInspector(window.live_view.browser_page))
    window.live_view.web_view.urlChanged.connect(lambda url: services.privacy.page_opened(url.toString()))
    window.live_view.takeOverRequested.connect(actions.take_over)
    window.live_view.downloadStarted.connect(view.on_download_started)
    window.live_view.downloadFinished.connect(view.on_download_finished)
    window.live_view.pageBlocked.connect(view.on_page_blocked)
    window.live_view.pageCrashed.connect(view.on_page_crashed)

    panel.runRequested.connect(actions.run_task)
    panel.takeOverRequested.connect(actions.take_over)
    panel.handBackRequested.connect(actions.hand_back)
    panel.newSessionRequested.connect(actions.new_session)
    panel.stopSessionRequested.connect(actions.stop_session)
    panel.settingsRequested.connect(dialogs.open_settings)
    panel.historyRequested.connect(dialogs.open_history)
    panel.helpRequested.connect(dialogs.open_help)
    panel.aboutRequested.connect(dialogs.open_about)
    panel.backendChosen.connect(actions.choose_backend)
    panel.allowed_sites.attach(services.vault)
    panel.allowed_sites.vaultRequested.connect(lambda: open_vault_dialog(window, services.vault))
    panel.task_input.textChanged.connect(actions.recheck_length)
    panel.note_input.textChanged.connect(actions.recheck_length)
    banner.actionRequested.connect(actions.on_notice_action)
    window.recovery_bar.reattachRequested.connect(actions.reattach)
    window.recovery_bar.stopRequested.connect(actions.stop_left_running)
    _install_shortcuts(window, panel, actions.take_over, dialogs.open_settings, dialogs.open_help)

    view.show_capabilities(services.controller.capabilities)
    view.on_status(services.controller.status())
    for problem in (services.settings_store.problem, services.history.problem, services.playbooks.problem):
        if problem:
            banner.show_message(problem, Level.WARNING)
    asyncio.get_event_loop().call_later(
        KEYCHAIN_CHECK_DELAY, lambda: tasks.spawn(actions.warn_if_no_keychain(lambda: not window.quitter.done))
    )


def _lay_out(window: MainWindow, panel: TaskPanel, banner: NoticeBanner) -> None:
    """The recovery bar on top; the page and, beside it, notices above the panel: the page never
    jumps when a notice comes or goes, just as the person is about to click in it."""
    window._layout.insertWidget(0, window.recovery_bar)
    right = QWidget(window)
    column = QVBoxLayout(right)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(0)
    banner.setParent(right)
    column.addWidget(banner)
    column.addWidget(panel, 1)
    # The page keeps its width as the panel arrives: it must not reflow under the person's pointer.
    page_width = window.live_view.width() if window.isVisible() else window.width() - PANEL_WIDTH
    splitter = QSplitter(Qt.Orientation.Horizontal, window)
    splitter.addWidget(window.live_view)  # moves the view (its page keeps running)
    splitter.addWidget(right)
    splitter.setStretchFactor(0, 3)
    splitter.setStretchFactor(1, 1)
    splitter.setSizes([page_width, max(window.width() - page_width - splitter.handleWidth(), 1)])
    window._frame_row.takeAt(0)  # only the early task box is left in the row (its editor is the panel's now)
    window.early_task_box.deleteLater()
    window.early_task_box = None
    window._layout.removeItem(window._frame_row)
    # Neither side can be dragged away: a hidden task panel would hide Hand back.
    splitter.setChildrenCollapsible(False)
    window._layout.addWidget(splitter, 1)
    window.splitter = splitter


def _install_shortcuts(
    window: MainWindow,
    panel: TaskPanel,
    take_over: Callable[[], None],
    open_settings: Callable[[], None],
    open_help: Callable[[], None],
) -> None:
    bindings: list[tuple[str, Callable[[], None]]] = [
        ("Ctrl+Return", panel.request_run),
        ("Ctrl+Enter", panel.request_run),
        ("Ctrl+T", take_over),
        ("Ctrl+H", panel.request_hand_back),
        ("Ctrl+,", open_settings),
        ("F1", open_help),
    ]
    for keys, slot in bindings:
        shortcut = QShortcut(QKeySequence(keys), window)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(slot)
    quit_action = QAction("Quit", window)
    quit_action.setShortcut(QKeySequence.StandardKey.Quit)
    quit_action.triggered.connect(window.close)
    window.addAction(quit_action)
