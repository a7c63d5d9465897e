"""The vault on disk and in the keychain: values only ever in the keychain (or memory), and every
keychain failure (locked, missing, denied) said in words with nothing written to a file."""

from __future__ import annotations

from pathlib import Path

import keyring
import keyring.backends.fail
import keyring.errors
import pytest

from desktop_app.core.vault import VaultInputError
from desktop_app.system.keychain import SERVICE, Keychain
from desktop_app.vault_store import VaultStore
from tests.fakes.memory_keyring import MemoryKeyring

PASSWORD = "correct-horse-battery-9"
TOTP_URI = "otpauth://totp/Bank:ada?secret=JBSWY3DPEHPK3PXP&issuer=Bank"


def files_hold(root: Path, *values: str) -> list[str]:
    return [f"{p.name}: {v}" for p in root.rglob("*") if p.is_file() for v in values if v.encode() in p.read_bytes()]


def test_values_go_to_the_keychain_and_names_to_the_file(memory_keyring: MemoryKeyring, tmp_path: Path) -> None:
    store = VaultStore(tmp_path / "vault.json", Keychain())
    told = store.save_entry(None, "My bank", ("bank.example",), {"username": "ada", "password": PASSWORD, "totp": TOTP_URI})
    assert told == ["“My bank” saved: its values are in your system keychain."]
    assert memory_keyring.store[(SERVICE, "vault:my_bank:password")] == PASSWORD
    assert memory_keyring.store[(SERVICE, "vault:my_bank:totp")] == "JBSWY3DPEHPK3PXP"
    assert files_hold(tmp_path, PASSWORD, "JBSWY3DPEHPK3PXP", "ada\"") == []
    again = VaultStore(tmp_path / "vault.json", Keychain())
    assert [(e.name, e.sites, e.fields) for e in again.entries] == [("My bank", ("bank.example",), ("username", "password", "totp"))]
    assert again.reveal("My bank", "password") == PASSWORD
    access = again.task_access()
    assert access.sensitive_data()["https://bank.example"]["my_bank_password"] == PASSWORD


def test_editing_keeps_values_not_retyped_and_renaming_moves_them(memory_keyring: MemoryKeyring, tmp_path: Path) -> None:
    store = VaultStore(tmp_path / "vault.json", Keychain())
    store.save_entry(None, "bank", ("bank.example",), {"username": "ada", "password": PASSWORD})
    store.save_entry("bank", "Bank two", ("*.bank.example",), {"username": None, "password": None, "totp": ""})
    assert [(e.name, e.fields) for e in store.entries] == [("Bank two", ("username", "password"))]
    assert store.reveal("Bank two", "password") == PASSWORD
    assert (SERVICE, "vault:bank:password") not in memory_keyring.store


def test_bad_input_changes_nothing(tmp_path: Path) -> None:
    store = VaultStore(tmp_path / "vault.json", Keychain())
    with pytest.raises(VaultInputError, match="letters A–Z"):
        store.save_entry(None, "bank", ("bank.example",), {"password": PASSWORD, "totp": "not a secret 1"})
    with pytest.raises(VaultInputError, match="at least one site"):
        store.save_entry(None, "bank", (), {"password": PASSWORD})
    assert store.entries == [] and not store.path.exists()


class LockedKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("locked")

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("locked")


class DeniedKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("denied")


@pytest.mark.parametrize(
    ("backend", "says"),
    [
        (LockedKeyring(), "Your system keychain is locked: kept in memory until you quit, never written to a file."),
        (DeniedKeyring(), "Your system keychain refused access: kept in memory until you quit, never written to a file."),
        (keyring.backends.fail.Keyring(), "No system keychain is available: kept in memory until you quit, never written to a file."),
    ],
)
def test_a_failing_keychain_is_named_and_nothing_reaches_a_file(backend: object, says: str, tmp_path: Path) -> None:
    keyring.set_keyring(backend)  # type: ignore[arg-type]
    store = VaultStore(tmp_path / "vault.json", Keychain())
    told = store.save_entry(None, "bank", ("bank.example",), {"password": PASSWORD})
    assert told == [says]
    assert store.reveal("bank", "password") == PASSWORD  # this run only
    assert files_hold(tmp_path, PASSWORD) == []
    # The next run has the entry's name but not its value, and says why when asked.
    later = VaultStore(tmp_path / "vault.json", Keychain())
    with pytest.raises(VaultInputError, match="could not be read"):
        later.reveal("bank", "password")
    access = later.task_access()
    assert access.entries == () and "could not be read" in access.problems[0]


def test_a_keychain_locked_between_save_and_run_is_said(memory_keyring: MemoryKeyring, tmp_path: Path) -> None:
    store = VaultStore(tmp_path / "vault.json", Keychain())
    store.save_entry(None, "bank", ("bank.example",), {"password": PASSWORD})
    keyring.set_keyring(LockedKeyring())
    later = VaultStore(tmp_path / "vault.json", Keychain())
    access = later.task_access()
    assert access.entries == ()
    assert access.problems == (
        "Your system keychain is locked: the password of “bank” could not be read. Type it again, or unlock the "
        "keychain. The agent will not be offered it.",
    )


def test_export_and_import_carry_no_values(memory_keyring: MemoryKeyring, tmp_path: Path) -> None:
    store = VaultStore(tmp_path / "a" / "vault.json", Keychain())
    store.save_entry(None, "bank", ("bank.example",), {"username": "ada", "password": PASSWORD})
    exported = tmp_path / "vault-export.json"
    assert store.export_to(exported) == "Exported 1 entry (names and sites, no values) and the site rules."
    assert files_hold(tmp_path, PASSWORD) == [] and "ada" not in exported.read_text()
    other = VaultStore(tmp_path / "b" / "vault.json", Keychain())
    assert other.import_from(exported).startswith("Imported 1 new entry and the site rules.")
    assert [(e.name, e.fields) for e in other.entries] == [("bank", ())]


def test_a_damaged_list_is_kept_aside(tmp_path: Path) -> None:
    (tmp_path / "vault.json").write_text("{broken")
    store = VaultStore(tmp_path / "vault.json", Keychain())
    assert store.entries == [] and "kept aside as vault.json.bad" in (store.problem or "")


def test_every_value_read_or_written_is_kept_out_of_logs(memory_keyring: MemoryKeyring, tmp_path: Path) -> None:
    from desktop_app.core.redaction import redactor

    store = VaultStore(tmp_path / "vault.json", Keychain())
    store.save_entry(None, "bank", ("bank.example",), {"username": "ada.lovelace", "password": PASSWORD})
    assert redactor.redact(f"typed {PASSWORD} as ada.lovelace") == "typed [redacted] as [redacted]"
