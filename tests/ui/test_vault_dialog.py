"""The vault dialog and the allowed-sites field: names and sites listed, values only on Show, bad
input named without losing what was typed, keychain trouble said in words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keyring
import keyring.backends.fail
import keyring.errors
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit

from desktop_app.core.site_rules import Duty, SiteRule
from desktop_app.system.keychain import SERVICE, Keychain
from desktop_app.ui.allowed_sites import AllowedSitesField
from desktop_app.ui.vault_dialog import VaultDialog
from desktop_app.vault_store import VaultStore
from tests.fakes.memory_keyring import MemoryKeyring

PASSWORD = "s3cret-Horse-77"


def dialog_for(tmp_path: Path, qtbot: Any) -> VaultDialog:
    dialog = VaultDialog(VaultStore(tmp_path / "vault.json", Keychain()))
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def click(widget: Any) -> None:
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton)


def type_entry(dialog: VaultDialog, name: str, sites: str, username: str, password: str, totp: str = "") -> None:
    for edit, text in ((dialog.name, name), (dialog.sites, sites), (dialog.values["username"].edit, username),
                       (dialog.values["password"].edit, password), (dialog.values["totp"].edit, totp)):
        edit.clear()
        QTest.keyClicks(edit, text)


def test_an_entry_is_saved_listed_by_name_and_shown_only_on_request(tmp_path: Path, qtbot: Any, memory_keyring: MemoryKeyring) -> None:
    dialog = dialog_for(tmp_path, qtbot)
    assert dialog.status.text().startswith("Values are kept in your system keychain, never in a file.")
    assert dialog.values["password"].edit.echoMode() is QLineEdit.EchoMode.Password
    type_entry(dialog, "bank", "mybank.example, *.mybank.example", "ada", PASSWORD, "JBSW Y3DP EHPK 3PXP")
    click(dialog.save_button)
    assert dialog.message.text() == "“bank” saved: its values are in your system keychain."
    assert memory_keyring.store[(SERVICE, "vault:bank:password")] == PASSWORD
    assert [dialog.entry_list.item(i).text() for i in range(dialog.entry_list.count())] == ["bank — mybank.example, *.mybank.example"]
    # After saving, no value is in the window; the fields say one is stored.
    password = dialog.values["password"]
    assert password.edit.text() == "" and password.edit.placeholderText().startswith("Stored")
    click(password.show_button)
    assert password.edit.text() == PASSWORD and password.edit.echoMode() is QLineEdit.EchoMode.Normal
    click(password.show_button)
    assert password.edit.text() == "" and password.edit.echoMode() is QLineEdit.EchoMode.Password


def test_bad_input_is_named_and_nothing_typed_is_lost(tmp_path: Path, qtbot: Any) -> None:
    dialog = dialog_for(tmp_path, qtbot)
    type_entry(dialog, "bank", "mybank.example, example.*", "ada", PASSWORD, "otpauth://totp/Bank?secret=JBSWY3DPEHPK3PX1")
    click(dialog.save_button)
    assert dialog.error.isVisible()
    assert dialog.error.text() == "“example.*”: a * may only stand at the start (*.example.com), never elsewhere."
    dialog.sites.setText("mybank.example")
    click(dialog.save_button)
    assert dialog.error.text() == "That is not a 2FA secret: a set-up key uses only the letters A–Z and the digits 2–7."
    assert dialog.values["password"].edit.text() == PASSWORD  # still there to correct
    assert dialog.values["totp"].edit.text() == "otpauth://totp/Bank?secret=JBSWY3DPEHPK3PX1"
    assert dialog.store.entries == [] and not (tmp_path / "vault.json").exists()


def test_without_a_keychain_the_dialog_says_so(tmp_path: Path, qtbot: Any) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    dialog = dialog_for(tmp_path, qtbot)
    assert dialog.status.text().startswith("No system keychain is available: values you type are kept in memory until you quit")
    type_entry(dialog, "bank", "mybank.example", "ada", PASSWORD)
    click(dialog.save_button)
    assert dialog.message.text() == "No system keychain is available: kept in memory until you quit, never written to a file."
    assert PASSWORD not in (tmp_path / "vault.json").read_text()


class LockedKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("locked")

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("locked")


def test_a_locked_keychain_is_said_and_show_explains(tmp_path: Path, qtbot: Any) -> None:
    keyring.set_keyring(LockedKeyring())
    dialog = dialog_for(tmp_path, qtbot)
    type_entry(dialog, "bank", "mybank.example", "ada", PASSWORD)
    click(dialog.save_button)
    assert dialog.message.text() == "Your system keychain is locked: kept in memory until you quit, never written to a file."
    assert dialog.status.text().startswith("Your system keychain is locked: values you type are kept in memory")
    # A later run: the name is listed, the value cannot be shown, and the dialog says why.
    later = dialog_for(tmp_path, qtbot)
    later.edit_entry("bank")
    click(later.values["password"].show_button)
    assert later.error.text().startswith("Your system keychain is locked: the password of “bank” could not be read.")
    assert later.values["password"].edit.text() == "" and not later.values["password"].show_button.isChecked()


def test_site_rules_and_the_default_pay_rule(tmp_path: Path, qtbot: Any) -> None:
    dialog = dialog_for(tmp_path, qtbot)
    assert dialog.final_pay.isChecked()
    QTest.keyClicks(dialog.rule_site, "shop.example/cart")
    dialog.duty_boxes[Duty.CONFIRM].setChecked(True)
    click(dialog.save_rule_button)
    assert dialog.error.text() == "“shop.example/cart”: give the site only, without a page path (example.com, not example.com/login)."
    dialog.rule_site.setText("shop.example")
    click(dialog.save_rule_button)
    assert [dialog.rule_list.item(i).text() for i in range(dialog.rule_list.count())] == [
        "On shop.example a person confirms orders and submits forms."
    ]
    dialog.final_pay.setChecked(False)
    again = VaultStore(tmp_path / "vault.json", Keychain())
    assert again.rules.rules == (SiteRule("shop.example", frozenset({Duty.CONFIRM})),)
    assert again.rules.final_pay_everywhere is False


def test_export_and_import_through_the_dialog(tmp_path: Path, qtbot: Any) -> None:
    dialog = dialog_for(tmp_path / "one", qtbot)
    type_entry(dialog, "bank", "mybank.example", "ada", PASSWORD)
    click(dialog.save_button)
    exported = tmp_path / "export.json"
    dialog.export_to(exported)
    assert PASSWORD not in exported.read_text() and "ada" not in exported.read_text()
    other = dialog_for(tmp_path / "two", qtbot)
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    other.import_from(bad)
    assert other.error.text() == "This file is not a Handoff vault export."
    other.import_from(exported)
    assert other.message.text().startswith("Imported 1 new entry and the site rules.")
    assert other.entry_list.item(0).text() == "bank — mybank.example — no values yet"


def test_allowed_sites_field_keeps_bad_input_and_says_why(tmp_path: Path, qtbot: Any) -> None:
    store = VaultStore(tmp_path / "vault.json", Keychain())
    field = AllowedSitesField()
    qtbot.addWidget(field)
    field.attach(store)
    field.show()
    QTest.keyClicks(field.edit, "mybank.example, *")
    assert field.apply() is False
    assert field.problem.text() == (
        "“*” would match every site. Name the site, for example *.example.com. The agent keeps the earlier list until this is fixed."
    )
    assert field.edit.text() == "mybank.example, *" and store.allowed_sites == ()
    field.edit.setText("mybank.example, *.shop.example")
    assert field.apply() and store.allowed_sites == ("mybank.example", "*.shop.example")
    assert not field.problem.isVisible()


def test_the_window_opens_the_vault_from_the_task_panel_and_settings(cloud_services: Any, make_window: Any, qtbot: Any) -> None:
    from desktop_app.ui.settings_dialog import SettingsDialog

    window = make_window(cloud_services)
    panel = window.task_panel
    assert panel.allowed_sites.isVisible() and panel.allowed_sites.vault_button.isVisible()
    click(panel.allowed_sites.vault_button)
    dialog = window.findChild(VaultDialog)
    assert dialog is not None and dialog.isVisible() and dialog.tabs.currentIndex() == 0
    dialog.close()
    settings = SettingsDialog(cloud_services, window)
    qtbot.addWidget(settings)
    settings.show()
    click(settings.sites_button)
    assert window.findChild(VaultDialog).tabs.currentIndex() == 1
    # What the panel's field says reaches the next task.
    panel.allowed_sites.edit.setText("mail.example")
    panel.task_input.setPlainText("Read my mail")
    asked: list[str] = []
    panel.runRequested.disconnect()  # the field is checked as Run is pressed; no session is needed here
    panel.runRequested.connect(asked.append)
    panel.request_run()
    assert asked == ["Read my mail"]
    assert cloud_services.slots[0].vault.allowed_sites == ("mail.example",)  # the session's own list
