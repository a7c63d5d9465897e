"""Adapters to the outside world. ``build_backend`` is the only place that knows them all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop_app.core.ports import Backend
    from desktop_app.core.privacy import PrivacyGuard
    from desktop_app.keychain import Keychain
    from desktop_app.paths import Paths
    from desktop_app.settings import Settings
    from desktop_app.vault_store import VaultStore

BACKEND_LABELS = {"local": "Local (this computer)", "cloud": "Browser Use Cloud"}
# Whether the live view is the browser itself (see Capabilities.view_is_browser). Kept here, free
# of imports, because startup needs it before anything else is loaded.
VIEW_IS_BROWSER = {"local": True, "cloud": False}
# Whether a run in this mode opens QtWebEngine's DevTools (CDP) port. Only the Local agent drives
# the built-in browser through it; a run without it cannot host Local mode, and a run with it must
# never show a Cloud live view (its URL, a credential, would be listed on the port). QtWebEngine
# reads the port once, before it starts: switching between the two needs a restart.
NEEDS_DEVTOOLS = {"local": True, "cloud": False}


@dataclass(frozen=True)
class BackendContext:
    """What adapters may need from the app besides settings and keys."""

    paths: Paths
    devtools_url: str | None  # None: this run has no DevTools port (it started in Cloud mode)
    privacy: PrivacyGuard | None = None  # hides what the person typed from the Local agent
    vault: VaultStore | None = None  # stored logins, allowed sites and site rules for each task


def build_backend(kind: str, settings: Callable[[], Settings], keychain: Keychain, context: BackendContext) -> Backend:
    """``settings`` is read when needed, so what the user saves takes effect without a new backend."""
    if kind == "cloud":
        from desktop_app.backends.cloud_check import CheckedCloudBackend
        from desktop_app.settings import cloud_config

        return CheckedCloudBackend(lambda: cloud_config(settings(), keychain), vault=context.vault)
    if kind == "local":
        # browser-use is a heavy import: only pay for it when Local mode is chosen.
        from desktop_app.backends.local import LocalBackend

        return LocalBackend(llm_settings=lambda: settings().llm, keychain=keychain, context=context)
    raise ValueError(f"Unknown backend {kind!r}")
