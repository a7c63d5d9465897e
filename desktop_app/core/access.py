"""What one task may use (no Qt): the vault entries offered to it with their values, the sites it
may visit, and the site rules. Built fresh for every task; backends translate it for browser-use
(Local) or Browser Use Cloud, and the privacy guard asks it which values to hide."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import ClassVar

from desktop_app.core.site_rules import SiteRules
from desktop_app.core.timeline import short_url
from desktop_app.core import vault
from desktop_app.core.vault import EntryValues, VaultEntry


@dataclass(frozen=True)
class TaskAccess:
    entries: tuple[VaultEntry, ...] = ()
    values: Mapping[str, EntryValues] = field(default_factory=dict, repr=False)
    allowed_sites: tuple[str, ...] = ()  # the person's list for this task; empty: no limit of theirs
    rules: SiteRules = field(default_factory=SiteRules)
    problems: tuple[str, ...] = ()  # entries left out, in words (a keychain that did not answer)

    NONE: ClassVar[TaskAccess]  # no vault at all (a backend built without one): nothing added to a task

    @classmethod
    def build(
        cls,
        entries: list[VaultEntry],
        values: Mapping[str, EntryValues],
        *,
        allowed_sites: tuple[str, ...] = (),
        rules: SiteRules | None = None,
        problems: tuple[str, ...] = (),
    ) -> TaskAccess:
        rules = rules or SiteRules()
        offered = []
        withheld = []
        for entry in vault.entries_for_task(entries, allowed_sites):
            if entry.name not in values:
                continue
            if any(rules.login_kept_for_person(_probe(site)) for site in entry.sites):
                withheld.append(entry.name)  # "a person always logs in here": the agent gets no login
                continue
            offered.append(entry)
        said = tuple(f"“{name}” is not offered to the agent: a person logs in on its site." for name in withheld)
        return cls(tuple(offered), dict(values), tuple(allowed_sites), rules, (*problems, *said))

    def about(self, text: str) -> TaskAccess:
        """Only the entries a task is about — its text names the entry or one of its sites — unless
        the person listed the task's sites. Cloud's ``allowedDomains`` follow the entries a task
        carries: an entry carried to every task would keep every task on the vault's sites."""
        if self.allowed_sites:
            return self
        lowered = text.lower()
        words = set(re.findall(r"[\w-]+", lowered))

        def named(entry: VaultEntry) -> bool:
            if entry.name.lower() in lowered:
                return True
            for site in entry.sites:
                host = vault.site_label(site).removeprefix("*.").lower()
                labels = host.split(".")
                if host in lowered or (len(labels) >= 2 and labels[-2] in words):
                    return True
            return False

        return replace(self, entries=tuple(e for e in self.entries if named(e)))

    def sensitive_data(self) -> dict[str, dict[str, str]]:
        return vault.sensitive_data(self.entries, self.values)

    def cloud_secrets(self) -> dict[str, str]:
        return vault.cloud_secrets(self.entries, self.values)

    def local_allowed_domains(self) -> list[str] | None:
        """The browser profile's ``allowed_domains``: only what the person set for this task
        (the vault's values are scoped to their sites by browser-use already)."""
        return vault.allowed_patterns(self.allowed_sites) if self.allowed_sites else None

    def cloud_allowed_domains(self) -> list[str] | None:
        """Cloud's ``allowedDomains``: the person's list, else the sites of the entries it carries
        (only those the task is about: ``about``)."""
        if self.allowed_sites:
            return vault.allowed_patterns(self.allowed_sites)
        if self.entries:
            return vault.allowed_patterns(site for entry in self.entries for site in entry.sites)
        return None

    def briefing(self) -> str:
        """Added to the task the model reads: names, sites, placeholders and rules; never a value."""
        parts = [vault.briefing(self.entries), self.rules.briefing()]
        if self.allowed_sites:
            parts.append("Stay on these sites: " + ", ".join(vault.site_label(s) for s in self.allowed_sites) + ".")
        return "\n\n".join(p for p in parts if p)

    def blocked_words(self, urls: list[str]) -> str:
        """Said when the agent was kept from addresses outside the allowed sites (Local)."""
        places = ", ".join(dict.fromkeys(short_url(u) or u for u in urls)) or "a site"
        return f"The agent was kept from {places}: this task may only visit {self._allowed_words()}."

    def refused_site_words(self, text: str) -> str:
        """Plain words for a Cloud step whose text says the browser refused a site, else ""."""
        if not self.allowed_sites or not _REFUSED.search(text or ""):
            return ""
        return f"Browser Use kept the agent from a site outside this task's list: it may only visit {self._allowed_words()}."

    def _allowed_words(self) -> str:
        return ", ".join(vault.site_label(s) for s in self.allowed_sites)

    def secret_values(self, at: float | None = None) -> set[str]:
        """Every value to hide from the model now: the entries' values and their current 2FA codes."""
        found: set[str] = set()
        now = time.time() if at is None else at
        for entry in self.entries:
            values = self.values.get(entry.name)
            if values is None:
                continue
            for what in entry.fields:
                value = values.get(what)
                if not value:
                    continue
                found.add(value)
                if what == "totp":
                    found.update(vault.codes_around(value, now))
        return found

TaskAccess.NONE = TaskAccess(rules=SiteRules(final_pay_everywhere=False))

_REFUSED = re.compile(r"blocked by security policy|navigation blocked|not in (the )?allowed domains|not allowed to (visit|navigate)", re.I)


def _probe(site: str) -> str:
    scheme, _, host = site.rpartition("://")
    return f"{'http' if scheme == 'http' else 'https'}://{host.removeprefix('*.')}/"
