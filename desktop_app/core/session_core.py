"""What the parts of a session's controller share, and the few ways all of them report.

The control machine (every state change is published), the work in hand, the timeline (every entry
is card-free and published), the watch over the provider's clock, the backend and the background
work. ``SessionController`` (commands), ``AgentRuns`` (the agent's tasks) and ``SessionLifecycle``
(opening and ending sessions) each hold the same ``SessionCore``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from decimal import Decimal
from typing import Any, TypeVar

from desktop_app.core import messages
from desktop_app.core import timeline as tl
from desktop_app.core.cards import redact_cards
from desktop_app.core.control import Control, ControlMachine, Transition, Trigger
from desktop_app.core.errors import BackendError, Problem
from desktop_app.core.events import (
    ControlChanged,
    EventBus,
    Level,
    Notice,
    NoticeAction,
    StatusChanged,
    TimelineAdded,
    action_for,
)
from desktop_app.core.ports import Backend, Capabilities, SessionInfo
from desktop_app.core.session_watch import SessionWatch
from desktop_app.core.tasks import TaskSet
from desktop_app.core.work_in_hand import WorkInHand

log = logging.getLogger(__name__)
T = TypeVar("T")


class SessionCore:
    def __init__(self, backend: Backend, bus: EventBus, clock: Callable[[], float] = time.time) -> None:
        self.bus = bus
        self.clock = clock
        self.backend = backend
        self.machine = ControlMachine(clock)
        self.timeline = tl.Timeline()
        self.work = WorkInHand()
        self.watch = SessionWatch(clock)
        self.session: SessionInfo | None = None
        self.earlier_cost = Decimal(0)  # what a reattached session cost before this run
        self.tasks = TaskSet(on_failure=self._unexpected_failure)
        # Set by SessionLifecycle: what to do when an error says the provider's session is gone.
        self.on_session_gone: Callable[[str], None] = lambda reason: None
        self._last_status: tuple[str, str | None] | None = None

    @property
    def state(self) -> Control:
        return self.machine.state

    @property
    def capabilities(self) -> Capabilities:
        return self.backend.capabilities

    # -- control ---------------------------------------------------------------------------------

    def try_apply(self, trigger: Trigger) -> bool:
        if not self.machine.can(trigger):
            log.debug("Refused %s while %s", trigger.value, self.state.value)
            return False
        self.apply(trigger)
        return True

    def apply(self, trigger: Trigger) -> Transition:
        transition = self.machine.apply(trigger)
        log.debug("Control %s -> %s (%s)", transition.before.value, transition.after.value, trigger.value)
        self.bus.publish(ControlChanged(transition))
        self.publish_status()
        return transition

    def confirm_person_control(self) -> None:
        self.apply(Trigger.CONTROL_CONFIRMED)
        self.record(tl.Handoff, to=tl.Actor.PERSON, by=tl.Actor.PERSON)

    # -- reporting -------------------------------------------------------------------------------

    def record(self, entry_type: type[tl.Entry], /, *, session_id: str | None = None, at: float | None = None, **fields: Any) -> None:
        if session_id is None:
            session_id = self.session.id if self.session else ""
        at = self.clock() if at is None else at
        # Nothing card-shaped is kept or shown: an agent's output or a note may quote a card.
        entry = tl.redacted(entry_type(at=at, session_id=session_id, **fields), redact_cards)
        self.timeline.add(entry)
        self.bus.publish(TimelineAdded(entry))
        self.publish_status()  # the activity line moves on to the next step at once

    def notice(self, level: Level, text: str, action: NoticeAction = NoticeAction.NONE) -> None:
        self.bus.publish(Notice(level, text, action))

    def report(self, error: BackendError, headline: str, suffix: str = "") -> None:
        log.warning("%s: %s (%s)%s", headline, error.message, error.problem.value, f" — {error.detail}" if error.detail else "")
        if self.session is not None:
            self.record(tl.Incident, text=f"{headline}: {error.message}")
        self.notice(Level.ERROR, f"{headline}: {error.message}{suffix}", action_for(error))
        if error.problem is Problem.SESSION_GONE and self.state.session_alive:
            self.on_session_gone(f"The {self.capabilities.display_name} session has ended.")

    def status(self) -> StatusChanged:
        """What the status line shows now: the provider's clock while it matters, the agent's step."""
        return self.watch.status(self.state, self.capabilities.display_name, self.work.run)

    def publish_status(self) -> None:
        """The status, when it has changed."""
        status = self.status()
        if (status.text, status.activity) != self._last_status:
            self._last_status = (status.text, status.activity)
            self.bus.publish(status)

    # -- background work -------------------------------------------------------------------------

    def spawn(self, coroutine: Coroutine[Any, Any, bool]) -> asyncio.Task[bool]:
        return self.tasks.spawn(coroutine)

    async def guarded(self, awaitable: Awaitable[T]) -> T:
        """Adapters raise BackendError; anything else (a bug, a broken install, a disk error)
        becomes one, so every command ends in a clear state with a message, never half-way."""
        try:
            return await awaitable
        except BackendError:
            raise
        except Exception as error:
            log.error("Unexpected failure in the %s backend", self.capabilities.display_name, exc_info=error)
            raise BackendError(
                Problem.INTERNAL, f"Something unexpected went wrong ({type(error).__name__}: {error})."
            ) from error

    def _unexpected_failure(self, error: BaseException) -> None:
        self.notice(Level.ERROR, messages.went_wrong(error))

    @staticmethod
    def resolved(value: bool) -> asyncio.Future[bool]:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        future.set_result(value)
        return future
