"""The task panel's allowed-sites field: the sites the agent may visit in the next tasks, and the
Vault button. A wrong site is named under the field and what was typed is kept."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from desktop_app.core.vault import VaultInputError, check_sites
from desktop_app.vault_store import SessionVault, VaultStore


class AllowedSitesField(QWidget):
    """The task panel's optional list of sites the agent may visit (for the next tasks)."""

    vaultRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store: SessionVault | VaultStore | None = None
        self.edit = QLineEdit(self)
        self.edit.setObjectName("allowedSites")
        self.edit.setAccessibleName("Sites the agent may visit")
        self.edit.setPlaceholderText("Sites the agent may visit (optional), e.g. mybank.com, *.shop.example")
        self.edit.setClearButtonEnabled(True)
        self.edit.editingFinished.connect(self.apply)
        self.edit.textEdited.connect(lambda _: self.problem.hide())
        self.vault_button = QPushButton("Vault…", self)
        self.vault_button.setObjectName("vaultButton")
        self.vault_button.setToolTip("Stored logins the agent may use, and site rules")
        self.vault_button.clicked.connect(self.vaultRequested)
        self.problem = QLabel(self)
        self.problem.setObjectName("allowedSitesProblem")
        self.problem.setWordWrap(True)
        self.problem.setProperty("error", True)
        self.problem.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.vault_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.problem)

    def attach(self, store: SessionVault | VaultStore) -> None:
        self._store = store
        self.edit.setText(", ".join(store.allowed_sites))

    def apply(self) -> bool:
        """Check what is typed; keep it (and the last good list) when it is wrong, and say why."""
        try:
            sites = check_sites(self.edit.text())
        except VaultInputError as error:
            self.problem.setText(f"{error} The agent keeps the earlier list until this is fixed.")
            self.problem.show()
            return False
        self.problem.hide()
        if self._store is not None:
            self._store.allowed_sites = sites
        return True
