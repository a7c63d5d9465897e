"""The session controller: what every command does (Run, Take over, Hand back, Stop session, quit).

Commands are plain methods that change the control state at once, before any await, so a second
click is refused instead of queuing work twice. The slow part runs in a task the core owns
(``AgentRuns`` for the agent's tasks, ``SessionLifecycle`` for opening and ending sessions); the
returned ``CommandResult.done`` resolves to True when it went through, False when it did not (the UI
keeps what the user typed until then). What the agent reports comes in through ``AgentRuns``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from desktop_app.core import messages
from desktop_app.core.messages import QuitQuestion
from desktop_app.core import timeline as tl
from desktop_app.core.agent_runs import AgentRuns
from desktop_app.core.cards import redact_cards
from desktop_app.core.control import Command, Control, Trigger, allows
from desktop_app.core.errors import BackendError
from desktop_app.core.events import (
    BackendChanged,
    EventBus,
    Level,
    NoticeAction,
    PersonActed,
    PrivacyDecision,
    StatusChanged,
    action_for,
)
from desktop_app.core.next_run import HandBackPlan, Release, Resume, TaskTooLong, compose_task, plan_hand_back
from desktop_app.core.ports import Backend, Capabilities, SessionInfo
from desktop_app.core.session_core import SessionCore
from desktop_app.core.session_lifecycle import SessionLifecycle
from desktop_app.core.work_in_hand import WorkInHand

log = logging.getLogger(__name__)

# How long closing the app may wait for the provider to confirm the session stopped.
SHUTDOWN_TIMEOUT = 18.0  # quitting never takes longer than this (the window has 2 s more)


class QuitConcern(Enum):
    BILLED_SESSION = "billed_session"  # the provider bills while the session is alive: stop it or keep it?
    UNFINISHED_TASK = "unfinished_task"  # quitting ends the agent's task before it is done


@dataclass(frozen=True)
class CommandResult:
    accepted: bool
    reason: str = ""
    done: asyncio.Future[bool] | None = None
    action: NoticeAction = NoticeAction.NONE  # what the refusal's notice offers (Settings: a key, a model)
    cause: str = ""  # what to fix, so what says so can go once it is (TOO_LONG)

    @property
    def needs_settings(self) -> bool:
        return self.action is NoticeAction.OPEN_SETTINGS


TOO_LONG = "too_long"  # the task (with what goes with it) is over the backend's limit


def _refused(reason: str, *, error: BackendError | None = None, cause: str = "") -> CommandResult:
    return CommandResult(False, reason, action=action_for(error), cause=cause)


class SessionController:
    def __init__(self, backend: Backend, bus: EventBus | None = None, *, clock: Callable[[], float] = time.time):
        self._core = core = SessionCore(backend, bus or EventBus(), clock)
        self.bus = core.bus
        self.timeline = core.timeline
        self.runs = AgentRuns(core)
        self.lifecycle = SessionLifecycle(core, self.runs)
        self.runs.lifecycle = self.lifecycle
        backend.attach(self.runs)
        self._queued_run: asyncio.Task[bool] | None = None  # Run pressed before the session was ready
        self.bus.subscribe(self._heard)

    # -- what observers may read ---------------------------------------------------------------

    @property
    def state(self) -> Control:
        return self._core.state

    @property
    def capabilities(self) -> Capabilities:
        return self._core.capabilities

    @property
    def backend(self) -> Backend:
        return self._core.backend

    @property
    def session(self) -> SessionInfo | None:
        return self._core.session

    @property
    def work(self) -> WorkInHand:
        return self._core.work

    @property
    def session_cost(self) -> Decimal:
        """What the current session has cost so far, including before a restart (reattached)."""
        return self._core.earlier_cost + self.timeline.total_cost

    def setup_problem(self) -> BackendError | None:
        """What must be set up before the agent can run a task (a key, a model), or None."""
        try:
            self.backend.preflight()
        except BackendError as error:
            return error
        return None

    def status(self) -> StatusChanged:
        """What the status line shows now (later changes arrive as ``StatusChanged`` events)."""
        return self._core.status()

    @property
    def quit_concern(self) -> QuitConcern | None:
        """What quitting now would cost the person, so the window can ask first (or None)."""
        if self.state.session_alive and self.capabilities.billed_while_alive:
            return QuitConcern.BILLED_SESSION
        if self.work.run is not None and self.state.session_alive:
            return QuitConcern.UNFINISHED_TASK  # running, or paused while the person has the browser
        return None

    def quit_question(self) -> QuitQuestion:
        """What closing the window asks while a billed session is alive."""
        session = self.session
        return QuitQuestion(
            self.capabilities.display_name,
            [("", session.id if session is not None else "", self.session_cost)],
            agent_working=self.agent_working,
        )

    def close_question(self, name: str) -> tuple[str, str, str, str] | None:
        """What closing this session's tab (named ``name``) asks first: title, text, the answer that
        stops the session and closes, the one that keeps it. None: nothing is open, it just closes."""
        if not self.state.session_alive:
            return None
        return messages.close_tab_question(name, self.capabilities.display_name)

    @property
    def agent_working(self) -> bool:
        return self.state in (Control.AGENT, Control.TAKING_OVER)

    def time_left(self) -> float | None:
        """Seconds before the provider ends the session on its own (None: no session, or it never does)."""
        reading = self._core.watch.reading()
        return None if reading is None else reading.remaining

    @property
    def stop_session_concern(self) -> str | None:
        """What Stop session would cut short, worth a confirmation (or None: nothing is lost)."""
        work = self.work
        if not work.unfinished_goal() or not self.state.session_alive:
            return None  # nothing asked of the agent is left undone (a keep-alive check has no goal)
        situation = messages.unfinished_situation(
            paused_for_person=work.run is not None and self.state is Control.HUMAN,
            working=work.run is not None or bool(work.creating_goal),
        )
        return messages.STOP_SESSION_CONCERN.format(situation=situation)

    @property
    def backend_locked_reason(self) -> str | None:
        """Why the backend cannot be swapped now (a session is open), or None."""
        return None if allows(self.state, Command.SWITCH_MODE) else messages.BACKEND_LOCKED

    @property
    def note_goes_with_run(self) -> bool:
        """Idle, the browser is the person's too: a note (e.g. one given back after a failed
        follow-up) goes with the next Run. Otherwise the note box is for Hand back only."""
        return self.state is Control.IDLE

    def over_limit(self, task: str, note: str = "") -> bool:
        """Whether Run (or Hand back, while the person has control) would refuse this as too long."""
        try:
            if self.state is Control.HUMAN:
                self._plan_hand_back(redact_cards(note), redact_cards(task))
            elif task.strip():
                self._composed_run(redact_cards(task.strip()), redact_cards(note.strip()) if self.note_goes_with_run else "")
        except TaskTooLong:
            return True
        return False

    def _composed_run(self, text: str, note: str, earlier_steps: tuple[str, ...] = ()) -> str:
        """The task as the agent gets it, with what the person did meanwhile (TaskTooLong if over the limit)."""
        account = self.work.person_account if self.state is Control.IDLE else ""
        notes = [*self.work.carried_notes, *(n for n in (account, note) if n)]
        return compose_task(text, notes, max_chars=self.capabilities.task_max_chars, earlier_steps=earlier_steps)

    def _plan_hand_back(self, note: str, instruction: str) -> HandBackPlan:
        paused = self.work.paused_run
        return plan_hand_back(
            paused_run=paused.handle if paused else None,
            interrupted_goal=self.work.interrupted_goal,
            note=note,
            instruction=instruction,
            carried_notes=self.work.carried_notes,
            max_chars=self.capabilities.task_max_chars,
        )

    # -- commands ------------------------------------------------------------------------------

    def new_session(self) -> CommandResult:
        if not self._core.try_apply(Trigger.START_SESSION):
            return _refused(messages.SESSION_ALREADY_OPEN)
        return CommandResult(True, done=self.lifecycle.begin_opening())

    def reattach(
        self, session_id: str, recorded_steps: dict[str, int] | None = None, earlier_cost: Decimal = Decimal(0)
    ) -> CommandResult:
        """Carry on with a session an earlier run left running (after a crash or a kept session).
        ``recorded_steps`` and ``earlier_cost`` are what the history holds of it already."""
        if not self._core.try_apply(Trigger.START_SESSION):
            return _refused(messages.STOP_BEFORE_REATTACH)
        return CommandResult(True, done=self.lifecycle.begin_adopting(session_id, recorded_steps or {}, earlier_cost))

    def keep_alive(self) -> CommandResult:
        """The person chose to keep an idle, billed session alive with a short agent task."""
        if self.state is not Control.IDLE:
            return _refused(messages.KEEP_ALIVE_ONLY_IDLE)
        self._core.apply(Trigger.RUN)
        return self._starting(self.runs.start(messages.KEEP_ALIVE_TASK, "", tl.TaskOrigin.KEEP_ALIVE, Trigger.RUN_FAILED))

    def _heard(self, event: Any) -> None:
        if isinstance(event, PersonActed) and self.state is Control.IDLE:
            self.work.person_account = event.account

    def run(self, text: str, note: str = "", *, earlier_steps: tuple[str, ...] = ()) -> CommandResult:
        """``note``: what the person wants the agent to know (a hand-back note given back after a
        failed follow-up); told to the agent with the task, after what the person did meanwhile.
        ``earlier_steps``: a queue's step is told what the steps before it did (core/queue_runner.py)."""
        text = self._without_cards(text.strip(), "task")
        if not text:
            return _refused(messages.TYPE_A_TASK)
        note = self._without_cards(note.strip(), "note")
        try:
            composed = self._composed_run(text, note, earlier_steps)
        except TaskTooLong as error:
            return _refused(str(error), cause=TOO_LONG)
        problem = self.setup_problem()  # no key or no model: say so now, before a session opens (and bills)
        if problem is not None:
            return _refused(f"{problem.message}{messages.TASK_KEPT}", error=problem)
        state = self.state
        if state in (Control.NO_SESSION, Control.STARTING):
            if self._queued_run is not None and not self._queued_run.done():
                return _refused(messages.RUN_ALREADY_WAITING)
            if state is Control.NO_SESSION:
                # Run without a session: start one, then run — the user should not need two clicks.
                self._core.apply(Trigger.START_SESSION)
                self.lifecycle.begin_opening()
            self._queued_run = self._core.spawn(self._run_when_open(composed, text, note))
            return CommandResult(True, done=self._queued_run)
        if state is not Control.IDLE:
            return _refused(
                messages.busy_reason(
                    agent_working=state in (Control.AGENT, Control.TAKING_OVER), person_in_control=state is Control.HUMAN
                )
            )
        self._core.apply(Trigger.RUN)
        return self._starting(self.runs.start(composed, text, tl.TaskOrigin.RUN, Trigger.RUN_FAILED, note=note))

    async def _run_when_open(self, composed: str, goal: str, note: str = "") -> bool:
        opening = self.lifecycle.opening
        if opening is None or not await opening or self.state is not Control.IDLE:
            return False
        self._core.apply(Trigger.RUN)
        self.runs.starting = asyncio.current_task()  # type: ignore[assignment]
        return await self.runs.start(composed, goal, tl.TaskOrigin.RUN, Trigger.RUN_FAILED, note=note)

    def take_over(self, reason: str = "") -> CommandResult:
        """``reason``: why, for the timeline (a queue's You step says what the person is to do)."""
        state = self.state
        if state is Control.IDLE:
            self._core.apply(Trigger.TAKE_OVER)
            self._core.record(tl.Handoff, to=tl.Actor.PERSON, by=tl.Actor.PERSON, reason=reason)
            return CommandResult(True, done=self._core.resolved(True))
        if state is Control.AGENT:
            self._core.apply(Trigger.TAKE_OVER)
            return CommandResult(True, done=self._core.spawn(self.runs.interrupt()))
        if state is Control.TAKING_OVER:
            return _refused(messages.already_taking_over(self.capabilities.pauses_in_place))
        return _refused(messages.ALREADY_IN_CONTROL if state is Control.HUMAN else messages.START_A_SESSION)

    def hand_back(self, note: str = "", instruction: str = "", *, screenshots: bool = True) -> CommandResult:
        """``screenshots=False``: the next task the agent gets reads the page's text only."""
        if self.state is not Control.HUMAN:
            return _refused(messages.ONLY_PERSON_HANDS_BACK if self.state.session_alive else messages.START_A_SESSION)
        work = self.work
        try:
            plan = self._plan_hand_back(self._without_cards(note, "note"), self._without_cards(instruction, "instruction"))
        except TaskTooLong as error:
            return _refused(str(error), cause=TOO_LONG)
        work.without_screenshots_next = not screenshots
        if isinstance(plan, Release):
            self._core.apply(Trigger.RELEASE)
            if plan.carried_note:
                work.carried_notes.append(plan.carried_note)
            self._core.record(tl.Handoff, to=tl.Actor.NOBODY, by=tl.Actor.PERSON, note=plan.carried_note)
            return CommandResult(True, done=self._core.resolved(True))
        self._core.apply(Trigger.HAND_BACK)
        if isinstance(plan, Resume):
            # Counted as starting: a Take over meanwhile waits for the resume, then pauses again.
            return self._starting(self.runs.resume(plan))
        handoff = {"note": plan.context.note, "instruction": plan.context.instruction}
        return self._starting(self.runs.start(plan.text, plan.goal, tl.TaskOrigin.HAND_BACK, Trigger.HAND_BACK_FAILED, handoff))

    def stop_session(self) -> CommandResult:
        if not self._core.try_apply(Trigger.END_SESSION):
            return _refused(messages.NO_SESSION_TO_STOP if not self.state.session_alive else messages.ALREADY_STOPPING)
        return CommandResult(True, done=self.lifecycle.begin_ending("Stopped by you"))

    def replace_backend(self, backend: Backend) -> CommandResult:
        if self.backend_locked_reason is not None:
            return _refused(self.backend_locked_reason)
        old, self._core.backend = self._core.backend, backend
        backend.attach(self.runs)
        self.bus.publish(BackendChanged(backend.capabilities))
        self._core.publish_status()
        return CommandResult(True, done=self._core.spawn(_closed(old)))

    def record(self, entry_type: type[tl.Entry], /, **fields: Any) -> None:
        """A timeline entry from a part of core that drives the controller (the queue's start and end)."""
        self._core.record(entry_type, **fields)

    def on_view_crashed(self, reason: str) -> None:
        self.runs.on_view_crashed(reason)

    async def shutdown(self, *, stop_session: bool = True, within: float = SHUTDOWN_TIMEOUT) -> None:
        """Stop a running task, stop (or keep) the session, close clients — all within ``within``
        seconds, whatever the provider does. Call before Qt quits. What could not be confirmed stays
        open in the history, so the next start offers to reattach or stop it."""
        deadline = asyncio.get_running_loop().time() + within

        async def bounded(step: Awaitable[Any], what: str, share: float = 1.0) -> None:
            remaining = deadline - asyncio.get_running_loop().time()
            task = asyncio.ensure_future(step)
            done, _ = await asyncio.wait([task], timeout=max(0.0, remaining * share))
            if not done:
                task.cancel()
                await asyncio.wait([task])
                log.warning("Quitting: %s was not confirmed in time", what)
            elif not task.cancelled() and task.exception() is not None:
                log.warning("Quitting: %s failed: %s", what, task.exception())

        run = self.work.run
        if run is not None and not run.paused and self.state is not Control.NO_SESSION:
            await bounded(self.runs.stop_quietly(), "stopping the agent's task", share=0.4)
        ending = self.lifecycle.ending
        ending = ending if ending is not None and not ending.done() else None
        if ending is None and stop_session and self._core.try_apply(Trigger.END_SESSION):
            ending = self.lifecycle.begin_ending("Handoff was closed")
        if ending is not None:
            # Also a Stop session already under way: let it finish rather than cut it off.
            await bounded(asyncio.shield(ending), "stopping the session (it may still be running)", share=0.85)
        await self._core.tasks.cancel_all()
        await bounded(self._core.guarded(self.backend.aclose()), f"closing the {self.capabilities.display_name} connection")

    # -- helpers -------------------------------------------------------------------------------

    def _starting(self, work: Any) -> CommandResult:
        """A task being created or resumed: a Take over meanwhile waits for it (AgentRuns.interrupt)."""
        self.runs.starting = self._core.spawn(work)
        return CommandResult(True, done=self.runs.starting)

    def _without_cards(self, text: str, what: str) -> str:
        """Card numbers never go to the agent as text (the person types them into the page)."""
        cleaned = redact_cards(text)
        if cleaned != text:
            self.bus.publish(PrivacyDecision("note_redacted", f"Card details removed from the {what}", {"what": what}))
            self._core.notice(Level.INFO, messages.cards_shortened(what))
        return cleaned


async def _closed(backend: Backend) -> bool:
    await backend.aclose()
    return True


__all__ = ["CommandResult", "QuitConcern", "SessionController", "TOO_LONG"]
