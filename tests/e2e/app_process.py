"""Start the real app as a subprocess with JSON logs, and wait for its named events."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]


def app_environment(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("BROWSER_USE_API_KEY", "BROWSER_USE_BASE_URL", "QTWEBENGINE_REMOTE_DEBUGGING"):
        env.pop(name, None)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        PYTHONPATH=str(REPO_ROOT),
        PYTHON_KEYRING_BACKEND="tests.fakes.memory_keyring.MemoryKeyring",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def cloud_environment(cloud: Any, **extra: str) -> dict[str, str]:
    """``app_environment`` pointed at a fake cloud (``tests.fakes.cloud_server.FakeCloud``): its key and address."""
    return app_environment(BROWSER_USE_API_KEY=cloud.api_key, BROWSER_USE_BASE_URL=cloud.base_url, **extra)


class AppProcess:
    def __init__(self, args: Sequence[str], env: dict[str, str], command: Sequence[str] | None = None) -> None:
        self.command = [*(command or [sys.executable, "-m", "desktop_app"]), "--json-logging", *args]
        self.process = subprocess.Popen(
            self.command,
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self.events: list[dict[str, Any]] = []
        self.stderr_lines: list[str] = []
        self.stdout_lines: list[str] = []
        self._lock = threading.Lock()
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stderr, self.stderr_lines, True), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stdout, self.stdout_lines, False), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: Any, lines: list[str], parse: bool) -> None:
        for line in stream:
            line = line.rstrip("\n")
            with self._lock:
                lines.append(line)
                if parse and line.startswith("{"):
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    if "event" in record:
                        self.events.append(record)

    def __enter__(self) -> AppProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()  # a test that failed half-way leaves no app running

    def event_names(self) -> list[str]:
        with self._lock:
            return [e["event"] for e in self.events]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(
            f"timed out waiting for {what} (exit code {self.process.poll()}); events: {self.event_names()}\n"
            + "\n".join(self.stderr_lines[-40:])
        )

    def wait_for_event(self, name: str, timeout: float = 60.0) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            with self._lock:
                return next((e for e in self.events if e["event"] == name), None)

        return self.wait_for(found, timeout, f"event {name}")

    def terminate_and_wait(self, timeout: float = 60.0) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.wait_exit(timeout)

    def wait_exit(self, timeout: float = 60.0) -> int:
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        self._close_streams()
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._close_streams()

    def _close_streams(self) -> None:
        for reader in self._readers:
            reader.join(5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None and not stream.closed:
                stream.close()

    @property
    def stderr(self) -> str:
        with self._lock:
            return "\n".join(self.stderr_lines)
