"""What was done, by whom, when: the session's timeline entries.

Entries are immutable records; the UI lists them, the store persists them, exports print them.
``title``/``detail`` give the same plain-text wording everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from decimal import Decimal
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from desktop_app.core.ports import RunResult, RunStatus, StepReport
from desktop_app.core.step_words import describe_action, describe_actions
from desktop_app.core.messages import format_cost


class Actor(Enum):
    AGENT = "agent"
    PERSON = "person"
    NOBODY = "nobody"  # handed back with nothing for the agent to do: the browser is just idle

    @property
    def label(self) -> str:
        return {Actor.AGENT: "Agent", Actor.PERSON: "You", Actor.NOBODY: "Nobody"}[self]


class TaskOrigin(Enum):
    RUN = "run"
    HAND_BACK = "hand_back"
    KEEP_ALIVE = "keep_alive"


@dataclass(frozen=True)
class Entry:
    at: float
    session_id: str

    @property
    def kind(self) -> str:
        return type(self).__name__

    @property
    def title(self) -> str:
        raise NotImplementedError

    @property
    def detail(self) -> str:
        return ""

    @property
    def full_detail(self) -> str:
        """Everything known about the entry, for the detail pane (rows show ``detail``, cut to fit)."""
        return self.detail


@dataclass(frozen=True)
class SessionStarted(Entry):
    backend: str
    backend_kind: str = ""

    @property
    def title(self) -> str:
        return f"Session started ({self.backend})"


@dataclass(frozen=True)
class TaskStarted(Entry):
    task_id: str
    text: str  # what the agent was sent: the person's words with the context composed around them
    origin: TaskOrigin
    goal: str = ""  # the person's own words (the task, or the instruction at Hand back)

    @property
    def title(self) -> str:
        return {
            TaskOrigin.RUN: "Task started",
            TaskOrigin.HAND_BACK: "Follow-up task started",
            TaskOrigin.KEEP_ALIVE: "Kept the session alive (a short agent task)",
        }[self.origin]

    @property
    def detail(self) -> str:
        # The person's words: the text composed for the model ("A person had control …") is for the
        # detail pane. Entries from before ``goal`` was kept show the first line of what was sent.
        return self.goal or self.text.strip().partition("\n")[0]

    @property
    def full_detail(self) -> str:
        if self.text.strip() == self.detail:
            return self.text
        return f"{self.detail}\n\nSent to the agent:\n{self.text}"


def short_url(url: str) -> str:
    """An address as a row shows it: no scheme, no query (the detail pane has it all)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port  # never the user:password@ a URL may carry
    except ValueError:  # e.g. "http://[::1" from a provider
        return url
    if not host:
        return url
    place = host.removeprefix("www.") + (f":{port}" if port else "")
    return place + (parts.path if parts.path != "/" else "")


@dataclass(frozen=True)
class AgentStep(Entry):
    step: StepReport

    @property
    def title(self) -> str:
        if self.step.error and not self.step.next_goal:
            return f"Step {self.step.number} failed"
        return f"Step {self.step.number}: {self.step.next_goal or '(no goal given)'}"

    @property
    def detail(self) -> str:
        parts = []
        if self.step.actions:  # what it did first: that is what a person scanning the list wants
            parts.append(f"Did: {describe_actions(self.step.actions)}")
        if self.step.error:
            parts.append(f"Error: {self.step.error}")
        if self.step.url and self.step.url != "about:blank":  # the empty start page says nothing
            parts.append(f"on {short_url(self.step.url)}")  # where the step began (a navigation ends elsewhere)
        if self.step.evaluation and self.step.number > 1:  # the agent's verdict on its previous step
            parts.append(f"Last step: {self.step.evaluation}")
        if self.step.duration is not None:
            parts.append(f"{self.step.duration:.1f} s")
        return " · ".join(parts)

    @property
    def full_detail(self) -> str:
        step = self.step
        lines = [f"  • {describe_action(raw)}" for raw in step.actions]
        if lines:
            lines.insert(0, "What it did:")
        facts = [
            ("Went wrong", step.error),
            ("Page at the start of the step", step.url),
            ("Its verdict on the step before", step.evaluation if step.number > 1 else ""),
            ("What it keeps in mind", step.memory),
            ("Took", f"{step.duration:.1f} s" if step.duration is not None else ""),
        ]
        lines += [f"{label}: {value}" for label, value in facts if value]
        return "\n".join(lines)


@dataclass(frozen=True)
class Handoff(Entry):
    to: Actor
    by: Actor
    note: str = ""
    reason: str = ""
    instruction: str = ""
    fault: bool = False  # control came back because the agent's run broke, not by anyone's choice

    @property
    def title(self) -> str:
        if self.fault:
            return "The agent stopped — you have control"
        if self.to is Actor.PERSON and self.by is Actor.AGENT:
            return "The agent asked for you"
        if self.to is Actor.PERSON:
            return "You took over"
        if self.to is Actor.NOBODY:
            return "You handed back (nothing for the agent to do yet)"
        return "You handed back to the agent"

    def _facts(self) -> list[str]:
        labelled = (("Reason", self.reason), ("Note", self.note), ("Next", self.instruction))
        return [f"{label}: {value}" for label, value in labelled if value]

    @property
    def detail(self) -> str:
        return " · ".join(self._facts())

    @property
    def full_detail(self) -> str:
        return "\n".join(self._facts())


@dataclass(frozen=True)
class TaskFinished(Entry):
    result: RunResult

    @property
    def title(self) -> str:
        status = self.result.status
        if status is RunStatus.FINISHED:
            verdict = {True: "succeeded", False: "did not succeed", None: "finished"}[self.result.success]
            return f"Task {verdict}"
        return "Task stopped" if status is RunStatus.STOPPED else "Task failed"

    @property
    def detail(self) -> str:
        parts = []
        if self.result.output:
            parts.append(self.result.output)
        if self.result.cost_usd is not None:
            parts.append(f"Cost: {format_cost(self.result.cost_usd)}")
        return " · ".join(parts)


@dataclass(frozen=True)
class SessionReattached(Entry):
    @property
    def title(self) -> str:
        return "Reattached after Handoff restarted"


@dataclass(frozen=True)
class Incident(Entry):
    text: str

    @property
    def title(self) -> str:
        return "Problem"

    @property
    def detail(self) -> str:
        return self.text


@dataclass(frozen=True)
class QueueStarted(Entry):
    """A queue of steps began (or went on) in this session; ``plan`` is its steps as a playbook's
    JSON (core/playbooks.py), so History can run it again."""

    plan: str
    steps: int = 0

    @property
    def title(self) -> str:
        return "Queue started"

    @property
    def detail(self) -> str:
        return f"{self.steps} steps"


@dataclass(frozen=True)
class QueueEnded(Entry):
    summary: str

    @property
    def title(self) -> str:
        return "Queue done"

    @property
    def detail(self) -> str:
        return self.summary


@dataclass(frozen=True)
class SessionEnded(Entry):
    reason: str

    @property
    def title(self) -> str:
        return "Session ended"

    @property
    def detail(self) -> str:
        return self.reason


@dataclass
class Timeline:
    """The current session's entries, in order."""

    entries: list[Entry] = field(default_factory=list)

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)

    def clear(self) -> None:
        self.entries.clear()

    def finished_notification(self, finished: TaskFinished) -> tuple[str, str] | None:
        """The desktop notification's title and text when a task the person gave has ended
        (None for a keep-alive check, or a task this session did not start)."""
        started = next(
            (e for e in self.entries if isinstance(e, TaskStarted) and e.task_id == finished.result.task_id), None
        )
        if started is None or started.origin is TaskOrigin.KEEP_ALIVE:
            return None
        verdict = finished.title.removeprefix("Task ")  # "succeeded", "failed", …
        return f"the task {verdict}", finished.result.output or started.detail

    @property
    def total_cost(self) -> Decimal:
        return sum(
            (e.result.cost_usd for e in self.entries if isinstance(e, TaskFinished) and e.result.cost_usd is not None),
            Decimal(0),
        )


# -- plain-data form, for the history store and exports -------------------------------------------

ENTRY_TYPES: dict[str, type[Entry]] = {
    cls.__name__: cls
    for cls in (
        SessionStarted, SessionReattached, TaskStarted, AgentStep, Handoff, TaskFinished, Incident, QueueStarted, QueueEnded, SessionEnded
    )
}


def entry_to_dict(entry: Entry) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for item in fields(entry):
        data[item.name] = _plain(getattr(entry, item.name))
    return {"kind": entry.kind, **data}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {item.name: _plain(getattr(value, item.name)) for item in fields(value)}
    return value


# The provider's ids: kept as they are (a session id changed by a text rule could not be reattached).
ID_KEYS = frozenset({"session_id", "task_id"})


def map_strings(value: Any, change: Callable[[str], str]) -> Any:
    """``value`` (plain data, as from ``entry_to_dict``) with ``change`` applied to every string but ids."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {key: item if key in ID_KEYS else map_strings(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [map_strings(item, change) for item in value]
    return value


def redacted(entry: Entry, change: Callable[[str], str]) -> Entry:
    """The same entry with ``change`` applied to all its text (card numbers out of the history)."""
    data = entry_to_dict(entry)
    cleaned = map_strings(data, change)
    return entry if cleaned == data else entry_from_dict(cleaned)


def entry_from_dict(data: dict[str, Any]) -> Entry:
    data = dict(data)
    kind = data.pop("kind")
    cls = ENTRY_TYPES[kind]
    if cls is TaskStarted:
        data["origin"] = TaskOrigin(data["origin"])
    elif cls is AgentStep:
        step = dict(data["step"])
        step["actions"] = tuple(step.get("actions") or ())
        data["step"] = StepReport(**step)
    elif cls is Handoff:
        data["to"], data["by"] = Actor(data["to"]), Actor(data["by"])
    elif cls is TaskFinished:
        result = dict(data["result"])
        result["status"] = RunStatus(result["status"])
        result["cost_usd"] = Decimal(result["cost_usd"]) if result.get("cost_usd") is not None else None
        data["result"] = RunResult(**result)
    return cls(**data)
