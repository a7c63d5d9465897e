"""Shared test setup: strict, offscreen, offline, and never a real keychain or home directory."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

# Before anything imports Qt, WebEngine or browser-use.
# HANDOFF_TEST_QPA=xcb: the tests that need a real X server (tests/ui/test_native_window.py) run under Xvfb.
os.environ["QT_QPA_PLATFORM"] = os.environ.get("HANDOFF_TEST_QPA", "offscreen")
os.environ["PYTHON_KEYRING_BACKEND"] = "tests.fakes.memory_keyring.MemoryKeyring"
os.environ.pop("BROWSER_USE_API_KEY", None)
os.environ.pop("BROWSER_USE_BASE_URL", None)
_SESSION_HOME = Path(tempfile.mkdtemp(prefix="handoff-tests-home-"))
for variable, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"), ("XDG_CACHE_HOME", "cache")):
    os.environ[variable] = str(_SESSION_HOME / sub)

from desktop_app.system.early_init import prepare_environment  # noqa: E402

EARLY = prepare_environment(_SESSION_HOME / "browser-use")

import keyring  # noqa: E402
import PySide6.QtWebEngineWidgets  # noqa: E402,F401  (must be imported before any QApplication exists)
import pytest  # noqa: E402

from desktop_app.system.paths import Paths  # noqa: E402
from tests.fakes.cloud_server import FakeCloud  # noqa: E402
from tests.fakes.memory_keyring import MemoryKeyring  # noqa: E402
from tests.fakes.site import SiteServer  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend


@pytest.fixture(scope="session")
def qapp_cls() -> type:
    """The test QApplication chooses how pages are drawn as app.py does, before any web view."""
    from PySide6.QtWidgets import QApplication

    from desktop_app.system.page_rendering import choose_page_rendering

    class TestApplication(QApplication):
        def __init__(self, args: list[str]) -> None:
            super().__init__(args)
            choose_page_rendering()

    return TestApplication


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths.under(tmp_path / "base").ensure()


@pytest.fixture
def cloud_options() -> dict[str, Any]:
    """How the ``cloud`` fixture's fake behaves (``FakeCloud``'s keywords): its defaults here; a
    folder's conftest or a test module that needs another pace overrides this fixture."""
    return {}


@pytest.fixture
def cloud(cloud_options: dict[str, Any]) -> Iterator[FakeCloud]:
    """A fake Browser Use Cloud on 127.0.0.1; the test fails if the app sent it a request the real
    API would refuse."""
    with FakeCloud(**cloud_options) as fake:
        yield fake
    assert fake.validation_errors == [], "the app sent a request the real API would refuse"


@pytest.fixture
def site() -> Iterator[SiteServer]:
    """The small test website on 127.0.0.1 (pages from tests/fakes/site/)."""
    with SiteServer() as served:
        yield served


@pytest.fixture
def arun() -> Iterator[Callable[..., Any]]:
    """Run a coroutine on a plain asyncio loop (core tests: no Qt)."""
    loop = asyncio.new_event_loop()

    def run(coroutine: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        with _qt_loop_stepped_aside():
            return loop.run_until_complete(asyncio.wait_for(coroutine, timeout))

    yield run
    with _qt_loop_stepped_aside():
        _drain(loop)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


class _qt_loop_stepped_aside:
    """The Qt loop counts as running for the whole session (see qloop); a plain loop needs it aside."""

    def __enter__(self) -> None:
        self._outer = asyncio.events._get_running_loop()
        asyncio.events._set_running_loop(None)

    def __exit__(self, *exc: object) -> None:
        asyncio.events._set_running_loop(self._outer)


@pytest.fixture(scope="session")
def qloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """One qasync loop on the test QApplication, counted as running for the whole session.

    As in the app, asyncio callbacks then work whenever Qt processes events — also when pytest-qt
    does so between tests, where late socket callbacks (browser-use's CDP client) would otherwise
    find no running loop. ``qrun`` spins a nested Qt event loop until its coroutine is done, so
    QCoreApplication.exit() (whose aboutToQuit shuts QtWebEngine down for good) is never called
    mid-session.
    """
    from desktop_app.system.event_loop import WindowEventLoop
    from desktop_app.system.logs import silence_data_loggers

    silence_data_loggers()  # as the app's logging set-up does (privacy tests read every record)
    loop = WindowEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    _cancel_pending(loop)
    loop.stop()  # the session is over: Qt may say aboutToQuit now
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)
    loop.close()  # joins qasync's executor threads (asyncio.to_thread)


def _spin_until(task: asyncio.Future[Any]) -> None:
    from PySide6.QtCore import QEventLoop

    if not task.done():
        waiting = QEventLoop()
        task.add_done_callback(lambda _: waiting.quit())
        waiting.exec()


def _cancel_pending(loop: asyncio.AbstractEventLoop) -> None:
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        _spin_until(loop.create_task(asyncio.wait(pending, timeout=5)))


@pytest.fixture
def qrun(qloop: asyncio.AbstractEventLoop) -> Iterator[Callable[..., Any]]:
    """Run a coroutine on the Qt loop: widgets repaint and WebEngine works while it waits."""

    def run(coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        task = qloop.create_task(asyncio.wait_for(coroutine, timeout))
        _spin_until(task)
        return task.result()

    yield run
    _cancel_pending(qloop)


def _drain(loop: asyncio.AbstractEventLoop) -> None:
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.wait(pending, timeout=5))


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    import shutil

    shutil.rmtree(_SESSION_HOME, ignore_errors=True)
