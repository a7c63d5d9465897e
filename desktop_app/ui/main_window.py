"""The main window: live view on the left, task panel on the right, notices across the top.

It is built in two steps so the browser is on screen as early as possible: ``MainWindow(live_view)``
is only the frame around the live view (cheap to import and build); ``attach(services)`` then adds
the task panel and connects the core. Clicks go to the session controller; closing asks whether to
stop a billed session (default: stop) and shuts the core down before Qt quits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop_app import APP_NAME
from desktop_app.paths import resources_dir

if TYPE_CHECKING:
    import asyncio
    from pathlib import Path

    from PySide6.QtGui import QCloseEvent
    from PySide6.QtWidgets import QSystemTrayIcon

    from desktop_app.core import timeline as tl
    from desktop_app.core.control import Control, Transition
    from desktop_app.core.controller import CommandResult
    from desktop_app.core.events import (
        Notice,
        NoticeAction,
        SessionClosed,
        SessionOpened,
    )
    from desktop_app.core.ports import Capabilities
    from desktop_app.services import Services
    from desktop_app.ui.live_view import LiveView

log = logging.getLogger(__name__)

SHIELD_MESSAGES = {
    "agent": ("Agent is working — Take over (Ctrl+T)", True),
    "taking_over": ("Pausing the agent… the view unlocks as soon as it has paused.", False),
    "ending": ("Stopping the session…", False),
}
# When Take over stops the agent's task instead of pausing it (Capabilities.pauses_in_place).
STOPPING_MESSAGE = ("Stopping the agent's task… the view unlocks as soon as it has stopped.", False)
PANEL_WIDTH = 420  # the task panel's starting width (a little over its minimum); the page gets the rest
PLACEHOLDERS = {
    "no_session": "No browser session.\nPress New session, or type a task and press Run.",
    "starting": "Starting browser…",
}


class MainWindow(QMainWindow):
    def __init__(self, live_view: LiveView) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_NAME)
        self.resize(QSize(1280, 800))
        self.setWindowIcon(QIcon(str(resources_dir() / "icons" / "handoff.svg")))
        self.live_view = live_view
        self._attached = False
        self._close_asked_early = False
        self._closing = False
        self._forced_close = False  # a quit signal arrived while the close question was open
        self._close_question: Any = None
        self._shut_down = False
        self._settings_dialog: Any = None
        self._asking_about_secrets = False
        self._geometry_file: Path | None = None  # where size and place are kept (restore_geometry)
        self._tray: QSystemTrayIcon | None = None  # created when first needed
        # Set when the person pressed Restart: the mode the next run starts in (app.py starts it).
        self.restart_backend: str | None = None
        self._restart_offer: str | None = None  # the mode a Restart notice on screen would start
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
        starting = QLabel('<div align="center">Starting…</div>', self)
        starting.setFixedWidth(PANEL_WIDTH)
        self._frame_row.addWidget(starting)
        self._layout.addLayout(self._frame_row, 1)
        self.setCentralWidget(central)
        self.status = QLabel(self)
        self.status.setObjectName("sessionStatus")
        self.statusBar().addPermanentWidget(self.status)

    @classmethod
    def open(cls, services: Services, *, interactive: bool = True, live_view: LiveView | None = None) -> MainWindow:
        """Both steps at once (tests, tools)."""
        from desktop_app.ui.live_view import make_live_view

        window = cls(live_view or make_live_view(services.paths))
        window.restore_geometry(services.paths.window_geometry)
        window.attach(services, interactive=interactive)
        return window

    def restore_geometry(self, file: Path) -> None:
        """Size and place as the person left them (before the window is shown); saved on closing."""
        from PySide6.QtCore import QByteArray

        self._geometry_file = file
        try:
            saved = file.read_bytes()
        except OSError:
            return  # the first start: the default size
        self.restoreGeometry(QByteArray.fromBase64(QByteArray(saved)))

    def _save_geometry(self) -> None:
        file = self._geometry_file
        if file is None:
            return
        try:
            file.write_bytes(bytes(self.saveGeometry().toBase64().data()))
        except OSError as error:
            log.warning("Could not save the window's size and place: %s", error)

    def attach(self, services: Services, *, interactive: bool = True) -> None:
        """Add the task panel and connect the core (needs the qasync loop to be set)."""
        if self._attached:
            raise RuntimeError("MainWindow.attach() runs once")
        import asyncio

        from PySide6.QtCore import QTimer

        from desktop_app.backends import BACKEND_LABELS
        from desktop_app.core.events import Level, Notice
        from desktop_app.core.tasks import TaskSet
        from desktop_app.ui.bridge import CoreBridge
        from desktop_app.ui.notice_banner import NoticeBanner
        from desktop_app.ui.recovery_bar import RecoveryBar
        from desktop_app.ui.task_panel import TaskPanel
        from desktop_app.ui.vault_dialog import open_vault_dialog

        self._services = services
        self._controller = services.controller
        self._interactive = interactive  # False with --no-err-windows: nothing pops up
        self._tasks = TaskSet()
        self.closed: asyncio.Future[None] = asyncio.get_event_loop().create_future()

        self.recovery_bar = RecoveryBar(self)
        self._layout.insertWidget(0, self.recovery_bar)
        self.recovery_bar.reattachRequested.connect(self._reattach)
        self.recovery_bar.stopRequested.connect(lambda session_id: self._spawn(self._stop_left_running(session_id)))
        self._history_dialog: Any = None
        self.task_panel = TaskPanel(BACKEND_LABELS, self)
        # Notices sit above the panel, not above the page: the page never jumps when one comes or
        # goes, just as the person is about to click in it.
        right = QWidget(self)
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        self.banner = NoticeBanner(right)
        column.addWidget(self.banner)
        column.addWidget(self.task_panel, 1)
        from PySide6.QtCore import Qt

        # The page keeps its width as the panel arrives: it must not reflow under the person's pointer.
        page_width = self.live_view.width() if self.isVisible() else self.width() - PANEL_WIDTH
        self._splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self._splitter.addWidget(self.live_view)  # moves the view (its page keeps running)
        self._splitter.addWidget(right)
        self._splitter.setStretchFactor(0, 3)
        self._splitter.setStretchFactor(1, 1)
        self._splitter.setSizes([page_width, max(self.width() - page_width - self._splitter.handleWidth(), 1)])
        starting = self._frame_row.takeAt(0)  # only the "Starting…" label is left in the row
        if starting is not None and starting.widget() is not None:
            starting.widget().deleteLater()
        self._layout.removeItem(self._frame_row)
        # Neither side can be dragged away: a hidden task panel would hide Hand back.
        self._splitter.setChildrenCollapsible(False)
        self._layout.addWidget(self._splitter, 1)

        self.bridge = CoreBridge(services.bus, self)
        self.bridge.controlChanged.connect(self._on_transition)
        self.bridge.timelineAdded.connect(self._on_timeline)
        self.bridge.notice.connect(self._on_notice)
        self.bridge.sessionOpened.connect(self._on_session_opened)
        self.bridge.sessionClosed.connect(self._on_session_closed)
        self.bridge.humanRequested.connect(self._on_human_requested)
        self.bridge.taskReturned.connect(self._on_task_returned)
        self.bridge.backendChanged.connect(self._on_backend_changed)
        self.bridge.personActed.connect(self._on_person_acted)
        self._note_prefill = ""  # the account last put in the note box (replaced until the person edits)
        from desktop_app.ui.page_inspector import QtPageInspector

        services.privacy.attach_inspector(QtPageInspector(self.live_view.browser_page))
        self.live_view.web_view.urlChanged.connect(lambda url: services.privacy.page_opened(url.toString()))

        panel = self.task_panel
        panel.runRequested.connect(self.run_task)
        panel.takeOverRequested.connect(self.take_over)
        panel.handBackRequested.connect(self.hand_back)
        panel.newSessionRequested.connect(self.new_session)
        panel.stopSessionRequested.connect(self.stop_session)
        panel.settingsRequested.connect(self.open_settings)
        panel.historyRequested.connect(self.open_history)
        panel.allowed_sites.attach(self._services.vault)
        panel.allowed_sites.vaultRequested.connect(lambda: open_vault_dialog(self, self._services.vault))
        panel.helpRequested.connect(self.open_help)
        panel.aboutRequested.connect(self.open_about)
        panel.backendChosen.connect(self._choose_backend)
        panel.task_input.textChanged.connect(self._recheck_length)
        panel.note_input.textChanged.connect(self._recheck_length)
        self.live_view.takeOverRequested.connect(self.take_over)
        self.live_view.downloadStarted.connect(
            lambda name, folder: self.banner.show_aside(Notice(Level.INFO, f"Downloading {name} to {folder}"))
        )
        self.live_view.downloadFinished.connect(self._on_download_finished)
        self.live_view.pageBlocked.connect(lambda text: self.banner.show_aside(Notice(Level.INFO, text)))
        self.live_view.pageCrashed.connect(self._on_page_crashed)
        self.banner.actionRequested.connect(self._on_notice_action)
        self._install_shortcuts()
        self._attached = True

        self._show_capabilities(self._controller.capabilities)
        self._show_state(self._controller.state)
        for problem in (services.settings_store.problem, services.history.problem):
            if problem:
                self.banner.show_message(problem, Level.WARNING)
        # The provider's clock (Cloud sessions end after 15 idle minutes): shown and checked every second.
        self._clock_timer = QTimer(self)
        self._clock_timer.setInterval(1000)
        self._clock_timer.timeout.connect(self._tick)
        self._clock_timer.start()
        # Looking for the system keychain takes a moment: after the window is up, not before.
        asyncio.get_event_loop().call_later(0.5, lambda: self._spawn(self._warn_if_no_keychain()))
        if self._close_asked_early:
            self.request_close(ask=False)

    def _recheck_length(self) -> None:
        """"The task is 60,000 characters long…" goes once the task is short enough again."""
        from desktop_app.core.controller import TOO_LONG

        if not self.task_panel.over_limit:
            self.banner.clear_cause(TOO_LONG)

    def _tick(self) -> None:
        self._controller.tick()
        self._update_status()

    def bring_to_front(self) -> None:
        from PySide6.QtWidgets import QApplication

        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()
        QApplication.alert(self)

    # -- sessions left running by an earlier run -----------------------------------------------

    async def check_left_running(self) -> None:
        from desktop_app.logs import log_event

        sessions = await self._services.find_left_running()
        if sessions:
            log_event("left_running_found", f"{len(sessions)} sessions from an earlier run still running", sessions=[s.id for s in sessions])
            self.recovery_bar.show_sessions(sessions)

    def _reattach(self, session_id: str) -> None:
        from desktop_app.services import BILLED_KIND

        result = self._services.reattach(session_id)
        if not result.accepted:
            if self._services.restart_needed_for(BILLED_KIND) is not None:
                # After the restart the session is still listed here, with Reattach.
                self.offer_restart(BILLED_KIND, f"{result.reason} The session will be offered again after the restart.")
            else:
                self.banner.show_message(result.reason)
            return
        self.recovery_bar.remove(session_id)

    async def _stop_left_running(self, session_id: str) -> None:
        from desktop_app.core.errors import BackendError
        from desktop_app.core.events import Level

        self.recovery_bar.set_busy(session_id, True)
        try:
            await self._services.stop_left_running(session_id)
        except BackendError as error:
            self.recovery_bar.set_busy(session_id, False)
            self.banner.show_message(f"The session could not be stopped: {error.message} Try again.", Level.ERROR)
            return
        self.recovery_bar.remove(session_id)
        self.banner.show_message("The session from the earlier run has been stopped.")

    # -- help --------------------------------------------------------------------------------

    def open_help(self) -> None:
        from desktop_app.core.wording import HELP_TEXT

        self._show_info("helpBox", f"How {APP_NAME} works", HELP_TEXT)

    def open_about(self) -> None:
        from desktop_app import __version__
        from desktop_app.core.wording import about_text

        self._show_info("aboutBox", f"About {APP_NAME}", about_text(__version__))

    def _show_info(self, name: str, title: str, text: str) -> None:
        from PySide6.QtWidgets import QMessageBox

        from desktop_app.ui.dialogs import headlined

        box = QMessageBox(QMessageBox.Icon.Information, title, headlined(title, text), QMessageBox.StandardButton.Close, self)
        box.setObjectName(name)
        box.setWindowIcon(self.windowIcon())
        box.finished.connect(box.deleteLater)
        box.open()  # never exec(): it would nest an event loop (qasync)

    # -- history and crash reports -------------------------------------------------------------

    def open_history(self) -> None:
        if self._history_dialog is not None:
            self._history_dialog.reload()
            self._history_dialog.raise_()
            return
        from desktop_app.ui.history_dialog import HistoryDialog

        dialog = HistoryDialog(self._services.history, self._services.paths.exports, self)
        dialog.finished.connect(self._history_closed)
        self._history_dialog = dialog
        dialog.show()

    def _history_closed(self) -> None:
        if self._history_dialog is not None:
            self._history_dialog.deleteLater()
        self._history_dialog = None

    def show_crash(self, report: Path, summary: str) -> None:
        """Told by the crash reporter; with --no-err-windows only the log and the file are written."""
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices
        from PySide6.QtWidgets import QMessageBox

        from desktop_app.core.events import Level

        self.banner.show_message(f"Something went wrong ({summary}). A report was saved to {report}.", Level.ERROR)
        if not self._interactive:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "Handoff hit an unexpected error", f"{summary}\n\nHandoff saved a report you can send us.", QMessageBox.StandardButton.NoButton, self)
        box.setObjectName("crashDialog")
        open_button = box.addButton("Open the report", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Close", QMessageBox.ButtonRole.RejectRole)

        def finished(_: int) -> None:
            if box.clickedButton() is open_button:
                QDesktopServices.openUrl(QUrl.fromLocalFile(str(report)))
            box.deleteLater()

        box.finished.connect(finished)
        box.open()

    async def _warn_if_no_keychain(self) -> None:
        from desktop_app.core.events import Level
        from desktop_app.keychain import SecretName
        from desktop_app.settings import PROVIDER_SECRETS

        await self._services.keychain.detect()
        services = self._services
        view_is_browser = self._controller.capabilities.view_is_browser
        needed = PROVIDER_SECRETS.get(services.settings.llm.provider) if view_is_browser else SecretName.BROWSER_USE
        notice = services.keychain.startup_notice(needed)
        if notice and not self.banner.isVisible() and not self._shut_down:
            self.banner.show_message(notice, Level.WARNING)

    # -- commands ------------------------------------------------------------------------------

    def _install_shortcuts(self) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QAction, QKeySequence, QShortcut

        bindings: list[tuple[str, Callable[[], None]]] = [
            ("Ctrl+Return", self.task_panel.request_run),
            ("Ctrl+Enter", self.task_panel.request_run),
            ("Ctrl+T", self.take_over),
            ("Ctrl+H", self.task_panel.request_hand_back),
            ("Ctrl+,", self.open_settings),
            ("F1", self.open_help),
        ]
        for keys, slot in bindings:
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)
        quit_action = QAction("Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        self.addAction(quit_action)

    def run_task(self, text: str) -> None:
        from desktop_app.core.control import Control

        panel = self.task_panel
        note = panel.note_input.toPlainText() if self._controller.state is Control.IDLE else ""

        def clear() -> None:
            self._clear_if_unchanged(panel.task_input, text)
            if note.strip():
                self._clear_if_unchanged(panel.note_input, note)

        self._follow(self._controller.run(text, note), on_success=clear)

    def take_over(self) -> None:
        self._follow(self._controller.take_over())

    def hand_back(self, note: str, instruction: str) -> None:
        self._spawn(self._hand_back_checked(note, instruction))

    async def _hand_back_checked(self, note: str, instruction: str) -> None:
        """Local: say what stays hidden, and ask only when that cannot be confirmed. Cloud: ask, and
        offer the next task without screenshots. Without dialogs the safe answer is taken and logged."""
        from desktop_app.core.control import Control
        from desktop_app.core.events import Level, Notice, PrivacyDecision
        from desktop_app.core.privacy import CHOICE_LABELS, HandBackChoice, hand_back_check

        if self._asking_about_secrets:
            return  # a second Ctrl+H while the page is read or the question is open
        self._asking_about_secrets = True
        try:
            readable_here = self._controller.capabilities.view_is_browser
            masks = await self._services.privacy.read(why="hand back") if readable_here else None
            check = hand_back_check(masks, page_readable_here=readable_here)
            choice = HandBackChoice.HAND_BACK
            if check.question:
                if self._interactive:
                    choice = await self._ask_hand_back(check.question, check.informative, check.choices)
                else:
                    choice = check.unattended
                self._services.bus.publish(
                    PrivacyDecision(
                        "hand_back_question",
                        f"Hand back question: {CHOICE_LABELS[choice]}" + ("" if self._interactive else " (no dialogs: the safe answer)"),
                        {"answer": choice.value, "asked": self._interactive},
                    )
                )
        finally:
            self._asking_about_secrets = False
        if choice is HandBackChoice.KEEP_CONTROL:
            if not self._interactive:
                self.banner.show_notice(Notice(Level.WARNING, check.question))
            return
        if self._controller.state is Control.HUMAN:  # else the session ended or the agent took it meanwhile
            self._hand_back(note, instruction, screenshots=choice is not HandBackChoice.WITHOUT_SCREENSHOTS)
            if check.told:
                self.banner.show_aside(Notice(Level.INFO, check.told))

    async def _ask_hand_back(self, question: str, informative: str, choices: tuple[Any, ...]) -> Any:
        from PySide6.QtWidgets import QMessageBox

        from desktop_app.core.privacy import CHOICE_LABELS, HandBackChoice
        from desktop_app.ui.dialogs import ask

        roles = {HandBackChoice.KEEP_CONTROL: QMessageBox.ButtonRole.RejectRole}
        buttons = [(CHOICE_LABELS[c], roles.get(c, QMessageBox.ButtonRole.AcceptRole)) for c in choices]
        answer = await ask(self, "Hand back to the agent?", question, buttons, default=len(choices) - 1, informative=informative)
        return HandBackChoice.KEEP_CONTROL if answer is None else choices[answer]

    def _hand_back(self, note: str, instruction: str, *, screenshots: bool = True) -> None:
        panel = self.task_panel

        def clear() -> None:
            self._clear_if_unchanged(panel.note_input, note)
            self._clear_if_unchanged(panel.task_input, instruction)
            self._note_prefill = ""

        self._follow(self._controller.hand_back(note, instruction, screenshots=screenshots), on_success=clear)

    def _on_person_acted(self, account: str) -> None:
        """The note box starts with what the person did (pages, fields by label, buttons), theirs to edit."""
        from desktop_app.core.control import Control
        from desktop_app.core.privacy import prefilled_note

        if self._controller.state is not Control.HUMAN:
            return
        note = prefilled_note(self.task_panel.note_input.toPlainText(), self._note_prefill, account)
        if note is not None:
            self.task_panel.note_input.setPlainText(note)
            self._note_prefill = note

    def new_session(self) -> None:
        self._follow(self._controller.new_session())

    def stop_session(self) -> None:
        concern = self._controller.stop_session_concern
        if concern is None or not self._interactive:
            self._follow(self._controller.stop_session())
            return
        self._spawn(self._confirm_stop_session(concern))

    async def _confirm_stop_session(self, concern: str) -> None:
        from desktop_app.ui.dialogs import confirm

        stop = await confirm(
            self, "Stop the session?", concern, go="Stop session", stay="Keep working", informative="The timeline so far stays in History."
        )
        # While the question was open the session may have ended on its own (lost, timed out):
        # then there is nothing to stop, and its notice (with New session) must stay.
        if stop and self._controller.state.session_alive:
            self._follow(self._controller.stop_session())

    def _follow(self, result: CommandResult, on_success: Callable[[], None] | None = None) -> None:
        if not result.accepted:
            from desktop_app.core.events import Level, Notice, NoticeAction

            action = NoticeAction.OPEN_SETTINGS if result.needs_settings else NoticeAction.NONE
            level = Level.WARNING if result.needs_settings else Level.INFO
            self.banner.show_notice(Notice(level, result.reason, action), cause=result.cause)
            return
        if on_success is None or result.done is None:
            return

        def finished(done: asyncio.Future[bool]) -> None:
            # A failure was already reported by the core; here only success matters.
            if not done.cancelled() and done.exception() is None and done.result():
                on_success()

        result.done.add_done_callback(finished)

    @staticmethod
    def _clear_if_unchanged(editor: Any, submitted: str) -> None:
        # Only what was sent is cleared: text typed meanwhile is kept.
        if editor.toPlainText().strip() == submitted.strip():
            editor.clear()

    def _choose_backend(self, kind: str) -> None:
        if kind == self._controller.capabilities.kind:
            return
        result = self._services.switch_backend(kind)
        if not result.accepted:
            if self._controller.backend_locked_reason is None and self._services.restart_needed_for(kind):
                self.offer_restart(kind, result.reason)
            else:
                self.banner.show_message(result.reason)
            self.task_panel.set_capabilities(self._controller.capabilities)

    def offer_restart(self, kind: str, reason: str) -> None:
        from desktop_app.core.events import Level, Notice, NoticeAction

        self._restart_offer = kind
        self.banner.show_notice(Notice(Level.INFO, reason, NoticeAction.RESTART))

    def restart_in(self, kind: str) -> None:
        """Close as the person would (asking first if something would be lost), then app.py starts
        Handoff again in ``kind``."""
        from desktop_app.logs import log_event

        log_event("restart_requested", f"Restarting in {kind} mode", backend=kind)
        self.restart_backend = kind
        self.request_close(ask=self._interactive)

    def open_settings(self, *, focus_cloud_key: bool = False) -> None:
        if self._settings_dialog is not None:
            self._settings_dialog.raise_()
            self._settings_dialog.activateWindow()
            return
        from desktop_app.ui.settings_dialog import (
            SettingsDialog,  # not needed before it is opened
        )

        dialog = SettingsDialog(self._services, self, focus_cloud_key=focus_cloud_key)
        dialog.saved.connect(lambda: self._settings_saved(dialog))
        dialog.forgetSiteDataRequested.connect(self._forget_site_data)
        dialog.finished.connect(self._settings_closed)
        self._settings_dialog = dialog
        dialog.open()
        self._spawn(dialog.look_for_ollama())

    def _settings_closed(self) -> None:
        if self._settings_dialog is not None:
            self._settings_dialog.deleteLater()
        self._settings_dialog = None

    def _settings_saved(self, dialog: Any) -> None:
        messages = getattr(dialog, "saved_messages", [])
        chosen = dialog.chosen_backend()
        needs_restart = self._controller.backend_locked_reason is None and self._services.restart_needed_for(chosen)
        if chosen != self._services.backend_kind and needs_restart:
            self.offer_restart(chosen, " ".join(messages))
        elif messages:
            self.banner.show_message(" ".join(messages))
        else:
            self.banner.hide()  # e.g. "Add your key in Settings": done now
            self._show_setup_hint()  # unless something is still missing (or the other mode needs it)
        # A key added now may let Handoff check on sessions an earlier run left running (and billed).
        self._spawn(self.check_left_running())

    def _forget_site_data(self) -> None:
        self._spawn(self._confirm_forget_site_data())

    async def _confirm_forget_site_data(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        from desktop_app.ui.dialogs import ask

        choice = await ask(
            self._settings_dialog or self,
            "Forget all site data",
            "Log out of every site and delete cookies, cache and stored data of the Local browser?",
            [("Forget everything", QMessageBox.ButtonRole.DestructiveRole), ("Cancel", QMessageBox.ButtonRole.RejectRole)],
            default=1,
        )
        if choice == 0:
            self.banner.show_message(self.live_view.forget_site_data())

    # -- what the core reports -----------------------------------------------------------------

    def _on_transition(self, transition: Transition) -> None:
        after = transition.after.value
        if after in ("agent", "starting", "no_session"):
            # What the banner said was about the situation before (a request, an error, a hint);
            # a notice about this new state arrives after the transition and shows as usual.
            self.banner.hide()
        self._show_state(transition.after)
        if after == "human":
            # The person is about to act in the browser. Leaving focus where Qt puts it (the Hand
            # back button, once Take over is disabled) would let the next Space hand straight back.
            self.live_view.web_view.setFocus()
        elif self.focusWidget() is None or not self.focusWidget().isEnabled():
            self.task_panel.task_input.setFocus()

    def _show_state(self, state: Control) -> None:
        self.task_panel.set_state(state)
        message, offer = SHIELD_MESSAGES.get(state.value, ("", False))
        if state.value == "taking_over" and not self._controller.capabilities.pauses_in_place:
            message, offer = STOPPING_MESSAGE
        self.live_view.set_locked(state.view_locked, message, offer_take_over=offer)
        if state.value in PLACEHOLDERS and not self._controller.capabilities.view_is_browser:
            self.live_view.show_placeholder(PLACEHOLDERS[state.value])
        self.setWindowTitle(f"{APP_NAME} — {state.label.partition(' — ')[0]}")  # "Ready", not the whole line
        self._update_status()

    def _show_capabilities(self, capabilities: Capabilities) -> None:
        self.live_view.configure(is_browser=capabilities.view_is_browser)
        self.task_panel.set_capabilities(capabilities)
        self._show_state(self._controller.state)
        self._show_setup_hint()

    def _show_setup_hint(self) -> None:
        """Say what to set up before the first Run fails on it."""
        from desktop_app.core.events import Level, Notice, NoticeAction

        problem = self._controller.setup_problem()
        if problem is not None:
            self.banner.show_aside(Notice(Level.INFO, f"Before the agent can work: {problem.message}", NoticeAction.OPEN_SETTINGS))

    def _on_backend_changed(self, capabilities: Capabilities) -> None:
        # What the panel shows belonged to the other mode's last session (History keeps it).
        self.task_panel.timeline.timeline_model.clear()
        self.task_panel.cost_label.clear()
        self.banner.hide()
        self._show_capabilities(capabilities)

    def _update_status(self) -> None:
        capabilities = self._controller.capabilities
        text = capabilities.display_name
        reading = self._controller.clock_to_show()
        if reading is not None:
            text += f" · {reading.describe()}"
        self.status.setText(text)
        self.task_panel.show_activity(self._controller.activity())

    def _on_timeline(self, entry: tl.Entry) -> None:
        from desktop_app.core import timeline as tl

        self.task_panel.timeline.add(entry)
        self._update_status()  # the activity line moves on to the next step at once
        if isinstance(entry, tl.TaskFinished):
            self._show_cost()
            self._tell_finished_elsewhere(entry)

    def _show_cost(self) -> None:
        from desktop_app.core.wording import format_cost

        total = self._controller.session_cost
        self.task_panel.cost_label.setText(f"Cost this session: {format_cost(total)}" if total else "")

    def _on_session_opened(self, opened: SessionOpened) -> None:
        if opened.reattached:
            self.task_panel.timeline.show_earlier(self._services.history.entries(opened.session.id))
            self._show_cost()
        else:
            self.task_panel.cost_label.clear()
        self._show_live_view(opened)

    def _show_live_view(self, opened: SessionOpened) -> None:
        if opened.session.live_url:
            self.live_view.show_remote(opened.session.live_url)
        self._update_status()

    def _on_session_closed(self, closed: SessionClosed) -> None:
        if not self._controller.capabilities.view_is_browser:
            self.live_view.show_placeholder(f"The session has ended: {closed.reason}\nPress New session to start another.")
        self._update_status()

    def _on_notice(self, notice: Notice) -> None:
        from desktop_app.core.events import NoticeAction

        self.banner.show_notice(notice)
        if notice.action is NoticeAction.OPEN_SETTINGS and self._interactive:
            self.open_settings(focus_cloud_key=not self._controller.capabilities.view_is_browser)

    def _on_notice_action(self, action: NoticeAction) -> None:
        from desktop_app.core.events import NoticeAction

        if action is NoticeAction.OPEN_SETTINGS:
            self.open_settings()
        elif action is NoticeAction.NEW_SESSION:
            self.new_session()
        elif action is NoticeAction.KEEP_ALIVE:
            self._follow(self._controller.keep_alive())
        elif action is NoticeAction.OPEN_DOWNLOADS:
            self._open_folder(self._services.paths.downloads)
        elif action is NoticeAction.RESTART and self._restart_offer is not None:
            self.restart_in(self._restart_offer)

    def _on_download_finished(self, name: str, succeeded: bool, folder: str) -> None:
        from desktop_app.core.events import Level, Notice, NoticeAction

        if succeeded:
            self.banner.show_aside(Notice(Level.INFO, f"Downloaded {name} to {folder}", NoticeAction.OPEN_DOWNLOADS))
        else:
            self.banner.show_message(f"The download of {name} failed.", Level.WARNING)

    def _open_folder(self, folder: Path) -> None:
        from desktop_app.core.events import Level
        from desktop_app.ui.folders import open_folder

        if not open_folder(folder):
            self.banner.show_message(f"Could not open the folder. It is here: {folder}", Level.WARNING)

    def _on_task_returned(self, text: str, note: str = "") -> None:
        # The hand-back note comes back too (to the note box), with the instruction.
        for box, returned in ((self.task_panel.task_input, text), (self.task_panel.note_input, note)):
            typed = box.toPlainText()
            if not returned:
                continue
            if not typed.strip():
                box.setPlainText(returned)
            elif returned not in typed:  # never over what the person has typed since: below it
                box.setPlainText(f"{typed.rstrip()}\n\n{returned}")

    def _on_human_requested(self, reason: str) -> None:
        from PySide6.QtWidgets import QApplication

        from desktop_app.core.events import Level

        self.task_panel.show_request(reason)  # in full, below the buttons
        self.banner.show_message("The agent needs you — see its request below. Do it in the browser, then press Hand back.", Level.WARNING)
        QApplication.alert(self)
        self.raise_()
        self._notify(f"{APP_NAME}: the agent needs you", reason)

    def _notify(self, title: str, text: str) -> None:
        """A desktop notification (where the desktop has a tray to show it from)."""
        from PySide6.QtWidgets import QSystemTrayIcon

        if QSystemTrayIcon.isSystemTrayAvailable():
            if self._tray is None:
                self._tray = QSystemTrayIcon(self.windowIcon(), self)
                self._tray.show()
            self._tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 10_000)

    def _tell_finished_elsewhere(self, finished: tl.TaskFinished) -> None:
        """A task the person gave has ended while they look at another window: tell the desktop."""
        from PySide6.QtWidgets import QApplication

        from desktop_app.core import timeline as tl

        started = next(
            (e for e in self._controller.timeline.entries if isinstance(e, tl.TaskStarted) and e.task_id == finished.result.task_id),
            None,
        )
        if started is None or started.origin is tl.TaskOrigin.KEEP_ALIVE or self.isActiveWindow():
            return
        QApplication.alert(self)
        detail = finished.result.output or started.detail
        self._notify(f"{APP_NAME}: {finished.title.lower().replace('task ', 'the task ', 1)}", detail)

    def _on_page_crashed(self, reason: str) -> None:
        from desktop_app.core.events import Level

        self.banner.show_message(f"The browser page stopped working ({reason}). Reloading it.", Level.WARNING)
        self._controller.on_view_crashed(reason)
        self.live_view.web_view.reload()

    # -- closing -------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._shut_down:
            event.accept()
            return
        event.ignore()
        self.request_close(ask=self._interactive if self._attached else False)

    def request_close(self, *, ask: bool = False, stop_session: bool = True) -> None:
        if not self._attached:
            self._close_asked_early = True  # closed while starting: close once the core is up
            return
        if self._closing and not ask and self._close_question is not None:
            # SIGTERM/SIGINT while "Stop the session?" is open: quit as promised, stopping the session.
            self._forced_close = True
            self._close_question.reject()
            return
        if not self._closing:
            self._closing = True
            self._spawn(self.close_gracefully(ask=ask, stop_session=stop_session))

    async def close_gracefully(self, *, ask: bool = False, stop_session: bool = True) -> None:
        from desktop_app.core.controller import QuitConcern

        controller = self._controller
        concern = controller.quit_concern if ask else None
        if concern is not None:
            choice = await (self._ask_stop_session() if concern is QuitConcern.BILLED_SESSION else self._ask_stop_task())
            if self._forced_close:
                stop_session = True
            elif choice is None:
                self._closing = False
                self.restart_backend = None  # the person stayed: no restart either
                return
            else:
                stop_session = choice
        self._save_geometry()
        self.statusBar().showMessage("Closing…")
        self.task_panel.setEnabled(False)
        self._clock_timer.stop()
        try:
            await controller.shutdown(stop_session=stop_session)
            await self._tasks.cancel_all()  # e.g. an Ollama probe or a stop of an earlier session
        finally:
            self.bridge.detach()
            self._shut_down = True
            self.close()
            if not self.closed.done():
                self.closed.set_result(None)

    async def _ask_stop_session(self) -> bool | None:
        from PySide6.QtWidgets import QMessageBox

        from desktop_app.core.control import Control
        from desktop_app.core.wording import QuitQuestion

        controller = self._controller
        session = controller.session
        question = QuitQuestion(
            controller.capabilities.display_name,
            session.id if session is not None else "",
            controller.session_cost,
            agent_working=controller.state in (Control.AGENT, Control.TAKING_OVER),
        )
        choice = await self._ask_before_quitting(
            question.title,
            question.text,
            [
                (question.stop, QMessageBox.ButtonRole.AcceptRole),
                (question.keep, QMessageBox.ButtonRole.DestructiveRole),
                (question.cancel, QMessageBox.ButtonRole.RejectRole),
            ],
            informative=question.informative,
        )
        return None if choice in (None, 2) else choice == 0

    async def _ask_stop_task(self) -> bool | None:
        from PySide6.QtWidgets import QMessageBox

        choice = await self._ask_before_quitting(
            "Stop the agent and quit?",
            "The agent has not finished its task. Quitting stops it; the timeline so far stays in History.",
            [("Stop and quit", QMessageBox.ButtonRole.AcceptRole), ("Cancel", QMessageBox.ButtonRole.RejectRole)],
        )
        return None if choice in (None, 1) else True

    async def _ask_before_quitting(self, title: str, text: str, buttons: list[Any], informative: str = "") -> int | None:
        from desktop_app.ui.dialogs import ask

        choice = await ask(self, title, text, buttons, informative=informative, on_open=lambda box: setattr(self, "_close_question", box))
        self._close_question = None
        return choice

    def _spawn(self, coroutine: Any) -> None:
        self._tasks.spawn(coroutine)
