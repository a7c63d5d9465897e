"""What Browser Use's answers and a broken connection mean, in the person's words, and which
failures are safe to try again: a 429 always (nothing was done); a read or a stop also after a 5xx
or a lost connection; a create only when the request never reached Browser Use."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import httpx
from browser_use_sdk import APIKeySpendLimitError, BrowserUseError

from desktop_app.core.errors import BackendError, Problem


def translate_api_error(error: BrowserUseError) -> BackendError:
    status = error.status_code
    detail = f"HTTP {status}: {error.message}"
    if isinstance(error, APIKeySpendLimitError):
        spent = f" (${error.spent} of ${error.cap})" if error.spent is not None and error.cap is not None else ""
        return BackendError(
            Problem.SPEND_LIMIT,
            f"Your Browser Use API key has reached its monthly spend limit{spent}. Raise the limit in the "
            "Browser Use dashboard, or use another key in Settings.",
            detail=detail,
        )
    if status in (401, 403):
        return BackendError(
            Problem.AUTH,
            "Browser Use did not accept your API key. Check it in Settings.",
            detail=detail,
        )
    if status == 402:
        return BackendError(
            Problem.PAYMENT,
            "Browser Use needs payment before it runs more tasks: your credits are used up. "
            "Add credits in the Browser Use dashboard.",
            detail=detail,
        )
    if status == 404:
        return BackendError(Problem.NOT_FOUND, "Browser Use no longer knows this session or task.", detail=detail)
    if status == 429 and "concurrent" in f"{error.message} {error.detail}".lower():
        return BackendError(
            Problem.TOO_MANY_SESSIONS,
            "Browser Use runs no more sessions at once on your plan. Stop a session you no longer need "
            "(Stop session, or close its tab), or raise the limit in the Browser Use dashboard.",
            detail=detail,
        )
    if status == 429:
        return BackendError(
            Problem.RATE_LIMITED,
            "Browser Use is receiving too many requests from your account. Wait a minute and try again.",
            retry_after=float(error.retry_after) if error.retry_after is not None else None,
            detail=detail,
        )
    if status in (400, 409, 422):
        return BackendError(Problem.INVALID, f"Browser Use refused the request: {error.message}", detail=detail)
    if status >= 500:
        return BackendError(
            Problem.SERVER,
            f"Browser Use is having problems right now (HTTP {status}). Try again in a minute.",
            detail=detail,
        )
    return BackendError(Problem.INTERNAL, f"Browser Use answered HTTP {status}: {error.message}", detail=detail)


def translate_transport_error(error: httpx.HTTPError, creating: str | None) -> BackendError:
    detail = f"{type(error).__name__}: {error}"
    reached_server = isinstance(
        error, httpx.ReadTimeout | httpx.WriteTimeout | httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError
    )
    if creating and reached_server:
        return BackendError(
            Problem.UNCERTAIN,
            f"The connection to Browser Use broke while the {creating} was being created, so Handoff cannot "
            f"tell whether it was. Nothing was sent twice — check the timeline, then try again.",
            detail=detail,
        )
    if isinstance(error, httpx.TimeoutException):
        return BackendError(
            Problem.TIMEOUT,
            "Browser Use did not answer in time. Check your internet connection and try again.",
            detail=detail,
        )
    return BackendError(
        Problem.NETWORK,
        "Handoff could not reach Browser Use. Check your internet connection and try again.",
        detail=detail,
    )


class Elapsed:
    """Time a command has taken: the wall clock, or the waits it asked for if more (a test's sleep
    returns at once; the budget must still run out)."""

    def __init__(self) -> None:
        self._began = time.monotonic()
        self._waited = 0.0

    @property
    def seconds(self) -> float:
        return max(time.monotonic() - self._began, self._waited)

    async def sleep(self, sleep: Callable[[float], Awaitable[None]], delay: float) -> None:
        self._waited += delay
        await sleep(delay)


def worth_retrying(error: BackendError, creating: str | None) -> bool:
    if error.problem is Problem.RATE_LIMITED:
        return True  # refused before anything was done
    if creating:
        return error.problem is Problem.NETWORK  # never reached Browser Use: nothing was created
    return error.problem in (Problem.SERVER, Problem.NETWORK, Problem.TIMEOUT)
