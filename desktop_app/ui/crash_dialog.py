"""The dialog that says Handoff hit an unexpected error, with the report it saved."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget


def show_crash_dialog(parent: QWidget, report: Path, summary: str) -> None:
    """Never exec(): it would nest an event loop (qasync)."""
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        "Handoff hit an unexpected error",
        f"{summary}\n\nHandoff saved a report you can send us.",
        QMessageBox.StandardButton.NoButton,
        parent,
    )
    box.setObjectName("crashDialog")
    open_button = box.addButton("Open the report", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Close", QMessageBox.ButtonRole.RejectRole)

    def finished(_: int) -> None:
        if box.clickedButton() is open_button:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(report)))
        box.deleteLater()

    box.finished.connect(finished)
    box.open()
