"""An in-memory keyring backend: tests never touch a real keychain.

Subprocesses use it through ``PYTHON_KEYRING_BACKEND=tests.fakes.memory_keyring.MemoryKeyring``.
"""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError("not set")


class BrokenKeyring(MemoryKeyring):
    """A keychain that reads but refuses to store (locked after the app started)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("locked")


class CountingKeyring(MemoryKeyring):
    """Counts how often the keychain is read."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.reads += 1
        return super().get_password(service, username)
