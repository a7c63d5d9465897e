"""The session controller: the one place that decides what happens on every click and event.

Commands (``new_session``, ``run``, ``take_over``, ``hand_back``, ``stop_session``) are plain
methods that change the control state at once, before any await, so a second click is refused
instead of queuing work twice. The slow part runs in a task the controller owns; the returned
``CommandResult.done`` resolves to True when it went through, False when it did not (the UI keeps
what the user typed until then).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from desktop_app.core import timeline as tl
from desktop_app.core.cards import redact_cards
from desktop_app.core.control import (
    Control,
    ControlMachine,
    Transition,
    TransitionRefused,
    Trigger,
)
from desktop_app.core.errors import BackendError, Problem
from desktop_app.core.events import (
    BackendChanged,
    ControlChanged,
    EventBus,
    HumanRequested,
    Level,
    Notice,
    NoticeAction,
    PersonActed,
    PrivacyDecision,
    SessionClosed,
    SessionCreateSettled,
    SessionCreating,
    SessionOpened,
    TaskReturned,
    TimelineAdded,
)
from desktop_app.core.next_run import (
    Release,
    Resume,
    TaskTooLong,
    compose_task,
    plan_hand_back,
)
from desktop_app.core.ports import (
    Backend,
    Capabilities,
    InterruptOutcome,
    RunHandle,
    RunResult,
    RunStatus,
    SessionInfo,
    StepReport,
    TaskRequest,
)
from desktop_app.core.store import UNCONFIRMED_PREFIX
from desktop_app.core.session_clock import ClockReading, SessionClock
from desktop_app.core.tasks import TaskSet
from desktop_app.core.wording import plural

log = logging.getLogger(__name__)
T = TypeVar("T")

# How long closing the app may wait for the provider to confirm the session stopped.
SHUTDOWN_TIMEOUT = 18.0  # quitting never takes longer than this (the window has 2 s more)
# A step taking longer than this is worth explaining: the model is slow, not the app stuck.
SLOW_STEP_SECONDS = 45
KEEP_ALIVE_TASK = (
    "This is only a keep-alive check for this browser session. Do not open, click or type anything; "
    "finish immediately with done."
)


class QuitConcern(Enum):
    BILLED_SESSION = "billed_session"  # the provider bills while the session is alive: stop it or keep it?
    UNFINISHED_TASK = "unfinished_task"  # quitting ends the agent's task before it is done


@dataclass(frozen=True)
class CommandResult:
    accepted: bool
    reason: str = ""
    done: asyncio.Future[bool] | None = None
    needs_settings: bool = False  # refused for something to fix in Settings (a key, a model)
    cause: str = ""  # what to fix, so what says so can go once it is (TOO_LONG)


TOO_LONG = "too_long"  # the task (with what goes with it) is over the backend's limit


def _refused(reason: str, *, needs_settings: bool = False, cause: str = "") -> CommandResult:
    return CommandResult(False, reason, needs_settings=needs_settings, cause=cause)


@dataclass
class _Run:
    handle: RunHandle
    goal: str  # what the person asked for, without the hand-back context around it
    note: str = ""  # the person's hand-back note this run was started with (given back if it fails)
    paused: bool = False
    got_going: bool = False  # the agent reported a step (or asked for the person) in this run
    last_step: int = 0  # the newest step number reported for this run
    busy_since: float = 0.0  # when the agent last started or resumed work on its next step


class SessionController:
    def __init__(self, backend: Backend, bus: EventBus | None = None, *, clock: Callable[[], float] = time.time):
        self.bus = bus or EventBus()
        self.timeline = tl.Timeline()
        self._earlier_cost = Decimal(0)
        self._clock = clock
        self._machine = ControlMachine(clock)
        self._backend = backend
        backend.attach(self)
        self.session: SessionInfo | None = None
        self._run: _Run | None = None
        self._interrupted_goal: str | None = None
        self._pending_goal = ""  # the goal of a task being created (no run handle yet)
        self._carried_notes: list[str] = []
        self._known_tasks: set[str] = set()
        self._finished_tasks: set[str] = set()
        self._opening: asyncio.Task[bool] | None = None
        self._starting: asyncio.Task[bool] | None = None
        self._work = TaskSet(on_failure=self._unexpected_failure)
        self._session_clock: SessionClock | None = None
        self._clock_warned = False
        self._verifying: asyncio.Task[bool] | None = None
        self._step_floor: dict[str, int] = {}  # steps already in the history (after reattaching)
        self._ending: asyncio.Task[bool] | None = None
        self._queued_run: asyncio.Task[bool] | None = None  # Run pressed before the session was ready
        self._next_without_screenshots = False  # chosen at Hand back, for the next task created
        self._recorded_session = ""  # the session whose start the history already holds
        self._creating_marker: str | None = None  # the history's marker for a session create under way
        # What the person did in the browser while it was theirs with the agent idle (PrivacyGuard's
        # account): told to the agent with the next Run, as a hand-back note would be.
        self._person_account = ""
        self.bus.subscribe(self._heard)

    # -- what observers may read ---------------------------------------------------------------

    @property
    def state(self) -> Control:
        return self._machine.state

    @property
    def capabilities(self) -> Capabilities:
        return self._backend.capabilities

    @property
    def backend(self) -> Backend:
        return self._backend

    @property
    def has_paused_run(self) -> bool:
        return self._run is not None and self._run.paused

    @property
    def interrupted_goal(self) -> str | None:
        return self._interrupted_goal

    def setup_problem(self) -> BackendError | None:
        """What must be set up before the agent can run a task (a key, a model), or None."""
        try:
            self._backend.preflight()
        except BackendError as error:
            return error
        return None

    @property
    def session_cost(self) -> Decimal:
        """What the current session has cost so far, including before a restart (reattached)."""
        return self._earlier_cost + self.timeline.total_cost

    @property
    def quit_concern(self) -> QuitConcern | None:
        """What quitting now would cost the person, so the window can ask first (or None)."""
        if self.state.session_alive and self.capabilities.billed_while_alive:
            return QuitConcern.BILLED_SESSION
        if self._run is not None and self.state.session_alive:
            return QuitConcern.UNFINISHED_TASK  # running, or paused while the person has the browser
        return None

    @property
    def stop_session_concern(self) -> str | None:
        """What Stop session would cut short, worth a confirmation (or None: nothing is lost)."""
        if not self._unfinished_goal() or not self.state.session_alive:
            return None  # nothing asked of the agent is left undone (a keep-alive check has no goal)
        if self._run is not None and self.state is Control.HUMAN:
            situation = "The agent's task is paused while you have the browser"
        elif self._run is not None or self._pending_goal:
            situation = "The agent is still working on its task"
        else:  # stopped at Take over (Cloud), or by a fault, and not yet continued
            situation = "The agent's task is unfinished"
        return f"{situation}. Stopping the session ends it; the task goes back to the task box."

    def _without_cards(self, text: str, what: str) -> str:
        """Card numbers never go to the agent as text (the person types them into the page)."""
        cleaned = redact_cards(text)
        if cleaned != text:
            self.bus.publish(PrivacyDecision("note_redacted", f"Card details removed from the {what}", {"what": what}))
            self._notice(
                Level.INFO,
                f"Card details in your {what} were shortened to their last four digits before the agent saw it. "
                "Type card details into the page itself: they stay hidden from the agent there.",
            )
        return cleaned

    def _unfinished_goal(self) -> str:
        """What the person asked for that the agent has not finished, running, paused or stopped."""
        if self._run is not None:
            return self._run.goal
        return self._pending_goal or self._interrupted_goal or ""

    # -- commands ------------------------------------------------------------------------------

    def new_session(self) -> CommandResult:
        if not self._try(Trigger.START_SESSION):
            return _refused("A session is already open.")
        return CommandResult(True, done=self._begin_opening())

    def reattach(
        self, session_id: str, recorded_steps: dict[str, int] | None = None, earlier_cost: Decimal = Decimal(0)
    ) -> CommandResult:
        """Carry on with a session an earlier run left running (after a crash or a kept session).
        ``recorded_steps`` and ``earlier_cost`` are what the history holds of it already."""
        if not self._try(Trigger.START_SESSION):
            return _refused("Stop the current session before reattaching to another one.")
        self._forget_session_state()
        self._earlier_cost = earlier_cost
        self._step_floor = dict(recorded_steps or {})
        self._opening = self._spawn(self._adopt(session_id))
        return CommandResult(True, done=self._opening)

    def keep_alive(self) -> CommandResult:
        """The person chose to keep an idle, billed session alive with a short agent task."""
        if self.state is not Control.IDLE:
            return _refused("The session can only be kept alive while nobody is using it.")
        self._apply(Trigger.RUN)
        self._starting = self._spawn(
            self._start_run(KEEP_ALIVE_TASK, "", tl.TaskOrigin.KEEP_ALIVE, Trigger.RUN_FAILED)
        )
        return CommandResult(True, done=self._starting)

    def _heard(self, event: Any) -> None:
        if isinstance(event, PersonActed) and self.state is Control.IDLE:
            self._person_account = event.account

    def run(self, text: str, note: str = "") -> CommandResult:
        """``note``: what the person wants the agent to know (a hand-back note given back after a
        failed follow-up); told to the agent with the task, after what the person did meanwhile."""
        text = self._without_cards(text.strip(), "task")
        if not text:
            return _refused("Type a task for the agent first.")
        note = self._without_cards(note.strip(), "note")
        account = self._person_account if self.state is Control.IDLE else ""
        notes = [*self._carried_notes, *(n for n in (account, note) if n)]
        try:
            composed = compose_task(text, notes, max_chars=self.capabilities.task_max_chars)
        except TaskTooLong as error:
            return _refused(str(error), cause=TOO_LONG)
        problem = self.setup_problem()  # no key or no model: say so now, before a session opens (and bills)
        if problem is not None:
            return _refused(f"{problem.message} Your task is kept.", needs_settings=problem.needs_settings)
        state = self.state
        if state in (Control.NO_SESSION, Control.STARTING):
            if self._queued_run is not None and not self._queued_run.done():
                return _refused("A task is already waiting for the browser to start.")
            if state is Control.NO_SESSION:
                # Run without a session: start one, then run — the user should not need two clicks.
                self._apply(Trigger.START_SESSION)
                self._begin_opening()
            self._queued_run = self._spawn(self._run_when_open(composed, text, note))
            return CommandResult(True, done=self._queued_run)
        if state is not Control.IDLE:
            return _refused(_busy_reason(state))
        self._apply(Trigger.RUN)
        self._starting = self._spawn(self._start_run(composed, text, tl.TaskOrigin.RUN, Trigger.RUN_FAILED, note=note))
        return CommandResult(True, done=self._starting)

    def take_over(self) -> CommandResult:
        state = self.state
        if state is Control.IDLE:
            self._apply(Trigger.TAKE_OVER)
            self._record(tl.Handoff, to=tl.Actor.PERSON, by=tl.Actor.PERSON)
            return CommandResult(True, done=self._resolved(True))
        if state is Control.AGENT:
            self._apply(Trigger.TAKE_OVER)
            return CommandResult(True, done=self._spawn(self._interrupt()))
        if state is Control.TAKING_OVER:
            doing = "pausing the agent" if self.capabilities.pauses_in_place else "stopping the agent's task"
            return _refused(f"Already {doing} — the view unlocks as soon as that is confirmed.")
        if state is Control.HUMAN:
            return _refused("You already have control.")
        return _refused("Start a session first.")

    def hand_back(self, note: str = "", instruction: str = "", *, screenshots: bool = True) -> CommandResult:
        """``screenshots=False``: the next task the agent gets reads the page's text only."""
        if self.state is not Control.HUMAN:
            return _refused(
                "Only the person in control can hand back." if self.state.session_alive else "Start a session first."
            )
        note = self._without_cards(note, "note")
        instruction = self._without_cards(instruction, "instruction")
        run = self._run if self._run and self._run.paused else None
        try:
            plan = plan_hand_back(
                paused_run=run.handle if run else None,
                interrupted_goal=self._interrupted_goal,
                note=note,
                instruction=instruction,
                carried_notes=self._carried_notes,
                max_chars=self.capabilities.task_max_chars,
            )
        except TaskTooLong as error:
            return _refused(str(error), cause=TOO_LONG)
        self._next_without_screenshots = not screenshots
        if isinstance(plan, Release):
            self._apply(Trigger.RELEASE)
            if plan.carried_note:
                self._carried_notes.append(plan.carried_note)
            self._record(tl.Handoff, to=tl.Actor.NOBODY, by=tl.Actor.PERSON, note=plan.carried_note)
            return CommandResult(True, done=self._resolved(True))
        self._apply(Trigger.HAND_BACK)
        if isinstance(plan, Resume):
            # Counted as starting: a Take over meanwhile waits for the resume, then pauses again.
            self._starting = self._spawn(self._resume(plan))
            return CommandResult(True, done=self._starting)
        goal = instruction.strip() or self._interrupted_goal or ""
        handoff = {"note": note.strip(), "instruction": instruction.strip()}
        self._starting = self._spawn(
            self._start_run(plan.text, goal, tl.TaskOrigin.HAND_BACK, Trigger.HAND_BACK_FAILED, handoff)
        )
        return CommandResult(True, done=self._starting)

    def stop_session(self) -> CommandResult:
        if not self._try(Trigger.END_SESSION):
            return _refused("There is no session to stop." if not self.state.session_alive else "Already stopping.")
        self._ending = self._spawn(self._end_session("Stopped by you"))
        return CommandResult(True, done=self._ending)

    @property
    def backend_locked_reason(self) -> str | None:
        """Why the backend cannot be swapped now (a session is open), or None."""
        if self.state is not Control.NO_SESSION:
            return "Stop the current session before switching between Local and Cloud."
        return None

    def replace_backend(self, backend: Backend) -> CommandResult:
        if self.backend_locked_reason is not None:
            return _refused(self.backend_locked_reason)
        old, self._backend = self._backend, backend
        backend.attach(self)
        self.bus.publish(BackendChanged(backend.capabilities))
        return CommandResult(True, done=self._spawn(self._close_backend(old)))

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

        if self._run is not None and not self._run.paused and self.state is not Control.NO_SESSION:
            await bounded(self._stop_run_quietly(), "stopping the agent's task", share=0.4)
        ending = self._ending if self._ending is not None and not self._ending.done() else None
        if ending is None and stop_session and self._try(Trigger.END_SESSION):
            ending = self._spawn(self._end_session("Handoff was closed"))
        if ending is not None:
            # Also a Stop session already under way: let it finish rather than cut it off.
            await bounded(asyncio.shield(ending), "stopping the session (it may still be running)", share=0.85)
        await self._work.cancel_all()
        await bounded(self._guarded(self._backend.aclose()), f"closing the {self.capabilities.display_name} connection")

    # -- the slow halves of the commands -------------------------------------------------------

    def _forget_session_state(self) -> None:
        self.timeline.clear()
        self._known_tasks.clear()
        self._finished_tasks.clear()
        self._earlier_cost = Decimal(0)

    def _begin_opening(self) -> asyncio.Task[bool]:
        self._forget_session_state()
        self._opening = self._spawn(self._open_session())
        return self._opening

    async def _open_session(self) -> bool:
        marker = self._mark_session_creating()
        recorded_before = self._recorded_session
        try:
            session = await self._guarded(self._backend.open_session())
        except BackendError as error:
            if error.unconfirmed_since is None or self._recorded_session != recorded_before:
                self._settle_session_create(marker)  # nothing was made, or it is recorded by its id
            # Otherwise a session may exist that we never heard of: the marker stays, and the next
            # start asks the provider for sessions started since (core/recovery.py).
            if self.state is Control.STARTING:
                self._apply(Trigger.SESSION_FAILED)
            self._report(error, "The session could not be started")
            return False
        except asyncio.CancelledError:
            if self._recorded_session != recorded_before:
                self._settle_session_create(marker)
            raise  # cut off while asking: the marker stays for the next start to look into
        self._settle_session_create(marker)
        if self.state is not Control.STARTING:
            return False  # stopped or closed while starting; _end_session deals with the session
        self._session_ready(session)
        if session.id != self._recorded_session:
            self._record_session_started(session.id)
        self.bus.publish(SessionOpened(session, self.capabilities))
        return True

    async def _adopt(self, session_id: str) -> bool:
        try:
            session, running = await self._guarded(self._backend.adopt_session(session_id))
        except BackendError as error:
            if self.state is Control.STARTING:
                self._apply(Trigger.SESSION_FAILED)
            self._report(error, "Could not reattach to the session")
            return False
        if self.state is not Control.STARTING:
            return False
        self._session_ready(session)
        self._record(tl.SessionReattached)
        self.bus.publish(SessionOpened(session, self.capabilities, reattached=True))
        if running is not None:
            self._run = _Run(
                running, running.text, last_step=self._step_floor.get(running.task_id, 0), busy_since=self._clock()
            )
            self._known_tasks.add(running.task_id)
            self._apply(Trigger.RUN)
        return True

    def _mark_session_creating(self) -> str | None:
        if not self.capabilities.billed_while_alive:
            return None  # a Local session cannot outlive the app
        marker = f"{UNCONFIRMED_PREFIX}{uuid.uuid4().hex[:12]}"
        self._creating_marker = marker
        self.bus.publish(SessionCreating(marker, self.capabilities.display_name, self.capabilities.kind, self._clock()))
        return marker

    def _settle_session_create(self, marker: str | None) -> None:
        if marker is not None and marker == self._creating_marker:
            self._creating_marker = None
            self.bus.publish(SessionCreateSettled(marker))

    def on_session_created(self, session_id: str) -> None:
        if self.state is Control.STARTING or self.state is Control.ENDING:
            self._record_session_started(session_id)  # recorded by its id: the marker has done its job
            self._settle_session_create(self._creating_marker)

    def _record_session_started(self, session_id: str, *, at: float | None = None) -> None:
        self._recorded_session = session_id
        self._record(
            tl.SessionStarted, session_id=session_id, at=at, backend=self.capabilities.display_name, backend_kind=self.capabilities.kind
        )

    def _session_ready(self, session: SessionInfo) -> None:
        self.session = session
        limits = self.capabilities.limits
        # A start "in the future" (clock skew between us and the provider) counts from now.
        started = min(session.started_at, self._clock())
        self._session_clock = SessionClock(limits, started) if limits else None
        self._clock_warned = False
        self._apply(Trigger.SESSION_READY)

    async def _run_when_open(self, composed: str, goal: str, note: str = "") -> bool:
        opening = self._opening
        if opening is None or not await opening or self.state is not Control.IDLE:
            return False
        self._apply(Trigger.RUN)
        self._starting = asyncio.current_task()  # type: ignore[assignment]
        return await self._start_run(composed, goal, tl.TaskOrigin.RUN, Trigger.RUN_FAILED, note=note)

    async def _start_run(
        self,
        text: str,
        goal: str,
        origin: tl.TaskOrigin,
        failure: Trigger,
        handoff: dict[str, str] | None = None,
        *,
        note: str = "",
    ) -> bool:
        """``note``: the person's note sent with a Run, given back with the task if the agent fails
        before doing anything (a hand back's note travels in ``handoff``)."""
        request = TaskRequest(text=text, request_id=uuid.uuid4().hex, screenshots=not self._next_without_screenshots)
        self._next_without_screenshots = False  # for the one task after a takeover only
        self._pending_goal = goal
        try:
            handle = await self._guarded(self._backend.start_task(request))
        except BackendError as error:
            if self.state is Control.TAKING_OVER:
                self._confirm_person_control()  # nothing runs, and the person asked for control anyway
            elif self.state is Control.AGENT:
                self._apply(failure)
            kept = " Your task is kept." if origin is tl.TaskOrigin.RUN else ""  # the window leaves it in the box
            self._report(error, "The agent could not start", kept)
            return False
        finally:
            self._starting = None
            self._pending_goal = ""
        if not self.state.session_alive:
            return False  # the session ended while the task was being created: the task went with it
        self._run = _Run(handle, goal, note=handoff["note"] if handoff else note, busy_since=self._clock())
        self._agent_active()
        self._interrupted_goal = None
        self._carried_notes.clear()
        self._person_account = ""
        self._known_tasks.add(handle.task_id)
        if handoff is not None:
            self._record(tl.Handoff, to=tl.Actor.AGENT, by=tl.Actor.PERSON, **handoff)
        self._record(tl.TaskStarted, task_id=handle.task_id, text=text, origin=origin, goal=goal)
        return True

    async def _interrupt(self) -> bool:
        if self._starting is not None:
            await asyncio.wait([self._starting])
        run = self._run
        if self.state is not Control.TAKING_OVER:
            return self.state is Control.HUMAN
        if run is None or run.paused:
            self._confirm_person_control()
            return True
        try:
            outcome = await self._guarded(self._backend.interrupt(run.handle))
        except BackendError as error:
            if self.state is Control.TAKING_OVER:
                self._apply(Trigger.TAKE_OVER_FAILED)
                self._notice(
                    Level.ERROR,
                    f"The agent could not be paused: {error.message} "
                    "The view stays locked until the agent is confirmed stopped — press Take over to try again.",
                )
            return False
        if self._run is run:
            if outcome is InterruptOutcome.PAUSED:
                run.paused = True
            else:
                self._run = None
                self._interrupted_goal = run.goal if outcome is InterruptOutcome.STOPPED else None
        if self.state is Control.TAKING_OVER:
            self._confirm_person_control()
        return True

    async def _resume(self, plan: Resume) -> bool:
        try:
            await self._guarded(self._backend.resume(plan.run, plan.context))
        except BackendError as error:
            if self.state is Control.AGENT:
                self._apply(Trigger.HAND_BACK_FAILED)
            elif self.state is Control.TAKING_OVER:
                self._confirm_person_control()  # it never resumed, so it is still paused
            self._report(error, "The agent could not continue")
            return False
        finally:
            self._starting = None
        if self._run is not None and self._run.handle == plan.run:
            self._run.paused = False
            self._run.busy_since = self._clock()
        self._agent_active()
        self._carried_notes.clear()
        self._record(
            tl.Handoff,
            to=tl.Actor.AGENT,
            by=tl.Actor.PERSON,
            note=plan.context.note,
            instruction=plan.context.instruction,
        )
        return True

    async def _end_session(self, reason: str) -> bool:
        if self._opening is not None and not self._opening.done():
            # Adapters record a created session before waiting for its live view, so cancelling here
            # never loses track of a billed session; end_session below stops it.
            self._opening.cancel()
            await asyncio.wait([self._opening])
        if self._starting is not None and not self._starting.done():
            # A create still waiting on the provider (rate-limited, slow) must not hold up the stop:
            # stopping the session ends any task it made meanwhile.
            self._starting.cancel()
            await asyncio.wait([self._starting])
        if self._run is not None:
            await self._stop_run_quietly()
        try:
            await self._guarded(self._backend.end_session())
        except BackendError as error:
            if error.problem not in (Problem.SESSION_GONE, Problem.NOT_FOUND):
                if self.state is Control.ENDING:
                    self._apply(Trigger.END_FAILED)
                self._report(
                    error,
                    "The session could not be stopped",
                    suffix=" It may still be running (and billed) — press Stop session to try again.",
                )
                return False
        self._close_session(Trigger.SESSION_ENDED, reason)
        return True

    async def _stop_run_quietly(self) -> None:
        run, self._run = self._run, None
        if run is None or run.handle.task_id in self._finished_tasks:
            return
        if run.goal:  # unfinished: closing the session gives it back to the task box
            self._interrupted_goal = run.goal
        try:
            await self._guarded(self._backend.stop_task(run.handle))
        except BackendError as error:
            log.warning("Stopping the task before ending the session failed: %s", error.message)

    async def _close_backend(self, backend: Backend) -> bool:
        await backend.aclose()
        return True

    # -- what the agent reports (AgentListener) ------------------------------------------------

    def on_step(self, step: StepReport) -> None:
        if step.task_id in self._known_tasks and step.number > self._step_floor.get(step.task_id, 0):
            self._agent_active()
            if self._run is not None and self._run.handle.task_id == step.task_id:
                self._run.got_going = True
                self._run.last_step = max(self._run.last_step, step.number)
                self._run.busy_since = self._clock()
            self._record(tl.AgentStep, step=step)

    def on_finished(self, result: RunResult) -> None:
        if result.task_id not in self._known_tasks or result.task_id in self._finished_tasks:
            return
        self._finished_tasks.add(result.task_id)
        self._agent_active()
        self._record(tl.TaskFinished, result=result)
        run = self._run
        if run is None or run.handle.task_id != result.task_id:
            return
        self._run = None
        if self.state is Control.AGENT:
            self._apply(Trigger.AGENT_FINISHED)
            if run.goal:  # a task the person gave (not a keep-alive): its outcome is worth a notice
                self._tell_outcome(result)
        elif self.state is Control.TAKING_OVER:
            self._interrupted_goal = run.goal if result.status is RunStatus.STOPPED else None
            self._confirm_person_control()

    def _tell_outcome(self, result: RunResult) -> None:
        output = result.output or ""
        if result.status is RunStatus.FINISHED and result.success is not False:
            self._notice(Level.INFO, f"Done: {output}" if output else "The agent finished the task.")
        elif result.status is RunStatus.FINISHED:
            self._notice(Level.WARNING, f"The agent could not do it: {output}" if output else "The agent could not do the task.")
        elif result.status is RunStatus.FAILED:
            self._notice(Level.WARNING, f"The task failed: {output}" if output else "The task failed.")

    def on_human_requested(self, task_id: str, reason: str) -> None:
        run = self._run
        if run is None or run.handle.task_id != task_id or self.state not in (Control.AGENT, Control.TAKING_OVER):
            return
        run.paused = True
        self._apply(Trigger.AGENT_ASKS_HUMAN)
        self._record(tl.Handoff, to=tl.Actor.PERSON, by=tl.Actor.AGENT, reason=reason)
        self.bus.publish(HumanRequested(reason))

    def on_run_fault(self, task_id: str, error: Exception) -> None:
        run = self._run
        if run is None or run.handle.task_id != task_id:
            return
        self._run = None
        self._interrupted_goal = run.goal
        self._finished_tasks.add(task_id)
        message = error.message if isinstance(error, BackendError) else str(error) or type(error).__name__
        self._record(tl.TaskFinished, result=RunResult(task_id, RunStatus.FAILED, output=message))
        action = NoticeAction.OPEN_SETTINGS if isinstance(error, BackendError) and error.needs_settings else NoticeAction.NONE
        lost_track = isinstance(error, BackendError) and error.problem is Problem.LOST_TRACK
        if not run.got_going and not run.paused and self.state is Control.AGENT and not lost_track:
            # Nothing happened in the browser: nobody needs to take control. The task goes back
            # to the box as it was, to run again once the cause is fixed.
            self._apply(Trigger.RUN_FAILED)
            self._interrupted_goal = None
            self.bus.publish(TaskReturned(run.goal, run.note))  # the note too: the person wrote it
            self._notice(Level.ERROR, f"The agent could not start: {message} Your task is kept; press Run to try again.", action)
            return
        if self._try(Trigger.AGENT_FAULTED):
            self._record(tl.Handoff, to=tl.Actor.PERSON, by=tl.Actor.AGENT, reason=message, fault=True)
        self._notice(
            Level.ERROR,
            f"The agent stopped: {message} You have control of the browser; hand back to let the agent try again.",
            action,
        )

    def on_notice(self, text: str, *, resolved: bool = False) -> None:
        self._notice(Level.INFO if resolved else Level.WARNING, text)

    def on_session_lost(self, reason: str) -> None:
        if self.state is Control.NO_SESSION:
            return
        self._close_session(Trigger.SESSION_LOST, reason)
        self._notice(
            Level.WARNING,
            f"{reason} Start a new session to carry on — your task text is kept.",
            NoticeAction.NEW_SESSION,
        )

    # -- the provider's clock ------------------------------------------------------------------

    def clock_reading(self, now: float | None = None) -> ClockReading | None:
        """Time left before the provider ends the session on its own; None if it never does."""
        if self._session_clock is None or not self.state.session_alive:
            return None
        return self._session_clock.read(self._clock() if now is None else now)

    def clock_to_show(self, now: float | None = None) -> ClockReading | None:
        """The clock matters to the person only while nobody works the agent (idle, or in control)."""
        return self.clock_reading(now) if self.state in (Control.IDLE, Control.HUMAN) else None

    def activity(self, now: float | None = None) -> str | None:
        """What the agent is doing right now, for someone watching a page that has not moved."""
        run = self._run
        if run is None or run.paused or self.state is not Control.AGENT:
            return None
        now = self._clock() if now is None else now
        waited = max(0, int(now - run.busy_since))
        text = f"Working on step {run.last_step + 1}"
        if waited >= SLOW_STEP_SECONDS:
            return f"{text} · {waited} s (the model is slow to answer)"
        return f"{text} · {waited} s" if waited >= 3 else text

    def tick(self, now: float | None = None) -> None:
        """Called about once a second: warns before a session times out and notices when it has."""
        now = self._clock() if now is None else now
        reading = self.clock_reading(now)
        if reading is None or self.state in (Control.AGENT, Control.TAKING_OVER, Control.STARTING):
            return
        if not reading.warn:
            self._clock_warned = False
            return
        if reading.expired:
            if self._verifying is None or self._verifying.done():
                message = self._session_clock.expiry_message(now, self.capabilities.display_name)
                self._verifying = self._spawn(self._verify_session(message))
            return
        if not self._clock_warned:
            self._clock_warned = True
            minutes = max(1, round(reading.remaining / 60))
            idle = self.state is Control.IDLE
            what_to_do = (
                "Run a task, or keep it alive with a short agent task (billed)." if idle else "Hand back to the agent to keep it."
            )
            self._notice(
                Level.WARNING,
                f"The {self.capabilities.display_name} session will end in about {plural(minutes, 'minute')} without agent "
                f"activity. {what_to_do}",
                NoticeAction.KEEP_ALIVE if idle else NoticeAction.NONE,
            )

    async def _verify_session(self, expiry_message: str) -> bool:
        try:
            alive = await self._guarded(self._backend.session_alive())
        except BackendError as error:
            log.warning("Could not check whether the session is still alive: %s", error.message)
            return False
        if alive:
            if self._session_clock is not None:
                self._session_clock.touch(self._clock())  # the provider disagrees: trust it
            return True
        self.on_session_lost(expiry_message)
        return False

    def _agent_active(self) -> None:
        if self._session_clock is not None:
            self._session_clock.touch(self._clock())
            self._clock_warned = False

    # -- the browser itself failing ----------------------------------------------------------

    def on_view_crashed(self, reason: str) -> None:
        """The embedded page's renderer died. If the view is the agent's browser, its run is over."""
        if not self.capabilities.view_is_browser or self._run is None or self._run.paused:
            return
        run = self._run
        self._spawn(self._stop_after_crash(run.handle))
        self.on_run_fault(run.handle.task_id, BackendError(Problem.BROWSER_GONE, f"The browser page stopped working ({reason})."))

    async def _stop_after_crash(self, handle: RunHandle) -> bool:
        try:
            await self._guarded(self._backend.stop_task(handle))
        except BackendError as error:
            log.warning("Stopping the agent after the page crashed failed: %s", error.message)
        return True

    # -- helpers -------------------------------------------------------------------------------

    async def _guarded(self, awaitable: Awaitable[T]) -> T:
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

    def _close_session(self, trigger: Trigger, reason: str) -> None:
        session = self.session
        unfinished = self._unfinished_goal()
        self._apply(trigger)
        if session is not None:
            self._record(tl.SessionEnded, reason=reason)
            self.bus.publish(SessionClosed(session.id, reason))
        self.session = None
        self._session_clock = None
        self._run = None
        self._interrupted_goal = None
        self._carried_notes.clear()
        self._person_account = ""
        if unfinished:  # back in the task box (if it is empty), to run again in a new session
            self.bus.publish(TaskReturned(unfinished))

    def _confirm_person_control(self) -> None:
        self._apply(Trigger.CONTROL_CONFIRMED)
        self._record(tl.Handoff, to=tl.Actor.PERSON, by=tl.Actor.PERSON)

    def _try(self, trigger: Trigger) -> bool:
        if not self._machine.can(trigger):
            log.debug("Refused %s while %s", trigger.value, self.state.value)
            return False
        self._apply(trigger)
        return True

    def _apply(self, trigger: Trigger) -> Transition:
        transition = self._machine.apply(trigger)
        log.debug("Control %s -> %s (%s)", transition.before.value, transition.after.value, trigger.value)
        self.bus.publish(ControlChanged(transition))
        return transition

    def _record(self, entry_type: type[tl.Entry], /, *, session_id: str | None = None, at: float | None = None, **fields: Any) -> None:
        if session_id is None:
            session_id = self.session.id if self.session else ""
        at = self._clock() if at is None else at
        # Nothing card-shaped is kept or shown: an agent's output or a note may quote a card.
        entry = tl.redacted(entry_type(at=at, session_id=session_id, **fields), redact_cards)
        self.timeline.add(entry)
        self.bus.publish(TimelineAdded(entry))

    def _report(self, error: BackendError, headline: str, suffix: str = "") -> None:
        log.warning("%s: %s (%s)%s", headline, error.message, error.problem.value, f" — {error.detail}" if error.detail else "")
        if self.session is not None:
            self._record(tl.Incident, text=f"{headline}: {error.message}")
        if error.needs_settings:
            action = NoticeAction.OPEN_SETTINGS
        elif error.problem is Problem.SESSION_GONE:
            action = NoticeAction.NEW_SESSION
        else:
            action = NoticeAction.NONE
        self._notice(Level.ERROR, f"{headline}: {error.message}{suffix}", action)
        if error.problem is Problem.SESSION_GONE and self.state.session_alive:
            self.on_session_lost(f"The {self.capabilities.display_name} session has ended.")

    def _notice(self, level: Level, text: str, action: NoticeAction = NoticeAction.NONE) -> None:
        self.bus.publish(Notice(level, text, action))

    def _spawn(self, coroutine: Coroutine[Any, Any, bool]) -> asyncio.Task[bool]:
        return self._work.spawn(coroutine)

    def _unexpected_failure(self, error: BaseException) -> None:
        self._notice(Level.ERROR, f"Something went wrong: {type(error).__name__}: {error}")

    @staticmethod
    def _resolved(value: bool) -> asyncio.Future[bool]:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        future.set_result(value)
        return future


def _busy_reason(state: Control) -> str:
    if state in (Control.AGENT, Control.TAKING_OVER):
        return "The agent is already working. Take over first, or wait until it finishes."
    if state is Control.HUMAN:
        return "You have control: press Hand back to give the agent your instruction."
    return "The session is not ready yet."


__all__ = ["CommandResult", "SessionController", "TransitionRefused"]
