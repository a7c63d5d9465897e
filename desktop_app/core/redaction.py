"""Keep credentials and card numbers out of logs, crash reports, history and exports.

Three layers: exact values the app learns at run time (API keys it loads, live URLs it receives),
patterns for the shapes of common keys, for values it never saw (an environment variable echoed in
a traceback, a key pasted into a task), and payment card numbers (with the expiry and security
code written next to them), which are shortened to their last four digits.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import urlsplit, urlunsplit

from desktop_app.core.cards import redact_cards

REDACTED = "[redacted]"

# Shapes of provider keys; a key of another shape is still caught by the exact-value layer.
_KEY_PATTERNS = [
    re.compile(r"\bbu_[A-Za-z0-9_\-]{8,}"),  # Browser Use
    re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,}"),  # OpenAI, Anthropic
    re.compile(r"\bAIza[0-9A-Za-z_\-]{20,}"),  # Google
    re.compile(r"(?i)(x-browser-use-api-key|authorization|api[_-]?key)([\"']?\s*[:=]\s*[\"']?)(?:bearer\s+)?[^\s\"',}]{6,}"),
]
_MIN_SECRET_LENGTH = 6


class Redactor:
    """Thread-safe: Qt messages and logging can arrive from WebEngine's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()

    def add_secret(self, value: str | None) -> None:
        if value and len(value) >= _MIN_SECRET_LENGTH:
            with self._lock:
                self._secrets.add(value)

    def add_url(self, url: str | None) -> None:
        """A credential URL: the whole of it and its query/fragment tokens are secret."""
        if not url:
            return
        self.add_secret(url)
        parts = urlsplit(url)
        for token in re.split(r"[&=#]", f"{parts.query}#{parts.fragment}"):
            if len(token) >= 12:
                self.add_secret(token)

    def redact(self, text: str) -> str:
        if not text:
            return text
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        for pattern in _KEY_PATTERNS:
            if pattern.groups >= 2:
                text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
            else:
                text = pattern.sub(REDACTED, text)
        return redact_cards(text)


def safe_url(url: str | None) -> str:
    """A URL fit for a log line: scheme, host and path, never the query or fragment."""
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "…", ""))
    return url


# One per process: logging filters, crash handlers and exports all consult it.
redactor = Redactor()
