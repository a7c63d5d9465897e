"""The app's wiring: settings, keychain, the event bus and the session controller, built once.

Widgets get this object and call it; it holds no rules of its own beyond choosing the backend
the user picked.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from desktop_app.backends import BackendContext, build_backend
from desktop_app.core.controller import CommandResult, SessionController
from desktop_app.core.events import EventBus
from desktop_app.keychain import Keychain
from desktop_app.paths import Paths
from desktop_app.settings import BACKENDS, Settings, SettingsStore, chosen_backend

log = logging.getLogger(__name__)


class Services:
    def __init__(self, paths: Paths, devtools_url: str, *, backend_override: str | None = None) -> None:
        self.paths = paths
        self.settings_store = SettingsStore(paths.settings_file)
        self.settings = self.settings_store.load()
        self.keychain = Keychain()
        self.bus = EventBus()
        self.context = BackendContext(paths=paths, devtools_url=devtools_url)
        self.backend_kind = chosen_backend(self.settings, backend_override)
        self.controller = SessionController(self._build(self.backend_kind), self.bus)

    def _build(self, kind: str):  # -> Backend
        return build_backend(kind, self.settings, self.keychain, self.context)

    def save_settings(self, settings: Settings) -> CommandResult | None:
        """Persist; rebuild the backend when its choice or configuration changed and no session runs."""
        before = self.settings
        self.settings = settings
        self.settings_store.save(settings)
        if settings.backend != self.backend_kind:
            return self.switch_backend(settings.backend)
        if replace(before, backend=settings.backend) != settings and self.controller.session is None:
            return self.controller.replace_backend(self._build(self.backend_kind))
        return None

    def switch_backend(self, kind: str) -> CommandResult:
        if kind not in BACKENDS:
            raise ValueError(kind)
        result = self.controller.replace_backend(self._build(kind))
        if result.accepted:
            self.backend_kind = kind
            if self.settings.backend != kind:
                self.settings = replace(self.settings, backend=kind)
                self.settings_store.save(self.settings)
        return result
