"""The vault and the site rules: a thin dialog over ``VaultStore`` (the rules live in core).

The list shows entry names and sites only. A stored value is never read into the window except
by an explicit Show. Bad input (a site, an otpauth address, a 2FA secret) is named under the
form and nothing typed is lost; keychain trouble (locked, missing, denied) is said in words.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.site_rules import DUTY_LABELS, Duty, SiteRule, SiteRules
from desktop_app.core.vault import FIELD_LABELS, FIELDS, VaultInputError, check_site, check_sites, site_label
from desktop_app.ui.list_rows import rows_for
from desktop_app.ui.value_field import ValueField
from desktop_app.vault_store import VaultStore

NEW_ENTRY = "New entry"


def keychain_words(store: VaultStore) -> str:
    if store.keychain.persistent:
        return "Values are kept in your system keychain, never in a file. The agent types them by name; the AI model never sees them."
    why = store.keychain.problem or "No system keychain is available"
    return f"{why}: values you type are kept in memory until you quit (never in a file), and typed again after a restart."


class VaultDialog(QDialog):
    changed = Signal()

    def __init__(self, store: VaultStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("vaultDialog")
        self.setWindowTitle("Handoff — Vault and site rules")
        self.setMinimumWidth(640)
        self.store = store
        self._current: str | None = None  # the entry in the form (None: a new one)
        self._revealed: dict[str, str] = {}  # values shown on request, to keep if saved unchanged

        self.status = _hint(keychain_words(store), self)
        self.status.setObjectName("vaultKeychainStatus")
        self.message = QLabel(self)
        self.message.setObjectName("vaultMessage")
        self.message.setWordWrap(True)
        self.error = QLabel(self)
        self.error.setObjectName("vaultError")
        self.error.setWordWrap(True)
        self.error.setProperty("error", True)
        self.error.hide()
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("vaultTabs")
        self.tabs.addTab(self._vault_tab(), "Vault")
        self.tabs.addTab(self._sites_tab(), "Sites")
        if store.problem:
            self._say(store.problem)

        self.import_button = QPushButton("Import…", self)
        self.import_button.setObjectName("vaultImportButton")
        self.import_button.setToolTip("Entry names and sites, and site rules, from an exported file (never values)")
        self.export_button = QPushButton("Export…", self)
        self.export_button.setObjectName("vaultExportButton")
        self.export_button.setToolTip("Entry names and sites, and the site rules, to a file — never a value")
        close = QPushButton("Close", self)
        self.import_button.clicked.connect(self._choose_import)
        self.export_button.clicked.connect(self._choose_export)
        close.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addWidget(self.import_button)
        bottom.addWidget(self.export_button)
        bottom.addStretch(1)
        bottom.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        layout.addWidget(self.message)
        layout.addLayout(bottom)
        self._reload_entries()
        self._reload_rules()
        self.edit_entry(None)

    # -- the vault tab ---------------------------------------------------------------------------

    def _vault_tab(self) -> QWidget:
        tab = QWidget(self)
        self.entry_list = QListWidget(tab)
        self.entry_list.setObjectName("vaultEntries")
        self.entry_list.setAccessibleName("Vault entries (names and sites)")
        self.entry_list.currentItemChanged.connect(self._entry_chosen)
        self.new_button = QPushButton("New entry", tab)
        self.new_button.setObjectName("vaultNewButton")
        self.new_button.clicked.connect(lambda: self.edit_entry(None))

        self.name = QLineEdit(tab)
        self.name.setObjectName("vaultName")
        self.name.setPlaceholderText("e.g. bank — the agent is told this name")
        self.sites = QLineEdit(tab)
        self.sites.setObjectName("vaultSites")
        self.sites.setPlaceholderText("e.g. mybank.com, *.mybank.com")
        self.values = {what: ValueField(what, what != "username", tab) for what in FIELDS}
        for field in self.values.values():
            field.show_button.toggled.connect(lambda shown, f=field: self._show(f, shown))
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Sites", self.sites)
        for what, field in self.values.items():
            form.addRow(FIELD_LABELS[what], field)
        form.addRow(_hint(
            "The agent types these on the entry's sites only, by placeholder; the AI model never sees them, and the "
            "fields they fill are hidden from its screenshots. 2FA: paste the otpauth:// address or the set-up key "
            "shown when you turn on an authenticator app.",
            tab,
        ))
        self.save_button = QPushButton("Save entry", tab)
        self.save_button.setObjectName("vaultSaveButton")
        self.save_button.clicked.connect(self.save_entry)
        self.delete_button = QPushButton("Delete entry", tab)
        self.delete_button.setObjectName("vaultDeleteButton")
        self.delete_button.clicked.connect(self.delete_entry)
        actions = QHBoxLayout()
        actions.addStretch(1)
        actions.addWidget(self.delete_button)
        actions.addWidget(self.save_button)

        left = QVBoxLayout()
        left.addWidget(self.entry_list, 1)
        left.addWidget(self.new_button)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addStretch(1)
        right.addLayout(actions)
        layout = QHBoxLayout(tab)
        layout.addLayout(left, 2)
        layout.addLayout(right, 3)
        for edit in (self.name, self.sites, *(f.edit for f in self.values.values())):
            edit.textEdited.connect(self.error.hide)
        return tab

    def _reload_entries(self) -> None:
        entries = self.store.entries
        self.entry_list.blockSignals(True)
        for item, entry in zip(rows_for(self.entry_list, len(entries)), entries):
            missing = "" if entry.fields else " — no values yet"
            item.setText(f"{entry.name} — {', '.join(site_label(s) for s in entry.sites)}{missing}")
            item.setData(Qt.ItemDataRole.UserRole, entry.name)
            if entry.name == self._current:
                self.entry_list.setCurrentItem(item)
        self.entry_list.blockSignals(False)

    def _entry_chosen(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.edit_entry(item.data(Qt.ItemDataRole.UserRole))

    def edit_entry(self, name: str | None) -> None:
        """Put an entry (names and sites only) in the form, or clear it for a new one."""
        entry = self.store.entry(name) if name else None
        self._current = entry.name if entry else None
        self._revealed = {}
        self.name.setText(entry.name if entry else "")
        self.sites.setText(", ".join(entry.sites) if entry else "")
        for what, field in self.values.items():
            field.set_stored(bool(entry and what in entry.fields))
        self.delete_button.setEnabled(entry is not None)
        self.error.hide()
        if entry is None:
            self.entry_list.clearSelection()

    def _show(self, field: ValueField, shown: bool) -> None:
        """Show: what is typed, or (explicitly) the stored value when nothing is typed."""
        if shown and not field.edit.text() and self._current:
            try:
                value = self.store.reveal(self._current, field.what)
            except VaultInputError as error:
                self._fail(str(error))
                field.show_button.setChecked(False)
                return
            self._revealed[field.what] = value
            field.edit.setText(value)
        elif not shown and field.what in self._revealed and field.edit.text() == self._revealed[field.what]:
            field.edit.clear()  # hidden again: nothing stored stays in the window
            self._revealed.pop(field.what)
        field._set_shown(shown)

    def save_entry(self) -> bool:
        try:
            sites = check_sites(self.sites.text())
            values: dict[str, str | None] = {what: field.typed for what, field in self.values.items()}
            told = self.store.save_entry(self._current, self.name.text(), sites, values)
        except VaultInputError as error:
            self._fail(str(error))
            return False
        except OSError as error:
            self._fail(f"The vault's list could not be saved ({error.strerror or error}); nothing typed here was lost.")
            return False
        self._current = " ".join(self.name.text().split())
        self._say(" ".join(told))
        self._reload_entries()
        self.edit_entry(self._current)
        self.status.setText(keychain_words(self.store))
        self.changed.emit()
        return True

    def delete_entry(self) -> None:
        if self._current is None:
            return
        try:
            told = self.store.remove_entry(self._current)
        except OSError as error:
            self._fail(f"The vault's list could not be saved ({error.strerror or error}).")
            return
        self._current = None
        self._say(" ".join(told))
        self._reload_entries()
        self.edit_entry(None)
        self.changed.emit()

    # -- the sites tab ---------------------------------------------------------------------------

    def _sites_tab(self) -> QWidget:
        tab = QWidget(self)
        self.final_pay = QCheckBox("A person presses the final Pay on every site (recommended)", tab)
        self.final_pay.setObjectName("finalPayEverywhere")
        self.final_pay.toggled.connect(self._final_pay_changed)
        self.rule_list = QListWidget(tab)
        self.rule_list.setObjectName("siteRules")
        self.rule_list.currentItemChanged.connect(self._rule_chosen)
        self.rule_site = QLineEdit(tab)
        self.rule_site.setObjectName("ruleSite")
        self.rule_site.setPlaceholderText("e.g. mybank.com or *.shop.example")
        self.rule_site.textEdited.connect(self.error.hide)
        self.duty_boxes = {duty: QCheckBox(f"A person {DUTY_LABELS[duty]}", tab) for duty in Duty}
        for duty, box in self.duty_boxes.items():
            box.setObjectName(f"duty_{duty.value}")
        self.save_rule_button = QPushButton("Save rule", tab)
        self.save_rule_button.setObjectName("saveRuleButton")
        self.save_rule_button.clicked.connect(self.save_rule)
        self.remove_rule_button = QPushButton("Remove rule", tab)
        self.remove_rule_button.setObjectName("removeRuleButton")
        self.remove_rule_button.clicked.connect(self.remove_rule)
        form = QFormLayout()
        form.addRow("Site", self.rule_site)
        for box in self.duty_boxes.values():
            form.addRow("", box)
        actions = QHBoxLayout()
        actions.addStretch(1)
        actions.addWidget(self.remove_rule_button)
        actions.addWidget(self.save_rule_button)
        layout = QVBoxLayout(tab)
        layout.addWidget(self.final_pay)
        layout.addWidget(_hint(
            "What a person always does on a site. The agent is told; in Local mode a click or Enter that would do it "
            "is refused before it reaches the page, and the agent asks you instead, saying why.",
            tab,
        ))
        layout.addWidget(self.rule_list, 1)
        layout.addLayout(form)
        layout.addLayout(actions)
        return tab

    def _reload_rules(self) -> None:
        rules = self.store.rules
        self.final_pay.blockSignals(True)
        self.final_pay.setChecked(rules.final_pay_everywhere)
        self.final_pay.blockSignals(False)
        for item, rule in zip(rows_for(self.rule_list, len(rules.rules)), rules.rules):
            item.setText(rule.describe())
            item.setData(Qt.ItemDataRole.UserRole, rule.site)

    def _rule_chosen(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        rule = next((r for r in self.store.rules.rules if r.site == item.data(Qt.ItemDataRole.UserRole)), None)
        if rule is not None:
            self.rule_site.setText(rule.site)
            for duty, box in self.duty_boxes.items():
                box.setChecked(duty in rule.duties)

    def _final_pay_changed(self, on: bool) -> None:
        self._save_rules(SiteRules(self.store.rules.rules, final_pay_everywhere=on))

    def save_rule(self) -> bool:
        try:
            site = check_site(self.rule_site.text())
        except VaultInputError as error:
            self._fail(str(error))
            return False
        duties = frozenset(d for d, box in self.duty_boxes.items() if box.isChecked())
        if not duties:
            self._fail("Tick what a person always does on this site (or Remove rule).")
            return False
        return self._save_rules(self.store.rules.with_rule(SiteRule(site, duties)))

    def remove_rule(self) -> None:
        try:
            site = check_site(self.rule_site.text())
        except VaultInputError as error:
            self._fail(str(error))
            return
        self._save_rules(self.store.rules.with_rule(SiteRule(site, frozenset())))

    def _save_rules(self, rules: SiteRules) -> bool:
        try:
            self.store.save_rules(rules)
        except OSError as error:
            self._fail(f"The site rules could not be saved ({error.strerror or error}); nothing typed here was lost.")
            return False
        self._reload_rules()
        self.error.hide()
        self.changed.emit()
        return True

    # -- import and export -----------------------------------------------------------------------

    def _choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the vault's names and site rules", "handoff-vault.json", "JSON (*.json)")
        if path:
            self.export_to(Path(path))

    def _choose_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import names and site rules", "", "JSON (*.json)")
        if path:
            self.import_from(Path(path))

    def export_to(self, path: Path) -> None:
        try:
            self._say(self.store.export_to(path))
        except OSError as error:
            self._fail(f"Could not write {path.name} ({error.strerror or error}).")

    def import_from(self, path: Path) -> None:
        try:
            self._say(self.store.import_from(path))
        except VaultInputError as error:
            self._fail(str(error))
            return
        except OSError as error:
            self._fail(f"Could not read {path.name} ({error.strerror or error}).")
            return
        self._reload_entries()
        self._reload_rules()
        self.changed.emit()

    # -- words -----------------------------------------------------------------------------------

    def _fail(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
        self.message.clear()

    def _say(self, text: str) -> None:
        self.error.hide()
        self.message.setText(text)


def open_vault_dialog(parent: QWidget, store: VaultStore, *, tab: str = "vault") -> VaultDialog:
    """One dialog per window, brought forward when already open (never exec())."""
    dialog = parent.findChild(VaultDialog)
    if dialog is None:
        dialog = VaultDialog(store, parent)
        dialog.finished.connect(dialog.deleteLater)
    dialog.tabs.setCurrentIndex(1 if tab == "sites" else 0)
    dialog.open()
    dialog.raise_()
    return dialog


def _hint(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setProperty("hint", True)
    return label
