"""The inbox, shown: one row per open request across sessions, most urgent first (core/inbox.py
orders them). Choosing a row opens that session, where the person already has the browser."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QVBoxLayout, QWidget

from desktop_app.core.inbox import InboxItem
from desktop_app.ui.list_rows import rows_for

SLOT_ROLE = Qt.ItemDataRole.UserRole
EMPTY = "Nothing waits for you. When an agent asks for you, it shows here."


class InboxView(QWidget):
    chosen = Signal(int)  # the session's slot number

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("inbox")
        self.title = QLabel("Inbox — what the agents ask of you, most urgent first", self)
        self.title.setProperty("hint", True)
        self.list = QListWidget(self)
        self.list.setObjectName("inboxList")
        self.list.setAccessibleName("Requests waiting for you")
        self.list.itemActivated.connect(lambda item: self.chosen.emit(int(item.data(SLOT_ROLE))))
        self.list.itemClicked.connect(lambda item: self.chosen.emit(int(item.data(SLOT_ROLE))))
        self.empty = QLabel(EMPTY, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.list)
        layout.addWidget(self.empty)
        # The times change while requests wait: the window reads the inbox again every second, only while any wait.
        self.tick = QTimer(self)
        self.tick.setInterval(1000)
        self.show_items([])

    def show_items(self, items: list[InboxItem]) -> None:
        now = time.time()
        selected = self.list.currentItem()
        chosen = selected.data(SLOT_ROLE) if selected is not None else None
        for index, (row, item) in enumerate(zip(rows_for(self.list, len(items)), items)):
            row.setText(item.describe(now))
            row.setToolTip(item.describe(now))
            row.setData(SLOT_ROLE, item.slot)
            if item.slot == chosen:
                self.list.setCurrentRow(index)  # redrawn every second: the keyboard's choice stays
        # As tall as its rows (up to five): opening the inbox takes no more room from the page than it needs.
        shown = max(1, min(len(items), 5))
        self.list.setFixedHeight(shown * max(self.list.sizeHintForRow(0), 18) + 2 * self.list.frameWidth() + 4)
        self.list.setVisible(bool(items))
        self.empty.setVisible(not items)
        if items and not self.tick.isActive():
            self.tick.start()
        elif not items:
            self.tick.stop()


__all__ = ["InboxView"]
