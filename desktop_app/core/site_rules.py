"""Site rules (no Qt): what a person always does on a site, and whether an agent's press breaks one.

A rule names a site and duties kept for the person there: logging in, paying, confirming (orders,
bookings, any form that sends something). One rule holds everywhere unless switched off: a person
presses the final Pay. The agent is told the rules; in Local mode the action guard also *enforces*
them: before an agent click or Enter reaches the page, the backend reads what would be pressed
(``Target``) and ``refusal`` says whether it must be left to the person, and why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from desktop_app.core.vault import VaultInputError, check_site, site_label, site_matches


class Duty(str, Enum):
    LOGIN = "login"
    PAY = "pay"
    CONFIRM = "confirm"


DUTY_LABELS = {
    Duty.LOGIN: "logs in",
    Duty.PAY: "pays",
    Duty.CONFIRM: "confirms orders and submits forms",
}

# What a button that takes money, or commits an order, says.
_PAY_WORDS = re.compile(
    r"\b(pay|pay now|place (your )?order|buy( it)? now|complete (the )?(purchase|order|payment)|purchase|"
    r"submit (the )?(payment|order)|confirm (and|&) pay|checkout and pay|donate)\b",
    re.IGNORECASE,
)
_CONFIRM_WORDS = re.compile(
    r"\b(confirm|submit|send|place (your )?order|book|reserve|order|buy|pay|purchase|apply|sign up|register|"
    r"delete|transfer|publish|post)\b",
    re.IGNORECASE,
)
_LOGIN_WORDS = re.compile(r"\b(log ?in|sign ?in|continue|verify|next)\b", re.IGNORECASE)


@dataclass(frozen=True)
class SiteRule:
    site: str
    duties: frozenset[Duty]

    def describe(self) -> str:
        return f"On {site_label(self.site)} a person " + _join(DUTY_LABELS[d] for d in Duty if d in self.duties) + "."


@dataclass(frozen=True)
class SiteRules:
    rules: tuple[SiteRule, ...] = ()
    final_pay_everywhere: bool = True  # "a person presses the final Pay", on every site

    def duties_at(self, url: str) -> dict[Duty, str]:
        """The person's duties on this page, each with where it comes from (for the reason)."""
        found: dict[Duty, str] = {}
        for rule in self.rules:
            if site_matches(url, rule.site):
                for duty in rule.duties:
                    found.setdefault(duty, f"the rule for {site_label(rule.site)}")
        if self.final_pay_everywhere:
            found.setdefault(Duty.PAY, "the rule for every site")
        return found

    def login_kept_for_person(self, url: str) -> bool:
        return Duty.LOGIN in self.duties_at(url)

    def briefing(self) -> str:
        """What the model is told: the rules, in plain words, and what to do about them."""
        lines = [rule.describe() for rule in self.rules if rule.duties]
        if self.final_pay_everywhere:
            lines.append("On every site a person presses the final Pay (or Place order / Buy now) button.")
        if not lines:
            return ""
        return (
            "Site rules: these steps are the person's, never yours. When you reach one, use request_human and say "
            "what is ready for them; an attempt to do it yourself is refused.\n" + "\n".join(f"- {line}" for line in lines)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "final_pay_everywhere": self.final_pay_everywhere,
            "rules": [{"site": r.site, "duties": [d.value for d in Duty if d in r.duties]} for r in self.rules],
        }

    @classmethod
    def from_json(cls, data: Any) -> SiteRules:
        """VaultInputError on a rule that cannot be used (a bad site, an unknown duty)."""
        if not isinstance(data, dict):
            return cls()
        rules: list[SiteRule] = []
        for raw in data.get("rules") or []:
            if not isinstance(raw, dict):
                raise VaultInputError("A site rule in the file is not readable.")
            site = check_site(str(raw.get("site", "")))
            try:
                duties = frozenset(Duty(d) for d in raw.get("duties") or [])
            except ValueError as error:
                raise VaultInputError(f"The rule for {site} names a duty Handoff does not know.") from error
            rules.append(SiteRule(site, duties))
        return cls(tuple(rules), bool(data.get("final_pay_everywhere", True)))

    def with_rule(self, rule: SiteRule) -> SiteRules:
        others = tuple(r for r in self.rules if r.site != rule.site)
        return SiteRules((*others, rule) if rule.duties else others, self.final_pay_everywhere)


@dataclass(frozen=True)
class Target:
    """What an agent's click or Enter would press, as read from the page before it acts."""

    label: str = ""  # the button's or link's words
    is_button: bool = False
    submits_form: bool = False  # pressing it sends a form (a submit button, Enter in a form's field)
    form_has_card_fields: bool = False
    form_has_password: bool = False
    page_has_card_fields: bool = False
    page_has_password: bool = False

    @classmethod
    def from_page(cls, data: Any) -> Target:
        if not isinstance(data, dict):
            return cls()
        return cls(
            label=str(data.get("label") or "")[:80],
            is_button=bool(data.get("is_button")),
            submits_form=bool(data.get("submits_form")),
            form_has_card_fields=bool(data.get("form_has_card_fields")),
            form_has_password=bool(data.get("form_has_password")),
            page_has_card_fields=bool(data.get("page_has_card_fields")),
            page_has_password=bool(data.get("page_has_password")),
        )


def refusal(url: str, target: Target, rules: SiteRules) -> str | None:
    """Why the person must do this press themselves, or None when the agent may."""
    duties = rules.duties_at(url)
    if not duties:
        return None
    press = f"“{target.label}”" if target.label else ("Enter in the form" if target.submits_form else "this")
    site = _site_of(url)
    if Duty.PAY in duties and _pays(target):
        return (
            f"A person pays on {site} ({duties[Duty.PAY]}): the agent stopped before pressing {press}. "
            "Check the order and the amount, press it yourself, then hand back."
        )
    if Duty.CONFIRM in duties and (target.submits_form or (target.is_button and _CONFIRM_WORDS.search(target.label))):
        return (
            f"A person confirms and submits forms on {site} ({duties[Duty.CONFIRM]}): the agent stopped before pressing "
            f"{press}. Check it, press it yourself, then hand back."
        )
    if Duty.LOGIN in duties and target.form_has_password and (target.submits_form or _LOGIN_WORDS.search(target.label)):
        return (
            f"A person logs in on {site} ({duties[Duty.LOGIN]}): the agent stopped before pressing {press}. "
            "Log in yourself, then hand back."
        )
    return None


# A script that presses or submits something (the agent's "evaluate" action).
_SCRIPT_PRESS = re.compile(r"\.(submit|requestSubmit|click)\s*\(|dispatchEvent|new\s+(Mouse|Keyboard|Pointer)Event", re.IGNORECASE)


def script_refusal(url: str, script: str, page: Target, rules: SiteRules) -> str | None:
    """Why a script the agent wants to run on this page must not: it would press or submit
    something on a page where that is the person's (a payment form, a ruled site). None otherwise."""
    if not _SCRIPT_PRESS.search(script or ""):
        return None
    duties = rules.duties_at(url)
    site = _site_of(url)
    ending = "the agent may not press or submit here with a script. Do this step yourself, then hand back."
    if Duty.PAY in duties and page.page_has_card_fields:
        return f"A person pays on {site} ({duties[Duty.PAY]}): {ending}"
    if Duty.CONFIRM in duties:
        return f"A person confirms and submits forms on {site} ({duties[Duty.CONFIRM]}): {ending}"
    if Duty.LOGIN in duties and page.page_has_password:
        return f"A person logs in on {site} ({duties[Duty.LOGIN]}): {ending}"
    return None


def _pays(target: Target) -> bool:
    if target.submits_form and target.form_has_card_fields:
        return True
    if (target.is_button or target.submits_form) and _PAY_WORDS.search(target.label):
        return True
    return False


def _site_of(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or "this site"


def _join(words: Iterable[str]) -> str:
    items = list(words)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
