"""The app's wiring: settings, keychain, history, the event bus and the session controller.

Widgets get this object and call it. The rules live in core (controller, recovery); this module
only builds the pieces and chooses the backend the user picked.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from desktop_app.backends import BackendContext, build_backend
from desktop_app.backends.capabilities import BILLED_KIND, UNBILLED_KINDS
from desktop_app.backends.providers import provider
from desktop_app.core.backend_kind import BackendKind
from desktop_app.core.config_check import ConfigProblem, Setting
from desktop_app.core.controller import CommandResult, SessionController
from desktop_app.core.errors import BackendError
from desktop_app.core.events import EventBus, Level, Notice, action_for
from desktop_app.core.playbooks import PlaybookStore
from desktop_app.core.privacy import PrivacyGuard
from desktop_app.core.queue_runner import QueueRunner
from desktop_app.core.recovery import (
    close_local_leftovers,
    find_left_running,
    recorded_steps,
)
from desktop_app.core.store import HistoryStore
from desktop_app.core.messages import plural
from desktop_app.system.keychain import Keychain, SecretName
from desktop_app.system.paths import Paths
from desktop_app.settings import Settings, SettingsStore, chosen_backend, cloud_config
from desktop_app.vault_store import VaultStore

if TYPE_CHECKING:
    from desktop_app.core.ports import Backend, RemoteSession

log = logging.getLogger(__name__)

RESTART_REASONS = {
    BackendKind.LOCAL: "Local mode needs Handoff to restart: a run in Cloud mode keeps the built-in browser's "
    "control port closed, and it can only be opened as Handoff starts.",
    BackendKind.CLOUD: "Browser Use Cloud needs Handoff to restart: in a Local run other programs on this computer "
    "could reach the built-in browser's control port, and through it the Cloud live view.",
}


class Services:
    def __init__(self, paths: Paths, devtools_url: str | None, *, backend_override: str | None = None) -> None:
        """``devtools_url`` is the DevTools port this process opened (None: none, a Cloud run)."""
        self.paths = paths
        self.settings_store = SettingsStore(paths.settings_file)
        self.settings = self.settings_store.load()
        self.keychain = Keychain()
        self.bus = EventBus()
        self.history = HistoryStore.open(paths.database)
        self.history.attach(self.bus.subscribe, self.bus.publish)
        # Before the controller: it must see every control change, from the first.
        self.privacy = PrivacyGuard(self.bus.subscribe, self.bus.publish)
        self.vault = VaultStore(paths.vault_file, self.keychain)
        self.context = BackendContext(paths=paths, devtools_url=devtools_url, privacy=self.privacy, vault=self.vault)
        self.backend_kind = chosen_backend(self.settings, backend_override)
        # ``--backend`` is for this run only: saving other settings must not make it the default.
        self._stored_backend = self.settings.backend
        self.controller = SessionController(self._build(self.backend_kind), self.bus)
        self.queue = QueueRunner(self.controller)  # drives the controller; survives a switch of backend
        self.playbooks = PlaybookStore(paths.playbooks_file)

    def _build(self, kind: BackendKind) -> Backend:
        return build_backend(kind, lambda: self.settings, self.keychain, self.context)

    # -- settings and backend choice ---------------------------------------------------------

    def save_settings(self, settings: Settings) -> list[str]:
        """Persist (OSError if the disk refuses; nothing changes then). Returns what to tell the user.

        The model settings are read when a task starts, so they apply at once; the backend's own
        configuration (where the browser runs, the Cloud address) applies once no session is open.
        A switch between Local and Cloud while a session is open is refused and not saved, so the
        file never names a backend other than the one in use."""
        messages: list[str] = []
        if settings.backend != self.backend_kind and self.controller.backend_locked_reason is not None:
            messages.append(self.controller.backend_locked_reason + " Your other settings were saved.")
            settings = replace(settings, backend=self.backend_kind)
        stored = settings
        if settings.backend == self.backend_kind:  # not a switch: keep the default the person chose
            stored = replace(settings, backend=self._stored_backend)
        self.settings_store.save(stored)
        before, self.settings = self.settings, settings
        if settings.backend != self.backend_kind:
            result = self.switch_backend(settings.backend)
            return messages if result.accepted else [*messages, result.reason]
        address_changed = before.effective_cloud_base_url() != settings.effective_cloud_base_url()
        if address_changed and self.backend_kind == BILLED_KIND and self.controller.state.session_alive:
            messages.append("The new Browser Use address is used from the next session.")
        return messages

    def restart_needed_for(self, kind: BackendKind) -> str | None:
        """Why ``kind`` cannot run in this process (Handoff must restart for it), or None.

        The DevTools port is opened, or not, before QtWebEngine starts (early_init), and can be
        neither opened nor closed later: Local mode needs it, and a Cloud live view must never be
        shown while it is open (anyone on this computer could read its URL there and drive it)."""
        if BackendKind(kind).needs_devtools == (self.context.devtools_url is not None):
            return None
        return RESTART_REASONS[kind]

    def restart_to_switch(self, kind: BackendKind) -> str | None:
        """Why switching to ``kind`` now needs Handoff to restart (to offer Restart), or None: the
        switch can happen here, or not at all while a session is open."""
        if self.controller.backend_locked_reason is not None:
            return None
        return self.restart_needed_for(kind)

    def switch_backend(self, kind: BackendKind) -> CommandResult:
        kind = BackendKind(kind)
        if kind != self.backend_kind and self.controller.backend_locked_reason is None:
            restart = self.restart_needed_for(kind)
            if restart is not None:
                self._remember_choice(kind)  # the next start, or Restart, opens in the mode chosen
                return CommandResult(False, restart)
        result = self.controller.replace_backend(self._build(kind))
        if result.accepted:
            self.backend_kind = kind
            self._remember_choice(kind)
        return result

    def _remember_choice(self, kind: BackendKind) -> None:
        if self._stored_backend != kind:  # a switch the person made: their new default
            self._stored_backend = kind
            self.settings = replace(self.settings, backend=kind)
            self.settings_store.save(self.settings)

    def key_this_mode_needs(self) -> SecretName | None:
        """The key the mode in use asks for: the model provider's in Local mode, Browser Use's in Cloud."""
        if self.backend_kind.runs_agent_here:
            chosen = provider(self.settings.llm.provider)
            return chosen.secret if chosen is not None else None
        return SecretName.BROWSER_USE

    async def keychain_notice(self) -> str | None:
        """Said after start-up when no system keychain keeps the key this mode needs (found off the window's thread)."""
        await self.keychain.detect()
        return self.keychain.startup_notice(self.key_this_mode_needs())

    async def configuration_problem(self) -> ConfigProblem | None:
        """What keeps a task from running with the settings in effect, or None (Cloud asks the network)."""
        if not self.backend_kind.runs_agent_here:  # Cloud: asks Browser Use whether address and key work
            from desktop_app.backends.cloud_check import check_cloud

            return await check_cloud(cloud_config(self.settings, self.keychain))
        problem = self.controller.setup_problem()
        return None if problem is None else ConfigProblem(Setting.MODEL, problem.message)

    # -- sessions left running by earlier runs -------------------------------------------------

    async def find_left_running(self) -> list[RemoteSession]:
        """Billed sessions earlier runs left open that the provider still runs (told as a notice on failure)."""
        current = self.controller.session.id if self.controller.session is not None else None
        close_local_leftovers(self.history, UNBILLED_KINDS, current=current)
        earlier = [s for s in self.history.open_sessions(BILLED_KIND) if s.id != current]
        if not earlier:
            return []
        try:
            async with self._billed_backend() as checker:
                return await find_left_running(self.history, checker, current=current)
        except BackendError as error:
            self.bus.publish(
                Notice(
                    Level.WARNING,
                    f"{plural(len(earlier), 'Browser Use session')} from an earlier run may still be running (and "
                    f"billed), but Handoff could not check: {error.message}",
                    action_for(error),
                )
            )
            return []

    def reattach(self, session_id: str) -> CommandResult:
        if self.backend_kind != BILLED_KIND:
            switched = self.switch_backend(BILLED_KIND)
            if not switched.accepted:
                return switched
        record = self.history.session(session_id)
        earlier_cost = record.total_cost if record is not None else Decimal(0)
        return self.controller.reattach(session_id, recorded_steps(self.history, session_id), earlier_cost)

    async def stop_left_running(self, session_id: str) -> None:
        """Raises BackendError when the provider cannot be reached (the session stays listed)."""
        async with self._billed_backend() as backend:
            await backend.stop_remote_session(session_id)
        self.history.mark_ended(session_id, "Stopped after Handoff started again")

    @asynccontextmanager
    async def _billed_backend(self) -> AsyncIterator[Backend]:
        if self.backend_kind == BILLED_KIND:
            yield self.controller.backend
            return
        backend = self._build(BILLED_KIND)
        try:
            yield backend
        finally:
            await backend.aclose()

    def close(self) -> None:
        self.privacy.close()
        self.history.close()
