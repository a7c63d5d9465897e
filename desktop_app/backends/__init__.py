"""Adapters to the outside world. ``build_backend`` is the only place that knows them all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from desktop_app.core.backend_kind import BackendKind

if TYPE_CHECKING:
    from desktop_app.core.ports import Backend
    from desktop_app.core.privacy import PrivacyGuard
    from desktop_app.system.keychain import Keychain
    from desktop_app.system.paths import Paths
    from desktop_app.settings import Settings
    from desktop_app.vault_store import SessionVault, VaultStore

@dataclass(frozen=True)
class BackendContext:
    """What adapters may need from the app besides settings and keys."""

    paths: Paths
    devtools_url: str | None  # None: this run has no DevTools port (it started in Cloud mode)
    privacy: PrivacyGuard | None = None  # hides what the person typed from the Local agent
    vault: VaultStore | SessionVault | None = None  # stored logins, allowed sites and site rules for each task
    # The DevTools target id of the session's own page in the built-in browser (None: not known,
    # the agent may use any page). Read as the session opens, on the window's thread.
    page_target: Callable[[], str | None] = lambda: None


def build_backend(kind: BackendKind, settings: Callable[[], Settings], keychain: Keychain, context: BackendContext) -> Backend:
    """``settings`` is read when needed, so what the user saves takes effect without a new backend."""
    if kind is BackendKind.CLOUD:
        from desktop_app.backends.cloud_check import CheckedCloudBackend
        from desktop_app.settings import cloud_config

        return CheckedCloudBackend(lambda: cloud_config(settings(), keychain), vault=context.vault)
    if kind is BackendKind.LOCAL:
        # browser-use runs in a process of its own (agent_host), started as a session opens.
        from desktop_app.backends.agent_process import AgentProcessBackend

        return AgentProcessBackend(llm_settings=lambda: settings().llm, keychain=keychain, context=context)
    raise ValueError(f"Unknown backend {kind!r}")
