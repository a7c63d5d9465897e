"""The Backend protocol both adapters implement, and the plain data they exchange with the core.

The core never asks which backend it has; where backends differ it reads ``Capabilities``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from desktop_app.core.backend_kind import BackendKind

if TYPE_CHECKING:
    from decimal import Decimal


@dataclass(frozen=True)
class SessionLimits:
    """Provider-side limits of a session (Browser Use Cloud: 15 min without activity, 4 h in all)."""

    idle_seconds: float
    max_seconds: float


@dataclass(frozen=True)
class Capabilities:
    kind: BackendKind  # recorded with each session (recovery looks for billed ones); the UI never branches on it
    display_name: str
    # Take over pauses the run and Hand back resumes it (local). Otherwise Take over stops the task
    # and Hand back creates a follow-up task on the same session (cloud).
    pauses_in_place: bool
    # The live view is the browser itself (address bar, persistent profile), not a remote viewer page.
    view_is_browser: bool
    billed_while_alive: bool
    limits: SessionLimits | None = None
    task_max_chars: int = 50_000
    # How many sessions the window may hold at once in this mode (None: as many as the provider allows).
    max_sessions: int | None = None
    why_max_sessions: str = ""  # said where a new session is refused for that limit


@dataclass(frozen=True)
class SessionInfo:
    id: str
    live_url: str | None  # None: the view itself is the browser
    started_at: float


@dataclass(frozen=True)
class TaskRequest:
    text: str
    request_id: str  # idempotency token: lets an adapter find a task whose create answer was lost
    screenshots: bool = True  # False: the agent reads the page's text only (Cloud's ``vision``)


@dataclass(frozen=True)
class RunHandle:
    task_id: str


@dataclass(frozen=True)
class RunningTask:
    """A task an earlier run left running on a session it adopts, and what it was asked (the provider keeps it)."""

    handle: RunHandle
    text: str


@dataclass(frozen=True)
class StepReport:
    task_id: str
    number: int
    next_goal: str
    url: str
    evaluation: str = ""
    memory: str = ""
    actions: tuple[str, ...] = ()
    screenshot_url: str | None = None
    duration: float | None = None
    error: str = ""  # why the step failed, if it did


class RunStatus(Enum):
    FINISHED = "finished"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True)
class RunResult:
    task_id: str
    status: RunStatus
    output: str | None = None
    success: bool | None = None
    cost_usd: Decimal | None = None
    steps: int = 0
    # The agent ended its task to ask for the person (Cloud's structured output): what they should do.
    needs_person: str | None = None


class InterruptOutcome(Enum):
    PAUSED = "paused"  # the run waits; resume() continues it
    STOPPED = "stopped"  # the run is over; a follow-up task continues the work
    ALREADY_OVER = "already_over"


@dataclass(frozen=True)
class HandBackContext:
    """What the agent is told when it gets the browser back."""

    note: str
    instruction: str
    message: str  # the composed text for the agent


@dataclass(frozen=True)
class RemoteSession:
    """A session the provider still reports as running (for recovery after a crash)."""

    id: str
    started_at: float


class AgentListener(Protocol):
    """How an adapter reports what the agent does; the core implements it."""

    def on_step(self, step: StepReport) -> None: ...

    def on_finished(self, result: RunResult) -> None: ...

    def on_human_requested(self, task_id: str, reason: str) -> None: ...

    def on_run_fault(self, task_id: str, error: Exception) -> None: ...

    def on_session_lost(self, reason: str) -> None: ...

    def on_session_created(self, session_id: str) -> None:
        """A billed session exists from now on (told before it is ready, so a crash while it gets
        ready still leaves it in the history for the next start to offer)."""
        ...

    def on_notice(self, text: str, *, resolved: bool = False) -> None:
        """Something the person should know that is not a failure (e.g. contact lost, retrying);
        ``resolved``: good news, the trouble an earlier notice reported is over."""
        ...


class Backend(Protocol):
    capabilities: Capabilities

    def attach(self, listener: AgentListener) -> None: ...

    def preflight(self) -> None:
        """Raise BackendError if no task could run as things are set up (no key, no model), so Run
        says so at once, before a session is opened or billed. Must not block (no network)."""
        ...

    async def open_session(self) -> SessionInfo: ...

    async def start_task(self, request: TaskRequest) -> RunHandle: ...

    async def interrupt(self, run: RunHandle) -> InterruptOutcome:
        """Return only when the agent is confirmed to send no more input."""
        ...

    async def resume(self, run: RunHandle, context: HandBackContext) -> None: ...

    async def stop_task(self, run: RunHandle) -> None: ...

    async def end_session(self) -> None: ...

    async def session_alive(self) -> bool:
        """Whether the provider still runs the current session (checked when its clock runs out)."""
        ...

    async def find_live_sessions(self, known_ids: set[str], started_since: float | None = None) -> list[RemoteSession]:
        """The sessions among ``known_ids`` the provider still runs, and (with ``started_since``)
        any other running session started since then: one whose create answer was lost."""
        ...

    async def adopt_session(self, session_id: str) -> tuple[SessionInfo, RunningTask | None]:
        """Take over a session left by an earlier run, and the task still running on it, if any."""
        ...

    async def stop_remote_session(self, session_id: str) -> None: ...

    async def aclose(self) -> None: ...
