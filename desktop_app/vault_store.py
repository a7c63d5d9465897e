"""The vault on this computer: the catalog (entry names, sites, which values exist) and the site
rules in ``vault.json`` in the config folder (``Paths.vault_file``); every value in the keychain (``keychain.py``), under
``vault:<entry>:<field>``. No value is ever written to a file or a log (each one read or written is
registered with the redactor by the keychain).

Like the keys, values fall back to memory for this run when no keychain works, and every message
says so. The sites the person allows for the next tasks (the task panel's field) are held here for
this run only.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from desktop_app.core.access import TaskAccess
from desktop_app.core.site_rules import SiteRules
from desktop_app.core.vault import (
    FIELD_LABELS,
    FIELDS,
    EntryValues,
    VaultEntry,
    VaultInputError,
    check_name,
    export_text,
    import_text,
    parse_totp,
)
from desktop_app.system.keychain import Keychain, SaveResult

log = logging.getLogger(__name__)

def _account(entry: VaultEntry | str, what: str) -> str:
    key = entry.key if isinstance(entry, VaultEntry) else entry
    return f"vault:{key}:{what}"


class VaultStore:
    def __init__(self, path: Path, keychain: Keychain) -> None:
        self.path = path  # Paths.vault_file
        self.keychain = keychain
        self.entries: list[VaultEntry] = []
        self.rules = SiteRules()
        self.problem: str | None = None  # the file could not be used (said once)
        self.allowed_sites: tuple[str, ...] = ()  # for the next tasks, this run only
        self.load()

    # -- the file --------------------------------------------------------------------------------

    def load(self) -> None:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except OSError as error:
            self.problem = f"The vault's list could not be read ({error.strerror})."
            return
        try:
            data = json.loads(raw)
            self.entries = [VaultEntry.from_json(e) for e in data.get("entries") or []]
            self.rules = SiteRules.from_json(data.get("site_rules"))
        except (ValueError, AttributeError, TypeError) as error:
            aside = self.path.with_suffix(".json.bad")
            try:
                os.replace(self.path, aside)
            except OSError:
                aside = self.path
            log.warning("Vault list unusable (%s); kept as %s", type(error).__name__, aside.name)
            self.entries, self.rules = [], SiteRules()
            self.problem = f"The vault's list was damaged and has been kept aside as {aside.name}; its values are still in your keychain."

    def save(self) -> None:
        """OSError when the disk refuses (what was typed stays in the dialog)."""
        data = {"entries": [e.to_json() for e in self.entries], "site_rules": self.rules.to_json()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
        temporary.chmod(0o600)
        os.replace(temporary, self.path)

    # -- entries ---------------------------------------------------------------------------------

    def entry(self, name: str) -> VaultEntry | None:
        return next((e for e in self.entries if e.name == name), None)

    def save_entry(self, previous: str | None, name: str, sites: tuple[str, ...], values: Mapping[str, str | None]) -> list[str]:
        """Add or change an entry. ``values``: field → new value ("" removes it, None keeps it).
        VaultInputError for bad input (nothing changes); returns what to tell the person."""
        others = [e.name for e in self.entries if e.name != previous]
        name = check_name(name, others)
        if not sites:
            raise VaultInputError("Give at least one site the entry is for (example.com or *.example.com).")
        new_values = dict(values)
        if new_values.get("totp"):
            new_values["totp"] = parse_totp(new_values["totp"] or "")
        old = self.entry(previous) if previous else None
        kept: dict[str, str] = {}
        if old is not None:
            for what in old.fields:
                if new_values.get(what) is None:
                    value = self.keychain.get_item(_account(old, what))
                    if value is None:
                        raise VaultInputError(self._unreadable(old, what))
                    kept[what] = value
        fields = tuple(f for f in FIELDS if (new_values.get(f) is not None and new_values[f]) or (new_values.get(f) is None and f in kept))
        if not fields:
            raise VaultInputError("Fill in at least a username, a password or a 2FA secret.")
        entry = VaultEntry(name, sites, fields)
        messages: list[SaveResult] = []
        for what in FIELDS:
            value = new_values.get(what)
            if value is None:
                value = kept.get(what, "")
            if old is not None and old.key != entry.key:
                self.keychain.delete_item(_account(old, what))
            if value:
                messages.append(self.keychain.set_item(_account(entry, what), value))
            elif old is not None and what in old.fields:
                messages.append(self.keychain.delete_item(_account(entry, what)))
        self.entries = [e for e in self.entries if e.name != previous and e.name != name] + [entry]
        self.entries.sort(key=lambda e: e.name.lower())
        self.save()
        told = [m.message for m in messages if not m.persistent]
        return told[:1] or [f"“{name}” saved: its values are in your system keychain."]

    def remove_entry(self, name: str) -> list[str]:
        entry = self.entry(name)
        if entry is None:
            return []
        told = []
        for what in FIELDS:
            result = self.keychain.delete_item(_account(entry, what))
            if not result.persistent and self.keychain.problem:
                told.append(result.message)
        self.entries = [e for e in self.entries if e.name != name]
        self.save()
        return told[:1] or [f"“{name}” removed."]

    def reveal(self, name: str, what: str) -> str:
        """A value, for an explicit Show; VaultInputError when the keychain will not give it."""
        entry = self.entry(name)
        if entry is None or what not in entry.fields:
            return ""
        value = self.keychain.get_item(_account(entry, what))
        if value is None:
            raise VaultInputError(self._unreadable(entry, what))
        return value

    def _unreadable(self, entry: VaultEntry, what: str) -> str:
        why = self.keychain.problem or "It is no longer there (removed outside Handoff, or kept in memory by an earlier run)"
        return f"{why}: the {FIELD_LABELS[what].lower()} of “{entry.name}” could not be read. Type it again, or unlock the keychain."

    # -- rules -----------------------------------------------------------------------------------

    def save_rules(self, rules: SiteRules) -> None:
        self.rules = rules
        self.save()

    # -- export and import -----------------------------------------------------------------------

    def export_to(self, path: Path) -> str:
        path.write_text(export_text(self.entries, self.rules.to_json()), encoding="utf-8")
        return f"Exported {len(self.entries)} entr{'y' if len(self.entries) == 1 else 'ies'} (names and sites, no values) and the site rules."

    def import_from(self, path: Path) -> str:
        """Entries not here yet are added without values (the person types them on this computer);
        the file's site rules replace these. VaultInputError / OSError leave everything as it was."""
        entries, rules_json = import_text(path.read_text(encoding="utf-8"))
        rules = SiteRules.from_json(rules_json)
        known = {e.key for e in self.entries}
        added = [VaultEntry(e.name, e.sites, ()) for e in entries if e.key not in known]
        self.entries = sorted([*self.entries, *added], key=lambda e: e.name.lower())
        self.rules = rules
        self.save()
        return (
            f"Imported {len(added)} new entr{'y' if len(added) == 1 else 'ies'} and the site rules. "
            "Values are never in the file: type them for each entry."
        )

    # -- a task ----------------------------------------------------------------------------------

    def task_access(self, allowed_sites: tuple[str, ...] | None = None) -> TaskAccess:
        """Read the values of every entry (in a worker thread: keychains answer over IPC).
        ``allowed_sites``: the session's own (default: this store's, for a single-session caller)."""
        values: dict[str, EntryValues] = {}
        problems: list[str] = []
        for entry in self.entries:
            found: dict[str, str] = {}
            for what in entry.fields:
                value = self.keychain.get_item(_account(entry, what))
                if value is None:
                    problems.append(self._unreadable(entry, what) + " The agent will not be offered it.")
                    break
                found[what] = value
            else:
                if found:
                    values[entry.name] = EntryValues(**found)
        sites = self.allowed_sites if allowed_sites is None else allowed_sites
        return TaskAccess.build(self.entries, values, allowed_sites=sites, rules=self.rules, problems=tuple(problems))


class SessionVault:
    """The vault as one session's agent uses it: the app's entries and site rules, and the sites
    this session's agent may visit (typed in its own tab: another tab's list never applies here)."""

    def __init__(self, store: VaultStore) -> None:
        self.store = store
        self.allowed_sites: tuple[str, ...] = ()  # for this session's next tasks, this run only

    @property
    def rules(self) -> SiteRules:
        return self.store.rules

    def task_access(self) -> TaskAccess:
        return self.store.task_access(self.allowed_sites)
