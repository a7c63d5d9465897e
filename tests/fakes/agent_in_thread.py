"""The agent's process run on a thread of the test's own process instead, for the few tests that
must reach into the agent (wrap its tools, slow a step down, close its DevTools socket, watch its
connections): everything else about it — the wire, the host, the LocalBackend — is as in the app."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from desktop_app.backends import agent_host
from desktop_app.backends.agent_process import AgentProcess
from desktop_app.backends.agent_wire import Channel


class _ThreadAsProcess:
    def __init__(self, thread: threading.Thread) -> None:
        self._thread = thread

    def wait(self, timeout: float | None = None) -> int:
        self._thread.join(timeout)
        return 0

    def poll(self) -> int | None:
        return None if self._thread.is_alive() else 0

    def kill(self) -> None:
        pass  # it ends when the wire closes


class AgentInThread:
    """A launcher for ``AgentProcessBackend``; ``host`` is the last agent started (its
    ``_backend`` the LocalBackend), ``loop`` the event loop it runs on."""

    def __init__(self) -> None:
        self.host: agent_host.AgentHost | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def backend(self) -> Any:
        return self.host._backend if self.host is not None else None

    def run(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 10) -> Any:
        """Runs ``coroutine`` on the agent's loop (from the test's thread) and returns its result."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def launch(self, log_dir: Path | None = None) -> AgentProcess:
        ours, theirs = socket.socketpair()

        def found(host: agent_host.AgentHost) -> None:
            self.host = host
            self.loop = asyncio.get_running_loop()

        thread = threading.Thread(target=lambda: asyncio.run(agent_host.serve(theirs, found)), name="agent in a thread", daemon=True)
        thread.start()
        reader, writer = await asyncio.open_connection(sock=ours)
        return AgentProcess(Channel(reader, writer), _ThreadAsProcess(thread))
