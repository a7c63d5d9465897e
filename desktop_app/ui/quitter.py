"""Closing the window, as one small state machine: RUNNING → (ASKING →) CLOSING → CLOSED.

What quitting would cost is core's to say, across every session the window holds
(``SessionGroup.quit_concern``, one ``QuitQuestion``); this asks it once, and then shuts every
session down within one time limit before Qt quits. A quit signal
(SIGTERM, Ctrl+C) while the question is open closes it and quits as promised: stopping the session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from enum import Enum
from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget

from desktop_app.core.controller import QuitConcern
from desktop_app.core.messages import STOP_TASK_QUESTION
from desktop_app.core.session_group import SessionGroup
from desktop_app.core.tasks import TaskSet
from desktop_app.ui.dialogs import ask


class QuitState(Enum):
    RUNNING = "running"
    ASKING = "asking"  # the question is open
    CLOSING = "closing"  # the core is shutting down
    CLOSED = "closed"


class Quitter:
    def __init__(
        self,
        parent: QWidget,
        sessions: SessionGroup,
        *,
        interactive: bool,
        on_closing: Callable[[], None],
        on_closed: Callable[[], None],
        on_stayed: Callable[[], None],
        also_cancel: TaskSet,
    ) -> None:
        """``on_closing``: the window stops taking input; ``on_closed``: it closes for good;
        ``on_stayed``: the person answered Cancel (a planned restart is off too); ``also_cancel``:
        the window's own background work (an Ollama probe, a stop of an earlier session)."""
        self._parent = parent
        self._sessions = sessions
        self._interactive = interactive
        self._on_closing = on_closing
        self._on_closed = on_closed
        self._on_stayed = on_stayed
        self.state = QuitState.RUNNING
        self._question: QMessageBox | None = None
        self._forced = False
        self._tasks = TaskSet()
        self._also_cancel = also_cancel
        self.closed: asyncio.Future[None] = asyncio.get_event_loop().create_future()

    @property
    def question(self) -> QMessageBox | None:
        """The quit question, while it is open."""
        return self._question

    @property
    def done(self) -> bool:
        return self.state is QuitState.CLOSED

    def request(self, *, ask: bool = False, stop_session: bool = True) -> None:
        if self.state is QuitState.ASKING and not ask and self._question is not None:
            # A quit signal while "Stop the session?" is open: quit as promised, stopping the session.
            self._forced = True
            self._question.reject()
            return
        if self.state is QuitState.RUNNING:
            self.state = QuitState.ASKING
            self._tasks.spawn(self._close(ask=ask and self._interactive, stop_session=stop_session))

    async def _close(self, *, ask: bool, stop_session: bool) -> None:
        concern = self._sessions.quit_concern if ask else None
        if concern is not None:
            choice = await (self._ask_stop_session() if concern is QuitConcern.BILLED_SESSION else self._ask_stop_task())
            if self._forced:
                stop_session = True
            elif choice is None:
                self.state = QuitState.RUNNING
                self._on_stayed()
                return
            else:
                stop_session = choice
        self.state = QuitState.CLOSING
        self._on_closing()
        try:
            await self._sessions.shutdown(stop_session=stop_session)
            await self._also_cancel.cancel_all()
        finally:
            self.state = QuitState.CLOSED
            self._on_closed()
            if not self.closed.done():
                self.closed.set_result(None)

    async def _ask_stop_session(self) -> bool | None:
        question = self._sessions.quit_question()
        choice = await self._ask(
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
        title, text, stop, cancel = STOP_TASK_QUESTION
        choice = await self._ask(title, text, [(stop, QMessageBox.ButtonRole.AcceptRole), (cancel, QMessageBox.ButtonRole.RejectRole)])
        return None if choice in (None, 1) else True

    async def _ask(self, title: str, text: str, buttons: list[Any], informative: str = "") -> int | None:
        def opened(box: QMessageBox) -> None:
            self._question = box

        try:
            return await ask(self._parent, title, text, buttons, informative=informative, on_open=opened)
        finally:
            self._question = None
