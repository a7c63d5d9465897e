"""When a provider will end a session on its own: idle and lifetime limits (Cloud: 15 min, 4 h).

Agent activity (a task starting, a step, a result) resets the idle limit; what the person does
in the browser does not — that is how Browser Use Cloud counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop_app.core.ports import SessionLimits

WARN_BEFORE_SECONDS = 120.0


@dataclass(frozen=True)
class ClockReading:
    remaining: float
    reason: str  # "idle" or "lifetime": which limit comes first

    @property
    def warn(self) -> bool:
        return self.remaining <= WARN_BEFORE_SECONDS

    @property
    def expired(self) -> bool:
        return self.remaining <= 0

    def describe(self) -> str:
        minutes, seconds = divmod(int(max(0.0, self.remaining)), 60)
        if self.reason == "lifetime":
            return f"session ends in {minutes}:{seconds:02d} (its time limit)"
        return f"session ends in {minutes}:{seconds:02d} without agent activity"


class SessionClock:
    def __init__(self, limits: SessionLimits, started_at: float) -> None:
        self._limits = limits
        self._started_at = started_at
        self._last_activity = started_at

    def touch(self, now: float) -> None:
        self._last_activity = max(self._last_activity, now)

    def read(self, now: float) -> ClockReading:
        idle_left = self._last_activity + self._limits.idle_seconds - now
        lifetime_left = self._started_at + self._limits.max_seconds - now
        if lifetime_left < idle_left:
            return ClockReading(lifetime_left, "lifetime")
        return ClockReading(idle_left, "idle")

    def expiry_message(self, now: float, provider: str) -> str:
        if self.read(now).reason == "lifetime":
            hours = self._limits.max_seconds / 3600
            return f"The {provider} session reached its {hours:g}-hour limit and has ended."
        minutes = int(self._limits.idle_seconds // 60)
        return f"The {provider} session timed out after {minutes} minutes without agent activity."
