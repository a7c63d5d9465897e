"""What the core reports, shown: control changes, timeline entries, notices, sessions opening and
closing, requests for the person, the status line. Each method is a slot of ``CoreBridge``.

The words for each control state come from ``core.state_words``; where backends differ this reads
``Capabilities``, never which backend it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

from desktop_app import APP_NAME
from desktop_app.core import timeline as tl
from desktop_app.core.control import Control, Transition
from desktop_app.core import messages
from desktop_app.core.events import Level, Notice, NoticeAction, QueueChanged, SessionClosed, SessionOpened, StatusChanged
from desktop_app.core.messages import format_cost
from desktop_app.core.ports import Capabilities
from desktop_app.core.state_words import state_words
from desktop_app.ui.notice_banner import NoticeBanner
from desktop_app.ui.task_panel import TaskPanel

if TYPE_CHECKING:
    from desktop_app.services import Services
    from desktop_app.ui.live_view import LiveView
    from desktop_app.ui.session_actions import SessionActions
    from desktop_app.ui.window_dialogs import WindowDialogs


class CoreView:
    def __init__(
        self,
        window: QMainWindow,
        services: Services,
        panel: TaskPanel,
        banner: NoticeBanner,
        live_view: LiveView,
        status: QLabel,
        actions: SessionActions,
        dialogs: WindowDialogs,
        *,
        interactive: bool,
        show_title: Callable[[str], None],
        notify: Callable[[str, str], None],
    ) -> None:
        """``show_title``: the control state's title (the tab's, and the window's while the tab is
        current); ``notify``: a desktop notification, named for the session when there are several."""
        self._window = window
        self._services = services
        self._controller = services.controller
        self._panel = panel
        self._banner = banner
        self._live_view = live_view
        self._status = status
        self._actions = actions
        self._dialogs = dialogs
        self._interactive = interactive
        self._show_title = show_title
        self.notify = notify

    # -- control ---------------------------------------------------------------------------------

    def on_transition(self, transition: Transition) -> None:
        after = transition.after
        if state_words(after).clears_notices:
            self._banner.hide()
        self.show_state(after)
        if after is Control.HUMAN:
            # The person is about to act in the browser. Leaving focus where Qt puts it (the Hand
            # back button, once Take over is disabled) would let the next Space hand straight back.
            self._live_view.web_view.setFocus()
        elif self._window.focusWidget() is None or not self._window.focusWidget().isEnabled():
            self._panel.focus_task()

    def show_state(self, state: Control) -> None:
        capabilities = self._controller.capabilities
        words = state_words(state, pauses_in_place=capabilities.pauses_in_place)
        self._panel.set_state(state, words)
        self._live_view.set_locked(state.view_locked, words.shield, offer_take_over=words.shield_offers_take_over)
        if words.placeholder and not capabilities.view_is_browser:
            self._live_view.show_placeholder(words.placeholder)
        self._show_title(words.title)

    def show_capabilities(self, capabilities: Capabilities) -> None:
        self._live_view.configure(is_browser=capabilities.view_is_browser)
        self._panel.set_capabilities(capabilities)
        self._panel.show_mode(capabilities.kind)  # which entry of the selector: never a branch on it
        self.show_state(self._controller.state)
        self._actions.show_setup_hint()

    def on_backend_changed(self, capabilities: Capabilities) -> None:
        # What the panel shows belonged to the other mode's last session (History keeps it).
        self._panel.timeline.timeline_model.clear()
        self._panel.cost_label.clear()
        self._banner.hide()
        self.show_capabilities(capabilities)

    def on_status(self, status: StatusChanged) -> None:
        self._status.setText(status.text)
        self._panel.show_activity(status.activity)

    # -- the session -----------------------------------------------------------------------------

    def on_timeline(self, entry: tl.Entry) -> None:
        self._panel.timeline.add(entry)
        if isinstance(entry, tl.TaskFinished):
            self.show_cost()
            self._tell_finished_elsewhere(entry)

    def show_cost(self) -> None:
        total = self._controller.session_cost
        self._panel.cost_label.setText(f"Cost this session: {format_cost(total)}" if total else "")

    def on_session_opened(self, opened: SessionOpened) -> None:
        if opened.reattached:
            self._panel.timeline.show_earlier(self._services.history.entries(opened.session.id))
            self.show_cost()
        else:
            self._panel.cost_label.clear()
        if opened.session.live_url:
            self._live_view.show_remote(opened.session.live_url)

    def on_session_closed(self, closed: SessionClosed) -> None:
        if not self._controller.capabilities.view_is_browser:
            self._live_view.show_placeholder(f"The session has ended: {closed.reason}\nPress New session to start another.")

    def on_task_returned(self, text: str, note: str = "") -> None:
        if self._services.queue.owns(text):
            return  # a queue's step: it waits in the queue, not in the task box
        self._panel.give_back(text, note)  # the hand-back note comes back too, with the instruction

    # -- the person ------------------------------------------------------------------------------

    def on_notice(self, notice: Notice) -> None:
        self._banner.show_notice(notice)
        if notice.action is NoticeAction.OPEN_SETTINGS and self._interactive:
            self._dialogs.open_settings(focus_cloud_key=not self._controller.capabilities.view_is_browser)

    def on_human_requested(self, reason: str) -> None:
        self._panel.show_request(reason)  # in full, below the buttons
        self._banner.show_message("The agent needs you — see its request below. Do it in the browser, then press Hand back.", Level.WARNING)
        QApplication.alert(self._window)
        self._window.raise_()
        self.notify(f"{APP_NAME}: the agent needs you", reason)

    # -- the queue -------------------------------------------------------------------------------

    def on_queue_changed(self, changed: QueueChanged) -> None:
        self._panel.queue_panel.show_steps(changed.steps, changed.running)

    def on_person_step(self, number: int, text: str) -> None:
        """A You step: its text shown big, the window raised, a desktop notification."""
        self._panel.queue_panel.show_person_step(f"{messages.queue_person_step(number, text)}\n{messages.PERSON_STEP_HINT}")
        QApplication.alert(self._window)
        self._window.raise_()
        self.notify(f"{APP_NAME}: your step", text)

    def on_queue_finished(self, summary: str) -> None:
        self._panel.queue_panel.show_summary(summary)
        self._banner.show_message(messages.QUEUE_DONE)
        if not self._window.isActiveWindow():
            self.notify(f"{APP_NAME}: {messages.QUEUE_DONE}", summary.splitlines()[-1])

    def _tell_finished_elsewhere(self, finished: tl.TaskFinished) -> None:
        """A task the person gave has ended while they look at another window: tell the desktop."""
        notification = self._controller.timeline.finished_notification(finished)
        if notification is None or self._window.isActiveWindow():
            return
        QApplication.alert(self._window)
        title, text = notification
        self.notify(f"{APP_NAME}: {title}", text)

    # -- the page --------------------------------------------------------------------------------

    def on_download_started(self, name: str, folder: str) -> None:
        self._banner.show_aside(Notice(Level.INFO, f"Downloading {name} to {folder}"))

    def on_download_finished(self, name: str, succeeded: bool, folder: str) -> None:
        if succeeded:
            self._banner.show_aside(Notice(Level.INFO, f"Downloaded {name} to {folder}", NoticeAction.OPEN_DOWNLOADS))
        else:
            self._banner.show_message(f"The download of {name} failed.", Level.WARNING)

    def on_page_blocked(self, text: str) -> None:
        self._banner.show_aside(Notice(Level.INFO, text))

    def on_page_crashed(self, reason: str) -> None:
        self._banner.show_message(f"The browser page stopped working ({reason}). Reloading it.", Level.WARNING)
        self._controller.on_view_crashed(reason)
        self._live_view.web_view.reload()
