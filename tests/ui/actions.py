"""What a person does in the window, for tests."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest


def click(widget: Any) -> None:
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton)


def run_task(window: Any, text: str) -> None:
    """Type a task into the task box and press Run."""
    window.task_panel.task_input.setPlainText(text)
    click(window.task_panel.run_button)
