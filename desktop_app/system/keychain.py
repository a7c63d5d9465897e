"""API keys in the OS keychain, through keyring; the only place secrets are stored.

Where no keychain works (a headless Linux picks keyring's ``fail`` backend and every call raises),
keys are kept in memory for this run only and ``persistent`` says so, so the UI can tell the user.
Every value read or written is registered with the redactor so it can never reach a log.
keyring is imported and its backend detected on first use, not at startup (~50 ms).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from dataclasses import dataclass
from enum import Enum

from desktop_app.core.redaction import redactor

log = logging.getLogger(__name__)

SERVICE = "Handoff"


class SecretName(str, Enum):
    BROWSER_USE = "browser-use-api-key"
    OPENAI = "openai-api-key"
    ANTHROPIC = "anthropic-api-key"
    GOOGLE = "google-api-key"
    OPENAI_COMPATIBLE = "openai-compatible-api-key"


# Environment variables that override the stored value (documented in the README).
ENVIRONMENT_OVERRIDES = {
    SecretName.BROWSER_USE: "BROWSER_USE_API_KEY",
    SecretName.OPENAI: "OPENAI_API_KEY",
    SecretName.ANTHROPIC: "ANTHROPIC_API_KEY",
    SecretName.GOOGLE: "GOOGLE_API_KEY",
}


@dataclass(frozen=True)
class SaveResult:
    persistent: bool
    message: str


_FIELD_HINTS = {
    "keychain": "Saved in your system keychain — paste a new key to replace it",
    "memory (this run only)": "Kept until you quit (no keychain) — paste a new key to replace it",
}
# Whose key a field wants, so two empty key fields never read the same.
KEY_OWNERS = {
    SecretName.BROWSER_USE: "Browser Use API key",
    SecretName.OPENAI: "OpenAI API key",
    SecretName.ANTHROPIC: "Anthropic API key",
    SecretName.GOOGLE: "Google AI API key",
    SecretName.OPENAI_COMPATIBLE: "server's API key, if it needs one",
}


LINUX_BACKENDS = (  # what a Linux desktop offers, best first
    "keyring.backends.SecretService.Keyring",
    "keyring.backends.kwallet.DBusKeyring",
    "keyring.backends.libsecret.Keyring",
)


def _choose_backend() -> None:
    """On Linux, look only at Linux keychains: keyring's own discovery also imports its macOS
    backend, whose import runs ``find_library`` three times (compiler subprocesses, ~0.6 s).
    A backend chosen by the person (PYTHON_KEYRING_BACKEND, keyringrc) is left alone."""
    global _chosen
    if _chosen:
        return
    _chosen = True
    import keyring
    import keyring.core

    if not sys.platform.startswith("linux") or os.environ.get("PYTHON_KEYRING_BACKEND") or keyring.core.load_config():
        return
    for name in LINUX_BACKENDS:
        try:
            backend = keyring.core.load_keyring(name)
            viable = backend.priority > 0
        except Exception:  # not installed, no D-Bus, locked: try the next
            continue
        if viable:
            keyring.set_keyring(backend)
            return
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())


_chosen = False


class Keychain:
    _UNKNOWN = "unknown"

    def __init__(self) -> None:
        self._memory: dict[SecretName, str] = {}  # where no keychain works
        self._cache: dict[SecretName, str | None] = {}  # what the keychain answered (it can be slow IPC)
        self._backend_error: str | None = self._UNKNOWN
        self._items_memory: dict[str, str] = {}  # vault values where no keychain works
        self.problem: str | None = None  # why the keychain last failed, in words (never a value)

    @staticmethod
    def find_system_keychain() -> None:
        """Choose keyring's backend now (any thread; keyring keeps it process-wide). Failures are
        left for ``detect`` to find and say."""
        with contextlib.suppress(Exception):
            _choose_backend()

    @staticmethod
    def _detect_backend_problem() -> str | None:
        import keyring

        try:
            _choose_backend()
            backend = keyring.get_keyring()
        except Exception as error:  # keyring's discovery can fail on broken D-Bus setups
            return f"{type(error).__name__}: {error}"
        priority = getattr(backend, "priority", 1)
        if type(backend).__module__.startswith("keyring.backends.fail") or priority <= 0:
            return "no system keychain is available"
        return None

    async def detect(self) -> None:
        """Find the system keychain in a worker thread: keyring's discovery imports every backend,
        and on Linux its macOS one runs ``find_library`` (subprocesses, ~0.5 s) — not on the
        window's thread."""
        if self._backend_error == self._UNKNOWN:
            import asyncio

            self._backend_error = await asyncio.to_thread(self._detect_backend_problem)

    @property
    def persistent(self) -> bool:
        if self._backend_error == self._UNKNOWN:
            self._backend_error = self._detect_backend_problem()
        return self._backend_error is None

    @property
    def status_text(self) -> str:
        if self.persistent:
            return "Keys are stored in your system keychain."
        return (
            "No system keychain is available, so keys you paste are kept in memory for this run only: "
            "after a restart Handoff remembers your settings (the model you chose) but not its key — "
            "paste it again. Keys set in the environment (BROWSER_USE_API_KEY, OPENAI_API_KEY, …) are read from there."
        )

    def startup_notice(self, needed: SecretName | None) -> str | None:
        """Worth saying at startup only when the key the chosen mode needs is one to paste here:
        not with a keychain, not for a key set in the environment, not when no key is needed."""
        if needed is None or self.persistent or self.from_environment(needed):
            return None
        return self.status_text

    def get(self, name: SecretName) -> str | None:
        env_name = ENVIRONMENT_OVERRIDES.get(name)
        value = os.environ.get(env_name, "").strip() if env_name else ""
        if not value:
            value = self._read(name) or ""
        redactor.add_secret(value)
        return value or None

    def from_environment(self, name: SecretName) -> bool:
        """The environment sets this key: it wins over anything saved here."""
        env_name = ENVIRONMENT_OVERRIDES.get(name)
        return bool(env_name and os.environ.get(env_name, "").strip())

    def source(self, name: SecretName) -> str:
        """Where the effective value comes from, for Settings ("environment", "keychain", …)."""
        if self.from_environment(name):
            return f"environment ({ENVIRONMENT_OVERRIDES[name]})"
        if name in self._memory:
            return "memory (this run only)"
        return "keychain" if self._read(name) else "not set"

    def field_hint(self, name: SecretName) -> str:
        """What a key field in Settings says about the key already in effect (never the key)."""
        source = self.source(name)
        if self.from_environment(name):
            # The environment wins over anything saved here, so pasting a key would change nothing.
            return f"Set by {ENVIRONMENT_OVERRIDES[name]} in your environment — change it there"
        hint = _FIELD_HINTS.get(source) or f"Paste your {KEY_OWNERS[name]}"
        if source == "not set" and not self.persistent:
            hint += " (no keychain: kept until you quit, pasted again after a restart)"
        return hint

    def _read(self, name: SecretName) -> str | None:
        if name in self._memory:
            return self._memory[name]
        if not self.persistent:
            return None
        if name in self._cache:
            return self._cache[name]
        import keyring
        import keyring.errors

        try:
            value = keyring.get_password(SERVICE, name.value)
        except keyring.errors.KeyringError as error:
            self._mark_unavailable(error)
            return None
        self._cache[name] = value
        return value

    def set(self, name: SecretName, value: str) -> SaveResult:
        value = value.strip()
        redactor.add_secret(value)
        if not value:
            return self.delete(name)
        if self.persistent:
            import keyring
            import keyring.errors

            try:
                keyring.set_password(SERVICE, name.value, value)
            except keyring.errors.KeyringError as error:
                self._mark_unavailable(error)
            else:
                self._memory.pop(name, None)
                self._cache[name] = value
                return SaveResult(True, "Saved to your system keychain.")
        self._memory[name] = value
        return SaveResult(False, "Saved for this run only: no system keychain is available, so paste it again after a restart.")

    def delete(self, name: SecretName) -> SaveResult:
        self._memory.pop(name, None)
        self._cache.pop(name, None)
        if self.persistent:
            import keyring
            import keyring.errors

            try:
                keyring.delete_password(SERVICE, name.value)
            except keyring.errors.PasswordDeleteError:
                pass
            except keyring.errors.KeyringError as error:
                self._mark_unavailable(error)
        return SaveResult(self.persistent, "Key removed.")

    # -- vault values: any account name, the same keychain and the same fallback -----------------

    def get_item(self, account: str) -> str | None:
        """A vault value, or None (not set, or the keychain failed: ``problem`` says why)."""
        if account in self._items_memory:
            return self._items_memory[account]
        if not self.persistent:
            return None
        import keyring
        import keyring.errors

        try:
            value = keyring.get_password(SERVICE, account)
        except keyring.errors.KeyringError as error:
            self._mark_unavailable(error)
            return None
        redactor.add_secret(value)
        return value

    def set_item(self, account: str, value: str) -> SaveResult:
        redactor.add_secret(value)
        if not value:
            return self.delete_item(account)
        if self.persistent:
            import keyring
            import keyring.errors

            try:
                keyring.set_password(SERVICE, account, value)
            except keyring.errors.KeyringError as error:
                self._mark_unavailable(error)
            else:
                self._items_memory.pop(account, None)
                return SaveResult(True, "Saved in your system keychain.")
        self._items_memory[account] = value
        return SaveResult(False, f"{self.problem or 'No system keychain is available'}: kept in memory until you quit, never written to a file.")

    def delete_item(self, account: str) -> SaveResult:
        self._items_memory.pop(account, None)
        if self.persistent:
            import keyring
            import keyring.errors

            try:
                keyring.delete_password(SERVICE, account)
            except keyring.errors.PasswordDeleteError:
                pass
            except keyring.errors.KeyringError as error:
                self._mark_unavailable(error)
                return SaveResult(False, f"{self.problem}: the value could not be removed from it.")
        return SaveResult(self.persistent, "Removed.")

    def _mark_unavailable(self, error: Exception) -> None:
        self.problem = keychain_problem(error)
        # Log the type only: keyring messages can echo the service and account names, never values,
        # but there is nothing a user needs from the rest.
        log.warning("System keychain unavailable (%s); keeping keys in memory", type(error).__name__)
        self._backend_error = type(error).__name__


def keychain_problem(error: Exception) -> str:
    """What went wrong with the keychain, for the person (never the error's text: it may echo names)."""
    import keyring.errors

    if isinstance(error, keyring.errors.KeyringLocked):
        return "Your system keychain is locked"
    if isinstance(error, keyring.errors.NoKeyringError):
        return "No system keychain is available"
    if isinstance(error, keyring.errors.InitError):
        return "Your system keychain could not be opened"
    if isinstance(error, keyring.errors.PasswordSetError | keyring.errors.PasswordDeleteError):
        return "Your system keychain refused access"
    return "Your system keychain did not answer"
