"""The sessions as tabs; the button for one more and the inbox's button (the window puts them in
its status bar: with one session the tab bar is hidden, so the page never moves as the window
finishes starting)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QPushButton, QStackedLayout, QStackedWidget, QTabWidget, QToolButton, QWidget

if TYPE_CHECKING:
    from desktop_app.core.inbox import InboxItem
    from desktop_app.ui.session_tab import SessionTab


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
        self.tabs: list[SessionTab] = []  # in the order opened

    # -- which tabs there are ----------------------------------------------------------------------

    @property
    def current(self) -> SessionTab:
        page = self.currentWidget()
        return next((tab for tab in self.tabs if tab.page is page), self.tabs[0])

    def tab_at(self, index: int) -> SessionTab | None:
        page = self.widget(index)
        return next((tab for tab in self.tabs if tab.page is page), None)

    def of_slot(self, number: int) -> SessionTab | None:
        return next((tab for tab in self.tabs if tab.slot.number == number), None)

    def add(self, tab: SessionTab) -> None:
        self.tabs.append(tab)
        self.addTab(tab.page, tab.tab_text(None))
        self.setCurrentWidget(tab.page)
        self.setTabsClosable(len(self.tabs) > 1)  # the last tab is closed with the window

    def remove(self, tab: SessionTab) -> None:
        tab.close()
        self.tabs.remove(tab)
        self.removeTab(self.indexOf(tab.page))
        tab.page.deleteLater()
        self.setTabsClosable(len(self.tabs) > 1)

    # -- what they show ------------------------------------------------------------------------------

    def show_waiting(self, items: list[InboxItem]) -> None:
        """Each tab marked while its session waits for the person; the inbox button's count."""
        for tab in self.tabs:
            self.retitle(tab, items)
        self.show_inbox_count(len(items))

    def retitle(self, tab: SessionTab, items: list[InboxItem]) -> None:
        waiting = next((item for item in items if item.slot == tab.slot.number), None)
        self.setTabText(self.indexOf(tab.page), tab.tab_text(waiting))

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

    def show_pages(self) -> None:
        """The current page on top. Out of sight, a Local page stays shown (its agent takes
        screenshots of it) but takes no input or Tab focus; a Cloud live view is hidden."""
        current = self.current.page
        for tab in self.tabs:
            tab.page.setVisible(tab.page is current or bool(tab.live_view.is_browser))
            tab.page.setEnabled(tab.page is current)
        current.raise_()


__all__ = ["SessionTabs"]
