"""What the core reports to its observers (the UI bridge, the history store, the event log).

A tiny synchronous observer bus: handlers run in publish order on the caller's thread (the event
loop's), and one failing observer never breaks the core or the other observers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from desktop_app.core.control import Transition
from desktop_app.core.errors import BackendError, Problem
from desktop_app.core.ports import Capabilities, SessionInfo

log = logging.getLogger(__name__)


class Level(Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class NoticeAction(Enum):
    NONE = "none"
    OPEN_SETTINGS = "open_settings"
    NEW_SESSION = "new_session"
    KEEP_ALIVE = "keep_alive"
    OPEN_DOWNLOADS = "open_downloads"
    RESTART = "restart"  # start Handoff again, in the mode the person chose


def action_for(error: BaseException | None) -> NoticeAction:
    """What a notice about this failure offers: Settings for something to set up, New session when
    the provider's session is gone, else nothing. The one mapping from a problem to a notice's button."""
    if not isinstance(error, BackendError):
        return NoticeAction.NONE
    if error.needs_settings:
        return NoticeAction.OPEN_SETTINGS
    if error.problem is Problem.SESSION_GONE:
        return NoticeAction.NEW_SESSION
    return NoticeAction.NONE


@dataclass(frozen=True)
class ControlChanged:
    transition: Transition


@dataclass(frozen=True)
class SessionOpened:
    session: SessionInfo
    capabilities: Capabilities
    reattached: bool = False  # an earlier run's session, taken over after a restart


@dataclass(frozen=True)
class SessionClosed:
    session_id: str
    reason: str


@dataclass(frozen=True)
class BackendChanged:
    capabilities: Capabilities


@dataclass(frozen=True)
class TimelineAdded:
    entry: Any  # a timeline.Entry


@dataclass(frozen=True)
class StatusChanged:
    """What the status line shows: the provider's clock while it matters, and what the agent is doing."""

    text: str
    activity: str | None


@dataclass(frozen=True)
class Notice:
    level: Level
    text: str
    action: NoticeAction = NoticeAction.NONE


@dataclass(frozen=True)
class SessionEndingSoon:
    """The provider will end the session soon without agent activity (the inbox lists it)."""

    minutes: int
    idle: bool  # nobody holds it: a keep-alive task would keep it (else: hand back to the agent)


@dataclass(frozen=True)
class HumanRequested:
    reason: str


@dataclass(frozen=True)
class TaskReturned:
    """A task that could not get going, given back so the person can run it again as it was
    (with the hand-back note it was started with, if any)."""

    text: str
    note: str = ""


@dataclass(frozen=True)
class SessionCreating:
    """A billed session is about to be asked for: the history keeps ``marker`` until the answer
    settles it, so a crash or a lost answer meanwhile is looked into at the next start."""

    marker: str
    backend: str
    backend_kind: str
    asked_at: float


@dataclass(frozen=True)
class SessionCreateSettled:
    """The create's answer came (a session, recorded under its own id, or a clear "none made")."""

    marker: str


@dataclass(frozen=True)
class PrivacyDecision:
    """What was hidden from the agent, or why it could not be confirmed (a named log event each)."""

    event: str  # fields_masked, privacy_unconfirmed, hand_back_question, note_redacted
    message: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class PersonActed:
    """What the person has done in the page since they got the browser, in words (no values)."""

    account: str


@dataclass(frozen=True)
class QueueChanged:
    """The queue's steps and whether it runs (core/queue_runner.py), after every change."""

    steps: tuple[Any, ...]  # core.queue.Step
    running: bool
    stopped_at: int | None = None  # the step the queue stopped at when its session ended (continue from it)


@dataclass(frozen=True)
class PersonStepReached:
    """A queue's You step: the person has the browser and should do this, then Hand back."""

    number: int
    text: str


@dataclass(frozen=True)
class QueueFinished:
    """The queue ran to its end: one summary of every step (who did what, outputs, cost)."""

    summary: str


Handler = Callable[[Any], None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: list[Handler] = []

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        self._handlers.append(handler)

        def unsubscribe() -> None:
            if handler in self._handlers:
                self._handlers.remove(handler)

        return unsubscribe

    def publish(self, event: Any) -> None:
        for handler in list(self._handlers):
            try:
                handler(event)
            except Exception:
                log.exception("An observer failed on %s", type(event).__name__)
