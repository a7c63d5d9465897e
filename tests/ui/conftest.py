"""Fixtures for window tests: a fake cloud whose steps the test adds, services wired to it, a window
closed gracefully."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from desktop_app.system.keychain import SecretName
from desktop_app.system.paths import Paths
from desktop_app.services import Services
from tests.conftest import EARLY
from tests.fakes.cloud_server import FakeCloud


@pytest.fixture
def local_services(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> Services:
    """Local mode, with the scripted model a test installs (tests.fakes.scripted_llm.install)."""
    from dataclasses import replace

    import desktop_app.backends.local as local_backend
    from tests.fakes import scripted_llm

    monkeypatch.setattr(local_backend, "make_llm", scripted_llm.make_llm_with_script(local_backend.make_llm))
    services = Services(paths, EARLY.devtools_url, backend_override="local")
    services.save_settings(replace(services.settings, llm=scripted_llm.SCRIPTED_SETTINGS))
    return services


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
