"""One list of every open request for the person, across sessions.

A request opens when a session's agent asks for the person (or a queue reaches a You step), or when
the provider is about to end a session nobody's agent is using; it closes when control leaves the
person (Hand back, a task starting) or the session ends. Each item says which
session, what is asked, since when, and how long the provider leaves the session before ending it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from desktop_app.core.control import Control
from desktop_app.core.events import ControlChanged, EventBus, HumanRequested, PersonStepReached, SessionClosed, SessionEndingSoon
from desktop_app.core.messages import inbox_session_ending
from desktop_app.core.session_clock import WARN_BEFORE_SECONDS


@dataclass(frozen=True)
class InboxItem:
    slot: int  # which session of the window
    session: str  # its name, as its tab shows it
    asks: str
    since: float
    time_left: float | None  # seconds before the provider ends the session (None: it never does)

    @property
    def urgent(self) -> bool:
        return self.time_left is not None and self.time_left <= WARN_BEFORE_SECONDS

    def ends_in(self) -> str | None:
        """"1:30" while the provider is about to end the session (None: not yet, or never)."""
        if not self.urgent or self.time_left is None:
            return None
        minutes, seconds = divmod(int(max(0.0, self.time_left)), 60)
        return f"{minutes}:{seconds:02d}"

    def describe(self, now: float) -> str:
        waited = int(max(0.0, now - self.since) // 60)
        parts = [f"{self.session}: {self.asks}", "just now" if waited == 0 else f"waiting {waited} min"]
        if (soon := self.ends_in()) is not None:
            parts.append(f"session ends in {soon} — keep it alive")
        elif self.time_left is not None:
            parts.append(f"session ends in {int(max(0.0, self.time_left)) // 60} min")
        return " — ".join(parts)


@dataclass
class _Watched:
    name: Callable[[], str]
    time_left: Callable[[], float | None]
    asks: str | None = None
    since: float = 0.0


class Inbox:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._watched: dict[int, _Watched] = {}
        self._listeners: list[Callable[[], None]] = []

    def watch(self, slot: int, bus: EventBus, name: Callable[[], str], time_left: Callable[[], float | None]) -> Callable[[], None]:
        """Follow one session's events; returns what stops following it (its tab closed)."""
        self._watched[slot] = _Watched(name, time_left)
        unsubscribe = bus.subscribe(lambda event: self._on_event(slot, event))

        def forget() -> None:
            unsubscribe()
            if self._watched.pop(slot, None) is not None:
                self._changed()

        return forget

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def items(self) -> list[InboxItem]:
        """Most urgent first (the least time left, among those near their end), then the newest."""
        found = [
            InboxItem(slot, watched.name(), watched.asks, watched.since, watched.time_left())
            for slot, watched in self._watched.items()
            if watched.asks is not None
        ]
        return sorted(found, key=lambda item: (0, item.time_left) if item.urgent else (1, -item.since))

    def __len__(self) -> int:
        return sum(1 for watched in self._watched.values() if watched.asks is not None)

    def _on_event(self, slot: int, event: object) -> None:
        watched = self._watched.get(slot)
        if watched is None:
            return
        if isinstance(event, HumanRequested):
            self._open(watched, event.reason)
        elif isinstance(event, PersonStepReached):
            self._open(watched, event.text)
        elif isinstance(event, SessionEndingSoon):
            if watched.asks is None:  # a request already open says more, and shows the time left too
                self._open(watched, inbox_session_ending(idle=event.idle))
        elif isinstance(event, ControlChanged) and event.transition.after is not Control.HUMAN:
            self._close(watched)
        elif isinstance(event, SessionClosed):
            self._close(watched)

    def _open(self, watched: _Watched, asks: str) -> None:
        watched.asks, watched.since = asks, self._clock()
        self._changed()

    def _close(self, watched: _Watched) -> None:
        if watched.asks is not None:
            watched.asks = None
            self._changed()

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()


__all__ = ["Inbox", "InboxItem"]
