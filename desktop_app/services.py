"""The app's wiring: settings, keychain, history, vault and playbooks, and one ``SessionSlot``
per session the window holds (its event bus, privacy guard, controller, queue and backend).

Widgets get this object (a tab's widgets: ``SessionServices``, that tab's view of it) and call it.
The rules live in core (controller, session group, inbox, recovery); this module only builds the
pieces and chooses the backend the user picked.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from desktop_app.backends import BackendContext, build_backend
from desktop_app.backends.capabilities import BILLED_KIND, UNBILLED_KINDS, capabilities_of
from desktop_app.backends.providers import provider
from desktop_app.core.backend_kind import BackendKind
from desktop_app.core.config_check import ConfigProblem, Setting
from desktop_app.core.controller import CommandResult, SessionController
from desktop_app.core.errors import BackendError
from desktop_app.core.inbox import Inbox
from desktop_app.core.events import EventBus, Level, Notice, action_for
from desktop_app.core.playbooks import PlaybookStore
from desktop_app.core.privacy import PrivacyGuard
from desktop_app.core.queue_runner import QueueRunner
from desktop_app.core.session_group import SessionGroup
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
from desktop_app.vault_store import SessionVault, VaultStore

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
        self.history = HistoryStore.open(paths.database)
        self.vault = VaultStore(paths.vault_file, self.keychain)
        self.context = BackendContext(paths=paths, devtools_url=devtools_url, privacy=None, vault=self.vault)
        self.backend_kind = chosen_backend(self.settings, backend_override)
        # ``--backend`` is for this run only: saving other settings must not make it the default.
        self._stored_backend = self.settings.backend
        self.playbooks = PlaybookStore(paths.playbooks_file)
        self.sessions = SessionGroup()
        self.inbox = Inbox()
        self.slots: list[SessionSlot] = []
        self._slot_observers: list[Callable[[SessionSlot], None]] = []
        self.open_slot()

    # -- the sessions the window holds -----------------------------------------------------------

    def open_slot(self) -> SessionSlot:
        """Room for one more session (a tab): its own bus, privacy guard, controller and queue."""
        taken = {slot.number for slot in self.slots}
        number = next(n for n in range(1, len(taken) + 2) if n not in taken)  # a closed tab's number is used again
        bus = EventBus()
        self.history.attach(bus.subscribe, bus.publish)
        # Before the controller: it must see every control change, from the first.
        slot = SessionSlot(number, bus, PrivacyGuard(bus.subscribe, bus.publish), SessionVault(self.vault))
        slot.controller = SessionController(self._build(self.backend_kind, slot), bus)
        slot.queue = QueueRunner(slot.controller)
        self.slots.append(slot)
        self.sessions.add(slot.name, slot.controller)
        slot.forget_inbox = self.inbox.watch(slot.number, bus, lambda: slot.name, slot.controller.time_left)
        for observer in self._slot_observers:
            observer(slot)
        return slot

    async def close_slot(self, slot: SessionSlot) -> None:
        """The tab is closing (its question answered): stop its session and let it go."""
        await slot.controller.shutdown(stop_session=True)
        self.drop_slot(slot)

    def drop_slot(self, slot: SessionSlot) -> None:
        """Forget a slot whose session is over (or never opened)."""
        if slot not in self.slots:
            return
        slot.forget_inbox()
        slot.privacy.close()
        self.sessions.remove(slot.controller)
        self.slots.remove(slot)

    def each_slot(self, observer: Callable[[SessionSlot], None]) -> None:
        """``observer`` for every slot, those open and those to come (the event log, the window)."""
        self._slot_observers.append(observer)
        for slot in self.slots:
            observer(slot)

    def may_open_slot(self) -> str | None:
        """Why one more session cannot open in this mode, or None."""
        limit = capabilities_of(self.backend_kind)
        if limit.max_sessions is not None and len(self.slots) >= limit.max_sessions:
            return limit.why_max_sessions
        return None

    # The first session's parts: what a one-session caller (the start-up checks, tools, tests) uses.
    @property
    def bus(self) -> EventBus:
        return self.slots[0].bus

    @property
    def privacy(self) -> PrivacyGuard:
        return self.slots[0].privacy

    @property
    def controller(self) -> SessionController:
        return self.slots[0].controller

    @property
    def queue(self) -> QueueRunner:
        return self.slots[0].queue

    def _build(self, kind: BackendKind, slot: SessionSlot | None) -> Backend:
        """``slot``: whose page and privacy guard the backend works with (None: a backend that
        only checks on sessions left running)."""
        if slot is None:
            return build_backend(kind, lambda: self.settings, self.keychain, self.context)
        context = replace(self.context, privacy=slot.privacy, page_target=lambda: slot.page_target(), vault=slot.vault)
        return build_backend(kind, lambda: self.settings, self.keychain, context)

    # -- settings and backend choice ---------------------------------------------------------

    def save_settings(self, settings: Settings) -> list[str]:
        """Persist (OSError if the disk refuses; nothing changes then). Returns what to tell the user.

        The model settings are read when a task starts, so they apply at once; the backend's own
        configuration (where the browser runs, the Cloud address) applies once no session is open.
        A switch between Local and Cloud while a session is open is refused and not saved, so the
        file never names a backend other than the one in use."""
        messages: list[str] = []
        locked = self.sessions.backend_locked_reason
        if settings.backend != self.backend_kind and locked is not None:
            messages.append(locked + " Your other settings were saved.")
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
        if address_changed and self.backend_kind == BILLED_KIND and self.sessions.session_ids():
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
        if self.sessions.backend_locked_reason is not None:
            return None
        return self.restart_needed_for(kind)

    def switch_backend(self, kind: BackendKind) -> CommandResult:
        kind = BackendKind(kind)
        locked = self.sessions.backend_locked_reason
        if kind != self.backend_kind and locked is None:
            restart = self.restart_needed_for(kind)
            if restart is not None:
                self._remember_choice(kind)  # the next start, or Restart, opens in the mode chosen
                return CommandResult(False, restart)
        if locked is not None:
            return CommandResult(False, locked)
        limit = capabilities_of(kind).max_sessions
        if limit is not None and len(self.slots) > limit:
            return CommandResult(False, f"{capabilities_of(kind).why_max_sessions} Close the other session tabs first.")
        for slot in self.slots:
            result = slot.controller.replace_backend(self._build(kind, slot))
            if not result.accepted:
                return result
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
        current = self.sessions.session_ids()
        close_local_leftovers(self.history, UNBILLED_KINDS, current=current)
        earlier = [s for s in self.history.open_sessions(BILLED_KIND) if s.id not in current]
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

    def reattach(self, session_id: str, controller: SessionController | None = None) -> CommandResult:
        """Into ``controller``'s tab (default: the first)."""
        controller = controller or self.controller
        if self.backend_kind != BILLED_KIND:
            switched = self.switch_backend(BILLED_KIND)
            if not switched.accepted:
                return switched
        record = self.history.session(session_id)
        earlier_cost = record.total_cost if record is not None else Decimal(0)
        return controller.reattach(session_id, recorded_steps(self.history, session_id), earlier_cost)

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
        backend = self._build(BILLED_KIND, None)
        try:
            yield backend
        finally:
            await backend.aclose()

    def close(self) -> None:
        for slot in self.slots:
            slot.privacy.close()
        self.history.close()


@dataclass(eq=False)
class SessionSlot:
    """One session the window holds (a tab): its own events, privacy guard, controller and queue."""

    number: int
    bus: EventBus
    privacy: PrivacyGuard
    vault: SessionVault  # the app's entries and rules, with this session's own allowed sites
    controller: SessionController = field(init=False)
    queue: QueueRunner = field(init=False)  # drives the controller; survives a switch of backend
    forget_inbox: Callable[[], None] = lambda: None
    # The DevTools target id of the tab's own page (its live view sets this): a Local agent uses no other.
    page_target: Callable[[], str | None] = lambda: None

    @property
    def name(self) -> str:
        return f"Session {self.number}"


class SessionServices:
    """The app's services as one session's widgets see them: that session's controller, bus, queue
    and privacy guard; everything else (settings, keychain, history, vault) is the app's, read live."""

    def __init__(self, app: Services, slot: SessionSlot) -> None:
        self._app = app
        self.slot = slot
        self.controller = slot.controller
        self.bus = slot.bus
        self.queue = slot.queue
        self.privacy = slot.privacy

    def reattach(self, session_id: str) -> CommandResult:
        return self._app.reattach(session_id, self.controller)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)
