"""A banner across the top of the window for errors, warnings and notices; never modal."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QToolButton, QWidget

from desktop_app.core.events import Level, Notice, NoticeAction

ACTION_LABELS = {
    NoticeAction.OPEN_SETTINGS: "Open Settings",
    NoticeAction.NEW_SESSION: "New session",
    NoticeAction.KEEP_ALIVE: "Keep it alive (billed)",
    NoticeAction.OPEN_DOWNLOADS: "Open folder",
    NoticeAction.RESTART: "Restart Handoff",
}


SHOWN_LINES = 2  # the banner's fixed height: longer notices are cut short, the rest in the tooltip


class NoticeBanner(QWidget):
    """Always the same height, and its room is kept while it is hidden: nothing below it (the
    task panel's buttons) moves when a notice comes, goes, or runs to several lines."""

    actionRequested = Signal(object)  # NoticeAction

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticeBanner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        self.text = QLabel(self)
        self.text.setObjectName("noticeText")
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
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
        self.cause = ""  # what the notice is about, so it can go once that is fixed (clear_cause)
        lines = self.fontMetrics().lineSpacing() * SHOWN_LINES
        self.setFixedHeight(max(lines, self.action_button.sizeHint().height()) + 14)
        policy = self.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.setSizePolicy(policy)
        self.hide()

    def show_notice(self, notice: Notice, *, cause: str = "") -> None:
        self.setProperty("level", notice.level.value)
        self.style().unpolish(self)
        self.style().polish(self)
        self._full_text = notice.text
        self.cause = cause
        self._action = notice.action
        label = ACTION_LABELS.get(notice.action)
        self.action_button.setVisible(label is not None)
        if label:
            self.action_button.setText(label)
        self.setAccessibleDescription(notice.text)
        self.show()
        self._fit_text()

    def _fit_text(self) -> None:
        from desktop_app.ui.timeline_view import wrapped

        width = self.text.width() if self.layout().geometry().isValid() else self.width() - 60
        lines = wrapped(" ".join(self._full_text.split()), self.text.font(), max(width, 40), SHOWN_LINES)
        shown = "\n".join(lines)
        self.text.setText(shown)
        cut = " ".join(shown.split()) != " ".join(self._full_text.split())
        self.text.setToolTip(self._full_text if cut else "")  # the rest, on hover

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._full_text:
            self.layout().activate()
            self._fit_text()

    def show_message(self, text: str, level: Level = Level.INFO, *, cause: str = "") -> None:
        self.show_notice(Notice(level, text), cause=cause)

    def show_aside(self, notice: Notice, *, cause: str = "") -> None:
        """Something worth knowing (a download, a blocked pop-up) that must not push aside a
        warning or an error the person has not dismissed yet."""
        if self.isVisible() and self.property("level") in (Level.WARNING.value, Level.ERROR.value):
            return
        self.show_notice(notice, cause=cause)

    def clear_cause(self, cause: str) -> None:
        """The notice's cause is gone (e.g. the over-long task was shortened): so is the notice."""
        if self.isVisible() and self.cause == cause:
            self.hide()

    @property
    def message(self) -> str:
        return self._full_text if self.isVisible() else ""

    @property
    def shown_text(self) -> str:
        return self.text.text()

    def _act(self) -> None:
        action = self._action
        self.hide()
        self.actionRequested.emit(action)
