"""Named events in the log (``--json-logging`` puts them in an ``event`` field).

An observer of the core's bus: session_created, task_created, agent_step, task_finished,
took_over, handed_back, session_stopped, error. Notes are never logged, only their length —
a note can hold what the person typed into a payment form.
"""

from __future__ import annotations

import logging
from typing import Any

from desktop_app.core import timeline as tl
from desktop_app.core.events import (
    EventBus,
    Level,
    Notice,
    PrivacyDecision,
    SessionClosed,
    SessionOpened,
    TimelineAdded,
)
from desktop_app.system.logs import log_event


def attach_event_log(bus: EventBus) -> None:
    bus.subscribe(_log)


def _log(event: Any) -> None:
    if isinstance(event, SessionOpened):
        log_event("session_created", "Session started", session_id=event.session.id, backend=event.capabilities.display_name)
    elif isinstance(event, SessionClosed):
        log_event("session_stopped", f"Session ended: {event.reason}", session_id=event.session_id, reason=event.reason)
    elif isinstance(event, Notice) and event.level is Level.ERROR:
        log_event("error", event.text, logging.ERROR)
    elif isinstance(event, PrivacyDecision):
        log_event(event.event, event.message, **event.fields)
    elif isinstance(event, TimelineAdded):
        _log_entry(event.entry)


def _log_entry(entry: tl.Entry) -> None:
    if isinstance(entry, tl.TaskStarted):
        log_event("task_created", entry.title, task_id=entry.task_id, origin=entry.origin.value, chars=len(entry.text))
    elif isinstance(entry, tl.AgentStep):
        log_event("agent_step", entry.title, task_id=entry.step.task_id, number=entry.step.number)
    elif isinstance(entry, tl.TaskFinished):
        result = entry.result
        log_event(
            "task_finished",
            entry.title,
            task_id=result.task_id,
            status=result.status.value,
            success=result.success,
            cost_usd=str(result.cost_usd) if result.cost_usd is not None else None,
            steps=result.steps,
        )
    elif isinstance(entry, tl.Handoff) and entry.to is tl.Actor.PERSON:
        log_event("took_over", entry.title, by=entry.by.value, reason=entry.reason, fault=entry.fault)
    elif isinstance(entry, tl.Handoff):
        log_event("handed_back", entry.title, note_chars=len(entry.note), instruction_chars=len(entry.instruction))
