"""The queue: an ordered list of steps, each the agent's (a task) or the person's (something to do
in the browser), and the pure rules about them — which step runs next, what may be edited while the
queue runs, Skip and Run again, what a step's state becomes after each thing that can happen.

No I/O and no asyncio: ``core/queue_runner.py`` drives the session controller from these rules.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import Enum

from desktop_app.core import messages


class StepKind(Enum):
    AGENT = "agent"
    PERSON = "you"

    @property
    def label(self) -> str:
        return "Agent" if self is StepKind.AGENT else "You"


class StepState(Enum):
    WAITING = "waiting"
    RUNNING = "running"
    NEEDS_YOU = "needs_you"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def label(self) -> str:
        return {
            StepState.WAITING: "waiting",
            StepState.RUNNING: "running",
            StepState.NEEDS_YOU: "needs you",
            StepState.DONE: "done",
            StepState.FAILED: "failed",
            StepState.SKIPPED: "skipped",
        }[self]

    @property
    def in_progress(self) -> bool:
        return self in (StepState.RUNNING, StepState.NEEDS_YOU)

    # What a person may do with a step in this state (the queue refuses the rest; the panel enables its buttons from these).
    @property
    def can_skip(self) -> bool:
        return self in (StepState.WAITING, StepState.FAILED)

    @property
    def can_run_again(self) -> bool:
        return self in (StepState.DONE, StepState.FAILED, StepState.SKIPPED)

    @property
    def can_remove(self) -> bool:
        return not self.in_progress


@dataclass(frozen=True)
class Step:
    id: int
    kind: StepKind
    text: str
    state: StepState = StepState.WAITING
    output: str = ""  # the agent's result (agent step) or the person's note (person step)
    reason: str = ""  # why it failed, or what the agent asks of the person
    task_ids: tuple[str, ...] = ()  # the agent's tasks for this step (a follow-up after a takeover adds one)
    cost: Decimal = Decimal(0)

    def line(self) -> str:
        return f"{self.kind.label}: {self.text}"


class QueueRefused(ValueError):
    """An edit the queue's rules do not allow now; the message says why."""


_ids = itertools.count(1)


def new_step(kind: StepKind, text: str) -> Step:
    text = text.strip()
    if not text:
        raise QueueRefused(messages.QUEUE_STEP_EMPTY)
    return Step(next(_ids), kind, text)


@dataclass
class Queue:
    steps: list[Step] = field(default_factory=list)

    # -- reading ---------------------------------------------------------------------------------

    def index(self, step_id: int) -> int:
        for i, step in enumerate(self.steps):
            if step.id == step_id:
                return i
        raise QueueRefused(messages.QUEUE_STEP_GONE)

    def get(self, step_id: int) -> Step:
        return self.steps[self.index(step_id)]

    def next_waiting(self) -> Step | None:
        """What runs next: the first waiting step, in the queue's order."""
        return next((s for s in self.steps if s.state is StepState.WAITING), None)

    def in_progress(self) -> Step | None:
        return next((s for s in self.steps if s.state.in_progress), None)

    def earlier_than(self, step_id: int) -> list[Step]:
        return self.steps[: self.index(step_id)]

    @property
    def finished(self) -> bool:
        """Nothing is left to run (every step done or skipped)."""
        return all(s.state in (StepState.DONE, StepState.SKIPPED) for s in self.steps)

    # -- editing (allowed while the queue runs, except on the step in progress) -------------------

    def add(self, step: Step, at: int | None = None) -> Step:
        self.steps.insert(len(self.steps) if at is None else max(0, min(at, len(self.steps))), step)
        return step

    def edit(self, step_id: int, text: str) -> Step:
        i = self.index(step_id)
        step = self.steps[i]
        if step.state.in_progress:
            raise QueueRefused(messages.QUEUE_STEP_BUSY)
        text = text.strip()
        if not text:
            raise QueueRefused(messages.QUEUE_STEP_EMPTY)
        self.steps[i] = replace(step, text=text)
        return self.steps[i]

    def remove(self, step_id: int) -> None:
        i = self.index(step_id)
        if not self.steps[i].state.can_remove:
            raise QueueRefused(messages.QUEUE_STEP_BUSY)
        del self.steps[i]

    def move(self, step_id: int, to: int) -> None:
        """Reordering never changes what is running; a waiting step moved above it runs after it."""
        i = self.index(step_id)
        step = self.steps.pop(i)
        self.steps.insert(max(0, min(to, len(self.steps))), step)

    def skip(self, step_id: int) -> Step:
        step = self.get(step_id)
        if not step.state.can_skip:
            raise QueueRefused(messages.QUEUE_SKIP_ONLY_WAITING)
        return self.set(step_id, state=StepState.SKIPPED)

    def run_again(self, step_id: int) -> Step:
        """The step waits again (its earlier output goes); it runs next, before later waiting steps."""
        step = self.get(step_id)
        if not step.state.can_run_again:
            raise QueueRefused(messages.QUEUE_STEP_BUSY if step.state.in_progress else messages.QUEUE_ALREADY_WAITING)
        return self.set(step_id, state=StepState.WAITING, output="", reason="", task_ids=(), cost=Decimal(0))

    def set(self, step_id: int, **changes: object) -> Step:
        i = self.index(step_id)
        self.steps[i] = replace(self.steps[i], **changes)  # type: ignore[arg-type]
        return self.steps[i]

    def reset_all(self) -> None:
        """Run from the start: every step waits again."""
        for step in list(self.steps):
            self.set(step.id, state=StepState.WAITING, output="", reason="", task_ids=(), cost=Decimal(0))


def step_context(earlier: list[Step]) -> list[str]:
    """What an agent step is told of the queue so far: each earlier step, its output, the person's notes."""
    lines: list[str] = []
    for number, step in enumerate(earlier, start=1):
        if step.state is StepState.SKIPPED:
            lines.append(f"{number}. {step.line()} — skipped")
        elif step.state is not StepState.DONE:
            continue
        elif step.kind is StepKind.AGENT:
            lines.append(f"{number}. {step.line()} — result: {step.output or '(no output)'}")
        else:
            note = f" — the person's note: {step.output}" if step.output else " — done (no note)"
            lines.append(f"{number}. {step.line()}{note}")
    return lines


def summary(steps: list[Step]) -> str:
    """One text for the end of a queue: every step, who did it, its output, and the cost."""
    lines = ["Queue summary"]
    total = Decimal(0)
    for number, step in enumerate(steps, start=1):
        lines.append(f"{number}. {step.line()} [{step.state.label}]")
        if step.output:
            lines.append(f"   {'Result' if step.kind is StepKind.AGENT else 'Note'}: {step.output}")
        if step.reason and step.state is StepState.FAILED:
            lines.append(f"   Why: {step.reason}")
        total += step.cost
    lines.append(f"Cost: {messages.format_cost(total)}")
    return "\n".join(lines)
