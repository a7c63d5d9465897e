"""Local mode: the open-source browser-use Agent drives the app's own view over QtWebEngine's DevTools.

- Take over pauses the agent and returns as soon as no action is under way — it does not wait for
  the model to finish thinking: browser-use checks the pause after the model answers and before
  every action, and a guard on every action refuses input whenever the agent does not have control,
  so the agent can never type into the page while the person does.
- Hand back injects the person's note (and instruction) as the latest result and resumes the same
  run; the next step reads the page afresh. A step the model was still thinking about when the
  person took over was planned on the page as it was before: it ends unexecuted first.
- ``request_human`` lets the agent ask for the person (logins, 2FA, CAPTCHAs, payment, final
  confirmations): it pauses the run at the end of the step and hands control over.
- It runs in the agent's process (``agent_host``), which ``agent_process`` starts for each Local
  session: nothing browser-use does there can stop the window. browser-use is imported there on
  first use, in a worker thread (``browser_use_setup``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import json
import logging
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_app.backends import BackendContext, page_target, screenshot_masking, site_guard
from desktop_app.backends.browser_use_setup import (
    AGENT_OPTIONS,
    agent_class,
    browser_session,
    devtools_answers,
    import_browser_use,
    warm_up_agent,
    window_first_call,
)
from desktop_app.backends.llm import (
    DEFAULT_TIMEOUT,
    GuardedModel,
    make_llm,
    model_key,
)
from desktop_app.core.access import TaskAccess
from desktop_app.core.errors import BackendError, Problem
from desktop_app.core.ports import (
    AgentListener,
    HandBackContext,
    InterruptOutcome,
    RunHandle,
    RunResult,
    RunStatus,
    SessionInfo,
    StepReport,
    TaskRequest,
)
from desktop_app.system.keychain import Keychain
from desktop_app.backends.providers import provider
from desktop_app.settings import LLMSettings
from desktop_app.core.redaction import redactor

log = logging.getLogger(__name__)


ASK_FOR_HUMAN = """
You share this browser with a person who is watching and can take over at any time.
Use the request_human action instead of acting yourself when the next step needs any of:
a login or password, a 2FA or one-time code, a CAPTCHA, payment or card details, or the final
confirmation of a purchase, booking, payment, message or anything else that cannot be undone.
Say in one or two sentences exactly what the person should do. When they hand control back, their
note tells you what they did; look at the page again before you continue.
""".strip()

STOP_TIMEOUT = 15.0
STOP_GRACE = 1.0  # how long a stopped run may take to end by itself before its step is cancelled


def _quietly(call: Any) -> None:
    """Agent.pause()/resume() print console instructions meant for a terminal user."""
    with contextlib.redirect_stdout(io.StringIO()):
        call()


def task_result(task_id: str, items: list[Any], *, steps: int, stopped: bool) -> RunResult:
    """The outcome of one task from the agent's history of it and the steps it took."""
    last = items[-1].result[-1] if items and items[-1].result else None
    done = last is not None and last.is_done is True
    errors = [r.error for item in items for r in item.result if r.error]
    if stopped:
        status = RunStatus.STOPPED
    elif done:
        status = RunStatus.FINISHED
    else:
        status = RunStatus.FAILED
    output = (last.extracted_content if done and last is not None else None) or (
        errors[-1] if errors and status is RunStatus.FAILED else None
    )
    return RunResult(
        task_id=task_id,
        status=status,
        output=output,
        success=last.success if done and last is not None else None,
        steps=steps,
    )


class LocalBackend:
    """One browser-use agent on one session, in the agent's process (``agent_host``): the window's
    side (``agent_process.AgentProcessBackend``) is the Backend the core sees, and answers what a
    Local session cannot do (reattach, sessions left running)."""

    def __init__(
        self,
        *,
        llm_settings: Callable[[], LLMSettings],
        keychain: Keychain,
        context: BackendContext,
        max_steps: int = 100,
        llm_timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._llm_settings = llm_settings
        # The model settings (and a fingerprint of the key) the current agent was built with.
        self._agent_model: tuple[LLMSettings, str] | None = None
        self._llm_timeout = llm_timeout
        self._keychain = keychain
        self._devtools_url = context.devtools_url
        self._privacy = context.privacy
        self._vault = context.vault
        self._access = TaskAccess.NONE  # what the current task may use (vault entries, sites, rules)
        self._blocked: list[str] = []  # addresses the allowed sites kept the agent from, this step
        self._refused_press = False  # a site rule refused this step's click or Enter
        self._screenshots = context.paths.screenshots
        # The agent's scratch files: private, removed at session end; one folder per backend, as
        # several Local sessions may run at once.
        self._agent_files = context.paths.cache / "agent-files" / uuid.uuid4().hex[:12]
        self._page_target = context.page_target
        self._downloads = context.paths.downloads
        self._max_steps = max_steps
        self._listener: AgentListener | None = None
        self._browser: Any = None
        self._agent: Any = None
        self._tools: Any = None
        self._task_id: str | None = None
        self._run: asyncio.Task[None] | None = None
        self._may_act = False
        self._step_idle = asyncio.Event()
        self._step_idle.set()
        self._action_idle = asyncio.Event()  # no browser action is being carried out
        self._action_idle.set()
        self._deferred_notes: list[Any] = []  # hand-back notes waiting for a stale step to end
        self._step_started = 0.0
        self._step_number = 0  # the agent's own count: it runs on across the tasks of a session
        self._first_step = 1  # the agent's count at this task's first step
        self._result_before: Any = None  # the agent's last result as a step began
        self._last_step: dict[str, Any] | None = None
        self._pending_request: str | None = None
        self._fault: BackendError | None = None
        self._stop_requested = False
        self.actions_refused = 0  # guard hits: attempted agent input while the person had control
        self.rule_refusals = 0  # presses a site rule kept for the person

    def attach(self, listener: AgentListener) -> None:
        self._listener = listener

    # -- session -------------------------------------------------------------------------------

    async def open_session(self) -> SessionInfo:
        await self._check_devtools()
        browser_use = await asyncio.to_thread(import_browser_use)
        self._downloads.mkdir(parents=True, exist_ok=True)
        self._browser = await asyncio.to_thread(browser_session, browser_use, self._devtools_url, self._downloads)
        own_page = self._page_target()
        if own_page is not None:
            page_target.restrict(self._browser, lambda: own_page)
        try:
            await self._browser.start()
        except Exception as error:
            page_target.release(self._browser)
            self._browser = None
            raise BackendError(
                Problem.BROWSER_GONE,
                "The agent could not connect to the built-in browser. Restart Handoff and try again.",
                detail=f"{type(error).__name__}: {error}",
            ) from error
        self._tools = self._make_tools(browser_use)
        if self._privacy is not None:
            screenshot_masking.protect(self._privacy, self._browser)
        from browser_use.browser.events import BrowserErrorEvent, BrowserReconnectingEvent

        self._browser.event_bus.on(BrowserReconnectingEvent, self._connection_dropped)
        self._browser.event_bus.on(BrowserErrorEvent, self._site_blocked)
        return SessionInfo(id=f"local-{uuid.uuid4().hex[:12]}", live_url=None, started_at=time.time())

    async def _check_devtools(self) -> None:
        # In a worker thread, with the standard library: httpx's import and client (its TLS
        # context) would cost the window ~160 ms at the moment the person presses Run.
        try:
            await asyncio.to_thread(devtools_answers, f"{self._devtools_url}/json/version")
        except OSError as error:
            raise BackendError(
                Problem.BROWSER_GONE,
                "The built-in browser's control port is not answering. Restart Handoff and try again.",
                detail=f"{type(error).__name__}: {error}",
            ) from error

    async def end_session(self) -> None:
        await self._finish_run()
        browser, self._browser = self._browser, None
        self._agent = None
        if self._privacy is not None:
            screenshot_masking.release(self._privacy)
            self._privacy.use_vault(None)
            self._privacy.session_ended()
        shutil.rmtree(self._agent_files, ignore_errors=True)
        if browser is not None:
            try:
                # stop() disconnects and resets browser-use's state; the view itself stays open.
                await asyncio.wait_for(browser.stop(), STOP_TIMEOUT)
            except Exception as error:
                log.warning("Disconnecting the agent from the browser failed: %s", error)
            finally:
                page_target.release(browser)

    # -- runs ----------------------------------------------------------------------------------

    async def start_task(self, request: TaskRequest) -> RunHandle:
        if self._browser is None:
            raise BackendError(Problem.SESSION_GONE, "There is no browser session. Start a new session.")
        if self._run is not None and not self._run.done():
            raise BackendError(Problem.INVALID, "The agent is still busy with the previous task.")
        browser_use = await asyncio.to_thread(import_browser_use)
        task_id = f"local-task-{uuid.uuid4().hex[:12]}"
        await self._grant_access()
        agent_text = "\n\n".join(p for p in (request.text, self._access.briefing()) if p)
        settings = self._llm_settings()
        model_identity = (settings, self._key_fingerprint(settings))
        if self._agent is not None and model_identity != self._agent_model:
            log.info("The AI model settings or key changed: the next task starts with a fresh agent")
            self._agent = None
        if self._agent is None:
            # Off the UI thread: the model's SDK import and client (~0.5 s) and the agent's imports.
            model = await asyncio.to_thread(window_first_call, make_llm, settings, self._keychain)
            await asyncio.to_thread(warm_up_agent, browser_use, self._agent_files / "warm-up")
            self._agent_files.mkdir(parents=True, exist_ok=True)
            chosen = provider(settings.provider)
            llm = GuardedModel(
                model,
                self._fail_run,
                self._llm_timeout,
                user_address=chosen is not None and chosen.at_address,
                privacy=self._privacy,
            )
            self._agent_model = model_identity
            self._agent = agent_class(browser_use)(
                task=agent_text,
                sensitive_data=self._access.sensitive_data() or None,
                llm=llm,
                browser_session=self._browser,
                tools=self._tools,
                extend_system_message=ASK_FOR_HUMAN,
                register_new_step_callback=self._on_model_output,
                llm_timeout=int(llm.timeout) + 5,
                step_timeout=600,
                file_system_path=str(self._agent_files / task_id),
                **AGENT_OPTIONS,
            )
        else:
            # The same agent keeps what it learnt earlier in this session (like Cloud's same session).
            self._agent.add_new_task(agent_text)
            self._start_afresh(self._agent)
            self._agent.sensitive_data = self._access.sensitive_data() or None
            self._agent._message_manager.sensitive_data = self._agent.sensitive_data
        if self._privacy is not None:
            self._privacy.scrubber.known_to_model(agent_text)
        self._first_step = self._agent.state.n_steps
        self._task_id = task_id
        self._fault = None
        self._stop_requested = False
        self._pending_request = None
        self._may_act = True
        self._run = asyncio.get_running_loop().create_task(self._drive(task_id))
        return RunHandle(task_id)

    async def _drive(self, task_id: str) -> None:
        agent = self._agent
        try:
            # The agent's step count includes earlier tasks; each task gets the full allowance.
            history = await agent.run(
                max_steps=self._first_step - 1 + self._max_steps, on_step_start=self._step_begins, on_step_end=self._step_ends
            )
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self._may_act = False
            log.warning("The agent run failed: %s", error, exc_info=True)
            self._report_fault(task_id, BackendError(Problem.INTERNAL, f"The agent stopped unexpectedly: {error}"))
            return
        finally:
            self._step_idle.set()
            if self._browser is not None:
                self._browser.browser_profile.allowed_domains = None  # the person browses freely between tasks
        self._may_act = False
        if self._fault is not None:
            # The model or the connection broke: the next task starts with a fresh agent and model
            # client (the fault may be fixed by then: a server started, a setting corrected).
            self._agent = None
            self._report_fault(task_id, self._fault)
            return
        if self._listener is None:
            return
        steps = agent.state.n_steps - self._first_step
        self._listener.on_finished(task_result(task_id, history.history, steps=steps, stopped=self._stop_requested))

    async def _grant_access(self) -> None:
        """What this task may use: the vault's entries (values read from the keychain off the UI
        thread), the sites the person allowed, the site rules. The values go to browser-use's
        ``sensitive_data`` and to the privacy guard (to hide them), nowhere else."""
        if self._vault is None:
            self._access = TaskAccess.NONE
        else:
            try:
                self._access = await asyncio.to_thread(self._vault.task_access)
            except Exception as error:  # a keychain that breaks mid-read: run without the vault
                log.warning("Could not read the vault (%s)", type(error).__name__)
                self._access = TaskAccess(rules=self._vault.rules, allowed_sites=self._vault.allowed_sites)
                self._tell("The vault could not be read from your keychain; the agent will ask you to log in instead.")
        for problem in self._access.problems:
            self._tell(problem)
        if self._browser is not None:
            self._browser.browser_profile.allowed_domains = self._access.local_allowed_domains()
        if self._privacy is not None:
            access = self._access

            def secret_values() -> set[str]:
                values = access.secret_values()
                for value in values:
                    redactor.add_secret(value)  # the current 2FA codes too: never in a log
                return values

            self._privacy.use_vault(secret_values)

    def _tell(self, text: str) -> None:
        if self._listener is not None:
            self._listener.on_notice(text)

    def _site_blocked(self, event: Any) -> None:
        """browser-use kept the agent from an address outside the allowed sites: said in the
        step's report in plain words (see _step_ends)."""
        if getattr(event, "error_type", "") in ("NavigationBlocked", "TabCreationBlocked"):
            url = str((getattr(event, "details", None) or {}).get("url", ""))
            self._blocked.append(url)

    @staticmethod
    def _start_afresh(agent: Any) -> None:
        """A follow-up task keeps the agent's memory (its messages) but not the last task's outcome:
        browser-use ends a run as soon as the last history item says "done", and a step that adds
        no item of its own (one paused mid-way) would otherwise end the new task with the old result."""
        agent.history = type(agent.history)(history=[], usage=None)
        agent.state.last_result = None
        agent.state.last_model_output = None
        agent.state.consecutive_failures = 0

    def _key_fingerprint(self, settings: LLMSettings) -> str:
        """Changes when the provider's key does (a corrected key must take effect), without keeping it."""
        key = model_key(settings.provider, self._keychain) or ""
        return hashlib.sha256(key.encode()).hexdigest()

    def _connection_dropped(self, event: Any) -> None:
        """browser-use reconnects quietly; a dropped DevTools connection mid-run ends the run instead
        (the next run uses the restored connection)."""
        if self._run is not None and not self._run.done() and not self._stop_requested:
            log.warning("The DevTools connection dropped during a run (reconnect attempt %s)", getattr(event, "attempt", "?"))
            self._fail_run(
                BackendError(Problem.BROWSER_GONE, "The connection between the agent and the built-in browser dropped.")
            )

    def _report_fault(self, task_id: str, fault: BackendError) -> None:
        if self._listener is not None:
            self._listener.on_run_fault(task_id, fault)

    def _fail_run(self, fault: BackendError) -> None:
        """The model endpoint or the browser connection is unusable: stop now, not step after step."""
        if self._fault is None:
            self._fault = fault
        self._may_act = False
        if self._agent is not None:
            self._agent.stop()

    async def interrupt(self, run: RunHandle) -> InterruptOutcome:
        if self._run is None or self._run.done() or run.task_id != self._task_id:
            return InterruptOutcome.ALREADY_OVER
        self._may_act = False  # from here on every action is refused, whatever step is in flight
        _quietly(self._agent.pause)
        await self._action_idle.wait()  # an action under way completes; none starts after it
        return InterruptOutcome.ALREADY_OVER if self._run.done() else InterruptOutcome.PAUSED

    async def resume(self, run: RunHandle, context: HandBackContext) -> None:
        if self._run is None or self._run.done() or run.task_id != self._task_id:
            raise BackendError(Problem.INVALID, "The paused task has already ended; give the agent a new task.")
        if self._privacy is not None:
            self._privacy.scrubber.known_to_model(context.message)
        note = import_browser_use().ActionResult(extracted_content=context.message, long_term_memory=context.message, include_in_memory=True)
        self._pending_request = None
        self._deferred_notes.append(note)
        if self._step_idle.is_set():
            self._resume_with_notes()
        # Otherwise the step under way was planned before the person acted: the agent stays paused,
        # so it ends without acting, and _step_ends resumes the run.

    def _resume_with_notes(self) -> None:
        notes, self._deferred_notes = self._deferred_notes, []
        state = self._agent.state
        state.last_result = [*(state.last_result or []), *notes]
        self._may_act = True
        _quietly(self._agent.resume)

    async def stop_task(self, run: RunHandle) -> None:
        if run.task_id == self._task_id:
            await self._finish_run()

    async def _finish_run(self) -> None:
        run = self._run
        if run is None or run.done():
            return
        self._stop_requested = True
        self._may_act = False
        self._deferred_notes.clear()
        self._agent.stop()  # also releases a paused run
        await self._action_idle.wait()
        try:
            # Between model calls the run ends by itself at once; a model still thinking is not waited for.
            await asyncio.wait_for(asyncio.shield(run), STOP_GRACE)
        except TimeoutError:
            log.info("The model is still thinking; cancelling the agent's step")
            run.cancel()
            await asyncio.wait([run])
            self._agent = None  # cut off mid-step: the next task starts with a fresh agent

    # -- step tracking -------------------------------------------------------------------------

    async def _step_begins(self, agent: Any) -> None:
        self._step_idle.clear()
        self._step_started = time.monotonic()
        self._step_number = agent.state.n_steps
        self._result_before = agent.state.last_result
        self._last_step = None

    def _task_step(self, agent_step: int) -> int:
        return agent_step - self._first_step + 1

    async def _step_ends(self, agent: Any) -> None:
        report = self._last_step
        self._last_step = None
        result = agent.state.last_result
        if agent.state.n_steps == self._step_number or result is None or result is self._result_before:
            # Interrupted (a pause) before it acted: browser-use runs this step again on resume, so
            # showing it now would list a step that did nothing, then its number twice.
            report = None
            result = None
        errors = [r.error for r in (result or ()) if getattr(r, "error", None)]
        if self._refused_press:
            errors.append("Not done: a site rule keeps this press for the person (see the request below).")
            self._refused_press = False
        if self._blocked and self._access.allowed_sites:
            errors.append(self._access.blocked_words(self._blocked))
            self._blocked = []
        if errors and self._fault is None:
            # A step can fail before the model says anything (a bad reply, a timeout): show it anyway,
            # so the timeline does not skip a number and the person sees why the agent is stuck.
            report = report or {"task_id": self._task_id or "", "number": self._task_step(self._step_number), "next_goal": "", "url": ""}
            report["error"] = errors[-1]
        if report is not None and self._listener is not None:
            report["duration"] = time.monotonic() - self._step_started
            self._listener.on_step(StepReport(**report))
        request, self._pending_request = self._pending_request, None
        self._step_idle.set()
        if request is not None and self._listener is not None and self._task_id is not None:
            self._listener.on_human_requested(self._task_id, request)
        if self._deferred_notes and not self._stop_requested:
            self._resume_with_notes()  # handed back while this (stale) step was still under way

    async def _on_model_output(self, state: Any, output: Any, step_number: int) -> None:
        task_id = self._task_id or ""
        screenshot = await self._save_screenshot(task_id, step_number, getattr(state, "screenshot", None))
        self._last_step = {
            "task_id": task_id,
            "number": self._task_step(step_number),
            "next_goal": output.next_goal or "",
            "url": getattr(state, "url", "") or "",
            "evaluation": output.evaluation_previous_goal or "",
            "memory": output.memory or "",
            "actions": tuple(json.dumps(a.model_dump(exclude_unset=True), default=str) for a in output.action),
            "screenshot_url": screenshot,
        }

    async def _save_screenshot(self, task_id: str, number: int, data: str | None) -> str | None:
        if not data:
            return None
        path = self._screenshots / task_id / f"{number}.png"

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(base64.b64decode(data))

        try:
            await asyncio.to_thread(write)
        except (OSError, ValueError) as error:
            log.warning("Could not keep the step's screenshot: %s", error)
            return None
        return Path(path).as_uri()

    # -- tools ---------------------------------------------------------------------------------

    def _make_tools(self, browser_use: Any) -> Any:
        from pydantic import BaseModel, Field  # loaded with browser-use by now

        backend = self

        class RequestHuman(BaseModel):
            reason: str = Field(description="What the person should do, in one or two short sentences")

        class GuardedTools(browser_use.Tools):  # type: ignore[misc,name-defined]
            async def act(self, action: Any, browser_session: Any, *args: Any, **kwargs: Any) -> Any:
                if not backend._may_act:
                    backend.actions_refused += 1
                    raise InterruptedError("The person has control of the browser")
                backend._action_idle.clear()
                try:
                    reason = await site_guard.check(action, browser_session, backend._access.rules)
                    if reason is not None:
                        # Never reaches the page: the person does it (the reason is shown).
                        backend.rule_refusals += 1
                        backend._refused_press = True
                        backend._ask_for_person(reason)
                        return browser_use.ActionResult(
                            extracted_content=f"Refused by a site rule; the person was asked: {reason}",
                            long_term_memory=f"A site rule kept this for the person: {reason}",
                        )
                    return await super().act(action, browser_session, *args, **kwargs)
                finally:
                    backend._action_idle.set()

        tools = GuardedTools()

        @tools.action(
            "Ask the person at the computer to do the next step themselves: a login or password, a 2FA or "
            "one-time code, a CAPTCHA, payment or card details, or the final confirmation of anything "
            "irreversible. Explain exactly what they should do.",
            param_model=RequestHuman,
        )
        async def request_human(params: RequestHuman) -> Any:  # type: ignore[valid-type]
            backend._ask_for_person(params.reason)
            return browser_use.ActionResult(
                extracted_content=f"Asked the person to: {params.reason}",
                long_term_memory=f"Asked the person to: {params.reason}",
            )

        return tools

    def _ask_for_person(self, reason: str) -> None:
        # Control passes at the end of this step (see _step_ends): nothing more is sent meanwhile.
        self._pending_request = reason.strip() or "The agent needs your help with this page."
        self._may_act = False
        _quietly(self._agent.pause)
