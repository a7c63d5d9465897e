"""Fixtures for window tests: a fake cloud whose steps the test adds, services wired to it, a window
closed gracefully."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from desktop_app.system.keychain import SecretName
from desktop_app.system.paths import Paths
from desktop_app.services import Services
from desktop_app.settings import LLMSettings
from tests.conftest import EARLY
from tests.fakes.agent_in_thread import AgentInThread
from tests.fakes.cloud_server import FakeCloud
from tests.fakes.model_server import MODEL_NAME, FakeModelServer
from tests.fakes.scripted_llm import ScriptedModel


@pytest.fixture
def model_server() -> Iterator[FakeModelServer]:
    with FakeModelServer() as server:
        yield server


@pytest.fixture
def local_services(paths: Paths, model_server: FakeModelServer) -> Services:
    """Local mode; its agent asks the fake model server (at once done) until a test installs a script."""
    services = Services(paths, EARLY.devtools_url, backend_override="local")
    assert services.save_settings(replace(services.settings, llm=LLMSettings("openai_compatible", MODEL_NAME, model_server.base_url))) == []
    return services


@pytest.fixture
def install(local_services: Services, model_server: FakeModelServer) -> Callable[[ScriptedModel], LLMSettings]:
    """Serves a script to the Local agent: the model of the next agent made (as its first task starts),
    chosen in Settings as a user would choose a model server on their network."""

    def install(model: ScriptedModel) -> LLMSettings:
        settings = model_server.serve(model)
        assert local_services.save_settings(replace(local_services.settings, llm=settings)) == []
        return settings

    return install


@pytest.fixture
def agent_in_thread(monkeypatch: pytest.MonkeyPatch) -> AgentInThread:
    """The Local agent runs on a thread of this process, where the test can reach into it."""
    from desktop_app.backends import agent_process

    agent = AgentInThread()
    monkeypatch.setattr(agent_process, "start_agent_process", agent.launch)
    return agent


@pytest.fixture
def cloud_options() -> dict[str, Any]:
    return {"manual_steps": True, "live_url_after": 1}


@pytest.fixture
def cloud_services(paths: Paths, cloud: FakeCloud, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("BROWSER_USE_BASE_URL", cloud.base_url)
    services = Services(paths, None, backend_override="cloud")  # as in the app: a Cloud run has no DevTools port
    services.keychain.set(SecretName.BROWSER_USE, cloud.api_key)
    return services


@pytest.fixture
def make_window(qrun: Any) -> Iterator[Any]:
    from desktop_app.ui.main_window import MainWindow

    windows: list[tuple[MainWindow, Services]] = []

    def make(services: Services, **options: Any) -> MainWindow:
        window = MainWindow.open(services, interactive=options.pop("interactive", False))
        window.show()
        windows.append((window, services))
        return window

    yield make
    for window, services in windows:
        if not window.closed.done():
            qrun(window.close_gracefully())
        services.close()
        dispose(window)


def dispose(widget: Any) -> None:
    """Delete now: a deleteLater() after the last test never runs, and at interpreter exit Qt
    would release WebEngine profiles before their pages."""
    import shiboken6

    widget.close()
    if shiboken6.isValid(widget):
        shiboken6.delete(widget)
