"""Asking a Browser Use address whether it is the API, and the Cloud adapter that explains its failures.

When the address itself is wrong, the SDK's errors mislead: a path typo answers 404 to "create a
session", which reads as "Browser Use no longer knows this session or task", and a refused
connection reads as a problem with the internet. One short request (``GET <address>/billing/account``,
read-only, with the key; a few seconds at most, never retried) tells those cases apart, and
core/config_check.py turns what it saw into words.

It is sent when the person presses Check in Settings, before a ``--task`` run starts, and after a
Cloud request failed in a way a wrong address would explain — never on the way to a working session.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import httpx

from desktop_app.backends.cloud import CloudBackend
from desktop_app.core.config_check import (
    CloudConfig,
    ConfigProblem,
    ProbeOutcome,
    ProbeResult,
    Setting,
    probe_problem,
    shown_address,
    written_problem,
)
from desktop_app.core.errors import BackendError, Problem
from desktop_app.core.ports import RemoteSession, SessionInfo

log = logging.getLogger(__name__)
T = TypeVar("T")

PROBE_PATH = "/billing/account"
PROBE_TIMEOUT = 5.0  # seconds: a person is waiting (Check in Settings, a run about to start)
# Failures a wrong address explains: 404 where the API answers, a refused connection, or an answer
# that is not the API's (another server's 405 or web page).
EXPLAINABLE = (Problem.NOT_FOUND, Problem.NETWORK, Problem.INVALID, Problem.INTERNAL)


async def probe(address: str, key: str, *, timeout: float = PROBE_TIMEOUT) -> ProbeResult:
    url = address.rstrip("/") + PROBE_PATH
    try:
        # No redirects, as the SDK's client: an address that redirects does not work there either.
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            response = await client.get(url, headers={"X-Browser-Use-API-Key": key, "Accept": "application/json"})
    except httpx.TimeoutException as error:
        result = ProbeResult(ProbeOutcome.TIMED_OUT, detail=_describe(error))
    except httpx.HTTPError as error:
        result = ProbeResult(_transport_outcome(error), detail=_describe(error))
    except Exception as error:  # noqa: BLE001 — a check must answer, whatever the address or key holds
        result = ProbeResult(ProbeOutcome.UNREACHABLE, detail=f"{type(error).__name__}: {error}")
    else:
        result = ProbeResult(_answer_outcome(response), status=response.status_code, detail=response.headers.get("content-type", ""))
    log.info("Browser Use address check: %s → %s (%s)", shown_address(address), result.outcome.value, result.status or result.detail)
    return result


def _answer_outcome(response: httpx.Response) -> ProbeOutcome:
    status = response.status_code
    if status in (401, 403):
        return ProbeOutcome.KEY_REFUSED
    if status in (402, 429):
        return ProbeOutcome.API  # it knows the key: credits are short, or it asks to slow down
    if status >= 500:
        return ProbeOutcome.SERVER_TROUBLE
    if 200 <= status < 300:
        # A web server that answers every path with a page is not the API either.
        is_json = response.headers.get("content-type", "").split(";")[0].strip().endswith("json")
        return ProbeOutcome.API if is_json else ProbeOutcome.NOT_THE_API
    return ProbeOutcome.NOT_THE_API  # 404, 405, a redirect: the API lives elsewhere


def _transport_outcome(error: httpx.HTTPError) -> ProbeOutcome:
    if _caused_by(error, ConnectionRefusedError):
        return ProbeOutcome.REFUSED
    if _caused_by(error, socket.gaierror):
        return ProbeOutcome.HOST_UNKNOWN
    return ProbeOutcome.UNREACHABLE


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:300]


async def check_cloud(config: CloudConfig, *, timeout: float = PROBE_TIMEOUT) -> ConfigProblem | None:
    """Everything wrong with these Browser Use settings that can be found out now, or None."""
    problem = written_problem(config)
    if problem is not None:
        return problem
    return probe_problem(config, await probe(config.effective_address, config.key.strip(), timeout=timeout))


def as_backend_error(problem: ConfigProblem, detail: str | None = None) -> BackendError:
    if problem.setting is Setting.BROWSER_USE_KEY:
        kind = Problem.AUTH
    else:
        kind = Problem.CONFIG if problem.definite else Problem.NETWORK
    return BackendError(kind, problem.message, detail=detail)


class CheckedCloudBackend(CloudBackend):
    """The Cloud adapter, with the settings in effect checked before the first request and its
    failures explained when a wrong address or key is the reason."""

    def __init__(self, config: Callable[[], CloudConfig], *, probe_timeout: float = PROBE_TIMEOUT, **options: Any) -> None:
        super().__init__(lambda: config().key, base_url=lambda: config().address.strip() or None, **options)
        self._config = config
        self._probe_timeout = probe_timeout

    def preflight(self) -> None:
        # BROWSER_USE_BASE_URL gets the same rule as the Settings field, before it fails as "the internet".
        problem = written_problem(self._config())
        if problem is not None:
            raise as_backend_error(problem)
        super().preflight()

    async def open_session(self) -> SessionInfo:
        return await self._checked(super().open_session())

    async def find_live_sessions(self, known_ids: set[str], started_since: float | None = None) -> list[RemoteSession]:
        return await self._checked(super().find_live_sessions(known_ids, started_since))

    async def _checked(self, call: Coroutine[Any, Any, T]) -> T:
        """The call, after the written settings are checked; its failure explained by them if they are why."""
        try:
            self.preflight()
        except BaseException:
            call.close()  # never started: no "coroutine was never awaited" warning
            raise
        try:
            return await call
        except BackendError as error:
            explained = await self._explained(error)
            if explained is error:
                raise
            raise explained from error

    async def _explained(self, error: BackendError) -> BackendError:
        if error.problem not in EXPLAINABLE:
            return error
        config = self._config()
        problem = probe_problem(config, await probe(config.effective_address, config.key.strip(), timeout=self._probe_timeout))
        if problem is None:
            return error  # the address is the API: the failure was about something else
        log.info("%s is explained by the settings: %s", error.problem.value, problem.message)
        return as_backend_error(problem, detail=error.detail)
