"""The agent's tasks: starting, pausing, resuming and stopping them, and what the agent reports.

``AgentRuns`` is the backend's ``AgentListener``: steps, results, requests for the person and faults
come in here and become control transitions, timeline entries and notices. Session-wide reports
(the session lost, a billed session created) go on to ``SessionLifecycle``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING

from desktop_app.core import messages
from desktop_app.core import timeline as tl
from desktop_app.core.control import Control, Trigger
from desktop_app.core.errors import BackendError, Problem
from desktop_app.core.events import HumanRequested, Level, TaskReturned, action_for
from desktop_app.core.next_run import Resume
from desktop_app.core.ports import InterruptOutcome, RunHandle, RunResult, RunStatus, StepReport, TaskRequest
from desktop_app.core.session_core import SessionCore

if TYPE_CHECKING:
    from desktop_app.core.session_lifecycle import SessionLifecycle

log = logging.getLogger(__name__)


class AgentRuns:
    def __init__(self, core: SessionCore) -> None:
        self._core = core
        self.lifecycle: SessionLifecycle | None = None  # set once both exist (they report to each other)
        # A task being created or a run being resumed: a Take over meanwhile waits for it, then pauses.
        self.starting: asyncio.Task[bool] | None = None

    # -- starting and stopping -------------------------------------------------------------------

    async def start(
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
        core, work = self._core, self._core.work
        request = TaskRequest(text=text, request_id=uuid.uuid4().hex, screenshots=not work.without_screenshots_next)
        work.without_screenshots_next = False  # for the one task after a takeover only
        work.creating_goal = goal
        try:
            handle = await core.guarded(core.backend.start_task(request))
        except BackendError as error:
            if not core.state.session_alive:
                return False  # lost meanwhile (its agent died), and already said so: nothing to add
            if core.state is Control.TAKING_OVER:
                core.confirm_person_control()  # nothing runs, and the person asked for control anyway
            elif core.state is Control.AGENT:
                core.apply(failure)
            kept = messages.TASK_KEPT if origin is tl.TaskOrigin.RUN else ""  # the window leaves it in the box
            core.report(error, "The agent could not start", kept)
            return False
        finally:
            self.starting = None
            work.creating_goal = ""
        if not core.state.session_alive:
            return False  # the session ended while the task was being created: the task went with it
        work.started(handle, goal, handoff["note"] if handoff else note, core.clock())
        core.watch.agent_active()
        if handoff is not None:
            core.record(tl.Handoff, to=tl.Actor.AGENT, by=tl.Actor.PERSON, **handoff)
        core.record(tl.TaskStarted, task_id=handle.task_id, text=text, origin=origin, goal=goal)
        return True

    async def interrupt(self) -> bool:
        core = self._core
        if self.starting is not None:
            await asyncio.wait([self.starting])
        run = core.work.run
        if core.state is not Control.TAKING_OVER:
            return core.state is Control.HUMAN
        if run is None or run.paused:
            core.confirm_person_control()
            return True
        try:
            outcome = await core.guarded(core.backend.interrupt(run.handle))
        except BackendError as error:
            if core.state is Control.TAKING_OVER:
                core.apply(Trigger.TAKE_OVER_FAILED)
                core.notice(Level.ERROR, messages.could_not_pause(error.message))
            return False
        if core.work.run is run:
            if outcome is InterruptOutcome.PAUSED:
                run.paused = True
            else:
                core.work.cut_short(keep_goal=outcome is InterruptOutcome.STOPPED)
        if core.state is Control.TAKING_OVER:
            core.confirm_person_control()
        return True

    async def resume(self, plan: Resume) -> bool:
        core = self._core
        try:
            await core.guarded(core.backend.resume(plan.run, plan.context))
        except BackendError as error:
            if not core.state.session_alive:
                return False  # lost meanwhile (its agent died), and already said so: nothing to add
            if core.state is Control.AGENT:
                core.apply(Trigger.HAND_BACK_FAILED)
            elif core.state is Control.TAKING_OVER:
                core.confirm_person_control()  # it never resumed, so it is still paused
            core.report(error, "The agent could not continue")
            return False
        finally:
            self.starting = None
        run = core.work.run
        if run is not None and run.handle == plan.run:
            run.paused = False
            run.busy_since = core.clock()
        core.watch.agent_active()
        core.work.carried_notes.clear()
        core.record(tl.Handoff, to=tl.Actor.AGENT, by=tl.Actor.PERSON, note=plan.context.note, instruction=plan.context.instruction)
        return True

    async def stop_quietly(self) -> None:
        """Before the session ends: stop the run, keeping its goal for the task box if unfinished."""
        work = self._core.work
        run, work.run = work.run, None
        if run is None or run.task_id in work.finished_tasks:
            return
        if run.goal:  # unfinished: closing the session gives it back to the task box
            work.interrupted_goal = run.goal
        try:
            await self._core.guarded(self._core.backend.stop_task(run.handle))
        except BackendError as error:
            log.warning("Stopping the task before ending the session failed: %s", error.message)

    async def cancel_starting(self) -> None:
        if self.starting is not None and not self.starting.done():
            self.starting.cancel()
            await asyncio.wait([self.starting])

    # -- what the agent reports (AgentListener) --------------------------------------------------

    def on_step(self, step: StepReport) -> None:
        core, work = self._core, self._core.work
        if not work.is_new_step(step):
            return
        core.watch.agent_active()
        if work.run is not None and work.is_current(step.task_id):
            work.run.got_going = True
            work.run.last_step = max(work.run.last_step, step.number)
            work.run.busy_since = core.clock()
        core.record(tl.AgentStep, step=step)

    def on_finished(self, result: RunResult) -> None:
        core, work = self._core, self._core.work
        if not work.takes_result(result.task_id):
            return
        core.watch.agent_active()
        core.record(tl.TaskFinished, result=result)
        run = work.run
        if run is None or not work.is_current(result.task_id):
            return
        if result.needs_person is not None and run.goal and core.state in (Control.AGENT, Control.TAKING_OVER):
            # The task is over, but the agent says the person must act first: as request_human does,
            # control passes to them, and Hand back continues the goal as a follow-up task.
            work.cut_short(keep_goal=True)
            if core.state is Control.TAKING_OVER:
                core.confirm_person_control()
            else:
                self._person_asked(result.needs_person)
            return
        work.run = None
        if core.state is Control.AGENT:
            core.apply(Trigger.AGENT_FINISHED)
            if run.goal:  # a task the person gave (not a keep-alive): its outcome is worth a notice
                self._tell_outcome(result)
        elif core.state is Control.TAKING_OVER:
            work.interrupted_goal = run.goal if result.status is RunStatus.STOPPED else None
            core.confirm_person_control()

    def _tell_outcome(self, result: RunResult) -> None:
        output = result.output or ""
        if result.status is RunStatus.FAILED:
            self._core.notice(Level.WARNING, messages.task_failed(output))
            return
        text = messages.outcome(result.status is RunStatus.FINISHED, result.success, output)
        if text is not None:
            self._core.notice(Level.INFO if result.success is not False else Level.WARNING, text)

    def on_human_requested(self, task_id: str, reason: str) -> None:
        core = self._core
        run = core.work.run
        if run is None or run.task_id != task_id or core.state not in (Control.AGENT, Control.TAKING_OVER):
            return
        run.paused = True
        self._person_asked(reason)

    def _person_asked(self, reason: str) -> None:
        core = self._core
        core.apply(Trigger.AGENT_ASKS_HUMAN)
        core.record(tl.Handoff, to=tl.Actor.PERSON, by=tl.Actor.AGENT, reason=reason)
        core.bus.publish(HumanRequested(reason))

    def on_run_fault(self, task_id: str, error: Exception) -> None:
        core, work = self._core, self._core.work
        if not work.is_current(task_id):
            return
        run = work.cut_short(keep_goal=True)
        assert run is not None
        work.finished_tasks.add(task_id)
        message = error.message if isinstance(error, BackendError) else str(error) or type(error).__name__
        core.record(tl.TaskFinished, result=RunResult(task_id, RunStatus.FAILED, output=message))
        action = action_for(error)
        lost_track = isinstance(error, BackendError) and error.problem is Problem.LOST_TRACK
        if not run.got_going and not run.paused and core.state is Control.AGENT and not lost_track:
            # Nothing happened in the browser: nobody needs to take control. The task goes back
            # to the box as it was, to run again once the cause is fixed.
            core.apply(Trigger.RUN_FAILED)
            work.interrupted_goal = None
            core.bus.publish(TaskReturned(run.goal, run.note))  # the note too: the person wrote it
            core.notice(Level.ERROR, messages.could_not_start(message), action)
            return
        if core.try_apply(Trigger.AGENT_FAULTED):
            core.record(tl.Handoff, to=tl.Actor.PERSON, by=tl.Actor.AGENT, reason=message, fault=True)
        core.notice(Level.ERROR, messages.agent_stopped(message), action)

    def on_notice(self, text: str, *, resolved: bool = False) -> None:
        self._core.notice(Level.INFO if resolved else Level.WARNING, text)

    def on_session_lost(self, reason: str) -> None:
        assert self.lifecycle is not None
        self.lifecycle.on_session_lost(reason)

    def on_session_created(self, session_id: str) -> None:
        assert self.lifecycle is not None
        self.lifecycle.on_session_created(session_id)

    # -- the browser itself failing --------------------------------------------------------------

    def on_view_crashed(self, reason: str) -> None:
        """The embedded page's renderer died. If the view is the agent's browser, its run is over."""
        core = self._core
        run = core.work.run
        if not core.capabilities.view_is_browser or run is None or run.paused:
            return
        core.spawn(self._stop_after_crash(run.handle))
        self.on_run_fault(run.task_id, BackendError(Problem.BROWSER_GONE, f"The browser page stopped working ({reason})."))

    async def _stop_after_crash(self, handle: RunHandle) -> bool:
        try:
            await self._core.guarded(self._core.backend.stop_task(handle))
        except BackendError as error:
            log.warning("Stopping the agent after the page crashed failed: %s", error.message)
        return True
