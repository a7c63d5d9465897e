"""One value of a vault entry (username, password, 2FA secret): empty keeps what is stored; the
stored value is shown only when the person presses Show."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QWidget

from desktop_app.core.vault import FIELD_LABELS


class ValueField(QWidget):
    """A value entry: empty means "keep what is stored"; Show reveals the stored value on request."""

    def __init__(self, what: str, secret: bool, parent: QWidget) -> None:
        super().__init__(parent)
        self.what = what
        self.secret = secret
        self.edit = QLineEdit(self)
        self.edit.setObjectName(f"vault_{what}")
        self.edit.setAccessibleName(FIELD_LABELS[what])
        if secret:
            self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.show_button = QPushButton("Show", self)
        self.show_button.setObjectName(f"vault_{what}_show")
        self.show_button.setCheckable(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.show_button)

    def set_stored(self, stored: bool) -> None:
        self.edit.clear()
        self.show_button.setChecked(False)
        self._set_shown(False)
        hint = {"username": "e.g. ada@example.com", "password": "", "totp": "otpauth://totp/… or the set-up key (base32)"}[self.what]
        self.edit.setPlaceholderText("Stored — leave empty to keep it, type to replace it" if stored else hint)

    def _set_shown(self, shown: bool) -> None:
        if self.secret:
            self.edit.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.show_button.setText("Hide" if shown else "Show")

    @property
    def typed(self) -> str | None:
        """The new value, or None to keep the stored one."""
        text = self.edit.text().strip()
        return text or None
