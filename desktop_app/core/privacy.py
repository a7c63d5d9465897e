"""What the person types stays private: the rules (no Qt).

In Local mode the agent reads the page through two channels: the page's text (with the values its
fields hold) and screenshots. A field is hidden from both when the person typed into it (any input
at a time the view was unlocked: the person's keys cannot reach a locked view, and the agent acts
only while it is locked), or when it is a password, card or one-time-code field, whoever filled it.
It stays hidden until the page navigates away or the field is cleared.

- Screenshots: each hidden field's box is painted over; a frame the person typed in is painted
  over whole (another site's payment frame); a frame that could not be read or placed is too, and
  when the page itself cannot be read the whole screenshot is.
- Text: every value of a hidden field is replaced by ``HIDDEN`` in everything sent to the model.

The page itself is read by an adapter (``PageInspector``) that returns a ``FrameReport`` tree;
``core.page_masks`` decides from that tree and the times control changed hands what to hide and
where; this module keeps the text side, the person's account and the guard that ties them together.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from desktop_app.core.control import Control
from desktop_app.core.events import ControlChanged, PersonActed, PrivacyDecision
from desktop_app.core.page_masks import ControlWindows, PageInspector, PageMasks, read_masks
from desktop_app.core.timeline import short_url
from desktop_app.core.messages import plural

HIDDEN = "[filled by the person — hidden]"
READ_TIMEOUT = 2.0  # seconds for the whole page (every frame) to answer
FOLLOW_INTERVAL = 1.0  # how often the person's account is brought up to date while they act


# -- text ------------------------------------------------------------------------------------------

_MIN_FREE_TEXT = 3  # shorter values are hidden only where they appear as a field's value


class ValueScrubber:
    """Replaces the values of hidden fields in text meant for the model. Values are learnt as pages
    are read and kept for the session: a value once typed stays hidden even after the page moves on."""

    def __init__(self) -> None:
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._always: set[str] = set()  # vault values: hidden wherever they appear, whoever wrote them
        self._known_to_model = ""

    def learn(self, values: Iterable[str]) -> None:
        for value in values:
            value = value.strip()
            if value and value not in self._patterns:
                self._patterns[value] = _value_pattern(value)

    def learn_always(self, values: Iterable[str]) -> None:
        """Values from the vault: hidden even inside other words and even if a task names them."""
        for value in values:
            value = value.strip()
            if value and value not in self._always:
                self._always.add(value)
                self._patterns[value] = _vault_pattern(value)

    def learnt(self) -> tuple[str, ...]:
        """Every value learnt from the page so far (not the vault's)."""
        return tuple(value for value in self._patterns if value not in self._always)

    def known_to_model(self, text: str) -> None:
        """Text the model was given on purpose (a task, a note): words in it are not secrets."""
        self._known_to_model += "\n" + text

    def forget(self) -> None:
        self._patterns.clear()
        self._always.clear()
        self._known_to_model = ""

    def scrub(self, text: str) -> str:
        if not text or not self._patterns:
            return text
        for value in sorted(self._patterns, key=len, reverse=True):
            pattern = self._patterns[value]
            if value not in self._always and _told_on_purpose(value) and pattern.search(self._known_to_model):
                continue
            text = pattern.sub(lambda m: (m.group("lead") or "") + HIDDEN, text)
        return text


def _told_on_purpose(value: str) -> bool:
    """Words the person also wrote in a task or note need no hiding; numbers (cards, codes) always do."""
    return len(value) >= _MIN_FREE_TEXT and not any(c.isdigit() for c in value)


def _vault_pattern(value: str) -> re.Pattern[str]:
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 4 and len(digits) == len(re.sub(r"[\s\-./]", "", value)):
        return _value_pattern(value)  # a number (a 2FA code): in any spacing
    return re.compile(rf"(?P<lead>){re.escape(value)}")


def _value_pattern(value: str) -> re.Pattern[str]:
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 4 and len(digits) >= 0.6 * len(re.sub(r"\s", "", value)):
        # Numbers (cards, codes, phone numbers) in any spacing: "4111 1111", "4111-1111", "41111111".
        body = r"[\s\-./]*".join(re.escape(d) for d in digits)
        return re.compile(rf"(?P<lead>)(?<![\[\d]){body}(?![\]\d])")
    if len(value) < _MIN_FREE_TEXT:
        return re.compile(rf"(?P<lead>\b(?:value|valuetext)=[\"']?){re.escape(value)}(?=[\"'\s>]|$)")
    return re.compile(rf"(?P<lead>)(?<![\w\[]){re.escape(value)}(?![\w\]])")


# -- what the person did ---------------------------------------------------------------------------


@dataclass
class PersonAccount:
    """What the person did while they had the browser, in words the agent (and the person) read:
    pages opened, fields filled by their label, buttons pressed. Never what they typed."""

    pages: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    pressed: list[str] = field(default_factory=list)

    def page_opened(self, address: str) -> None:
        if address and (not self.pages or self.pages[-1] != address):
            self.pages.append(address)

    def add(self, masks: PageMasks) -> None:
        for hidden in masks.person_fields:
            if hidden.label not in self.fields:
                self.fields.append(hidden.label)
        for label in masks.pressed:
            if label not in self.pressed:
                self.pressed.append(label)

    def describe(self) -> str:
        parts = []
        if self.pages:
            parts.append("Opened " + ", ".join(self.pages[-3:]) + ".")
        if self.fields:
            parts.append("Filled " + ", ".join(self.fields) + ".")
        if self.pressed:
            parts.append("Pressed " + ", ".join(f"“{label}”" for label in self.pressed) + ".")
        return " ".join(parts)


# -- the guard -------------------------------------------------------------------------------------


class PrivacyGuard:
    """One per browser: knows when the person could act, reads the page through the inspector,
    and answers the backend's two questions — what to paint over in a screenshot, and what to
    remove from text — failing closed whenever the page cannot be read."""

    def __init__(
        self,
        subscribe: Callable[[Callable[[Any], None]], Any],
        publish: Callable[[Any], None],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._publish = publish
        self.windows = ControlWindows(clock)
        self.scrubber = ValueScrubber()
        self.account = PersonAccount()
        self._inspector: PageInspector | None = None
        self._following: asyncio.Task[None] | None = None
        # The newest reading taken while the view was locked: the person cannot have typed since,
        # so it still holds every value to hide (the model call need not read the page again).
        self._locked_reading: PageMasks | None = None
        self._last_said: tuple[Any, ...] = ()
        # The values the agent may type from the vault in this task (and their current 2FA codes).
        self._vault_values: Callable[[], Iterable[str]] = tuple
        subscribe(self._on_event)

    def use_vault(self, values: Callable[[], Iterable[str]] | None) -> None:
        """From now on, fields holding these values are masked and the values leave every text."""
        self._vault_values = values or tuple
        self._locked_reading = None

    def _vault_now(self) -> frozenset[str]:
        values = frozenset(v.strip() for v in self._vault_values() if v and v.strip())
        self.scrubber.learn_always(values)
        return values

    def attach_inspector(self, inspector: PageInspector | None) -> None:
        self._inspector = inspector

    def _on_event(self, event: Any) -> None:
        if isinstance(event, ControlChanged):
            before, after = event.transition.before, event.transition.after
            self.windows.set_locked(after.view_locked)
            self._locked_reading = None
            if after is Control.HUMAN or (after is Control.IDLE and before.view_locked):
                self.account = PersonAccount()  # a new stretch of the person's own work
            if not after.view_locked:
                self._follow_person()

    def _follow_person(self) -> None:
        if self._inspector is None or (self._following is not None and not self._following.done()):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a plain test): nothing to follow
        self._following = loop.create_task(self._follow())

    async def _follow(self) -> None:
        """While the person has the browser: keep their account current (a field filled on a page
        they then left still counts) and tell observers when it changes (the note box shows it)."""
        told = ""
        while self.windows.person_since is not None:
            if await self.read(why="account") is None:
                return  # no Local page: nothing to follow
            text = self.account.describe()
            if text != told:
                told = text
                self._publish(PersonActed(text))
            await asyncio.sleep(FOLLOW_INTERVAL)

    def close(self) -> None:
        if self._following is not None:
            self._following.cancel()

    def page_opened(self, url: str) -> None:
        """The top page moved to ``url``: part of the person's account while they have the browser."""
        if self.windows.person_since is not None and url.startswith(("http:", "https:")):
            self.account.page_opened(short_url(url))

    async def read(self, *, why: str) -> PageMasks | None:
        """Read the page now; None when it cannot be read (then nothing may be shown to the model)."""
        if self._inspector is None:
            return None
        try:
            tree = await asyncio.wait_for(self._inspector.inspect(), READ_TIMEOUT)
            if tree is None:
                return None  # no Local page on screen (Cloud mode): nothing to read or hide
        except Exception as error:  # a dead renderer, a page that never answers
            self._publish(PrivacyDecision(
                "privacy_unconfirmed",
                f"Could not read the page to hide the person's fields ({type(error).__name__}): nothing of it goes to the model",
                {"why": why},
            ))
            return None
        since = self.windows.person_since
        masks = read_masks(
            tree, self.windows, since_ms=since if since is not None else float("inf"), vault_values=self._vault_now()
        )
        if since is None:
            self._locked_reading = masks
        self.scrubber.learn(f.value for f in masks.fields)
        if since is not None:
            self.account.add(masks)
        said = (len(masks.fields), len(masks.person_fields), masks.confirmed)
        if (masks.fields or not masks.confirmed) and said != self._last_said:
            self._last_said = said
            labels = ", ".join(f.label for f in masks.fields)
            self._publish(PrivacyDecision(
                "fields_masked",
                f"Hiding {plural(len(masks.fields), 'field')} from the agent"
                + (f" ({labels})" if labels else "") + ("" if masks.confirmed else "; part of the page could not be read"),
                {"why": why, "fields": len(masks.fields), "by_person": len(masks.person_fields),
                 "boxes": len(masks.boxes), "confirmed": masks.confirmed},
            ))
        return masks

    async def current(self, *, why: str) -> PageMasks | None:
        """A reading that holds every value to hide now: the last one taken while the view has been
        locked (nobody but the agent can have typed since), else a new one."""
        return self._locked_reading or await self.read(why=why)

    def scrub(self, text: str) -> str:
        self._vault_now()  # a 2FA code changes every 30 s: the current one is hidden too
        return self.scrubber.scrub(text)

    def vault_values_now(self) -> frozenset[str]:
        """The vault's values to hide at this moment (the current 2FA codes among them)."""
        return self._vault_now()

    def session_ended(self) -> None:
        self.scrubber.forget()
        self.account = PersonAccount()
