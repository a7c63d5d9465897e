"""An in-memory Backend whose every answer a core test decides: no Qt, no HTTP.

Each operation is recorded in ``calls``; ``gate(name)`` makes the next call of an operation wait
until the test releases it; ``fail_next(name, error)`` makes it raise.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass

from desktop_app.core.ports import (
    AgentListener,
    Capabilities,
    HandBackContext,
    InterruptOutcome,
    RemoteSession,
    RunHandle,
    RunningTask,
    RunResult,
    RunStatus,
    SessionInfo,
    SessionLimits,
    StepReport,
    TaskRequest,
)

CLOUD_LIKE = Capabilities(
    kind="cloud",
    display_name="Scripted cloud",
    pauses_in_place=False,
    view_is_browser=False,
    billed_while_alive=True,
    limits=SessionLimits(900, 14400),
)
LOCAL_LIKE = Capabilities(
    kind="local",
    display_name="Scripted local",
    pauses_in_place=True,
    view_is_browser=True,
    billed_while_alive=False,
)


@dataclass
class Call:
    name: str
    args: tuple[object, ...]


class ScriptedBackend:
    def __init__(self, capabilities: Capabilities = CLOUD_LIKE, *, session_id: str = "session-1") -> None:
        self.capabilities = capabilities
        self.session_id = session_id  # what open_session answers
        self.listener: AgentListener | None = None
        self.calls: list[Call] = []
        self.closed = False
        self.live_sessions: list[RemoteSession] = []
        self._gates: dict[str, asyncio.Event] = {}
        self._failures: dict[str, list[Exception]] = {}
        self._task_numbers = itertools.count(1)
        self.interrupt_outcome: InterruptOutcome | None = None
        self.adopted_task: str | None = None  # a task still running on an adopted session
        self.alive = True  # what session_alive() answers
        self.preflights = 0

    # -- test controls -------------------------------------------------------------------------

    def gate(self, name: str) -> asyncio.Event:
        event = asyncio.Event()
        self._gates[name] = event
        return event

    def fail_next(self, name: str, error: Exception) -> None:
        self._failures.setdefault(name, []).append(error)

    def names(self) -> list[str]:
        return [c.name for c in self.calls]

    def count(self, name: str) -> int:
        return self.names().count(name)

    def last(self, name: str) -> Call:
        return [c for c in self.calls if c.name == name][-1]

    def report_step(self, task_id: str, number: int, goal: str = "Look around") -> None:
        assert self.listener is not None
        self.listener.on_step(StepReport(task_id, number, goal, f"https://example.com/{number}"))

    def report_finished(self, task_id: str, status: RunStatus = RunStatus.FINISHED, output: str = "Done") -> None:
        assert self.listener is not None
        self.listener.on_finished(RunResult(task_id, status, output=output, success=status is RunStatus.FINISHED))

    # -- Backend -------------------------------------------------------------------------------

    def attach(self, listener: AgentListener) -> None:
        self.listener = listener

    async def _enter(self, name: str, *args: object) -> None:
        self.calls.append(Call(name, args))
        gate = self._gates.pop(name, None)
        if gate is not None:
            await gate.wait()
        failures = self._failures.get(name)
        if failures:
            raise failures.pop(0)

    def preflight(self) -> None:
        # Not in ``calls``: it is a check, not an operation on the provider.
        self.preflights += 1
        failures = self._failures.get("preflight")
        if failures:
            raise failures.pop(0)

    async def open_session(self) -> SessionInfo:
        await self._enter("open_session")
        return SessionInfo(id=self.session_id, live_url="https://live.example/view?token=secret-token-123", started_at=time.time())

    async def start_task(self, request: TaskRequest) -> RunHandle:
        await self._enter("start_task", request)
        return RunHandle(f"task-{next(self._task_numbers)}")

    async def interrupt(self, run: RunHandle) -> InterruptOutcome:
        await self._enter("interrupt", run)
        if self.interrupt_outcome is not None:
            return self.interrupt_outcome
        return InterruptOutcome.PAUSED if self.capabilities.pauses_in_place else InterruptOutcome.STOPPED

    async def resume(self, run: RunHandle, context: HandBackContext) -> None:
        await self._enter("resume", run, context)

    async def stop_task(self, run: RunHandle) -> None:
        await self._enter("stop_task", run)

    async def end_session(self) -> None:
        await self._enter("end_session")

    async def session_alive(self) -> bool:
        await self._enter("session_alive")
        return self.alive

    async def find_live_sessions(self, known_ids: set[str], started_since: float | None = None) -> list[RemoteSession]:
        await self._enter("find_live_sessions", known_ids)
        return [s for s in self.live_sessions if s.id in known_ids]

    async def adopt_session(self, session_id: str) -> tuple[SessionInfo, RunningTask | None]:
        await self._enter("adopt_session", session_id)
        session = SessionInfo(id=session_id, live_url="https://live.example/view?token=adopted-token-1", started_at=time.time())
        running = RunningTask(RunHandle("adopted-task"), self.adopted_task) if self.adopted_task else None
        return session, running

    async def stop_remote_session(self, session_id: str) -> None:
        await self._enter("stop_remote_session", session_id)

    async def aclose(self) -> None:
        self.closed = True
        self.calls.append(Call("aclose", ()))
