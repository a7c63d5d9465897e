"""Shared test setup: strict, offscreen, offline, and never a real keychain or home directory."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

# Before anything imports Qt, WebEngine or browser-use.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["PYTHON_KEYRING_BACKEND"] = "tests.fakes.memory_keyring.MemoryKeyring"
os.environ.pop("BROWSER_USE_API_KEY", None)
os.environ.pop("BROWSER_USE_BASE_URL", None)
_SESSION_HOME = Path(tempfile.mkdtemp(prefix="handoff-tests-home-"))
for variable, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"), ("XDG_CACHE_HOME", "cache")):
    os.environ[variable] = str(_SESSION_HOME / sub)

from desktop_app.early_init import prepare_environment  # noqa: E402

EARLY = prepare_environment(_SESSION_HOME / "browser-use")

import keyring  # noqa: E402
import PySide6.QtWebEngineWidgets  # noqa: E402,F401  (must be imported before any QApplication exists)
import pytest  # noqa: E402

from desktop_app.paths import Paths  # noqa: E402
from tests.fakes.memory_keyring import MemoryKeyring  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths.under(tmp_path / "base").ensure()


@pytest.fixture
def arun() -> Iterator[Callable[..., Any]]:
    """Run a coroutine on a plain asyncio loop (core tests: no Qt)."""
    loop = asyncio.new_event_loop()

    def run(coroutine: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        return loop.run_until_complete(asyncio.wait_for(coroutine, timeout))

    yield run
    _drain(loop)
    loop.close()


class NestedLoopApp:
    """What qasync drives in tests instead of the QApplication itself.

    qasync runs ``app.exec()`` and stops with ``app.exit()``; in Qt 6 ``exit()`` emits
    ``aboutToQuit``, on which QtWebEngine shuts down for good — fine for the app (one run), fatal
    for a test session that runs the loop many times. Here each run is a nested QEventLoop.
    """

    def __init__(self, app: Any) -> None:
        from PySide6.QtCore import QEventLoop

        self._app = app
        self._event_loop_type = QEventLoop
        self._running: list[Any] = []

    def exec(self) -> int:
        loop = self._event_loop_type()
        self._running.append(loop)
        try:
            return loop.exec()
        finally:
            self._running.pop()

    def exit(self, code: int = 0) -> None:
        if self._running:
            self._running[-1].exit(code)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)


@pytest.fixture(scope="session")
def qloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """One qasync loop on the test QApplication for the whole run (see DESIGN.md on asyncio.Runner)."""
    import qasync

    loop = qasync.QEventLoop(NestedLoopApp(qapp))
    asyncio.set_event_loop(loop)
    yield loop
    _drain(loop)
    asyncio.set_event_loop(None)
    loop.close()


@pytest.fixture
def qrun(qloop: asyncio.AbstractEventLoop) -> Iterator[Callable[..., Any]]:
    """Run a coroutine on the Qt loop: widgets repaint and WebEngine works while it waits."""

    def run(coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return qloop.run_until_complete(asyncio.wait_for(coroutine, timeout))

    yield run
    pending = [t for t in asyncio.all_tasks(qloop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        qloop.run_until_complete(asyncio.wait(pending, timeout=5))


def _drain(loop: asyncio.AbstractEventLoop) -> None:
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.wait(pending, timeout=5))
    loop.run_until_complete(loop.shutdown_asyncgens())


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    import shutil

    shutil.rmtree(_SESSION_HOME, ignore_errors=True)

