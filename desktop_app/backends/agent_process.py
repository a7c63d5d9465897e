"""Local mode, as the window sees it: the browser-use agent runs in a process of its own
(``agent_host``) and drives the window's own view over DevTools, so its page reads, DevTools'
answers and its garbage collections never stop the window.

This side keeps what only the window has: the privacy guard (it reads the page through the view),
the keychain and the vault (read here, off the window's thread, and sent with each task), the
page's DevTools target id, and the listener. Every call to the agent has a time limit: an agent
that stops answering is ended, so it can send no more input, and the run and the session end in
words. If the agent's process ends on its own, the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from desktop_app.backends import BackendContext
from desktop_app.backends.agent_wire import Channel, WireError
from desktop_app.backends.capabilities import LOCAL
from desktop_app.backends.llm import DEFAULT_TIMEOUT, check_llm_settings, model_key
from desktop_app.core.access import TaskAccess
from desktop_app.core.errors import BackendError, Problem
from desktop_app.core.ports import (
    AgentListener,
    HandBackContext,
    InterruptOutcome,
    RemoteSession,
    RunHandle,
    RunningTask,
    SessionInfo,
    TaskRequest,
)
from desktop_app.core.redaction import redactor
from desktop_app.settings import LLMSettings
from desktop_app.system.keychain import Keychain

log = logging.getLogger(__name__)

CAPABILITIES = LOCAL
CONNECT_TIMEOUT = 60.0  # the agent's process starting (Python, its first imports) and calling back
EXIT_TIMEOUT = 5.0  # how long the agent's process may take to end once told to
# Each call's time limit, beyond which the agent is taken to be stuck and is ended.
CALL_TIMEOUTS = {
    "open_session": 120.0,  # imports browser-use (first time ~3 s) and connects to the browser
    "start_task": 120.0,  # the first builds the model's client and warms an agent up
    "interrupt": 60.0,  # waits for an action under way (a page load) to finish
    "resume": 30.0,
    "stop_task": 30.0,  # the run's own grace, then its step cancelled
    "end_session": 20.0,
    "guard_counts": 10.0,
    "ready": 120.0,
}
GONE = "The agent's process stopped unexpectedly. Start a new session to continue."
STUCK = "The agent stopped answering, so Handoff ended it. Start a new session to continue."


class AgentProcess:
    """A started agent's process and the wire to it."""

    def __init__(self, channel: Channel, process: Any, exited: asyncio.Future[Any] | None = None) -> None:
        self.channel = channel
        self.process = process
        # One waiting thread for the process's whole life, done when it has exited (and is reaped).
        self.exited = exited if exited is not None else asyncio.ensure_future(asyncio.to_thread(process.wait))

    def kill(self) -> None:
        """At once: from here on it can send no input to the browser."""
        self.channel.close()
        with contextlib.suppress(OSError):
            self.process.kill()

    async def end(self) -> None:
        self.channel.close()
        try:
            await asyncio.wait_for(asyncio.shield(self.exited), EXIT_TIMEOUT)
        except TimeoutError:
            log.warning("The agent's process did not end; stopping it")
            with contextlib.suppress(OSError):
                self.process.kill()
            await asyncio.shield(self.exited)


def agent_host_command(port: int, log_dir: Path | None) -> list[str]:
    """How to start this app as the agent's process (frozen: its own executable)."""
    from desktop_app.backends.agent_host import ARGUMENT

    start = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "desktop_app.backends.agent_host"]
    options = ["--log-dir", str(log_dir)] if log_dir is not None else []
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        options.append("--debug")
    return [*start, ARGUMENT, str(port), *options]


async def start_agent_process(log_dir: Path | None = None) -> AgentProcess:
    """The agent's process, connected back to a loopback port that takes one connection: the one
    that first sends the token this process gave it on its standard input (never its arguments)."""
    token = secrets.token_hex(32)
    connected: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.get_running_loop().create_future()

    async def knock(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            said = await asyncio.wait_for(reader.readline(), 5.0)
        except (TimeoutError, ConnectionError, ValueError):  # ValueError: a line over the stream's limit
            said = b""
        if connected.done() or not secrets.compare_digest(said.strip(), token.encode()):
            writer.close()
            return
        connected.set_result((reader, writer))

    server = await asyncio.start_server(knock, "127.0.0.1", 0)
    process: Any = None
    try:
        port = server.sockets[0].getsockname()[1]
        spawning = asyncio.ensure_future(asyncio.to_thread(_spawn, agent_host_command(port, log_dir), token))
        try:
            process = await asyncio.shield(spawning)
        except asyncio.CancelledError:
            spawning.add_done_callback(_end_unwanted)  # started after all: it must not outlive this
            raise
        except OSError as error:
            raise BackendError(Problem.INTERNAL, "Handoff could not start the agent.", detail=f"{type(error).__name__}: {error}") from error
        exited = asyncio.ensure_future(asyncio.to_thread(process.wait))
        done, _ = await asyncio.wait({connected, exited}, timeout=CONNECT_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        if connected not in done:
            why = f"exit code {process.poll()}" if exited in done else f"no call back within {CONNECT_TIMEOUT:.0f} s"
            raise BackendError(Problem.INTERNAL, "The agent could not start. Try again, or restart Handoff.", detail=why)
        return AgentProcess(Channel(*connected.result()), process, exited)
    except BaseException:
        if process is not None:  # started, but not handed over: it must not outlive this
            with contextlib.suppress(OSError):
                process.kill()
            process.wait()
        if connected.done() and not connected.cancelled():
            connected.result()[1].close()
        raise
    finally:
        server.close()


def _end_unwanted(spawning: asyncio.Future[Any]) -> None:
    if spawning.cancelled() or spawning.exception() is not None:
        return
    process = spawning.result()
    with contextlib.suppress(OSError):
        process.kill()
    threading.Thread(target=process.wait, name="reaping an unwanted agent", daemon=True).start()


def _spawn(command: list[str], token: str) -> subprocess.Popen[bytes]:
    # Its own process group: a Ctrl-C at the terminal is the window's to handle (it ends the agent).
    group: dict[str, Any] = (
        {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if sys.platform == "win32" else {"start_new_session": True}
    )
    process = subprocess.Popen(command, stdin=subprocess.PIPE, env=_agent_environment(), **group)
    assert process.stdin is not None
    try:
        process.stdin.write(token.encode() + b"\n")
        process.stdin.close()
    except OSError:
        pass  # it exited already: the caller sees its exit code
    return process


def _agent_environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment.pop("QT_QPA_PLATFORM", None)  # the agent's process shows nothing
    return environment


async def agent_process_answers() -> str:
    """Starts the agent's process, has it import browser-use, ends it: browser-use's version (the
    smoke test's check that the installed app can run its agent)."""
    agent = await start_agent_process()
    try:
        return await asyncio.wait_for(agent.channel.call("ready"), CALL_TIMEOUTS["ready"])
    finally:
        await agent.end()


Launcher = Callable[[Path | None], Awaitable[AgentProcess]]


class AgentProcessBackend:
    capabilities = CAPABILITIES

    def __init__(
        self,
        *,
        llm_settings: Callable[[], LLMSettings],
        keychain: Keychain,
        context: BackendContext,
        launch: Launcher | None = None,  # None: start_agent_process
        max_steps: int = 100,
        llm_timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._llm_settings = llm_settings
        self._keychain = keychain
        self._context = context
        self._launch = launch
        self._max_steps = max_steps
        self.llm_timeout = llm_timeout
        self._listener: AgentListener | None = None
        self._agent: AgentProcess | None = None
        self._task_id: str | None = None
        self._ending = False
        self._vault_values: Callable[[], Iterable[str]] | None = None  # what the window's guard hides now
        self._reaping: set[asyncio.Task[None]] = set()

    def attach(self, listener: AgentListener) -> None:
        self._listener = listener

    def preflight(self) -> None:
        check_llm_settings(self._llm_settings(), self._keychain)

    # -- session -------------------------------------------------------------------------------

    async def open_session(self) -> SessionInfo:
        if self._context.devtools_url is None:
            raise BackendError(Problem.BROWSER_GONE, "This run of Handoff has no built-in browser for the agent. Restart Handoff.")
        page = self._context.page_target()
        agent = await (self._launch or start_agent_process)(self._context.paths.logs)
        self._ending = False
        self._listen(agent.channel)
        self._agent = agent
        paths = self._context.paths
        try:
            return await self._call(
                "open_session",
                devtools_url=self._context.devtools_url,
                page_target=page,
                paths={"screenshots": str(paths.screenshots), "cache": str(paths.cache), "downloads": str(paths.downloads)},
                llm_timeout=self.llm_timeout,
                max_steps=self._max_steps,
            )
        except BaseException:
            if self._agent is agent:  # not ended already (by the call's time limit)
                self._agent = None
                agent.kill()
                self._reap(agent)
            raise

    def _listen(self, channel: Channel) -> None:
        listener = self._listener
        guard = self._context.privacy

        async def privacy_read(*, why: str) -> dict[str, Any]:
            return self._reading(await guard.read(why=why) if guard is not None else None)

        async def privacy_current(*, why: str) -> dict[str, Any]:
            return self._reading(await guard.current(why=why) if guard is not None else None)

        channel.handlers.update(privacy_read=privacy_read, privacy_current=privacy_current)
        if listener is not None:
            channel.listeners.update(
                step=lambda step: listener.on_step(step),
                finished=lambda result: listener.on_finished(result),
                human_requested=lambda task_id, reason: listener.on_human_requested(task_id, reason),
                run_fault=lambda task_id, error: listener.on_run_fault(task_id, error),
                session_lost=lambda reason: listener.on_session_lost(reason),
                notice=lambda text, resolved: listener.on_notice(text, resolved=resolved),
            )
        channel.closed.add_done_callback(lambda _closed: self._gone(channel, GONE))

    def _reading(self, masks: Any) -> dict[str, Any]:
        """A reading for the agent: the page's hidden fields, every value the guard has learnt this
        session (a value typed on an earlier page stays hidden), and the vault's values now."""
        guard = self._context.privacy
        if guard is None:
            return {"masks": masks, "learnt": (), "vault": ()}
        return {"masks": masks, "learnt": guard.scrubber.learnt(), "vault": tuple(guard.vault_values_now())}

    def _gone(self, channel: Channel, reason: str, *, tell: bool = True) -> None:
        """The agent ended (or is ended now): the run fails and the session is lost, told to the
        listener unless the caller says it itself (a session that was still opening)."""
        agent = self._agent
        if self._ending or agent is None or agent.channel is not channel:
            return
        log.warning("The agent's process ended (%s; exit code %s)", reason, agent.process.poll())
        self._agent = None
        agent.kill()
        self._reap(agent)
        if tell and self._listener is not None:
            if self._task_id is not None:
                self._listener.on_run_fault(self._task_id, BackendError(Problem.BROWSER_GONE, reason))
            self._listener.on_session_lost(reason)

    def _reap(self, agent: AgentProcess) -> None:
        task = asyncio.get_running_loop().create_task(agent.end())  # its exit status collected
        self._reaping.add(task)
        task.add_done_callback(self._reaping.discard)

    async def end_session(self) -> None:
        agent, self._agent = self._agent, None
        self._ending = True
        self._task_id = None
        guard = self._context.privacy
        if guard is not None:
            guard.use_vault(None)
            guard.session_ended()
        if agent is None:
            return
        try:
            with contextlib.suppress(WireError, BackendError, TimeoutError):
                await asyncio.wait_for(agent.channel.call("end_session"), CALL_TIMEOUTS["end_session"])
            await agent.end()
        finally:
            if agent.process.poll() is None:  # cancelled (a bounded quit): it must not outlive the app
                agent.kill()

    async def session_alive(self) -> bool:
        return self._agent is not None

    async def find_live_sessions(self, known_ids: set[str], started_since: float | None = None) -> list[RemoteSession]:
        return []  # nothing runs or bills outside this app in Local mode

    async def adopt_session(self, session_id: str) -> tuple[SessionInfo, RunningTask | None]:
        raise BackendError(Problem.INTERNAL, "Local sessions end with the app; there is nothing to reattach.")

    async def stop_remote_session(self, session_id: str) -> None:
        raise BackendError(Problem.INTERNAL, "Local sessions end with the app.")

    async def aclose(self) -> None:
        await self.end_session()

    # -- runs ----------------------------------------------------------------------------------

    async def start_task(self, request: TaskRequest) -> RunHandle:
        settings = self._llm_settings()
        key = model_key(settings.provider, self._keychain)
        access = await self._task_access()
        guard = self._context.privacy
        before = self._vault_values

        def vault_values() -> set[str]:
            values = access.secret_values()
            for value in values:
                redactor.add_secret(value)  # the current 2FA codes too: never in a log
            return values

        if guard is not None:
            guard.use_vault(vault_values)  # the window's guard masks fields holding them
        try:
            handle = await self._call(
                "start_task", request=request, settings=settings, key=key, access=access, llm_timeout=self.llm_timeout
            )
        except BaseException:
            if guard is not None:
                guard.use_vault(before)  # refused: the task still running keeps its own
            raise
        self._vault_values = vault_values
        self._task_id = handle.task_id
        return handle

    async def _task_access(self) -> TaskAccess:
        """What this task may use, read from the keychain off the window's thread; a keychain that
        breaks mid-read leaves the vault out, said in words (the agent asks the person instead)."""
        vault = self._context.vault
        if vault is None:
            return TaskAccess.NONE
        try:
            return await asyncio.to_thread(vault.task_access)
        except Exception as error:  # noqa: BLE001
            log.warning("Could not read the vault (%s)", type(error).__name__)
            return TaskAccess(
                rules=vault.rules,
                allowed_sites=vault.allowed_sites,
                problems=("The vault could not be read from your keychain; the agent will ask you to log in instead.",),
            )

    async def interrupt(self, run: RunHandle) -> InterruptOutcome:
        if self._agent is None:
            return InterruptOutcome.ALREADY_OVER
        try:
            return await self._call("interrupt", run=run)
        except BackendError as error:
            if self._agent is not None:
                raise  # the agent said why; it is alive and its guard holds
            log.info("Take over found the agent gone: %s", error.message)
            return InterruptOutcome.ALREADY_OVER  # ended: it sends nothing more

    async def resume(self, run: RunHandle, context: HandBackContext) -> None:
        await self._call("resume", run=run, context=context)

    async def stop_task(self, run: RunHandle) -> None:
        if self._agent is not None:
            await self._call("stop_task", run=run)

    async def guard_counts(self) -> dict[str, int]:
        """How often the agent's guard refused its input (the person had control) and how often a
        site rule kept a press for the person, in this session."""
        return await self._call("guard_counts")

    async def _call(self, name: str, **args: Any) -> Any:
        agent = self._agent
        if agent is None:
            raise BackendError(Problem.SESSION_GONE, "There is no browser session. Start a new session.")
        try:
            return await asyncio.wait_for(agent.channel.call(name, **args), CALL_TIMEOUTS[name])
        except TimeoutError:
            log.warning("The agent did not answer %r within %.0f s: ending it", name, CALL_TIMEOUTS[name])
            self._gone(agent.channel, STUCK, tell=name != "open_session")
            raise BackendError(Problem.BROWSER_GONE, STUCK) from None
        except WireError as error:
            self._gone(agent.channel, GONE, tell=name != "open_session")
            raise BackendError(Problem.BROWSER_GONE, GONE, detail=str(error)) from error
