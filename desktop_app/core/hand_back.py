"""What Hand back says or asks about the page before the agent reads it again, and the note it starts with.

``HandBackGate`` runs the check: in Local mode it reads the page (``PrivacyGuard.read``) and says
calmly what stays hidden, asking only when that cannot be confirmed; in Cloud mode (the page is on
Browser Use's computer) it asks, and offers the next task without screenshots. Without dialogs the
safe answer is taken, and every answer is logged as a ``PrivacyDecision``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

from desktop_app.core.events import EventBus, PrivacyDecision
from desktop_app.core.ports import Capabilities
from desktop_app.core.page_masks import PageMasks
from desktop_app.core.privacy import PrivacyGuard


def hidden_fields_message(masks: PageMasks) -> str:
    """Said at Hand back instead of a question, when every field the person filled is hidden."""
    count = len(masks.person_fields)
    if count == 0:
        return ""
    if count == 1:
        return "The field you filled stays hidden from the agent."
    return f"The {count} fields you filled stay hidden from the agent."


NOTE_REDACTION_HINT = "Card numbers in this note are shortened to their last four digits before the agent sees it."


def privacy_hint(*, page_readable_here: bool) -> str:
    """Shown while the person has the browser: what the agent will and will not see of their work."""
    if page_readable_here:
        return "Fields you fill stay hidden from the agent: it sees that they are filled, never what you typed."
    return "When you hand back, the agent reads this page again. Finish payments and logins first."


class HandBackChoice(Enum):
    HAND_BACK = "hand_back"
    WITHOUT_SCREENSHOTS = "without_screenshots"
    KEEP_CONTROL = "keep_control"


@dataclass(frozen=True)
class HandBackCheck:
    """What Hand back says or asks about the page before the agent reads it again."""

    question: str = ""  # ask before handing back; empty: no need
    informative: str = ""
    choices: tuple[HandBackChoice, ...] = ()
    unattended: HandBackChoice = HandBackChoice.HAND_BACK  # the answer when no dialog may be shown
    told: str = ""  # said after handing back, when nothing needed asking


CHOICE_LABELS = {
    HandBackChoice.HAND_BACK: "Hand back",
    HandBackChoice.WITHOUT_SCREENSHOTS: "Hand back without screenshots",
    HandBackChoice.KEEP_CONTROL: "Keep control",
}


def hand_back_check(masks: PageMasks | None, *, page_readable_here: bool) -> HandBackCheck:
    """Local (the page is ours to read): say calmly what stays hidden, and ask only when that
    cannot be confirmed. Cloud: the page is on Browser Use's computer; say so and ask."""
    if not page_readable_here:
        return HandBackCheck(
            question=(
                "When you hand back, the agent reads this page again: its text and a screenshot go to the AI "
                "model. Handoff cannot see inside Browser Use's browser, so it cannot hide what you typed there."
            ),
            informative=(
                "If card details, a password or a code are still on the page, submit or clear them first. "
                "“Without screenshots”: the agent's next task reads the page's text only."
            ),
            choices=(HandBackChoice.HAND_BACK, HandBackChoice.WITHOUT_SCREENSHOTS, HandBackChoice.KEEP_CONTROL),
            unattended=HandBackChoice.WITHOUT_SCREENSHOTS,
        )
    if masks is None or not masks.confirmed:
        return HandBackCheck(
            question=(
                "Handoff could not check every part of this page, so it cannot promise that what you typed "
                "stays hidden. When you hand back, the agent reads this page: its text and a screenshot go to the AI model."
            ),
            informative="Submit the form first (pay, log in), or clear the field, then hand back.",
            choices=(HandBackChoice.HAND_BACK, HandBackChoice.KEEP_CONTROL),
            unattended=HandBackChoice.KEEP_CONTROL,
        )
    return HandBackCheck(told=hidden_fields_message(masks))


def prefilled_note(current: str, last_prefill: str, account: str) -> str | None:
    """The note box's new text when the person's account changed, or None to leave what they wrote."""
    if current.strip() and current.strip() != last_prefill.strip():
        return None  # the person has written or edited the note: theirs to keep
    return account if account != current else None


@dataclass(frozen=True)
class HandBackDecision:
    go: bool  # hand back now
    screenshots: bool = True  # False: the agent's next task reads the page's text only
    told: str = ""  # said once handed back (what stays hidden)
    kept_because: str = ""  # without dialogs, why control stayed with the person


# (question, informative, choices) -> the person's answer; KEEP_CONTROL if the dialog was closed
Asker = Callable[[str, str, tuple[HandBackChoice, ...]], Awaitable[HandBackChoice]]


class HandBackGate:
    def __init__(self, privacy: PrivacyGuard, bus: EventBus) -> None:
        self._privacy = privacy
        self._bus = bus
        self._busy = False

    async def decide(self, capabilities: Capabilities, ask: Asker | None) -> HandBackDecision | None:
        """``ask`` is None when no dialog may be shown. None: a check is already under way (a second Ctrl+H)."""
        if self._busy:
            return None
        self._busy = True
        try:
            readable_here = capabilities.view_is_browser
            masks = await self._privacy.read(why="hand back") if readable_here else None
            check = hand_back_check(masks, page_readable_here=readable_here)
            choice = HandBackChoice.HAND_BACK
            if check.question:
                choice = await ask(check.question, check.informative, check.choices) if ask else check.unattended
                self._bus.publish(
                    PrivacyDecision(
                        "hand_back_question",
                        f"Hand back question: {CHOICE_LABELS[choice]}" + ("" if ask else " (no dialogs: the safe answer)"),
                        {"answer": choice.value, "asked": ask is not None},
                    )
                )
        finally:
            self._busy = False
        if choice is HandBackChoice.KEEP_CONTROL:
            return HandBackDecision(False, kept_because="" if ask else check.question)
        return HandBackDecision(True, screenshots=choice is not HandBackChoice.WITHOUT_SCREENSHOTS, told=check.told)


class NotePrefill:
    """The note box starts with what the person did (pages, fields by label, buttons), theirs to edit."""

    def __init__(self) -> None:
        self._last = ""

    def update(self, current: str, account: str) -> str | None:
        """The note box's new text, or None to leave what the person wrote."""
        note = prefilled_note(current, self._last, account)
        if note is not None:
            self._last = note
        return note

    def forget(self) -> None:
        self._last = ""
