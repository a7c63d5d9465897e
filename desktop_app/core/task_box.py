"""Rules for the task and note boxes: what a sent text clears, and how text given back merges in.

Whatever the person typed is never lost: a sent text is cleared only if the box still holds it, and
a task given back goes below what they have typed since, not over it.
"""

from __future__ import annotations


def unchanged(current: str, sent: str) -> bool:
    """The box still holds what was sent (so clearing it loses nothing typed meanwhile)."""
    return current.strip() == sent.strip()


def merged_into(typed: str, returned: str) -> str | None:
    """The box's new text with ``returned`` given back, or None to leave it as it is."""
    if not returned:
        return None
    if not typed.strip():
        return returned
    if returned in typed:
        return None  # already there (given back twice, or typed again)
    return f"{typed.rstrip()}\n\n{returned}"
