"""The one object that turns core events into Qt signals for widgets."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop_app.core import events as ev


class CoreBridge(QObject):
    controlChanged = Signal(object)  # Transition
    timelineAdded = Signal(object)  # timeline.Entry
    notice = Signal(object)  # events.Notice
    sessionOpened = Signal(object)  # events.SessionOpened
    sessionClosed = Signal(object)  # events.SessionClosed
    humanRequested = Signal(str)
    taskReturned = Signal(str, str)  # the task, the hand-back note
    backendChanged = Signal(object)  # Capabilities
    personActed = Signal(str)  # the person's account of what they did in the page
    statusChanged = Signal(object)  # events.StatusChanged
    queueChanged = Signal(object)  # events.QueueChanged
    personStepReached = Signal(int, str)  # the step's number, what the person should do
    queueFinished = Signal(str)  # the summary

    def __init__(self, bus: ev.EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.detach = bus.subscribe(self._forward)

    def _forward(self, event: Any) -> None:
        if isinstance(event, ev.ControlChanged):
            self.controlChanged.emit(event.transition)
        elif isinstance(event, ev.TimelineAdded):
            self.timelineAdded.emit(event.entry)
        elif isinstance(event, ev.Notice):
            self.notice.emit(event)
        elif isinstance(event, ev.SessionOpened):
            self.sessionOpened.emit(event)
        elif isinstance(event, ev.SessionClosed):
            self.sessionClosed.emit(event)
        elif isinstance(event, ev.HumanRequested):
            self.humanRequested.emit(event.reason)
        elif isinstance(event, ev.TaskReturned):
            self.taskReturned.emit(event.text, event.note)
        elif isinstance(event, ev.BackendChanged):
            self.backendChanged.emit(event.capabilities)
        elif isinstance(event, ev.PersonActed):
            self.personActed.emit(event.account)
        elif isinstance(event, ev.StatusChanged):
            self.statusChanged.emit(event)
        elif isinstance(event, ev.QueueChanged):
            self.queueChanged.emit(event)
        elif isinstance(event, ev.PersonStepReached):
            self.personStepReached.emit(event.number, event.text)
        elif isinstance(event, ev.QueueFinished):
            self.queueFinished.emit(event.summary)
