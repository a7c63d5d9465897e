"""Is the Browser Use configuration usable? The rules and their words, whoever asks.

Three places ask: the Settings dialog (what the person typed), the Cloud backend before its first
request (what is in effect, which BROWSER_USE_BASE_URL and BROWSER_USE_API_KEY override), and a
``--task`` run before it starts (which logs the answer as ``config_problem``). They get the same
words, naming the place to fix: the Settings field, or the environment variable.

The network half — asking the address whether it is the Browser Use API — lives with the Cloud
adapter (backends/cloud_check.py). It reports what it saw as a ``ProbeResult``; the words are
chosen here, so a test can read every message without a network.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit, urlunsplit

ADDRESS_VARIABLE = "BROWSER_USE_BASE_URL"
KEY_VARIABLE = "BROWSER_USE_API_KEY"
BROWSER_USE_ADDRESS = "https://api.browser-use.com/api/v2"  # the SDK's v2 default


class Setting(Enum):
    """What the person has to change."""

    BROWSER_USE_KEY = "browser_use_key"
    BROWSER_USE_ADDRESS = "browser_use_address"
    MODEL = "model"  # the Local agent's model (words from backends/llm.py)


@dataclass(frozen=True)
class ConfigProblem:
    setting: Setting
    message: str
    # True: wrong whatever the network does (nothing can run until it is fixed). False: the address
    # could not be reached just now — it may be fine once the connection is back.
    definite: bool = True


@dataclass(frozen=True)
class CloudConfig:
    """The Browser Use settings to check, and where each one comes from."""

    address: str  # "" = Browser Use's own address
    key: str
    address_from_environment: bool = False
    key_from_environment: bool = False
    in_settings_dialog: bool = False  # the person is looking at the fields right now

    @property
    def effective_address(self) -> str:
        return self.address.strip() or BROWSER_USE_ADDRESS

    @property
    def where_the_address_is(self) -> str:
        if self.address_from_environment:
            return ADDRESS_VARIABLE
        return "the API address" if self.in_settings_dialog else "the Browser Use API address in Settings"


class ProbeOutcome(Enum):
    """What the address did when asked for the account (GET <address>/billing/account)."""

    API = "api"  # answered as the Browser Use API does (the key works, or only credits are short)
    KEY_REFUSED = "key_refused"  # 401/403
    NOT_THE_API = "not_the_api"  # 404 (or another 4xx) where the API answers, or a web page
    REFUSED = "refused"  # nothing listens there
    HOST_UNKNOWN = "host_unknown"  # the name does not resolve (a typo, or offline)
    TIMED_OUT = "timed_out"
    SERVER_TROUBLE = "server_trouble"  # 5xx: the API (or a proxy in front of it) has problems
    UNREACHABLE = "unreachable"  # any other transport failure (TLS, a dropped connection)


@dataclass(frozen=True)
class ProbeResult:
    outcome: ProbeOutcome
    status: int | None = None  # the HTTP status, when there was an answer
    detail: str = ""  # for the log only


def address_problem(config: CloudConfig) -> ConfigProblem | None:
    """The address as written, without asking the network."""
    address = config.address.strip()
    if not address:
        return None  # Browser Use's own
    parts = urlsplit(address)
    try:
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:  # "http://host:99999", "http://host:abc"
        port_ok = False
    if parts.scheme in ("http", "https") and parts.hostname and port_ok:
        return None
    if parts.scheme in ("http", "https") and parts.hostname:
        where = ADDRESS_VARIABLE if config.address_from_environment else "The Browser Use API address"
        return ConfigProblem(Setting.BROWSER_USE_ADDRESS, f"{where} has a port that cannot be right: “{address}”.")
    if config.address_from_environment:
        message = (
            f"{ADDRESS_VARIABLE} must be an address starting with http:// or https:// "
            f"(for example {BROWSER_USE_ADDRESS}); it is “{shown_address(address)}”."
        )
    else:
        message = f"The Browser Use API address must start with http:// or https:// (for example {BROWSER_USE_ADDRESS})."
    return ConfigProblem(Setting.BROWSER_USE_ADDRESS, message)


def key_problem(config: CloudConfig) -> ConfigProblem | None:
    key = config.key.strip()
    if key and not key.isascii():
        # A paste can bring an invisible character along (a zero-width space): no key has one.
        return ConfigProblem(
            Setting.BROWSER_USE_KEY,
            "The Browser Use API key contains a character no key has (perhaps an invisible one from the paste). "
            "Paste it again, or type it.",
        )
    if key:
        return None
    if config.in_settings_dialog:
        message = "Paste your Browser Use API key (from cloud.browser-use.com), or choose Local."
    else:
        message = f"Add your Browser Use API key in Settings (or set {KEY_VARIABLE}) to use Browser Use Cloud."
    return ConfigProblem(Setting.BROWSER_USE_KEY, message)


def written_problem(config: CloudConfig) -> ConfigProblem | None:
    """What is wrong before any request is sent: the address first (a key is no use without it)."""
    return address_problem(config) or key_problem(config)


def probe_problem(config: CloudConfig, probe: ProbeResult) -> ConfigProblem | None:
    """What the probe's answer means for the person, or None when it does not point at the settings."""
    shown = shown_address(config.effective_address)
    where = config.where_the_address_is
    outcome = probe.outcome
    if outcome in (ProbeOutcome.API, ProbeOutcome.SERVER_TROUBLE):
        return None  # it is the API; trouble on its side is reported when a request fails
    if outcome is ProbeOutcome.KEY_REFUSED:
        fix = f"Check {KEY_VARIABLE}, which overrides Settings." if config.key_from_environment else "Check it in Settings."
        return ConfigProblem(Setting.BROWSER_USE_KEY, f"Browser Use did not accept your API key. {fix}")
    if outcome is ProbeOutcome.NOT_THE_API:
        return ConfigProblem(
            Setting.BROWSER_USE_ADDRESS,
            f"This address does not look like the Browser Use API: {shown} {_what_it_answered(probe.status)}. "
            f"Check {where}; Browser Use's own is {BROWSER_USE_ADDRESS}.",
        )
    if outcome is ProbeOutcome.REFUSED:
        return ConfigProblem(
            Setting.BROWSER_USE_ADDRESS,
            f"Nothing is answering at {shown} (the connection was refused). Check {where}, "
            "or start the server it points to.",
        )
    if outcome is ProbeOutcome.HOST_UNKNOWN:
        host = urlsplit(config.effective_address).hostname or shown
        return ConfigProblem(
            Setting.BROWSER_USE_ADDRESS,
            f"Handoff could not find {host}. Check {where} and your internet connection.",
            definite=False,
        )
    if outcome is ProbeOutcome.TIMED_OUT:
        return ConfigProblem(
            Setting.BROWSER_USE_ADDRESS,
            f"{shown} did not answer in time. Check your internet connection and {where}.",
            definite=False,
        )
    return ConfigProblem(
        Setting.BROWSER_USE_ADDRESS,
        f"Handoff could not talk to {shown}. Check your internet connection and {where}.",
        definite=False,
    )


def _what_it_answered(status: int | None) -> str:
    if status == 404:
        return "answered “not found” (HTTP 404)"
    if status is None or 200 <= status < 300:
        return "answered with a web page, not the API's data"
    if 300 <= status < 400:
        return f"sends requests elsewhere (HTTP {status})"
    return f"answered HTTP {status}"


def shown_address(address: str) -> str:
    """An address fit to show and log: no user name or password, no query."""
    parts = urlsplit(address)
    if not parts.netloc:
        return address.split("?", 1)[0]
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # IPv6
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
