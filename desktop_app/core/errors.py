"""Faults, as the core and the user see them, whatever backend raised them.

Adapters translate their libraries' exceptions into ``BackendError`` with a message written for a
non-technical user: what happened and what to do. The core decides from ``problem`` (open
Settings on AUTH, offer a new session on SESSION_GONE, never re-send on UNCERTAIN, …).
"""

from __future__ import annotations

from enum import Enum


class Problem(Enum):
    AUTH = "auth"  # key missing, wrong or revoked: open Settings
    CONFIG = "config"  # the Browser Use address is not the API, or nothing answers there: open Settings
    SPEND_LIMIT = "spend_limit"
    PAYMENT = "payment"
    NOT_FOUND = "not_found"
    SESSION_GONE = "session_gone"
    INVALID = "invalid"  # the request was refused as malformed or too large
    RATE_LIMITED = "rate_limited"
    TOO_MANY_SESSIONS = "too_many_sessions"  # the plan's limit on sessions at once: waiting will not help
    SERVER = "server"
    NETWORK = "network"
    TIMEOUT = "timeout"
    UNCERTAIN = "uncertain"  # a create may or may not have happened: check, never re-send blindly
    LOST_TRACK = "lost_track"  # a task that was running can no longer be followed: it may still run
    LLM_NOT_CONFIGURED = "llm_not_configured"
    LLM_FAILED = "llm_failed"
    BROWSER_GONE = "browser_gone"
    INTERNAL = "internal"


class BackendError(Exception):
    def __init__(
        self,
        problem: Problem,
        message: str,
        *,
        retry_after: float | None = None,
        detail: str | None = None,
        unconfirmed_since: float | None = None,
    ) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message
        self.retry_after = retry_after
        self.detail = detail  # for the log, never shown as the headline
        # A session may have been created from this time on without Handoff learning its id: the
        # next start looks for it (core/recovery.py).
        self.unconfirmed_since = unconfirmed_since

    @property
    def needs_settings(self) -> bool:
        return self.problem in (Problem.AUTH, Problem.CONFIG, Problem.LLM_NOT_CONFIGURED, Problem.SPEND_LIMIT)
