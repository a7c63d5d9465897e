"""A banner across the top of the window for errors, warnings and notices; never modal."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from desktop_app.core.events import Level, Notice, NoticeAction

ACTION_LABELS = {
    NoticeAction.OPEN_SETTINGS: "Open Settings",
    NoticeAction.NEW_SESSION: "New session",
    NoticeAction.KEEP_ALIVE: "Keep it alive (billed)",
    NoticeAction.OPEN_DOWNLOADS: "Open folder",
    NoticeAction.RESTART: "Restart Handoff",
}


MAX_SHOWN = 280  # characters: a long error must not push the panel's buttons away


class NoticeBanner(QWidget):
    actionRequested = Signal(object)  # NoticeAction

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticeBanner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        self.text = QLabel(self)
        self.text.setObjectName("noticeText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action_button = QPushButton(self)
        self.action_button.setObjectName("noticeActionButton")
        self.action_button.clicked.connect(self._act)
        self.close_button = QToolButton(self)
        self.close_button.setText("✕")
        self.close_button.setObjectName("noticeCloseButton")
        self.close_button.setAccessibleName("Dismiss")
        self.close_button.clicked.connect(self.hide)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.action_button)
        layout.addWidget(self.close_button)
        self._action = NoticeAction.NONE
        self._full_text = ""
        self.hide()

    def show_notice(self, notice: Notice) -> None:
        self.setProperty("level", notice.level.value)
        self.style().unpolish(self)
        self.style().polish(self)
        shown = notice.text if len(notice.text) <= MAX_SHOWN else notice.text[: MAX_SHOWN - 1].rstrip() + "…"
        self.text.setText(shown)
        self.text.setToolTip(notice.text if shown != notice.text else "")  # the rest, on hover
        self.setAccessibleDescription(notice.text)
        self._full_text = notice.text
        self._action = notice.action
        label = ACTION_LABELS.get(notice.action)
        self.action_button.setVisible(label is not None)
        if label:
            self.action_button.setText(label)
        self.show()

    def show_message(self, text: str, level: Level = Level.INFO) -> None:
        self.show_notice(Notice(level, text))

    def show_aside(self, notice: Notice) -> None:
        """Something worth knowing (a download, a blocked pop-up) that must not push aside a
        warning or an error the person has not dismissed yet."""
        if self.isVisible() and self.property("level") in (Level.WARNING.value, Level.ERROR.value):
            return
        self.show_notice(notice)

    @property
    def message(self) -> str:
        return self._full_text if self.isVisible() else ""

    def _act(self) -> None:
        action = self._action
        self.hide()
        self.actionRequested.emit(action)
