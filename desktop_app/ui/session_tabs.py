"""The sessions as tabs; the button for one more and the inbox's button (the window puts them in
its status bar: with one session the tab bar is hidden, so the page never moves as the window
finishes starting)."""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton, QStackedLayout, QStackedWidget, QTabWidget, QToolButton, QWidget


NEW_TAB_TIP = "Open another session in a new tab (its own browser, timeline and queue)"


class SessionTabs(QTabWidget):
    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("sessionTabs")
        self.setAccessibleName("Sessions")
        self.setDocumentMode(True)
        self.setMovable(True)
        self.setTabBarAutoHide(True)
        # Every page stays shown, the current one on top: a hidden QtWebEngine page stops painting,
        # and a Local agent working in a tab out of sight could take no screenshot of its page.
        # Pages that need not paint out of sight are hidden, and out-of-sight ones take no input (show_pages()).
        stack = self.findChild(QStackedWidget)
        assert stack is not None
        layout = stack.layout()
        assert isinstance(layout, QStackedLayout)
        layout.setStackingMode(QStackedLayout.StackingMode.StackAll)
        self.new_tab_button = QPushButton("+ Session", self)
        self.new_tab_button.setObjectName("newSessionTabButton")
        self.new_tab_button.setAccessibleName("Open another session in a new tab")
        self.new_tab_button.setToolTip(NEW_TAB_TIP)
        self.inbox_button = QToolButton(self)
        self.inbox_button.setObjectName("inboxButton")
        self.inbox_button.setAccessibleName("Inbox: what the agents ask of you")
        self.inbox_button.setCheckable(True)

    def allow_new_tab(self, refused: str | None) -> None:
        """``refused``: why this mode holds no more sessions now (the button says so), or None."""
        self.new_tab_button.setEnabled(refused is None)
        self.new_tab_button.setToolTip(refused or NEW_TAB_TIP)

    def show_inbox_count(self, count: int) -> None:
        self.inbox_button.setText(f"Inbox ({count})" if count else "Inbox")
        font = self.inbox_button.font()
        font.setBold(count > 0)  # something waits: it must catch the eye without moving anything
        self.inbox_button.setFont(font)
        self.inbox_button.setToolTip(
            f"{count} request{'s' if count != 1 else ''} from the agents waiting for you" if count else "Nothing waits for you"
        )

    def show_pages(self, painting_out_of_sight: list[QWidget]) -> None:
        """The current page on top; of the others, only those in ``painting_out_of_sight`` shown."""
        current = self.currentWidget()
        for index in range(self.count()):
            page = self.widget(index)
            page.setVisible(page is current or page in painting_out_of_sight)
            # Shown but out of sight: no keyboard focus (Tab) and no input may reach it.
            page.setEnabled(page is current)
        if current is not None:
            current.raise_()

    def allow_closing(self) -> None:
        """The last tab cannot be closed (the window's close button is for that)."""
        self.setTabsClosable(self.count() > 1)


__all__ = ["SessionTabs"]
