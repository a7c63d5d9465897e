"""What a person does in the window, for tests."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton


def click(widget: Any) -> None:
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton)


def run_task(window: Any, text: str) -> None:
    """Type a task into the task box and press Run."""
    window.task_panel.task_input.setPlainText(text)
    click(window.task_panel.run_button)


def open_question() -> QMessageBox | None:
    """The question box on screen, if one is."""
    return next((w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()), None)


def answer_question(button_text: str):
    """Click a button of the open question box (returns False until one is showing)."""
    box = open_question()
    if box is None:
        return False
    button = next(b for b in box.findChildren(QPushButton) if b.text() == button_text)
    click(button)
    return True
