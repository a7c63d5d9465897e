"""The task box, before the rest of the window: a person can type the task while Handoff finishes
starting. The task panel takes this very editor over when it is built (text, cursor, undo history
and focus stay as they were), so nothing typed meanwhile is lost."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from desktop_app.core.state_words import DEFAULT_TASK_PROMPT

TASK_EXAMPLE = "e.g. Find a table for two at an Italian place near me tonight and book it"


def task_editor(parent: QWidget) -> QPlainTextEdit:
    editor = QPlainTextEdit(parent)
    editor.setObjectName("taskInput")
    editor.setAccessibleName("Task for the agent")
    editor.setPlaceholderText(TASK_EXAMPLE)
    editor.setTabChangesFocus(True)
    return editor


class EarlyTaskBox(QWidget):
    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("earlyTaskBox")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(DEFAULT_TASK_PROMPT, self))
        self.editor = task_editor(self)
        layout.addWidget(self.editor, 1)
        starting = QLabel("Starting… type your task meanwhile.", self)
        starting.setObjectName("earlyTaskBoxStarting")
        layout.addWidget(starting)
        layout.addStretch(3)
