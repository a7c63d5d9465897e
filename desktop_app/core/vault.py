"""The vault's rules (no Qt, no keychain): entries by name and site, site patterns, 2FA codes,
the placeholders the agent types by, and the export file.

An entry's *values* (username, password, 2FA secret) never pass through here on their way to a
file: the catalog (names, sites, which values exist) is plain data; the values live in the
keychain (``desktop_app.vault_store``) and are handed to the backend for one task only.

Placeholders follow browser-use's convention: the model writes ``<secret>bank_password</secret>``
and browser-use types the value on a page whose address matches the entry's sites; a name ending
in ``bu_2fa_code`` holds a TOTP secret and browser-use types the current code (RFC 6238).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import re
import struct
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatch
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

FIELDS = ("username", "password", "totp")
FIELD_LABELS = {"username": "Username", "password": "Password", "totp": "2FA secret"}
TOTP_SUFFIX = "bu_2fa_code"  # browser-use generates a code for a placeholder ending in this
TOTP_DIGITS = 6
TOTP_PERIOD = 30
EXPORT_KIND = "handoff-vault-catalog"
EXPORT_VERSION = 1


class VaultInputError(ValueError):
    """Something the person typed cannot be used; the message says why, in their words."""


# -- sites ----------------------------------------------------------------------------------------

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_SCHEMES = ("http", "https", "http*")


def check_site(text: str) -> str:
    """A site pattern as the person typed it, normalised ("Bank.example/" → "bank.example"), or
    VaultInputError saying what is wrong. Accepted: ``example.com``, ``*.example.com``, an IP
    address or ``localhost``, optionally with ``https://``, ``http://`` or ``http*://``."""
    raw = text.strip()
    if not raw:
        raise VaultInputError("Type a site, for example example.com or *.example.com.")
    site = raw.lower().rstrip("/")
    scheme = ""
    if "://" in site:
        scheme, site = site.split("://", 1)
        if scheme not in _SCHEMES:
            raise VaultInputError(f"“{raw}”: a site starts with https://, http:// or nothing at all.")
    if "/" in site or "?" in site or "#" in site:
        raise VaultInputError(f"“{raw}”: give the site only, without a page path (example.com, not example.com/login).")
    if ":" in site and not _is_ip(site):
        raise VaultInputError(f"“{raw}”: leave out the port number; the site's name is enough.")
    if site in ("*", "*.*") or site.startswith("*.*"):
        raise VaultInputError(f"“{raw}” would match every site. Name the site, for example *.example.com.")
    host = site[2:] if site.startswith("*.") else site
    if "*" in host:
        raise VaultInputError(f"“{raw}”: a * may only stand at the start (*.example.com), never elsewhere.")
    if not _is_ip(host):
        labels = host.split(".")
        if not all(_LABEL.match(label) for label in labels):
            raise VaultInputError(f"“{raw}” is not a site name: use letters, digits, dots and dashes (example.com).")
        if len(labels) < 2 and host != "localhost":
            raise VaultInputError(f"“{raw}”: give the whole name with its ending, for example {host}.com.")
        if site.startswith("*.") and len(labels) < 2:
            raise VaultInputError(f"“{raw}”: a * must be followed by a whole site name (*.example.com).")
    return f"{scheme}://{site}" if scheme else site


def check_sites(text: str) -> tuple[str, ...]:
    """Sites separated by commas, spaces or new lines; every problem found, in one message."""
    sites: list[str] = []
    problems: list[str] = []
    for part in re.split(r"[\s,;]+", text):
        if not part:
            continue
        try:
            site = check_site(part)
        except VaultInputError as error:
            problems.append(str(error))
            continue
        if site not in sites:
            sites.append(site)
    if problems:
        raise VaultInputError(" ".join(problems))
    return tuple(sites)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _parts(site: str) -> tuple[str, str]:
    scheme, _, host = site.rpartition("://")
    if not scheme:
        # No scheme: https only (browser-use's own rule), except this computer's own pages.
        scheme = "http*" if _loopback(host.removeprefix("*.")) else "https"
    return scheme, host


def browser_pattern(site: str) -> str:
    """The pattern browser-use (and Browser Use Cloud) match addresses with, for a checked site."""
    scheme, host = _parts(site)
    return f"{scheme}://{host}"


def site_matches(url: str, site: str) -> bool:
    """Whether ``url`` is on ``site`` (as browser-use matches: ``*.example.com`` covers
    example.com and every subdomain; no scheme means https, or http too on this computer)."""
    parts = urlsplit(url)
    scheme, host = (parts.scheme or "").lower(), (parts.hostname or "").lower()
    if not scheme or not host:
        return False
    pattern_scheme, pattern_host = _parts(site)
    if not fnmatch(scheme, pattern_scheme):
        return False
    if pattern_host.startswith("*."):
        base = pattern_host[2:]
        return host == base or host.endswith("." + base)
    return host == pattern_host


def site_label(site: str) -> str:
    return site.split("://", 1)[-1]


# -- entries --------------------------------------------------------------------------------------


def placeholder_base(name: str) -> str:
    """The entry's name as the agent writes it: ``"My bank"`` → ``my_bank``."""
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9]+", "_", name.lower())).strip("_")


def check_name(name: str, taken: Iterable[str] = ()) -> str:
    clean = " ".join(name.split())
    if not clean:
        raise VaultInputError("Give the entry a name, for example “bank”.")
    if len(clean) > 40:
        raise VaultInputError("Keep the name under 40 characters.")
    base = placeholder_base(clean)
    if not base:
        raise VaultInputError("Use at least one letter or digit in the name.")
    if any(placeholder_base(other) == base for other in taken):
        raise VaultInputError(f"An entry called “{clean}” (or nearly) exists already; choose another name.")
    return clean


@dataclass(frozen=True)
class VaultEntry:
    """What the list shows and files may hold: never a value."""

    name: str
    sites: tuple[str, ...]
    fields: tuple[str, ...] = ()  # which values the keychain holds for it (of FIELDS)

    @property
    def key(self) -> str:
        return placeholder_base(self.name)

    def placeholder(self, what: str) -> str:
        return f"{self.key}_{TOTP_SUFFIX}" if what == "totp" else f"{self.key}_{what}"

    def applies_to(self, url: str) -> bool:
        return any(site_matches(url, site) for site in self.sites)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "sites": list(self.sites), "fields": list(self.fields)}

    @classmethod
    def from_json(cls, data: Any) -> VaultEntry:
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise VaultInputError("An entry has no name.")
        sites = data.get("sites") if isinstance(data.get("sites"), list) else []
        fields = tuple(f for f in data.get("fields", ()) if f in FIELDS) if isinstance(data.get("fields"), list) else ()
        return cls(check_name(data["name"]), check_sites(" ".join(str(s) for s in sites)), fields)


@dataclass(frozen=True)
class EntryValues:
    """One entry's values for one task: handed to a backend, never stored by it."""

    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    totp: str = field(default="", repr=False)  # the base32 secret

    def get(self, what: str) -> str:
        return str(getattr(self, what))


# -- 2FA codes (RFC 6238) -------------------------------------------------------------------------


def parse_totp(text: str) -> str:
    """The base32 secret from what an authenticator set-up page shows: an ``otpauth://`` address or
    the secret itself (spaces and lower case allowed). VaultInputError when it is neither, or asks
    for a kind of code browser-use cannot type (not 6 digits every 30 s with SHA-1)."""
    raw = text.strip()
    if not raw:
        raise VaultInputError("Paste the 2FA secret or the otpauth:// address shown when you set up the authenticator.")
    if raw.lower().startswith("otpauth://"):
        parts = urlsplit(raw)
        if parts.netloc.lower() != "totp":
            raise VaultInputError("This otpauth:// address is not for time-based codes (it must start otpauth://totp/).")
        query = {k.lower(): v[-1] for k, v in parse_qs(parts.query).items()}
        if "secret" not in query:
            raise VaultInputError("This otpauth:// address has no secret= part; copy the whole address again.")
        if query.get("digits", str(TOTP_DIGITS)) != str(TOTP_DIGITS) or query.get("period", str(TOTP_PERIOD)) != str(TOTP_PERIOD):
            raise VaultInputError("Handoff can type 6-digit codes that change every 30 seconds; this account uses another kind.")
        if query.get("algorithm", "SHA1").upper() != "SHA1":
            raise VaultInputError("Handoff can type the usual SHA-1 codes; this account uses another algorithm.")
        raw = unquote(query["secret"])
    secret = re.sub(r"[\s\-]", "", raw).upper().rstrip("=")
    if not secret or not re.fullmatch(r"[A-Z2-7]+", secret):
        raise VaultInputError("That is not a 2FA secret: a set-up key uses only the letters A–Z and the digits 2–7.")
    try:
        key = _key(secret)
    except ValueError as error:
        raise VaultInputError("That 2FA secret is cut short; copy it again, whole.") from error
    if len(key) < 10:
        raise VaultInputError("That 2FA secret is too short (a set-up key has at least 16 characters).")
    return secret


def _key(secret: str) -> bytes:
    padded = secret + "=" * (-len(secret) % 8)
    return base64.b32decode(padded, casefold=True)


def totp_code(secret: str, at: float | None = None, *, digits: int = TOTP_DIGITS, period: int = TOTP_PERIOD) -> str:
    """The code an authenticator shows at ``at`` (seconds since the epoch), RFC 6238 with SHA-1."""
    counter = int((time.time() if at is None else at) // period)
    digest = hmac.new(_key(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def codes_around(secret: str, at: float | None = None) -> tuple[str, ...]:
    """The codes valid a step before, now and a step after: any of them may be on a page."""
    now = time.time() if at is None else at
    return tuple(totp_code(secret, now + shift) for shift in (-TOTP_PERIOD, 0, TOTP_PERIOD))


# -- what a task gets -----------------------------------------------------------------------------


def entries_for_task(entries: Iterable[VaultEntry], allowed_sites: Iterable[str]) -> list[VaultEntry]:
    """The entries a task may use: all of them, or with allowed sites, those whose every site lies
    within them (an entry for bank.example is not offered to a task kept to shop.example)."""
    allowed = tuple(allowed_sites)
    chosen = []
    for entry in entries:
        if not entry.fields or not entry.sites:
            continue
        if allowed and not all(_covered(site, allowed) for site in entry.sites):
            continue
        chosen.append(entry)
    return chosen


def _covered(site: str, allowed: tuple[str, ...]) -> bool:
    scheme, host = _parts(site)
    probe = f"{'http' if scheme == 'http' else 'https'}://{host.removeprefix('*.')}/"
    return any(site_matches(probe, other) for other in allowed)


def sensitive_data(entries: Iterable[VaultEntry], values: Mapping[str, EntryValues]) -> dict[str, dict[str, str]]:
    """browser-use's domain-scoped ``sensitive_data``: ``{pattern: {placeholder: value}}``."""
    scoped: dict[str, dict[str, str]] = {}
    for entry in entries:
        found = values.get(entry.name)
        if found is None:
            continue
        typed = {entry.placeholder(what): found.get(what) for what in entry.fields if found.get(what)}
        for site in entry.sites:
            scoped.setdefault(browser_pattern(site), {}).update(typed)
    return scoped


def cloud_secrets(entries: Iterable[VaultEntry], values: Mapping[str, EntryValues]) -> dict[str, str]:
    """Browser Use Cloud's task ``secrets``: placeholder → value (the 2FA secret under its
    ``…bu_2fa_code`` name, from which the agent types the current code)."""
    flat: dict[str, str] = {}
    for entry in entries:
        found = values.get(entry.name)
        if found is None:
            continue
        flat.update({entry.placeholder(what): found.get(what) for what in entry.fields if found.get(what)})
    return flat


def allowed_patterns(sites: Iterable[str]) -> list[str]:
    return sorted({browser_pattern(site) for site in sites})


def briefing(entries: Iterable[VaultEntry]) -> str:
    """What the model is told of the vault: names, sites and placeholders, never a value."""
    lines = []
    for entry in entries:
        typed = ", ".join(
            f"{FIELD_LABELS[what].lower().replace('2fa secret', 'current 2FA code')} <secret>{entry.placeholder(what)}</secret>"
            for what in FIELDS
            if what in entry.fields
        )
        lines.append(f"- {entry.name} (on {', '.join(site_label(s) for s in entry.sites)}): {typed}")
    if not lines:
        return ""
    return (
        "Stored logins you may use on their sites only. You never see the values: to type one, input its placeholder "
        "exactly as written, <secret> tags included, and it is typed for you (a 2FA placeholder types the current code).\n"
        + "\n".join(lines)
    )


# -- export and import ----------------------------------------------------------------------------


def export_text(entries: Iterable[VaultEntry], rules_json: dict[str, Any]) -> str:
    """The file operators copy between machines: entry names and sites and the site rules; no
    value, not even which values an entry had."""
    data = {
        "kind": EXPORT_KIND,
        "version": EXPORT_VERSION,
        "entries": [{"name": e.name, "sites": list(e.sites)} for e in entries],
        "site_rules": rules_json,
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def import_text(text: str) -> tuple[list[VaultEntry], dict[str, Any]]:
    """Entries (without values) and the site rules' JSON from an exported file, or VaultInputError."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise VaultInputError("This file is not a Handoff vault export (it is not JSON).") from error
    if not isinstance(data, dict) or data.get("kind") != EXPORT_KIND:
        raise VaultInputError("This file is not a Handoff vault export.")
    if data.get("version") != EXPORT_VERSION:
        raise VaultInputError("This vault export comes from a newer Handoff; update Handoff to import it.")
    entries: list[VaultEntry] = []
    for raw in data.get("entries") or []:
        if isinstance(raw, dict):
            raw = {k: v for k, v in raw.items() if k != "fields"}  # values are never imported, so none exist
        try:
            entry = VaultEntry.from_json(raw)
        except VaultInputError as error:
            raise VaultInputError(f"An entry in this file cannot be used: {error}") from error
        if any(e.key == entry.key for e in entries):
            raise VaultInputError(f"This file names “{entry.name}” twice.")
        entries.append(entry)
    rules = data.get("site_rules") if isinstance(data.get("site_rules"), dict) else {}
    return entries, rules
