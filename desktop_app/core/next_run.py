"""What runs next: the pure rules behind Run and Hand back.

- Hand back with a paused run (local): resume it, with the person's note and instruction.
- Hand back after a stopped task, or with an instruction: a follow-up task on the same session,
  whose text carries the goal, the note and the instruction.
- Hand back with nothing to do: control is released; the note is carried into the next task so
  the agent still learns what the person did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from desktop_app.core.ports import HandBackContext, RunHandle


class TaskTooLong(ValueError):
    def __init__(self, length: int, limit: int, what: str = "The task") -> None:
        super().__init__(
            f"{what} is {length:,} characters long; the limit is {limit:,}. "
            "Shorten it and try again — your text is kept."
        )
        self.length = length
        self.limit = limit


@dataclass(frozen=True)
class Resume:
    run: RunHandle
    context: HandBackContext


@dataclass(frozen=True)
class FollowUpTask:
    text: str
    context: HandBackContext
    goal: str  # what the person asked for: the new instruction, else the task that was cut short


@dataclass(frozen=True)
class Release:
    carried_note: str


HandBackPlan = Resume | FollowUpTask | Release

_CHECK_PAGE = (
    "The browser is in the state the person left it in. Look at the current page first and do not "
    "repeat steps the person already completed."
)


def _context_lines(note: str, carried_notes: Sequence[str]) -> list[str]:
    notes = [n for n in (*carried_notes, note) if n]
    if not notes:
        return ["A person had control of this browser and has handed it back to you without a note."]
    return ["A person had control of this browser and has handed it back to you.", "What the person did:"] + [
        f"- {n}" for n in notes
    ]


def plan_hand_back(
    *,
    paused_run: RunHandle | None,
    interrupted_goal: str | None,
    note: str,
    instruction: str,
    carried_notes: Sequence[str] = (),
    max_chars: int,
) -> HandBackPlan:
    note, instruction = note.strip(), instruction.strip()
    lines = _context_lines(note, carried_notes)

    if paused_run is not None:
        message_lines = [*lines]
        if instruction:
            message_lines.append(f"Your next instruction: {instruction}")
        message_lines.append(_CHECK_PAGE)
        context = HandBackContext(note, instruction, "\n".join(message_lines))
        _check_length(context.message, max_chars, "The note and instruction")
        return Resume(paused_run, context)

    if not instruction and not interrupted_goal:
        return Release(note)

    if instruction and interrupted_goal:
        head = [instruction, "", *lines, f"Before the person took over you were working on: {interrupted_goal}"]
    elif instruction:
        head = [instruction, "", *lines]
    else:
        head = [f"Continue this task from where the browser is now: {interrupted_goal}", "", *lines]
    text = "\n".join([*head, _CHECK_PAGE])
    _check_length(text, max_chars, "The follow-up task (your instruction, note and the original goal)")
    return FollowUpTask(text, HandBackContext(note, instruction, text), goal=instruction or interrupted_goal or "")


def compose_task(text: str, carried_notes: Sequence[str], *, max_chars: int, earlier_steps: Sequence[str] = ()) -> str:
    """A task typed after a hand back with nothing to do still tells the agent what the person did.

    ``earlier_steps``: a queue's step is told what the steps before it produced and what the person
    noted (``core/queue.py``'s ``step_context``), one line each."""
    text = text.strip()
    _check_length(text, max_chars)
    if not carried_notes and not earlier_steps:
        return text
    lines = [text, ""]
    if earlier_steps:
        lines += [_EARLIER_STEPS, *earlier_steps]
    if carried_notes:
        lines += _context_lines("", carried_notes)
    composed = "\n".join([*lines, _CHECK_PAGE])
    _check_length(composed, max_chars, "The task with your earlier notes" if not earlier_steps else "The step with what the queue did before it")
    return composed


_EARLIER_STEPS = "This is one step of a longer job, shared with a person. The steps before it, and what they produced:"


def _check_length(text: str, limit: int, what: str = "The task") -> None:
    if len(text) > limit:
        raise TaskTooLong(len(text), limit, what)
