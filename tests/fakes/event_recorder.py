"""Every event published on a bus, in order, for a test to read back."""

from __future__ import annotations

from typing import Any

from desktop_app.core.control import Control
from desktop_app.core.events import ControlChanged, EventBus


class Recorder:
    def __init__(self, bus: EventBus) -> None:
        self.events: list[Any] = []
        bus.subscribe(self.events.append)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def states(self) -> list[Control]:
        return [e.transition.after for e in self.of(ControlChanged)]
