"""What the person's clicks and keys ask for, forwarded to core: Run, Take over, Hand back, New and
Stop session, a notice's button, the mode selector, Restart, and the recovery bar.

The rules are core's (the controller, the hand-back gate, services); this shows the answers: a
refusal as a notice, a question as a dialog, and clears a box only once what it held went through.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget

from desktop_app.backends.capabilities import BILLED_KIND
from desktop_app.core.backend_kind import BackendKind
from desktop_app.core import messages
from desktop_app.core.control import Command, Control, allows
from desktop_app.core.controller import TOO_LONG, CommandResult
from desktop_app.core.errors import BackendError
from desktop_app.core.events import Level, Notice, NoticeAction
from desktop_app.core.hand_back import CHOICE_LABELS, HandBackChoice, HandBackGate, NotePrefill
from desktop_app.core.tasks import TaskSet
from desktop_app.services import Services
from desktop_app.system.folders import open_folder
from desktop_app.system.logs import log_event
from desktop_app.ui.dialogs import ask, confirm
from desktop_app.ui.notice_banner import NoticeBanner
from desktop_app.ui.recovery_bar import RecoveryBar
from desktop_app.ui.task_panel import TaskPanel
from desktop_app.ui.window_dialogs import WindowDialogs

log = logging.getLogger(__name__)


SETUP_HINT = "setup"  # the banner's cause while it says what to set up first


class SessionActions:
    def __init__(
        self,
        window: QWidget,
        services: Services,
        panel: TaskPanel,
        banner: NoticeBanner,
        recovery_bar: RecoveryBar,
        dialogs: WindowDialogs,
        tasks: TaskSet,
        *,
        interactive: bool,
        request_restart: Callable[[BackendKind], None],
    ) -> None:
        self._window = window
        self._services = services
        self._controller = services.controller
        self._panel = panel
        self._banner = banner
        self._recovery_bar = recovery_bar
        self._dialogs = dialogs
        self._tasks = tasks
        self._interactive = interactive
        self._request_restart = request_restart
        self._gate = HandBackGate(services.privacy, services.bus)
        self.note_prefill = NotePrefill()
        self._restart_offer: BackendKind | None = None  # the mode a Restart notice on screen would start

    # -- the agent -------------------------------------------------------------------------------

    def run_task(self, text: str) -> None:
        note = self._panel.note_text if self._controller.note_goes_with_run else ""
        self.follow(self._controller.run(text, note), on_success=lambda: self._panel.clear_sent(text, note))

    def take_over(self) -> None:
        self.follow(self._controller.take_over())

    def hand_back(self, note: str, instruction: str) -> None:
        self._tasks.spawn(self._hand_back_checked(note, instruction))

    async def _hand_back_checked(self, note: str, instruction: str) -> None:
        asker = self._ask_hand_back if self._interactive else None
        decision = await self._gate.decide(self._controller.capabilities, asker)
        if decision is None:
            return  # a second Ctrl+H while the page is read or the question is open
        if not decision.go:
            if decision.kept_because:
                self._banner.show_notice(Notice(Level.WARNING, decision.kept_because))
            return
        if not allows(self._controller.state, Command.HAND_BACK):
            return  # the session ended, or the agent took it, while the page was read
        result = self._controller.hand_back(note, instruction, screenshots=decision.screenshots)

        def sent() -> None:
            self._panel.clear_sent(instruction, note)
            self.note_prefill.forget()

        self.follow(result, on_success=sent)
        if result.accepted and decision.told:
            self._banner.show_aside(Notice(Level.INFO, decision.told))

    async def _ask_hand_back(self, question: str, informative: str, choices: tuple[HandBackChoice, ...]) -> HandBackChoice:
        roles = {HandBackChoice.KEEP_CONTROL: QMessageBox.ButtonRole.RejectRole}
        buttons = [(CHOICE_LABELS[c], roles.get(c, QMessageBox.ButtonRole.AcceptRole)) for c in choices]
        answer = await ask(self._window, messages.HAND_BACK_TITLE, question, buttons, default=len(choices) - 1, informative=informative)
        return HandBackChoice.KEEP_CONTROL if answer is None else choices[answer]

    def person_acted(self, account: str) -> None:
        """The note box starts with what the person did (pages, fields by label, buttons), theirs to edit."""
        if self._controller.state is not Control.HUMAN:
            return
        note = self.note_prefill.update(self._panel.note_text, account)
        if note is not None:
            self._panel.prefill_note(note)

    def recheck_length(self) -> None:
        """"The task is 60,000 characters long…" goes once the task is short enough again."""
        if not self._controller.over_limit(self._panel.task_text, self._panel.note_text):
            self._banner.clear_cause(TOO_LONG)

    # -- sessions --------------------------------------------------------------------------------

    def new_session(self) -> None:
        self.follow(self._controller.new_session())

    def stop_session(self) -> None:
        concern = self._controller.stop_session_concern
        if concern is None or not self._interactive:
            self.follow(self._controller.stop_session())
            return
        self._tasks.spawn(self._confirm_stop_session(concern))

    async def _confirm_stop_session(self, concern: str) -> None:
        title, go, stay, informative = messages.STOP_SESSION_QUESTION
        stop = await confirm(self._window, title, concern, go=go, stay=stay, informative=informative)
        # While the question was open the session may have ended on its own (lost, timed out):
        # then there is nothing to stop, and its notice (with New session) must stay.
        if stop and self._controller.state.session_alive:
            self.follow(self._controller.stop_session())

    def follow(self, result: CommandResult, on_success: Callable[[], None] | None = None) -> None:
        """A refusal becomes a notice; ``on_success`` runs once the command went through."""
        if not result.accepted:
            level = Level.WARNING if result.needs_settings else Level.INFO
            self._banner.show_notice(Notice(level, result.reason, result.action), cause=result.cause)
            return
        if on_success is None or result.done is None:
            return

        def finished(done: asyncio.Future[bool]) -> None:
            # A failure was already reported by the core; here only success matters. A session lost
            # before this ran gave the text back (TaskReturned found it still in the box): keep it.
            if not done.cancelled() and done.exception() is None and done.result() and self._controller.state.session_alive:
                on_success()

        result.done.add_done_callback(finished)

    def on_notice_action(self, action: NoticeAction) -> None:
        if action is NoticeAction.OPEN_SETTINGS:
            self._dialogs.open_settings()
        elif action is NoticeAction.NEW_SESSION:
            self.new_session()
        elif action is NoticeAction.KEEP_ALIVE:
            self.follow(self._controller.keep_alive())
        elif action is NoticeAction.OPEN_DOWNLOADS:
            self.open_folder(self._services.paths.downloads)
        elif action is NoticeAction.RESTART and self._restart_offer is not None:
            self._request_restart(self._restart_offer)

    def open_folder(self, folder: Any) -> None:
        if not open_folder(folder):
            self._banner.show_message(messages.folder_not_opened(folder), Level.WARNING)

    # -- where the browser runs ------------------------------------------------------------------

    def choose_backend(self, chosen: object) -> None:
        kind = BackendKind(chosen)  # Qt hands the selector's data back as a plain string
        if kind == self._services.backend_kind:
            return
        result = self._services.switch_backend(kind)
        if not result.accepted:
            restart = self._services.restart_to_switch(kind)
            if restart is not None:
                self.offer_restart(kind, result.reason)
            else:
                self._banner.show_message(result.reason)
            self._panel.show_mode(self._services.backend_kind)

    def offer_restart(self, kind: BackendKind, reason: str) -> None:
        self._restart_offer = kind
        self._banner.show_notice(Notice(Level.INFO, reason, NoticeAction.RESTART))

    def settings_saved(self, dialog: Any) -> None:
        messages = getattr(dialog, "saved_messages", [])
        chosen = dialog.chosen_backend()
        if chosen != self._services.backend_kind and self._services.restart_to_switch(chosen):
            self.offer_restart(chosen, " ".join(messages))
        elif messages:
            self._banner.show_message(" ".join(messages))
        else:
            self._banner.hide()  # e.g. "Add your key in Settings": done now
            self.show_setup_hint()  # unless something is still missing (or the other mode needs it)
        # A key added now may let Handoff check on sessions an earlier run left running (and billed).
        self._tasks.spawn(self.check_left_running())

    def show_setup_hint(self) -> None:
        """Say what to set up before the first Run fails on it."""
        problem = self._controller.setup_problem()
        if problem is not None:
            notice = Notice(Level.INFO, messages.before_the_agent_can_work(problem.message), NoticeAction.OPEN_SETTINGS)
            self._banner.show_aside(notice, cause=SETUP_HINT)

    def settings_saved_elsewhere(self) -> None:
        """Settings were saved from another tab: this tab's hint says what is still missing, or goes."""
        self._banner.clear_cause(SETUP_HINT)
        self.show_setup_hint()

    async def warn_if_no_keychain(self, still_open: Callable[[], bool]) -> None:
        notice = await self._services.keychain_notice()
        if notice and not self._banner.isVisible() and still_open():
            self._banner.show_message(notice, Level.WARNING)

    # -- sessions left running by an earlier run -------------------------------------------------

    async def check_left_running(self) -> None:
        sessions = await self._services.find_left_running()
        if sessions:
            log_event("left_running_found", f"{len(sessions)} sessions from an earlier run still running", sessions=[s.id for s in sessions])
            self._recovery_bar.show_sessions(sessions)

    def reattach(self, session_id: str) -> None:
        result = self._services.reattach(session_id)
        if not result.accepted:
            if self._services.restart_needed_for(BILLED_KIND) is not None:
                # After the restart the session is still listed here, with Reattach.
                self.offer_restart(BILLED_KIND, messages.reattach_after_restart(result.reason))
            else:
                self._banner.show_message(result.reason)
            return
        self._recovery_bar.remove(session_id)

    def stop_left_running(self, session_id: str) -> None:
        self._tasks.spawn(self._stop_left_running(session_id))

    async def _stop_left_running(self, session_id: str) -> None:
        self._recovery_bar.set_busy(session_id, True)
        try:
            await self._services.stop_left_running(session_id)
        except BackendError as error:
            self._recovery_bar.set_busy(session_id, False)
            self._banner.show_message(messages.left_running_not_stopped(error.message), Level.ERROR)
            return
        self._recovery_bar.remove(session_id)
        self._banner.show_message(messages.LEFT_RUNNING_STOPPED)
