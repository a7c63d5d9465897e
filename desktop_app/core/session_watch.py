"""The watch over a session's clock: ``SessionLifecycle`` runs it once a second until the session is closed.

Once a second it decides (``check``) whether to warn that the provider will end an idle session
soon, or whether the time is up and the provider must be asked; and it publishes what the status
line shows (the time left, what the agent is doing). The controller acts on what it decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from desktop_app.core import messages
from desktop_app.core.control import Control
from desktop_app.core.events import StatusChanged
from desktop_app.core.ports import SessionLimits
from desktop_app.core.session_clock import ClockReading, SessionClock
from desktop_app.core.work_in_hand import Run

# A step taking longer than this is worth explaining: the model is slow, not the app stuck.
SLOW_STEP_SECONDS = 45
TICK_SECONDS = 1.0


@dataclass(frozen=True)
class WarnSoon:
    minutes: int
    idle: bool  # nobody has the browser: keeping it alive with a short agent task is an option


@dataclass(frozen=True)
class TimeUp:
    message: str  # what to say if the provider confirms the session has ended


class SessionWatch:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._session_clock: SessionClock | None = None
        self._warned = False

    def start(self, limits: SessionLimits | None, started_at: float) -> None:
        """A session is ready. A start "in the future" (clock skew with the provider) counts from now."""
        self._session_clock = SessionClock(limits, min(started_at, self._clock())) if limits else None
        self._warned = False

    def stop(self) -> None:
        self._session_clock = None

    def agent_active(self) -> None:
        """Agent activity resets the provider's idle limit (what the person does in the browser does not)."""
        if self._session_clock is not None:
            self._session_clock.touch(self._clock())
            self._warned = False

    def reading(self, now: float | None = None) -> ClockReading | None:
        """Time left before the provider ends the session on its own; None if it never does."""
        if self._session_clock is None:
            return None
        return self._session_clock.read(self._clock() if now is None else now)

    def check(self, state: Control, provider: str, now: float | None = None) -> WarnSoon | TimeUp | None:
        """What the clock asks for now, once per warning: nothing while the agent works."""
        now = self._clock() if now is None else now
        reading = self.reading(now)
        if reading is None or state not in (Control.IDLE, Control.HUMAN):
            return None
        if not reading.warn:
            self._warned = False
            return None
        if reading.expired:
            assert self._session_clock is not None
            return TimeUp(self._session_clock.expiry_message(now, provider))
        if self._warned:
            return None
        self._warned = True
        return WarnSoon(max(1, round(reading.remaining / 60)), idle=state is Control.IDLE)

    def status(self, state: Control, provider: str, run: Run | None, now: float | None = None) -> StatusChanged:
        now = self._clock() if now is None else now
        text = provider
        # The clock matters to the person only while nobody works the agent (idle, or in control).
        reading = self.reading(now) if state in (Control.IDLE, Control.HUMAN) and state.session_alive else None
        if reading is not None:
            text += f" · {reading.describe()}"
        return StatusChanged(text, self.activity(state, run, now))

    @staticmethod
    def activity(state: Control, run: Run | None, now: float) -> str | None:
        """What the agent is doing right now, for someone watching a page that has not moved."""
        if run is None or run.paused or state is not Control.AGENT:
            return None
        return messages.activity(run.last_step + 1, max(0, int(now - run.busy_since)), SLOW_STEP_SECONDS)
