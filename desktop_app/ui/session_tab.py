"""One session's side of the window, built and connected to its own controller: its page beside
its notices and task panel, its status line, and the objects that act and show for it. Nothing
here decides anything; the window holds one of these per tab (``window_wiring``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from desktop_app import APP_NAME
from desktop_app.core.backend_kind import BackendKind
from desktop_app.core.control import Control
from desktop_app.core.state_words import state_words
from desktop_app.core.tasks import TaskSet
from desktop_app.services import Services, SessionServices, SessionSlot
from desktop_app.ui.bridge import CoreBridge
from desktop_app.ui.core_view import CoreView
from desktop_app.ui.notice_banner import NoticeBanner
from desktop_app.ui.page_inspector import QtPageInspector
from desktop_app.ui.queue_actions import QueueActions
from desktop_app.ui.session_actions import SessionActions
from desktop_app.ui.task_panel import TaskPanel
from desktop_app.ui.vault_dialog import open_vault_dialog

if TYPE_CHECKING:
    from PySide6.QtWidgets import QPlainTextEdit

    from desktop_app.core.inbox import InboxItem
    from desktop_app.ui.live_view import LiveView
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.window_dialogs import WindowDialogs

NEEDS_YOU_MARK = "● "  # before a tab's name while its session waits for the person


class SessionTab:
    def __init__(
        self,
        window: MainWindow,
        services: Services,
        slot: SessionSlot,
        live_view: LiveView,
        dialogs: WindowDialogs,
        tasks: TaskSet,
        *,
        interactive: bool,
        task_input: QPlainTextEdit | None = None,
    ) -> None:
        """``task_input``: the first tab takes over the early task box's editor (typed text kept)."""
        self.slot = slot
        self.window = window
        self.live_view = live_view
        self.services = session = SessionServices(services, slot)
        self.controller = slot.controller
        self.page = QWidget(window)  # the tab's page: built by lay_out()
        self.page.setObjectName(f"sessionPage{slot.number}")
        # Opaque: Local pages out of sight stay shown beneath the current one (session_tabs.py).
        self.page.setAutoFillBackground(True)
        self.closing = False  # its close is being asked or carried out
        self.task_panel = panel = TaskPanel([(kind, kind.label) for kind in BackendKind], self.page, task_input=task_input)
        self.banner = banner = NoticeBanner(self.page)
        self.status = QLabel(window)
        self.status.setObjectName("sessionStatus")
        self._title = state_words(Control.NO_SESSION).title
        self.actions = actions = SessionActions(
            window, session, panel, banner, window.recovery_bar, dialogs, tasks, interactive=interactive, request_restart=window.restart_in
        )
        self.queue_actions = QueueActions(window, session, panel.queue_panel, banner, tasks, actions.follow, interactive=interactive)
        self.view = view = CoreView(
            window,
            session,
            panel,
            banner,
            live_view,
            self.status,
            actions,
            dialogs,
            interactive=interactive,
            show_title=self._show_title,
            notify=self._notify,
        )
        self.bridge = bridge = CoreBridge(slot.bus, window)
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

        slot.privacy.attach_inspector(QtPageInspector(live_view.browser_page))
        slot.page_target = lambda: page.devToolsId() if (page := live_view.browser_page()) is not None else None
        live_view.web_view.urlChanged.connect(lambda url: slot.privacy.page_opened(url.toString()))
        live_view.takeOverRequested.connect(actions.take_over)
        live_view.downloadStarted.connect(view.on_download_started)
        live_view.downloadFinished.connect(view.on_download_finished)
        live_view.pageBlocked.connect(view.on_page_blocked)
        live_view.pageCrashed.connect(view.on_page_crashed)

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
        panel.allowed_sites.attach(slot.vault)  # this session's own list
        panel.allowed_sites.vaultRequested.connect(lambda: open_vault_dialog(window, services.vault))
        panel.task_input.textChanged.connect(actions.recheck_length)
        panel.note_input.textChanged.connect(actions.recheck_length)
        banner.actionRequested.connect(actions.on_notice_action)

    @property
    def name(self) -> str:
        return self.slot.name

    def start(self) -> None:
        """Show what the core holds now (later changes arrive through the bridge)."""
        self.view.show_capabilities(self.controller.capabilities)
        self.view.on_status(self.controller.status())

    def lay_out(self, page_width: int, total_width: int) -> QSplitter:
        """The page and, beside it, notices above the panel: the page never jumps when a notice
        comes or goes, just as the person is about to click in it."""
        right = QWidget(self.page)
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        self.banner.setParent(right)
        column.addWidget(self.banner)
        self.task_panel.setParent(right)
        column.addWidget(self.task_panel, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal, self.page)
        splitter.addWidget(self.live_view)  # moves the view (its page keeps running)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([page_width, max(total_width - page_width - splitter.handleWidth(), 1)])
        # Neither side can be dragged away: a hidden task panel would hide Hand back.
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self.page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.splitter = splitter
        return splitter

    def tab_text(self, waiting: InboxItem | None) -> str:
        """Who has the session at a glance; marked while it waits for the person (with the time
        left once the provider is about to end it)."""
        if waiting is None:
            return f"{self.name} — {self._title}"
        text = f"{NEEDS_YOU_MARK}{self.name} — Needs you"
        soon = waiting.ends_in()
        return text if soon is None else f"{text} · ends in {soon}"

    def _show_title(self, title: str) -> None:
        self._title = title
        self.window.session_title_changed(self)

    def window_title(self) -> str:
        return f"{APP_NAME} — {self._title}"

    def _notify(self, title: str, text: str) -> None:
        several = len(self.window.tabs) > 1
        self.window.tray.notify(title, f"{self.name}: {text}" if several else text)

    def close(self) -> None:
        """The tab is gone: nothing of it listens to its core any more."""
        self.bridge.detach()
        self.task_panel.setEnabled(False)


__all__ = ["NEEDS_YOU_MARK", "SessionTab"]
