"""The tray icon: how many requests wait for the person (across sessions), and desktop notifications."""

from __future__ import annotations

from PySide6.QtWidgets import QSystemTrayIcon, QWidget

from desktop_app import APP_NAME
from desktop_app.core.messages import plural


class Tray:
    def __init__(self, window: QWidget) -> None:
        self._window = window
        self._icon: QSystemTrayIcon | None = None  # made when first needed, where the desktop has a tray
        self.count = 0

    def _shown(self) -> QSystemTrayIcon | None:
        if self._icon is None and QSystemTrayIcon.isSystemTrayAvailable():
            self._icon = QSystemTrayIcon(self._window.windowIcon(), self._window)
            self._icon.activated.connect(lambda _reason: self._window.activateWindow())
            self._icon.show()
        return self._icon

    def show_count(self, count: int) -> None:
        self.count = count
        icon = self._shown() if count else self._icon
        if icon is not None:
            icon.setToolTip(f"{APP_NAME} — {plural(count, 'request')} waiting for you" if count else APP_NAME)

    def notify(self, title: str, text: str) -> None:
        icon = self._shown()
        if icon is not None:
            icon.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 10_000)


__all__ = ["Tray"]
