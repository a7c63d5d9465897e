"""Runs a queue on the session: drives the session controller's own commands and listens to what
the core publishes, so every rule about control (Take over, Hand back, a double click, the session
lost) stays the controller's. The queue's rules (core/queue.py) decide what runs next.

- An agent step is ``controller.run`` with what the earlier steps produced and what the person
  noted; its task's result completes it (a follow-up task after a takeover belongs to it too).
- A You step is ``controller.take_over`` (the browser is the person's); their Hand back completes
  it, with the note.
- Take over mid-step pauses the queue; Hand back resumes the step (Local) or continues it as a
  follow-up task (Cloud). The agent asking for the person (Local ``request_human``, Cloud's
  structured "needs you") marks the step "needs you" until the Hand back.
- A failed step stops the queue and keeps the rest. The session ending stops the queue with nothing
  lost: the step that was running waits again, and the next start continues from it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from desktop_app.core import messages
from desktop_app.core import timeline as tl
from desktop_app.core.control import Control
from desktop_app.core.controller import CommandResult, SessionController
from desktop_app.core.events import (
    ControlChanged,
    HumanRequested,
    Level,
    Notice,
    PersonStepReached,
    QueueChanged,
    QueueFinished,
    SessionClosed,
    TimelineAdded,
)
from desktop_app.core.playbooks import PlaybookStep, plan_json
from desktop_app.core.ports import RunStatus
from desktop_app.core.queue import Queue, QueueRefused, Step, StepKind, StepState, new_step, step_context, summary

log = logging.getLogger(__name__)

STARTABLE = (Control.NO_SESSION, Control.STARTING, Control.IDLE)


class QueueRunner:
    def __init__(self, controller: SessionController) -> None:
        self._controller = controller
        self._bus = controller.bus
        self.queue = Queue()
        self.running = False
        self.stopped_at: int | None = None  # the step the session's end stopped the queue at
        self._current: int | None = None  # the step in progress
        self._commanding = False  # a command for the current step (or a new session) is under way
        self._pump_due = False
        self._last_error = ""
        self._recorded_in: str | None = None  # the session whose timeline has this run's QueueStarted
        self._bus.subscribe(self._heard)

    # -- reading -----------------------------------------------------------------------------------

    @property
    def steps(self) -> list[Step]:
        return list(self.queue.steps)

    def number(self, step_id: int) -> int:
        return self.queue.index(step_id) + 1

    def owns(self, goal: str) -> bool:
        """Whether a task given back by the core (cut short, could not start) is one of the queue's steps."""
        return any(s.kind is StepKind.AGENT and s.text == goal.strip() for s in self.queue.steps)

    def continue_offer(self) -> str | None:
        """The question the next Run asks when the queue stopped at a step (or None: nothing to ask)."""
        if self.running or self.stopped_at is None:
            return None
        try:
            step = self.queue.get(self.stopped_at)
        except QueueRefused:
            return None
        if step.state is not StepState.WAITING:
            return None
        return messages.queue_continue_question(self.number(step.id), step.text)

    # -- editing (the queue's rules say what is allowed while it runs) -----------------------------

    def add(self, kind: StepKind, text: str, at: int | None = None) -> Step:
        step = self.queue.add(new_step(kind, text), at)
        self._changed()
        self._schedule()  # a step added to a queue that was waiting for more runs at once
        return step

    def edit(self, step_id: int, text: str) -> Step:
        step = self.queue.edit(step_id, text)
        self._changed()
        return step

    def remove(self, step_id: int) -> None:
        self.queue.remove(step_id)
        if self.stopped_at == step_id:
            self.stopped_at = None
        self._changed()

    def move(self, step_id: int, to: int) -> None:
        self.queue.move(step_id, to)
        self._changed()

    def skip(self, step_id: int) -> Step:
        step = self.queue.skip(step_id)
        self._changed()
        self._schedule()
        return step

    def run_again(self, step_id: int) -> Step:
        step = self.queue.run_again(step_id)
        self._changed()
        self._schedule()
        return step

    def load(self, steps: list[PlaybookStep]) -> None:
        """Replace the queue (a playbook, History's "Run this again"); refused while it runs."""
        if self.running:
            raise QueueRefused(messages.QUEUE_ALREADY_RUNNING)
        self.queue = Queue([new_step(s.kind, s.text) for s in steps])
        self.stopped_at = None
        self._current = None
        self._changed()

    def plan(self) -> list[PlaybookStep]:
        return [PlaybookStep(s.kind, s.text) for s in self.queue.steps]

    # -- running -----------------------------------------------------------------------------------

    def start(self, *, from_start: bool = False) -> CommandResult:
        """Run the queue from its first waiting step (``from_start``: every step waits again first).
        A second start while it runs is refused: one queue runs at a time."""
        if self.running:
            return CommandResult(False, messages.QUEUE_ALREADY_RUNNING)
        if not self.queue.steps:
            return CommandResult(False, messages.QUEUE_EMPTY)
        state = self._controller.state
        if state not in STARTABLE:
            return CommandResult(
                False,
                messages.busy_reason(
                    agent_working=state in (Control.AGENT, Control.TAKING_OVER), person_in_control=state is Control.HUMAN
                ),
            )
        if from_start:
            self.queue.reset_all()
        if self.queue.next_waiting() is None:
            self._changed()
            return CommandResult(False, messages.QUEUE_NOTHING_LEFT)
        if any(s.kind is StepKind.AGENT and s.state is StepState.WAITING for s in self.queue.steps):
            problem = self._controller.setup_problem()  # no key, no model: say so before a session bills
            if problem is not None:
                return CommandResult(False, problem.message)
        self.running = True
        self.stopped_at = None
        self._recorded_in = None
        self._changed()
        self._schedule()
        return CommandResult(True, done=_resolved(True))

    def _schedule(self) -> None:
        if self.running and not self._pump_due:
            self._pump_due = True
            asyncio.get_running_loop().call_soon(self._pump)

    def _pump(self) -> None:
        self._pump_due = False
        try:
            self._advance()
        except Exception as error:  # a bug here must not leave the queue silently stuck
            log.exception("The queue could not go on")
            self._stop(f"Something went wrong ({type(error).__name__}: {error}).")

    def _advance(self) -> None:
        if not self.running or self._commanding or self._current is not None:
            return
        controller = self._controller
        state = controller.state
        if state is Control.NO_SESSION:
            result = controller.new_session()
            if not result.accepted:
                self._stop(result.reason)
                return
            self._commanding = True
            self._after(result, self._session_opened)
            return
        if state is not Control.IDLE:
            return  # opening, or a follow-up task the person asked for at a hand back: wait for it
        step = self.queue.next_waiting()
        if step is None:
            self._finish()
            return
        self._record_start()
        self._current = step.id
        self._last_error = ""
        if step.kind is StepKind.AGENT:
            self.queue.set(step.id, state=StepState.RUNNING)
            self._changed()
            context = step_context(self.queue.earlier_than(step.id))
            self._commanding = True
            result = controller.run(step.text, earlier_steps=tuple(context))
            if not result.accepted:
                self._commanding = False
                self._fail(step.id, result.reason)
                return
            self._after(result, lambda ok: self._agent_step_started(step.id, ok))
            return
        self.queue.set(step.id, state=StepState.NEEDS_YOU)
        # Idle: the browser is the person's at once.
        result = controller.take_over(messages.queue_person_step(self.number(step.id), step.text))
        if not result.accepted:
            self._fail(step.id, result.reason)
            return
        self._changed()
        self._bus.publish(PersonStepReached(self.number(step.id), step.text))

    def _after(self, result: CommandResult, then: Any) -> None:
        assert result.done is not None

        def done(future: asyncio.Future[bool]) -> None:
            ok = not future.cancelled() and future.exception() is None and bool(future.result())
            then(ok)

        result.done.add_done_callback(done)

    def _session_opened(self, ok: bool) -> None:
        self._commanding = False
        if not ok and self.running:
            self._stop(self._last_error or "The session could not be started.")
            return
        self._schedule()

    def _agent_step_started(self, step_id: int, ok: bool) -> None:
        self._commanding = False
        if ok or self._current != step_id:
            return
        if self._controller.state.session_alive:
            self._fail(step_id, self._last_error or "The agent could not start.")
        # Else the session ended meanwhile: _session_closed has already stopped the queue.

    def _record_start(self) -> None:
        session = self._controller.session
        if session is not None and self._recorded_in != session.id:
            self._recorded_in = session.id
            self._controller.record(tl.QueueStarted, plan=plan_json(self.plan()), steps=len(self.queue.steps))

    # -- what the core reports ---------------------------------------------------------------------

    def _heard(self, event: Any) -> None:
        if isinstance(event, TimelineAdded):
            self._on_entry(event.entry)
        elif isinstance(event, ControlChanged):
            self._on_control(event.transition.after)
        elif isinstance(event, HumanRequested):
            self._on_agent_asked(event.reason)
        elif isinstance(event, SessionClosed):
            self._session_closed()
        elif isinstance(event, Notice) and event.level is Level.ERROR:
            self._last_error = event.text

    def _step_in_progress(self) -> Step | None:
        if self._current is None:
            return None
        try:
            return self.queue.get(self._current)
        except QueueRefused:
            return None

    def _on_entry(self, entry: tl.Entry) -> None:
        step = self._step_in_progress()
        if step is None:
            return
        if isinstance(entry, tl.TaskStarted) and step.kind is StepKind.AGENT:
            if entry.origin is not tl.TaskOrigin.KEEP_ALIVE:
                self.queue.set(step.id, task_ids=(*step.task_ids, entry.task_id))
        elif isinstance(entry, tl.TaskFinished) and entry.result.task_id in step.task_ids:
            self._task_finished(step, entry)
        elif isinstance(entry, tl.Handoff) and step.kind is StepKind.PERSON:
            if entry.by is tl.Actor.PERSON and entry.to is not tl.Actor.PERSON:
                self._person_step_done(step, entry.note)

    def _task_finished(self, step: Step, entry: tl.TaskFinished) -> None:
        result = entry.result
        step = self.queue.set(step.id, cost=step.cost + (result.cost_usd or 0))
        if result.needs_person is not None:
            return  # the agent asked for the person: the step waits for the Hand back (HumanRequested)
        state = self._controller.state
        if result.status is RunStatus.STOPPED and state in (Control.TAKING_OVER, Control.HUMAN, Control.ENDING):
            return  # taken over (Hand back continues it), or the session is ending (it waits again)
        if result.status is RunStatus.FINISHED and result.success is not False:
            self.queue.set(step.id, state=StepState.DONE, output=result.output or "", reason="")
            self._current = None
            self._changed()
            self._schedule()
            return
        reason = result.output or ("The agent's task was stopped." if result.status is RunStatus.STOPPED else "The agent did not succeed.")
        self._fail(step.id, reason)

    def _person_step_done(self, step: Step, note: str) -> None:
        self._controller.work.forget_carried(note)  # the queue tells it with this step, to every later agent step
        self.queue.set(step.id, state=StepState.DONE, output=note)
        self._current = None
        self._changed()
        self._schedule()

    def _on_agent_asked(self, reason: str) -> None:
        step = self._step_in_progress()
        if step is not None and step.kind is StepKind.AGENT:
            self.queue.set(step.id, state=StepState.NEEDS_YOU, reason=reason)
            self._changed()

    def _on_control(self, after: Control) -> None:
        step = self._step_in_progress()
        if after is Control.AGENT and step is not None and step.state is StepState.NEEDS_YOU and step.kind is StepKind.AGENT:
            self.queue.set(step.id, state=StepState.RUNNING, reason="")  # handed back: the agent goes on
            self._changed()
        elif after is Control.IDLE:
            self._schedule()
        elif after is Control.NO_SESSION:
            self._session_closed()  # ended, lost, or it never opened: the queue stops, nothing lost

    def _session_closed(self) -> None:
        if not self.running:
            return
        step = self._step_in_progress()
        if step is not None:
            self.queue.set(step.id, state=StepState.WAITING, reason="", task_ids=())
        waiting = self.queue.next_waiting()
        self.stopped_at = step.id if step is not None else (waiting.id if waiting is not None else None)
        self.running = False
        self._current = None
        self._commanding = False
        self._changed()
        if self.stopped_at is not None:
            self._tell_later(Notice(Level.WARNING, messages.QUEUE_STOPPED_SESSION))

    # -- ending --------------------------------------------------------------------------------------

    def _fail(self, step_id: int, reason: str) -> None:
        self.queue.set(step_id, state=StepState.FAILED, reason=reason)
        number = self.number(step_id)
        self.running = False
        self._current = None
        self._changed()
        self._tell_later(Notice(Level.WARNING, messages.queue_step_failed(number, reason)))

    def _tell_later(self, notice: Notice) -> None:
        """Once the report being handled is over: after the core's own notice about it, and after
        the window has shown the new control state (which clears what the banner said before)."""
        asyncio.get_running_loop().call_soon(self._bus.publish, notice)

    def _stop(self, reason: str) -> None:
        step = self._step_in_progress()
        if step is not None:
            self.queue.set(step.id, state=StepState.WAITING)
        self.running = False
        self._current = None
        self._commanding = False
        self._changed()
        self._bus.publish(Notice(Level.WARNING, reason))

    def _finish(self) -> None:
        self.running = False
        self._current = None
        text = summary(self.steps)
        self._changed()
        if self._controller.session is not None:
            self._controller.record(tl.QueueEnded, summary=text)
        self._bus.publish(QueueFinished(text))

    def _changed(self) -> None:
        self._bus.publish(QueueChanged(tuple(self.queue.steps), self.running, self.stopped_at))


def _resolved(value: bool) -> asyncio.Future[bool]:
    future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future


__all__ = ["QueueRunner", "QueueRefused"]
