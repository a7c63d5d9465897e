"""The agent's process: browser-use runs here, so its page reads, DevTools' answers and its garbage
collections never stop the window (``agent_process`` starts it and is its only peer).

It runs the same ``LocalBackend`` the window used to run itself. What that backend needs from the
window it gets over the wire (``agent_wire``):
- the privacy guard's readings of the page (around each screenshot, before each model call): the
  guard reads the page through the window's ``QWebEnginePage``; text is scrubbed here, with the
  values the readings and the task's vault values name (``HostPrivacy``);
- each task's model settings and key, and its ``TaskAccess`` (``HostVault``, ``OneKey``);
- and it reports steps, results, requests for the person, notices and faults back.
It talks to the browser itself, over the DevTools port, like any DevTools client.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_app.backends import BackendContext
from desktop_app.backends.agent_wire import Channel
from desktop_app.core.access import TaskAccess
from desktop_app.core.errors import BackendError, Problem
from desktop_app.core.page_masks import PageMasks
from desktop_app.core.ports import HandBackContext, RunHandle, RunResult, StepReport, TaskRequest
from desktop_app.core.privacy import ValueScrubber
from desktop_app.core.redaction import redactor
from desktop_app.settings import LLMSettings
from desktop_app.system.keychain import SecretName

log = logging.getLogger(__name__)

ARGUMENT = "--agent-host"  # the app's executable started as the agent's process: ARGUMENT <socket fd>
AGENT_LOG = "agent.log"  # in the app's log folder, next to handoff.log


@dataclass(frozen=True)
class HostPaths:
    """The folders the agent writes to (the window's ``Paths`` says where)."""

    screenshots: Path
    cache: Path
    downloads: Path


class OneKey:
    """The model's key for the current task, as the window read it from the keychain."""

    def __init__(self) -> None:
        self.key: str | None = None

    def get(self, name: SecretName) -> str | None:
        return self.key


class HostVault:
    """The vault as one task may use it: what the window read for it."""

    def __init__(self) -> None:
        self.access = TaskAccess.NONE

    @property
    def rules(self) -> Any:
        return self.access.rules

    @property
    def allowed_sites(self) -> tuple[str, ...]:
        return self.access.allowed_sites

    def task_access(self) -> TaskAccess:
        return self.access


class HostPrivacy:
    """The part of ``core.privacy.PrivacyGuard`` the agent uses. The window's guard reads the page:
    each reading brings the page's hidden fields (painted over in screenshots), every value the
    guard has learnt this session and the vault's values now, all removed from text for the model.
    The task's own vault values are removed here as well (``use_vault``), whatever a reading says."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self.scrubber = ValueScrubber()
        self._vault_values: Callable[[], Iterable[str]] = tuple

    def use_vault(self, values: Callable[[], Iterable[str]] | None) -> None:
        self._vault_values = values or tuple

    async def read(self, *, why: str) -> PageMasks | None:
        return self._learn(await self._channel.call("privacy_read", why=why))

    async def current(self, *, why: str) -> PageMasks | None:
        return self._learn(await self._channel.call("privacy_current", why=why))

    def _learn(self, reading: dict[str, Any]) -> PageMasks | None:
        masks: PageMasks | None = reading["masks"]
        self.scrubber.learn(reading["learnt"])
        if masks is not None:
            self.scrubber.learn(f.value for f in masks.fields)
        self.scrubber.learn_always(reading["vault"])
        for value in reading["vault"]:
            redactor.add_secret(value)  # never in this process's log either
        return masks

    def scrub(self, text: str) -> str:
        self.scrubber.learn_always(v.strip() for v in self._vault_values() if v and v.strip())  # the current 2FA code too
        return self.scrubber.scrub(text)

    def session_ended(self) -> None:
        self.scrubber.forget()


class WindowListener:
    """``core.ports.AgentListener`` told over the wire to the window's side."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel

    def on_step(self, step: StepReport) -> None:
        self._channel.tell("step", step=step)

    def on_finished(self, result: RunResult) -> None:
        self._channel.tell("finished", result=result)

    def on_human_requested(self, task_id: str, reason: str) -> None:
        self._channel.tell("human_requested", task_id=task_id, reason=reason)

    def on_run_fault(self, task_id: str, error: Exception) -> None:
        fault = error if isinstance(error, BackendError) else BackendError(Problem.INTERNAL, str(error))
        self._channel.tell("run_fault", task_id=task_id, error=fault)

    def on_session_lost(self, reason: str) -> None:
        self._channel.tell("session_lost", reason=reason)

    def on_session_created(self, session_id: str) -> None:
        pass  # a Local session bills nothing

    def on_notice(self, text: str, *, resolved: bool = False) -> None:
        self._channel.tell("notice", text=text, resolved=resolved)


class AgentHost:
    """Answers the window's calls with one ``LocalBackend``."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._key = OneKey()
        self._vault = HostVault()
        self._privacy = HostPrivacy(channel)
        self._settings = LLMSettings()
        self._backend: Any = None
        channel.handlers.update(
            open_session=self.open_session,
            start_task=self.start_task,
            interrupt=self.interrupt,
            resume=self.resume,
            stop_task=self.stop_task,
            end_session=self.end_session,
            guard_counts=self.guard_counts,
            ready=self.ready,
        )

    async def ready(self) -> str:
        """browser-use's version, once it is imported here (the smoke test asks, frozen too)."""
        from importlib.metadata import version

        from desktop_app.backends.browser_use_setup import import_browser_use

        await asyncio.to_thread(import_browser_use)
        return version("browser-use")

    async def open_session(
        self, *, devtools_url: str, page_target: str | None, paths: dict[str, str], llm_timeout: float, max_steps: int
    ) -> Any:
        from desktop_app.backends.local import LocalBackend

        if self._backend is not None:
            raise BackendError(Problem.INVALID, "This agent already has a session.")

        folders = HostPaths(**{name: Path(folder) for name, folder in paths.items()})
        context = BackendContext(
            paths=folders,  # type: ignore[arg-type]  # the folders LocalBackend uses
            devtools_url=devtools_url,
            privacy=self._privacy,  # type: ignore[arg-type]
            vault=self._vault,  # type: ignore[arg-type]
            page_target=lambda: page_target,
        )
        self._backend = LocalBackend(
            llm_settings=lambda: self._settings,
            keychain=self._key,  # type: ignore[arg-type]
            context=context,
            max_steps=max_steps,
            llm_timeout=llm_timeout,
        )
        self._backend.attach(WindowListener(self._channel))
        return await self._backend.open_session()

    async def start_task(self, *, request: TaskRequest, settings: LLMSettings, key: str | None, access: TaskAccess, llm_timeout: float) -> RunHandle:
        if key:
            redactor.add_secret(key)
        backend = self._session()
        self._settings = settings
        self._key.key = key
        self._vault.access = access
        backend._llm_timeout = llm_timeout
        return await backend.start_task(request)

    def _session(self) -> Any:
        if self._backend is None:
            raise BackendError(Problem.SESSION_GONE, "There is no browser session. Start a new session.")
        return self._backend

    async def interrupt(self, *, run: RunHandle) -> Any:
        return await self._session().interrupt(run)

    async def resume(self, *, run: RunHandle, context: HandBackContext) -> None:
        await self._session().resume(run, context)

    async def stop_task(self, *, run: RunHandle) -> None:
        await self._session().stop_task(run)

    async def end_session(self) -> None:
        if self._backend is not None:
            await self._backend.end_session()

    async def guard_counts(self) -> dict[str, int]:
        backend = self._backend
        return {
            "actions_refused": backend.actions_refused if backend else 0,
            "rule_refusals": backend.rule_refusals if backend else 0,
        }


async def serve(sock: socket.socket, on_host: Callable[[AgentHost], None] = lambda _host: None, *, token: str = "") -> None:
    """Answers the window on ``sock`` (after saying ``token``) until it closes it."""
    sock.settimeout(None)
    reader, writer = await asyncio.open_connection(sock=sock)
    if token:
        writer.write(token.encode() + b"\n")
    channel = Channel(reader, writer)
    host = AgentHost(channel)
    on_host(host)
    await channel.closed
    try:
        await asyncio.wait_for(host.end_session(), 20)
    except Exception as error:  # noqa: BLE001 — the window has gone: leave quietly
        log.info("Ending the session as the window went: %s", type(error).__name__)


def main(argv: list[str]) -> int:
    """``ARGUMENT <port> [--log-dir DIR] [--debug]``, the window's one-time token on standard input:
    serve the window over that loopback port until it goes, logging to ``agent.log``."""
    from desktop_app.system.logs import setup_logging

    # Ctrl-C at a terminal is the window's to handle: it ends this process with its session.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def option(name: str) -> str | None:
        return argv[argv.index(name) + 1] if name in argv[:-1] else None

    try:
        log_dir = option("--log-dir")
        setup_logging(
            log_dir=Path(log_dir) if log_dir else None, json_lines=False, debug="--debug" in argv, file_name=AGENT_LOG, process_ids=True
        )
        # A windowed executable may have no sys.stdin object, but the pipe the window gave is there.
        token = (sys.stdin.buffer if sys.stdin is not None else os.fdopen(0, "rb")).readline().strip().decode()
        port = int(argv[argv.index(ARGUMENT) + 1])
        loop = asyncio.new_event_loop()
        loop.run_until_complete(serve(socket.create_connection(("127.0.0.1", port), timeout=10), token=token))
    except Exception:  # logged, never a traceback dialog (a windowed executable shows one)
        log.exception("The agent's process failed")
        code = 1
    else:
        code = 0
    logging.shutdown()
    # Not asyncio.run's clean-up: it would wait without limit for a worker thread still busy.
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
