"""Browser Use Cloud through the official SDK (``AsyncBrowserUse``, API v2).

- A keep-alive session; ``live_url`` may be null right after create, so it is polled for.
- Take over stops the task (``tasks.stop``); the stop's answer is the confirmation, so the view
  unlocks after one round trip. Hand back is a follow-up task on the same session.
- Steps are polled at most once a second per running task.
- A create is never re-sent blindly: when its answer is lost, the task is looked up by the
  request token sent in its metadata. 429s are retried after Retry-After (nothing was created).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from browser_use_sdk import (
    AsyncBrowserUse,
    BrowserUseError,
    TaskView,
)
from pydantic import ValidationError

from desktop_app.backends.capabilities import CLOUD
from desktop_app.backends.cloud_errors import Elapsed, translate_api_error, translate_transport_error, worth_retrying
from desktop_app.core.access import TaskAccess
from desktop_app.backends.cloud_outcome import SCHEMA_JSON as OUTCOME_SCHEMA
from desktop_app.backends.cloud_outcome import read_outcome
from desktop_app.core.errors import BackendError, Problem
from desktop_app.core.ports import (
    AgentListener,
    HandBackContext,
    InterruptOutcome,
    RemoteSession,
    RunHandle,
    RunningTask,
    RunResult,
    RunStatus,
    SessionInfo,
    StepReport,
    TaskRequest,
)
from desktop_app.core.redaction import redactor, safe_url

log = logging.getLogger(__name__)

T = TypeVar("T")

CAPABILITIES = CLOUD

TERMINAL = {"finished", "failed", "stopped"}
CLOCK_SKEW_SECONDS = 30.0  # between our clock and Browser Use's, when matching a session by start time
LOST_CONTACT_AFTER = 5.0  # seconds without an answer before the person is told contact is lost
REFUSALS_BEFORE_GIVING_UP = 3  # answers in a row that refuse to describe a running task
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0)  # between attempts of a failed read or stop; then 8 s each
CREATE_RETRIES = 2  # a create that never reached Browser Use is tried this many more times (then: say why)
FIND_CREATED_EVERY = 2.0  # seconds between looks for a create whose answer was lost
# Steps reported per turn of the event loop. Each is recorded (scrubbed, committed to the history)
# and shown on the window's thread, ~1 ms apiece: 25 at a time stalled the window ~30 ms (p99 > 16
# ms, one frame, bench/responsiveness.py); 8 keep a turn within a frame, 200 steps a second still flow.
STEPS_PER_SLICE = 8
# At most one poll a second per task, with a margin for network jitter between request starts.
POLL_INTERVAL = 1.02
REQUEST_TOKEN_KEY = "handoffRequest"


class CloudBackend:
    capabilities = CAPABILITIES

    def __init__(
        self,
        api_key: Callable[[], str | None],
        *,
        base_url: str | None | Callable[[], str | None] = None,
        poll_interval: float = POLL_INTERVAL,
        live_url_timeout: float = 90.0,
        stop_confirm_timeout: float = 20.0,
        command_budget: float = 60.0,
        request_timeout: float = 30.0,
        lost_contact_after: float = LOST_CONTACT_AFTER,
        find_created_for: float = 10.0,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        vault: Any = None,
    ) -> None:
        self._api_key = api_key
        self._vault = vault  # VaultStore: stored logins, allowed sites and site rules for each task
        self._access = TaskAccess.NONE
        # Read when a session starts: a new address applies from the next session, never mid-session.
        self._base_url = base_url if callable(base_url) else (lambda: base_url)
        self._session_base_url: str | None = None
        self._client_base_url: str | None = None
        self._poll_interval = poll_interval
        self._live_url_timeout = live_url_timeout
        self._stop_confirm_timeout = stop_confirm_timeout
        # The longest one command may take, retries and waits included (wall clock: every
        # attempt counts, not only the sleeps between them).
        self._command_budget = command_budget
        self._request_timeout = request_timeout
        self._lost_contact_after = lost_contact_after
        self._find_created_for = find_created_for  # how long a lost create's answer is looked for
        # Every wait between attempts goes through here (tests pass a recorder); at least as long as
        # asked (a Retry-After is a promise to keep).
        self._sleep = sleep or _sleep_at_least
        self._client: AsyncBrowserUse | None = None
        self._retired_clients: list[AsyncBrowserUse] = []
        self._client_key: str | None = None
        self._listener: AgentListener | None = None
        self._session_id: str | None = None
        self._pollers: dict[str, asyncio.Task[None]] = {}
        self._reported_steps: dict[str, int] = {}
        self._reported_results: set[str] = set()  # the poller and a stop's answer may both see the end

    def attach(self, listener: AgentListener) -> None:
        self._listener = listener

    # -- session -------------------------------------------------------------------------------

    def preflight(self) -> None:
        self._current_key()

    async def open_session(self) -> SessionInfo:
        client = self._client_for_current_key()
        asked_at = time.time()
        try:
            created = await self._call(lambda: client.sessions.create(keep_alive=True), creating="session")
            session_id, live_url = str(created.id), created.live_url
        except BackendError as error:
            if error.problem is not Problem.UNCERTAIN:
                raise
            session_id, live_url = await self._find_session_created_since(client, asked_at, error), None
        self._session_id, self._session_base_url = session_id, self._client_base_url
        if self._listener is not None:
            self._listener.on_session_created(session_id)
        log.info("Cloud session %s created; waiting for its live view", session_id)
        try:
            live_url = live_url or await self._wait_for_live_url(client, session_id)
            checked = self._checked_live_url(live_url)
        except BaseException:
            # Do not leave a billed session behind a failed (or cancelled) start.
            await asyncio.shield(self._stop_quietly(session_id))
            raise
        return SessionInfo(id=session_id, live_url=checked, started_at=time.time())

    async def _find_session_created_since(self, client: AsyncBrowserUse, asked_at: float, lost: BackendError) -> str:
        """The create's answer was lost; the session may appear a little later. Sessions carry no
        request token, so look (for a while) for the active session that started since we asked:
        one means ours. None found: the next start looks again (``unconfirmed_since``)."""
        self._tell("The connection broke while the session was being created; checking whether Browser Use created it…")
        spent = Elapsed()
        while True:
            try:
                page = await self._call(lambda: client.sessions.list(filter_by="active", page_size=100), budget=0)
                started = [str(s.id) for s in page.items if s.started_at.timestamp() >= asked_at - CLOCK_SKEW_SECONDS]
            except BackendError as error:
                log.warning("Could not look for the session whose create answer was lost: %s", error.message)
                started = []
            if len(started) == 1:
                log.info("The session create's answer was lost, but session %s exists: carrying on with it", started[0])
                return started[0]
            if len(started) > 1:
                raise BackendError(
                    Problem.UNCERTAIN,
                    "The connection to Browser Use broke while starting the session, and more than one session "
                    "started at that moment (perhaps from another computer), so Handoff used none of them. Sessions "
                    "are billed while alive: stop any you do not need on your Browser Use dashboard, then try again.",
                    detail=lost.detail,
                    unconfirmed_since=asked_at,
                )
            if spent.seconds >= self._find_created_for:
                raise BackendError(
                    Problem.UNCERTAIN,
                    "The connection to Browser Use broke while starting the session, and no new session has "
                    "appeared. Try again; if one appears later, Handoff offers to stop it the next time it starts.",
                    detail=lost.detail,
                    unconfirmed_since=asked_at,
                )
            await spent.sleep(self._sleep, FIND_CREATED_EVERY)

    async def _wait_for_live_url(self, client: AsyncBrowserUse, session_id: str) -> str:
        deadline = time.monotonic() + self._live_url_timeout
        delay = 0.25
        while time.monotonic() < deadline:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
            view = await self._call(lambda: client.sessions.get(session_id))
            if view.status.value != "active":
                raise BackendError(Problem.SESSION_GONE, "The browser session ended before it was ready.")
            if view.live_url:
                return view.live_url
        raise BackendError(
            Problem.TIMEOUT,
            f"The browser did not become ready within {self._live_url_timeout:.0f} seconds. "
            "Browser Use may be busy — try New session again in a minute.",
        )

    @staticmethod
    def _checked_live_url(url: str) -> str:
        redactor.add_url(url)
        if urlsplit(url).scheme not in ("http", "https"):
            raise BackendError(Problem.INTERNAL, "Browser Use returned a live view address Handoff cannot open.")
        log.info("Live view ready at %s", safe_url(url))
        return url

    async def end_session(self) -> None:
        session_id = self._session_id
        self._cancel_pollers()
        if session_id is None:
            return
        await self.stop_remote_session(session_id)
        # Forgotten only once stopped: after a failure, Stop session must be able to try again.
        self._session_id = None
        log.info("Cloud session %s stopped", session_id)

    async def session_alive(self) -> bool:
        session_id = self._session_id
        if session_id is None:
            return False
        client = self._client_for_current_key()
        try:
            view = await self._call(lambda: client.sessions.get(session_id))
        except BackendError as error:
            if error.problem is Problem.NOT_FOUND:
                return False
            raise
        return view.status.value == "active"

    async def _stop_quietly(self, session_id: str) -> None:
        try:
            await self.stop_remote_session(session_id)
            self._session_id = None
        except BackendError as error:
            log.warning("Could not stop session %s after a failed start: %s", session_id, error.message)

    async def find_live_sessions(self, known_ids: set[str], started_since: float | None = None) -> list[RemoteSession]:
        client = self._client_for_current_key()
        page = await self._call(lambda: client.sessions.list(filter_by="active", page_size=100))
        earliest = started_since - CLOCK_SKEW_SECONDS if started_since is not None else None
        return [
            RemoteSession(id=str(item.id), started_at=item.started_at.timestamp())
            for item in page.items
            if item.status.value == "active"
            and (str(item.id) in known_ids or (earliest is not None and item.started_at.timestamp() >= earliest))
        ]

    async def adopt_session(self, session_id: str) -> tuple[SessionInfo, RunningTask | None]:
        client = self._client_for_current_key()
        view = await self._call(lambda: client.sessions.get(session_id))
        if view.status.value != "active":
            raise BackendError(Problem.SESSION_GONE, "That session has already ended.")
        live_url = view.live_url or await self._wait_for_live_url(client, session_id)
        session = SessionInfo(id=session_id, live_url=self._checked_live_url(live_url), started_at=view.started_at.timestamp())
        self._session_id, self._session_base_url = session_id, self._client_base_url
        running = next((t for t in view.tasks if t.status.value not in TERMINAL), None)
        if running is None:
            return session, None
        # The agent kept working while Handoff was gone: follow it from here.
        task_id = str(running.id)
        self._reported_steps[task_id] = 0
        self._follow(task_id)
        return session, RunningTask(RunHandle(task_id), text=running.task)

    async def stop_remote_session(self, session_id: str) -> None:
        """Stop a session. A "not found" counts as stopped only once Browser Use confirms the
        session is gone (a wrong address answers 404 too): a billed session is never assumed away."""
        client = self._client_for_current_key()
        try:
            await self._call(lambda: client.sessions.stop(session_id))
            return
        except BackendError as error:
            if error.problem is not Problem.NOT_FOUND:
                raise
            refused = error
        try:
            view = await self._call(lambda: client.sessions.get(session_id))
        except BackendError as error:
            if error.problem is Problem.NOT_FOUND:
                return  # gone indeed
            raise
        if view.status.value != "active":
            return
        self._tell(f"Browser Use refused to stop the session ({refused.message}) — asking again.")
        try:
            await self._call(lambda: client.sessions.stop(session_id))
        except BackendError as error:
            if error.problem is not Problem.NOT_FOUND:
                raise
            raise BackendError(
                Problem.INVALID,
                "Browser Use refused to stop the session, which is still running (and billed). Try again, or stop "
                "it on your Browser Use dashboard.",
                detail=error.detail,
            ) from error

    # -- tasks ---------------------------------------------------------------------------------

    async def start_task(self, request: TaskRequest) -> RunHandle:
        session_id = self._require_session()
        client = self._client_for_current_key()
        metadata = {REQUEST_TOKEN_KEY: request.request_id}
        access = self._access = (await self._task_access()).about(request.text)
        text = "\n\n".join(p for p in (request.text, access.briefing()) if p)
        limits: dict[str, Any] = {}
        if secrets := access.cloud_secrets():
            limits["secrets"] = secrets  # typed by Browser Use by placeholder; never in the text
        if allowed := access.cloud_allowed_domains():
            limits["allowed_domains"] = allowed
        try:
            created = await self._call(
                lambda: client.tasks.create(
                    text,
                    session_id=session_id,
                    metadata=metadata,
                    structured_output=OUTCOME_SCHEMA,  # the agent's result, or that it needs the person
                    **({} if request.screenshots else {"vision": False}),
                    **limits,
                ),
                creating="task",
            )
            task_id = str(created.id)
        except BackendError as error:
            if error.problem in (Problem.INVALID, Problem.NOT_FOUND):
                await self._raise_if_session_gone(client, session_id)
            if error.problem is not Problem.UNCERTAIN:
                raise
            found = await self._find_task_by_token(client, session_id, request.request_id)
            if found is None:
                raise
            log.info("The create's answer was lost, but task %s exists: carrying on with it", found)
            task_id = found
        self._reported_steps[task_id] = 0
        self._follow(task_id)
        return RunHandle(task_id)

    async def _task_access(self) -> TaskAccess:
        if self._vault is None:
            return TaskAccess.NONE
        try:
            access: TaskAccess = await asyncio.to_thread(self._vault.task_access)
        except Exception as error:
            log.warning("Could not read the vault (%s)", type(error).__name__)
            self._tell("The vault could not be read from your keychain; the agent will ask you to log in instead.")
            return TaskAccess(rules=self._vault.rules, allowed_sites=self._vault.allowed_sites)
        for problem in access.problems:
            self._tell(problem)
        return access

    async def _raise_if_session_gone(self, client: AsyncBrowserUse, session_id: str) -> None:
        try:
            view = await self._call(lambda: client.sessions.get(session_id))
            gone = view.status.value != "active"
        except BackendError as error:
            gone = error.problem is Problem.NOT_FOUND
        if gone:
            self._session_id = None
            raise BackendError(
                Problem.SESSION_GONE,
                "The browser session has ended (it may have timed out). Start a new session; your task is kept.",
            )

    async def _find_task_by_token(self, client: AsyncBrowserUse, session_id: str, token: str) -> str | None:
        """The task whose create answer was lost, by the token it carries; looked for a while, since
        Browser Use may still be creating it (an agent must never run unwatched)."""
        self._tell("The connection broke while the task was being created; checking whether Browser Use created it…")
        spent = Elapsed()
        while True:
            try:
                page = await self._call(lambda: client.tasks.list(session_id=session_id, page_size=20), budget=0)
                for item in page.items:
                    if (item.metadata or {}).get(REQUEST_TOKEN_KEY) == token:
                        return str(item.id)
            except BackendError as error:
                log.warning("Could not check whether the task was created: %s", error.message)
            if spent.seconds >= self._find_created_for:
                return None
            await spent.sleep(self._sleep, FIND_CREATED_EVERY)

    async def interrupt(self, run: RunHandle) -> InterruptOutcome:
        client = self._client_for_current_key()
        try:
            view = await self._call(lambda: client.tasks.stop(run.task_id))
        except BackendError as error:
            if error.problem not in (Problem.INVALID, Problem.NOT_FOUND):
                raise
            # Refused because it is over already (finished, failed or stopped meanwhile)?
            view = await self._call(lambda: client.tasks.get(run.task_id))
            if view.status.value not in TERMINAL:
                # Refused, yet the agent still works: ask once more (a stop is safe to repeat).
                self._tell(f"Browser Use refused to stop the agent's task ({error.message}) — asking again.")
                view = await self._call(lambda: client.tasks.stop(run.task_id))
        if view.status.value not in TERMINAL:
            view = await self._await_stopped(client, run.task_id)
        self._deliver_final(view)
        return InterruptOutcome.STOPPED if view.status.value == "stopped" else InterruptOutcome.ALREADY_OVER

    async def _await_stopped(self, client: AsyncBrowserUse, task_id: str) -> TaskView:
        """The stop was accepted but the task still runs: follow it until it ends. The step poller
        is paused meanwhile, so the task is still asked about at most once a second."""
        poller = self._pollers.pop(task_id, None)
        if poller is not None:
            poller.cancel()
        deadline = time.monotonic() + self._stop_confirm_timeout
        asked = time.monotonic()
        try:
            while time.monotonic() < deadline:
                await _sleep_until(asked + self._poll_interval)
                asked = time.monotonic()
                view = await self._call(lambda: client.tasks.get(task_id))
                if view.status.value in TERMINAL:
                    return view
                self._deliver(view)
            raise BackendError(Problem.TIMEOUT, "Browser Use has not confirmed that the agent stopped.")
        except Exception:
            # The agent may still be working: keep following it, or its steps and end never arrive.
            self._follow(task_id)
            raise

    async def resume(self, run: RunHandle, context: HandBackContext) -> None:
        raise BackendError(Problem.INTERNAL, "Browser Use Cloud cannot resume a stopped task.")

    async def stop_task(self, run: RunHandle) -> None:
        client = self._client_for_current_key()
        try:
            view = await self._call(lambda: client.tasks.stop(run.task_id))
        except BackendError as error:
            if error.problem in (Problem.INVALID, Problem.NOT_FOUND):
                return  # already over
            raise
        self._deliver_final(view)

    # -- step streaming ------------------------------------------------------------------------

    def _follow(self, task_id: str) -> None:
        """Poll the task for steps and its end (one poller a task)."""
        poller = self._pollers.get(task_id)
        if poller is None or poller.done():
            self._pollers[task_id] = asyncio.get_running_loop().create_task(self._poll(task_id))

    async def _poll(self, task_id: str) -> None:
        """Follow a task until it ends. Faults never end the following by themselves: contact lost
        is told within ``lost_contact_after`` seconds and retried; a refusal to say anything about
        the task (its key rejected, the task unknown) is asked again before Handoff gives up."""
        client = self._client_for_current_key()
        failures = refusals = 0
        last_answer = time.monotonic()
        told = False
        while True:
            started = time.monotonic()

            def lost_contact() -> None:
                nonlocal told
                if not told and self._listener is not None:
                    told = True
                    log.warning("Lost contact with Browser Use while following task %s", task_id)
                    self._listener.on_notice(
                        "Lost contact with Browser Use — retrying. The agent may still be working; its steps "
                        "will appear when the connection is back."
                    )

            try:
                view = await self._watched(
                    self._call(lambda: client.tasks.get(task_id), budget=0, quiet=True),
                    last_answer + self._lost_contact_after,
                    lost_contact,
                )
            except BackendError as error:
                refusals = refusals + 1 if error.problem in (Problem.NOT_FOUND, Problem.AUTH, Problem.SESSION_GONE) else 0
                if refusals == 1 and not told and self._listener is not None:
                    told = True
                    self._listener.on_notice(f"Browser Use would not say how the agent's task is going ({error.message}) — asking again.")
                if refusals >= REFUSALS_BEFORE_GIVING_UP:
                    self._pollers.pop(task_id, None)
                    await self._lose_track(client, task_id, error)
                    return
                failures += 1
                if time.monotonic() - last_answer >= self._lost_contact_after:
                    lost_contact()
                await asyncio.sleep(min(8.0, self._poll_interval * 2 ** min(failures, 3)))
                continue
            last_answer = time.monotonic()
            if told and self._listener is not None:
                self._listener.on_notice("Back in contact with Browser Use.", resolved=True)
            failures = refusals = 0
            told = False
            await self._deliver_in_slices(view)
            if self._deliver(view):
                self._pollers.pop(task_id, None)
                return
            # At most one request a second, whatever the round trip.
            await _sleep_until(started + self._poll_interval)

    @staticmethod
    async def _watched(call: Awaitable[T], tell_at: float, tell: Callable[[], None]) -> T:
        """``call``, and ``tell()`` if it has not answered by ``tell_at`` (a silent server)."""
        task = asyncio.ensure_future(call)
        try:
            remaining = tell_at - time.monotonic()
            if remaining > 0:
                await asyncio.wait([task], timeout=remaining)
            if not task.done():
                tell()
            return await task
        finally:
            # Cancelled while waiting (a quit's time limit): the request goes too, never left to
            # fail later unobserved ("Task exception was never retrieved").
            if not task.done():
                task.cancel()

    async def _lose_track(self, client: AsyncBrowserUse, task_id: str, error: BackendError) -> None:
        """Browser Use keeps refusing to say how the task is doing: it may still be working. Ask it
        to stop, then say honestly what is known."""
        stopped = False
        try:
            await self._call(lambda: client.tasks.stop(task_id), budget=self._command_budget / 4)
            stopped = True
        except BackendError as stop_error:
            log.warning("Could not stop task %s after losing track of it: %s", task_id, stop_error.message)
        listener = self._listener
        if listener is None:
            return
        session_id = self._session_id
        if error.problem is not Problem.AUTH and session_id is not None:
            try:
                view = await self._call(lambda: client.sessions.get(session_id), budget=0)
                if view.status.value != "active":
                    self._session_id = None
                    listener.on_session_lost("The browser session has ended (it may have timed out).")
                    return
            except BackendError as check_error:
                if check_error.problem is Problem.NOT_FOUND:
                    self._session_id = None
                    listener.on_session_lost("The browser session has ended (it may have timed out).")
                    return
        asked = "Handoff asked Browser Use to stop it" if stopped else "Handoff could not ask Browser Use to stop it"
        listener.on_run_fault(
            task_id,
            BackendError(
                Problem.LOST_TRACK if error.problem is not Problem.AUTH else Problem.AUTH,
                f"Handoff lost track of the agent's task: {error.message} {asked}, but the agent may still be "
                "running — check the timeline and your Browser Use dashboard.",
                detail=error.detail,
            ),
        )

    async def _deliver_in_slices(self, view: TaskView) -> None:
        """Many new steps at once (a fast agent, a poll after a lost connection): report them a few
        at a time, letting the window repaint in between. ``_deliver`` then reports the rest."""
        task_id = str(view.id)
        while len(view.steps) - self._reported_steps.get(task_id, 0) > STEPS_PER_SLICE:
            seen = self._reported_steps.get(task_id, 0)
            self._report_steps(task_id, view.steps[seen : seen + STEPS_PER_SLICE])
            await asyncio.sleep(0)

    def _deliver(self, view: TaskView) -> bool:
        """Report new steps and, once terminal, the result. True when the task is over."""
        task_id = str(view.id)
        listener = self._listener
        self._report_steps(task_id, view.steps[self._reported_steps.get(task_id, 0) :])
        if view.status.value not in TERMINAL:
            return False
        if task_id in self._reported_results:
            return True
        self._reported_results.add(task_id)
        output, needs_person = read_outcome(view.output)
        if listener is not None:
            listener.on_finished(
                RunResult(
                    task_id=task_id,
                    status=RunStatus(view.status.value),
                    output=output,
                    needs_person=needs_person if view.status.value == "finished" else None,
                    success=view.is_success,
                    cost_usd=_decimal(view.cost.root if view.cost else None),
                    steps=len(view.steps),
                )
            )
        return True

    def _report_steps(self, task_id: str, steps: list[Any]) -> None:
        listener = self._listener
        for step in steps:
            if listener is not None:
                listener.on_step(
                    StepReport(
                        task_id=task_id,
                        number=step.number,
                        next_goal=step.next_goal,
                        url=step.url,
                        evaluation=step.evaluation_previous_goal,
                        memory=step.memory,
                        actions=tuple(step.actions),
                        screenshot_url=step.screenshot_url,
                        duration=step.duration,
                        error=self._access.refused_site_words(f"{step.evaluation_previous_goal} {step.memory}"),
                    )
                )
            self._reported_steps[task_id] = self._reported_steps.get(task_id, 0) + 1  # steps are counted, not numbered

    def _deliver_final(self, view: TaskView) -> None:
        poller = self._pollers.pop(str(view.id), None)
        if poller is not None:
            poller.cancel()
        self._deliver(view)

    def _cancel_pollers(self) -> None:
        for poller in self._pollers.values():
            poller.cancel()
        self._pollers.clear()

    # -- plumbing ------------------------------------------------------------------------------

    def _tell(self, text: str) -> None:
        if self._listener is not None:
            self._listener.on_notice(text)

    def _require_session(self) -> str:
        if self._session_id is None:
            raise BackendError(Problem.SESSION_GONE, "There is no browser session. Start a new session.")
        return self._session_id

    def _current_key(self) -> str:
        key = (self._api_key() or "").strip()
        if not key:
            raise BackendError(Problem.AUTH, "Add your Browser Use API key in Settings to use Browser Use Cloud.")
        return key

    def _client_for_current_key(self) -> AsyncBrowserUse:
        key = self._current_key()
        base_url = self._session_base_url if self._session_id is not None else self._base_url()
        if self._client is None or key != self._client_key or base_url != self._client_base_url:
            if self._client is not None:
                self._retired_clients.append(self._client)  # closed in aclose(); a request may be in flight
            redactor.add_secret(key)
            # No retries inside the SDK (three, ~8 s each, unseen): _call retries where it is safe,
            # tells the person while it waits, and keeps within the command's budget.
            self._client = AsyncBrowserUse(api_key=key, base_url=base_url, timeout=self._request_timeout, max_retries=0)
            self._client_key, self._client_base_url = key, base_url
        return self._client

    async def _call(
        self,
        call: Callable[[], Awaitable[T]],
        *,
        creating: str | None = None,
        budget: float | None = None,
        quiet: bool = False,
    ) -> T:
        """One API command, translated into BackendError. Retried while that is safe — a 429 always
        (nothing was done), a read or a stop also after a 5xx or a lost connection, a create only when
        the request never reached Browser Use — waiting between attempts, within ``budget`` seconds
        of wall clock. Every wait is told to the person at once, and the all-clear after it
        (``quiet``: the caller tells, as the task poller does)."""
        spent = Elapsed()
        budget = self._command_budget if budget is None else budget
        attempt = 0
        told = False
        try:
            while True:

                def slow() -> None:
                    nonlocal told
                    if self._listener is not None and not told and not quiet:
                        told = True
                        self._listener.on_notice("Browser Use is slow to answer — still waiting.")

                try:
                    return await self._watched(call(), time.monotonic() + self._lost_contact_after, slow)
                except BrowserUseError as error:
                    translated = translate_api_error(error)
                except httpx.HTTPError as error:
                    translated = translate_transport_error(error, creating)
                except ValidationError as error:
                    raise BackendError(
                        Problem.INTERNAL,
                        "Browser Use sent an answer Handoff does not understand. Try again; if it keeps "
                        "happening, Handoff may need an update.",
                        detail=str(error)[:500],
                    ) from error
                if not worth_retrying(translated, creating) or (creating and attempt >= CREATE_RETRIES):
                    raise translated
                delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
                if translated.problem is Problem.RATE_LIMITED and translated.retry_after is not None:
                    delay = max(1.0, translated.retry_after)
                if spent.seconds + delay > budget:
                    raise translated
                attempt += 1
                why = "Browser Use is busy" if translated.problem is Problem.RATE_LIMITED else "Lost contact with Browser Use"
                log.warning("%s (%s); retrying in %.0f s", why, translated.detail or translated.message, delay)
                if self._listener is not None and not quiet:
                    self._listener.on_notice(f"{why} — retrying in {delay:.0f} s.")
                    told = True
                await spent.sleep(self._sleep, delay)
        finally:
            if told and self._listener is not None:
                self._listener.on_notice("Browser Use is answering again.", resolved=True)

    async def aclose(self) -> None:
        self._cancel_pollers()
        clients = [*self._retired_clients, *([self._client] if self._client else [])]
        self._client, self._retired_clients = None, []
        for client in clients:
            await client.close()


async def _sleep_at_least(seconds: float) -> None:
    await _sleep_until(time.monotonic() + seconds)


async def _sleep_until(deadline: float) -> None:
    """Qt's coarse timers (under qasync) can fire up to 5% early: sleep again until really due."""
    while (remaining := deadline - time.monotonic()) > 0:
        await asyncio.sleep(remaining)


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None
