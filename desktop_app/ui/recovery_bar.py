"""Sessions an earlier run left running (and billed): Reattach or Stop, one row each. Never modal."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop_app.core.ports import RemoteSession


class RecoveryBar(QWidget):
    reattachRequested = Signal(str)
    stopRequested = Signal(str)

    def __init__(self, service: str, parent: QWidget | None = None) -> None:
        """``service``: whose sessions these are ("Browser Use Cloud")."""
        super().__init__(parent)
        self._service = service
        self.setObjectName("recoveryBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(12, 6, 6, 6)
        self._rows: dict[str, QWidget] = {}
        self.hide()

    def show_sessions(self, sessions: list[RemoteSession]) -> None:
        for session in sessions:
            if session.id in self._rows:
                continue
            row = QWidget(self)
            layout = QHBoxLayout(row)
            layout.setContentsMargins(0, 0, 0, 0)
            started = time.strftime("%a %H:%M", time.localtime(session.started_at))
            label = QLabel(
                f"A {self._service} session from an earlier run (started {started}) is still running — and billed.", row
            )
            label.setWordWrap(True)
            reattach = QPushButton("Reattach", row)
            reattach.setObjectName("reattachButton")
            reattach.clicked.connect(lambda _=False, sid=session.id: self.reattachRequested.emit(sid))
            stop = QPushButton("Stop it", row)
            stop.setObjectName("stopLeftRunningButton")
            stop.clicked.connect(lambda _=False, sid=session.id: self.stopRequested.emit(sid))
            layout.addWidget(label, 1)
            layout.addWidget(reattach)
            layout.addWidget(stop)
            self._layout.addWidget(row)
            self._rows[session.id] = row
        self.setVisible(bool(self._rows))

    def set_busy(self, session_id: str, busy: bool) -> None:
        row = self._rows.get(session_id)
        if row is not None:
            row.setEnabled(not busy)

    def remove(self, session_id: str) -> None:
        row = self._rows.pop(session_id, None)
        if row is not None:
            row.deleteLater()
        self.setVisible(bool(self._rows))

    @property
    def session_ids(self) -> list[str]:
        return list(self._rows)
