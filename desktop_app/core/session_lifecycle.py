"""A session's life: opening one (or adopting an earlier run's), watching its clock, ending it.

Billed sessions are recorded before they exist: a marker goes into the history as the create is
asked for, and is settled by the answer (or by the adapter telling the session's id early), so a
crash or a lost answer meanwhile is looked into at the next start (core/recovery.py).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

from desktop_app.core import messages
from desktop_app.core import timeline as tl
from desktop_app.core.control import Control, Trigger
from desktop_app.core.errors import BackendError, Problem
from desktop_app.core.events import (
    Level,
    NoticeAction,
    SessionClosed,
    SessionCreateSettled,
    SessionCreating,
    SessionEndingSoon,
    SessionOpened,
    TaskReturned,
)
from desktop_app.core.ports import SessionInfo
from desktop_app.core.session_core import SessionCore
from desktop_app.core.session_watch import TICK_SECONDS, TimeUp, WarnSoon
from desktop_app.core.store import UNCONFIRMED_PREFIX

if TYPE_CHECKING:
    from desktop_app.core.agent_runs import AgentRuns

log = logging.getLogger(__name__)


class SessionLifecycle:
    def __init__(self, core: SessionCore, runs: AgentRuns) -> None:
        self._core = core
        self._runs = runs
        core.on_session_gone = self.on_session_lost
        self.opening: asyncio.Task[bool] | None = None
        self.ending: asyncio.Task[bool] | None = None
        self._watching: asyncio.Task[bool] | None = None
        self._verifying: asyncio.Task[bool] | None = None
        self._recorded_session = ""  # the session whose start the history already holds
        self._creating_marker: str | None = None  # the history's marker for a session create under way

    # -- opening ---------------------------------------------------------------------------------

    def begin_opening(self) -> asyncio.Task[bool]:
        self._forget_session_state()
        self.opening = self._core.spawn(self._open())
        return self.opening

    def begin_adopting(self, session_id: str, recorded_steps: dict[str, int], earlier_cost: Decimal) -> asyncio.Task[bool]:
        self._forget_session_state(recorded_steps)
        self._core.earlier_cost = earlier_cost
        self.opening = self._core.spawn(self._adopt(session_id))
        return self.opening

    def _forget_session_state(self, recorded_steps: dict[str, int] | None = None) -> None:
        self._core.timeline.clear()
        self._core.work.new_session(recorded_steps)
        self._core.earlier_cost = Decimal(0)

    async def _open(self) -> bool:
        core = self._core
        marker = self._mark_session_creating()
        recorded_before = self._recorded_session
        try:
            session = await core.guarded(core.backend.open_session())
        except BackendError as error:
            if error.unconfirmed_since is None or self._recorded_session != recorded_before:
                self._settle_session_create(marker)  # nothing was made, or it is recorded by its id
            # Otherwise a session may exist that we never heard of: the marker stays, and the next
            # start asks the provider for sessions started since (core/recovery.py).
            if core.state is Control.STARTING:
                core.apply(Trigger.SESSION_FAILED)
            core.report(error, "The session could not be started")
            return False
        except asyncio.CancelledError:
            if self._recorded_session != recorded_before:
                self._settle_session_create(marker)
            raise  # cut off while asking: the marker stays for the next start to look into
        self._settle_session_create(marker)
        if core.state is not Control.STARTING:
            return False  # stopped or closed while starting; end() deals with the session
        self._session_ready(session)
        if session.id != self._recorded_session:
            self._record_session_started(session.id)
        core.bus.publish(SessionOpened(session, core.capabilities))
        return True

    async def _adopt(self, session_id: str) -> bool:
        core = self._core
        try:
            session, running = await core.guarded(core.backend.adopt_session(session_id))
        except BackendError as error:
            if core.state is Control.STARTING:
                core.apply(Trigger.SESSION_FAILED)
            core.report(error, "Could not reattach to the session")
            return False
        if core.state is not Control.STARTING:
            return False
        self._session_ready(session)
        core.record(tl.SessionReattached)
        core.bus.publish(SessionOpened(session, core.capabilities, reattached=True))
        if running is not None:
            # The task still running on it: its goal is what it was asked (the provider keeps the text).
            core.work.started(running.handle, running.text, "", core.clock())
            core.apply(Trigger.RUN)
        return True

    def _mark_session_creating(self) -> str | None:
        core = self._core
        if not core.capabilities.billed_while_alive:
            return None  # a Local session cannot outlive the app
        marker = f"{UNCONFIRMED_PREFIX}{uuid.uuid4().hex[:12]}"
        self._creating_marker = marker
        core.bus.publish(SessionCreating(marker, core.capabilities.display_name, core.capabilities.kind, core.clock()))
        return marker

    def _settle_session_create(self, marker: str | None) -> None:
        if marker is not None and marker == self._creating_marker:
            self._creating_marker = None
            self._core.bus.publish(SessionCreateSettled(marker))

    def on_session_created(self, session_id: str) -> None:
        if self._core.state in (Control.STARTING, Control.ENDING):
            self._record_session_started(session_id)  # recorded by its id: the marker has done its job
            self._settle_session_create(self._creating_marker)

    def _record_session_started(self, session_id: str) -> None:
        core = self._core
        self._recorded_session = session_id
        core.record(tl.SessionStarted, session_id=session_id, backend=core.capabilities.display_name, backend_kind=core.capabilities.kind)

    def _session_ready(self, session: SessionInfo) -> None:
        core = self._core
        core.session = session
        core.watch.start(core.capabilities.limits, session.started_at)
        core.apply(Trigger.SESSION_READY)
        self._watching = core.spawn(self._watch())

    # -- the provider's clock --------------------------------------------------------------------

    async def _watch(self) -> bool:
        """Once a second until the session is closed (not merely ending: a stop may fail and the
        session go on): the status line, and the clock's warnings. ``_close`` cancels it."""
        while self._core.session is not None:
            await asyncio.sleep(TICK_SECONDS)
            self.tick()
        return True

    def tick(self, now: float | None = None) -> None:
        """Warns before the provider ends an idle session, and asks it once the time is up."""
        core = self._core
        core.publish_status()
        verdict = core.watch.check(core.state, core.capabilities.display_name, now)
        if isinstance(verdict, TimeUp):
            if self._verifying is None or self._verifying.done():
                self._verifying = core.spawn(self._verify_session(verdict.message))
        elif isinstance(verdict, WarnSoon):
            core.notice(
                Level.WARNING,
                messages.session_ending_soon(core.capabilities.display_name, verdict.minutes, idle=verdict.idle),
                NoticeAction.KEEP_ALIVE if verdict.idle else NoticeAction.NONE,
            )
            core.bus.publish(SessionEndingSoon(verdict.minutes, verdict.idle))

    async def _verify_session(self, expiry_message: str) -> bool:
        core = self._core
        try:
            alive = await core.guarded(core.backend.session_alive())
        except BackendError as error:
            log.warning("Could not check whether the session is still alive: %s", error.message)
            return False
        if alive:
            core.watch.agent_active()  # the provider disagrees: trust it
            return True
        self.on_session_lost(expiry_message)
        return False

    # -- ending ----------------------------------------------------------------------------------

    def begin_ending(self, reason: str) -> asyncio.Task[bool]:
        self.ending = self._core.spawn(self._end(reason))
        return self.ending

    async def _end(self, reason: str) -> bool:
        core = self._core
        if self.opening is not None and not self.opening.done():
            # Adapters record a created session before waiting for its live view, so cancelling here
            # never loses track of a billed session; end_session below stops it.
            self.opening.cancel()
            await asyncio.wait([self.opening])
        # A create still waiting on the provider (rate-limited, slow) must not hold up the stop:
        # stopping the session ends any task it made meanwhile.
        await self._runs.cancel_starting()
        if core.work.run is not None:
            await self._runs.stop_quietly()
        try:
            await core.guarded(core.backend.end_session())
        except BackendError as error:
            if error.problem not in (Problem.SESSION_GONE, Problem.NOT_FOUND):
                if core.state is Control.ENDING:
                    core.apply(Trigger.END_FAILED)
                core.report(
                    error,
                    "The session could not be stopped",
                    suffix=" It may still be running (and billed) — press Stop session to try again.",
                )
                return False
        if core.state is Control.ENDING:  # not lost meanwhile (an agent that died as it was stopped)
            self._close(Trigger.SESSION_ENDED, reason)
        return True

    def on_session_lost(self, reason: str) -> None:
        if self._core.state is Control.NO_SESSION:
            return
        self._close(Trigger.SESSION_LOST, reason)
        self._core.notice(Level.WARNING, messages.session_lost(reason), NoticeAction.NEW_SESSION)

    def _close(self, trigger: Trigger, reason: str) -> None:
        core = self._core
        session = core.session
        unfinished = core.work.unfinished_goal()
        core.apply(trigger)
        if session is not None:
            core.record(tl.SessionEnded, reason=reason)
            core.bus.publish(SessionClosed(session.id, reason))
        core.session = None
        core.watch.stop()
        if self._watching is not None:
            self._watching.cancel()  # its loop would end at its next tick anyway
            self._watching = None
        core.work.session_closed()
        core.publish_status()
        if unfinished:  # back in the task box (if it is empty), to run again in a new session
            core.bus.publish(TaskReturned(unfinished))
