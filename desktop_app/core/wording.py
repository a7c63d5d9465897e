"""Small pieces of wording used across the app, so money and counts read the same everywhere."""

from __future__ import annotations

from decimal import Decimal


def format_cost(usd: Decimal) -> str:
    """Dollars as people read them: cents for normal amounts, more digits only for fractions of a cent."""
    return f"${usd:.2f}" if abs(usd) >= Decimal("0.01") or usd == 0 else f"${usd:.4f}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class QuitQuestion:
    """What closing the window asks while a billed session is alive: which session, what it costs,
    and what each answer does to it (the agent's task is stopped whichever is chosen)."""

    stop = "Stop the session and quit"
    keep = "Quit and leave the session running (billed)"
    cancel = "Cancel"

    def __init__(self, service: str, session_id: str, cost: Decimal, *, agent_working: bool) -> None:
        self.title = f"Stop the {service} session before quitting?"
        shown_id = session_id if len(session_id) <= 12 else session_id[:8] + "…"
        spent = f" It has cost {format_cost(cost)} so far." if cost else ""
        self.text = (
            f"The {service} session ({shown_id}) is billed for as long as it runs — also after Handoff "
            f"quits, until {service} ends it or you stop it.{spent}"
        )
        self.informative = (
            "The agent's current task is stopped either way; the next start offers to reattach to a session left running."
            if agent_working
            else "The next start offers to reattach to a session left running, or to stop it."
        )


HELP_TEXT = """You and the agent share one browser; one of you has it at a time.
Run (Ctrl+Enter): the agent works on the task in the box; the browser is view-only meanwhile.
Take over (Ctrl+T): the agent pauses or stops; the browser is yours once that is confirmed.
Hand back (Ctrl+H): the agent carries on, told what you did (your note) and your next instruction.
Ready: the browser is yours until you press Run; the agent is told what you did.
Settings (Ctrl+,) · this help (F1) · Quit (Ctrl+Q).
Fields you fill stay hidden from the agent in Local mode; in Cloud mode Hand back asks first."""


def about_text(version: str) -> str:
    return (
        f"Handoff {version}\n"
        "A person and a browser agent share one live browser and pass control back and forth.\n"
        "Local mode: the open-source browser-use agent with the AI model you choose. "
        "Browser Use Cloud: a browser on Browser Use's servers, with your API key."
    )
