"""The embedded live view: a QWebEngineView, an optional browser bar, and the input shield.

While the agent works the shield covers the page and swallows mouse and keyboard (the view is
also disabled, so a focused page cannot receive keys either); it says what is going on and
offers Take over.
"""

from __future__ import annotations

from pathlib import Path

# Not ``Qt`` at module level: building that namespace costs ~12 ms, and this module is on the path
# to the first page on screen. The part that needs it (the shield) is built when first shown.
from PySide6.QtCore import QEvent, QObject, QUrl, Signal
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.control import Control
from desktop_app.core.state_words import NO_SESSION_PLACEHOLDER, state_words
from desktop_app.system.paths import Paths, resources_dir
from desktop_app.ui.web_page import (
    DownloadKeeper,
    HandoffPage,
    browser_profile,
    remote_view_profile,
    schedule_profile_wipe,
)

SEARCH_URL = "https://duckduckgo.com/?q={}"
# Messages in place of a page ("No session yet") are shown as HTML inside the view itself: swapping
# the GPU-backed view for a label and back makes Qt re-create the whole native window (a black
# frame, keyboard focus lost).
PLACEHOLDER_PAGE = (
    '<!doctype html><html><head><meta charset="utf-8"><title>Handoff</title><style>'
    "body{{font-family:system-ui,sans-serif;background:#f4f6fb;color:#5b6476;margin:0;display:flex;"
    "min-height:100vh;align-items:center;justify-content:center;text-align:center;line-height:1.6}}"
    "p{{max-width:32em;padding:1em}}</style></head><body><p>{}</p></body></html>"
)


def address_to_url(text: str) -> QUrl | None:
    """What a person typed in the address bar: a URL, a host, or words to search for."""
    text = text.strip()
    if not text:
        return None
    if " " not in text and ("." in text or text.startswith("localhost") or "://" in text):
        url = QUrl.fromUserInput(text)
        if url.isValid() and url.scheme() in ("http", "https"):
            return url
    return QUrl(SEARCH_URL.format(QUrl.toPercentEncoding(text).data().decode()))


class InputShield(QWidget):
    """Covers the page while the agent works; every mouse and key event stops here."""

    takeOverClicked = Signal()

    def __init__(self, parent: QWidget) -> None:
        from PySide6.QtCore import Qt

        super().__init__(parent)
        self.setObjectName("inputShield")
        self.setAccessibleName("Agent is working")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setMouseTracking(True)
        layout = QVBoxLayout(self)
        # At the bottom: the top of a page (its header, the form's first fields) is what the agent
        # is usually working on, and what the person watches.
        layout.setAlignment(Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter)
        layout.setContentsMargins(0, 0, 0, 24)
        card = QWidget(self)
        card.setObjectName("shieldCard")
        card.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        card_layout = QHBoxLayout(card)
        self.message = QLabel(state_words(Control.AGENT).shield, card)
        self.message.setObjectName("shieldMessage")
        self.button = QPushButton("Take over", card)
        self.button.setObjectName("shieldTakeOverButton")
        self.button.clicked.connect(self.takeOverClicked)
        card_layout.addWidget(self.message)
        card_layout.addWidget(self.button)
        layout.addWidget(card)
        self.hide()

    def set_message(self, text: str, *, offer_take_over: bool) -> None:
        self.message.setText(text)
        self.button.setVisible(offer_take_over)

    def event(self, event: QEvent) -> bool:
        # The Take over button is a child: its own clicks reach it first. Everything else that
        # lands on the shield (or bubbles up from its label) ends here.
        if event.type() in _SWALLOWED:
            event.accept()
            return True
        return super().event(event)


_SWALLOWED = {
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseButtonRelease,
    QEvent.Type.MouseButtonDblClick,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
    QEvent.Type.KeyPress,
    QEvent.Type.KeyRelease,
    QEvent.Type.ContextMenu,
    QEvent.Type.TabletPress,
    QEvent.Type.TouchBegin,
}


class BrowserBar(QWidget):
    def __init__(self, view: QWebEngineView, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("browserBar")
        self._view = view
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.back = self._button("◀", "Back", "backButton", view.back)
        self.forward = self._button("▶", "Forward", "forwardButton", view.forward)
        self.reload = self._button("⟳", "Reload", "reloadButton", view.reload)
        self.address = QLineEdit(self)
        self.address.setObjectName("addressBar")
        self.address.setAccessibleName("Address")
        self.address.setPlaceholderText("Type an address or search")
        self.address.returnPressed.connect(self._go)
        for widget in (self.back, self.forward, self.reload, self.address):
            layout.addWidget(widget)
        view.urlChanged.connect(self._show_url)
        view.loadFinished.connect(self._update_history_buttons)  # the history is updated after urlChanged

    def _button(self, text: str, tip: str, name: str, slot: object) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setObjectName(name)
        button.setAccessibleName(tip)
        button.clicked.connect(slot)
        return button

    def _go(self) -> None:
        url = address_to_url(self.address.text())
        if url is not None:
            self._view.setUrl(url)
            self._view.setFocus()

    def _show_url(self, url: QUrl) -> None:
        if url.scheme() in ("file", "data", "about"):
            self.address.clear()  # the start page: leave the bar ready for typing
        else:
            # Spaces encoded: what the bar shows can be copied and pasted as a working address.
            self.address.setText(url.toString(QUrl.ComponentFormattingOption.EncodeSpaces))
        self._update_history_buttons()

    def _update_history_buttons(self) -> None:
        history = self._view.history()
        self.back.setEnabled(history.canGoBack())
        self.forward.setEnabled(history.canGoForward())


class LiveView(QWidget):
    takeOverRequested = Signal()
    pageCrashed = Signal(str)
    pageBlocked = Signal(str)  # a permission or pop-up the page asked for and did not get
    downloadStarted = Signal(str, str)
    downloadFinished = Signal(str, bool, str)

    def __init__(self, *, resources: Path, browser_storage: Path, browser_cache: Path, downloads: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self._resources = resources
        self._browser_storage = browser_storage
        self._browser_cache = browser_cache
        self._downloads = downloads
        self._profiles: dict[bool, QWebEngineProfile] = {}
        self._parked_browser_page: HandoffPage | None = None  # the Local page while Cloud is shown
        self._downloaders: list[DownloadKeeper] = []
        self.is_browser: bool | None = None
        self.first_load_done = False  # the first page (start page) has finished loading

        self.web_view = QWebEngineView(self)
        self.web_view.setObjectName("liveView")
        self.web_view.setAccessibleName("Live view")
        self.web_view.loadFinished.connect(self._first_load)
        self.bar = BrowserBar(self.web_view, self)
        self._shield: InputShield | None = None

        self._page_area = QWidget(self)
        page_layout = QVBoxLayout(self._page_area)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.addWidget(self.web_view)  # always shown: see PLACEHOLDER_PAGE
        self._page_area.installEventFilter(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.bar)
        layout.addWidget(self._page_area, 1)

    @property
    def shield(self) -> InputShield:
        if self._shield is None:
            self._shield = InputShield(self._page_area)
            self._shield.setGeometry(self._page_area.rect())
            self._shield.takeOverClicked.connect(self.takeOverRequested)
        return self._shield

    def _first_load(self) -> None:
        self.first_load_done = True
        self.web_view.loadFinished.disconnect(self._first_load)

    # -- mode ----------------------------------------------------------------------------------

    def configure(self, *, is_browser: bool) -> None:
        """Local: the view is a browser with a persistent profile. Cloud: a remote viewer, off the record."""
        if is_browser == self.is_browser:
            return
        self.is_browser = is_browser
        old_page = self.web_view.page() if isinstance(self.web_view.page(), HandoffPage) else None
        page, self._parked_browser_page = (self._parked_browser_page, None) if is_browser else (None, None)
        resumed = page is not None
        if page is None:
            page = HandoffPage(self._profile(is_browser), is_browser=is_browser, resources=self._resources, parent=self.web_view)
        self.web_view.setPage(page)
        self._report_from(page)
        if old_page is not None:
            self._report_from(old_page, reporting=False)  # only the page on screen speaks
        if old_page is not None and old_page.is_browser:
            # Kept, so a trip to Cloud and back finds the page the person was on; frozen meanwhile
            # so it runs no scripts and plays nothing while out of sight.
            old_page.setLifecycleState(QWebEnginePage.LifecycleState.Frozen)
            self._parked_browser_page = old_page
        elif old_page is not None:
            old_page.deleteLater()  # a remote viewer holds nothing worth keeping
        self.bar.setVisible(is_browser)
        if resumed:
            page.setLifecycleState(QWebEnginePage.LifecycleState.Active)
        elif is_browser:
            self.load_start_page()
        else:
            self.show_placeholder(NO_SESSION_PLACEHOLDER)

    def _report_from(self, page: HandoffPage, *, reporting: bool = True) -> None:
        pairs = ((page.crashed, self.pageCrashed), (page.blocked, self.pageBlocked))
        for source, target in pairs:
            if reporting:
                source.connect(target)
            else:
                source.disconnect(target)

    def _profile(self, is_browser: bool) -> QWebEngineProfile:
        if is_browser not in self._profiles:
            if is_browser:
                profile = browser_profile(self._browser_storage, self._browser_cache, self)
                keeper = DownloadKeeper(profile, self._downloads, self)
                keeper.started.connect(self.downloadStarted)
                keeper.finished.connect(self.downloadFinished)
                self._downloaders.append(keeper)
            else:
                profile = remote_view_profile(self)
            self._profiles[is_browser] = profile
        return self._profiles[is_browser]

    @property
    def page(self) -> HandoffPage:
        page = self.web_view.page()
        assert isinstance(page, HandoffPage)
        return page

    # -- content -------------------------------------------------------------------------------

    def load_start_page(self, url: str = "") -> None:
        if url:
            self.show_page(url)
            return
        # At about:blank: browser-use counts only http(s) and about:blank pages as tabs; with a
        # file:// or data: start page it would open an about:blank "tab" of its own, which in
        # QtWebEngine replaces this page.
        self.web_view.setHtml((self._resources / "start.html").read_text(encoding="utf-8"), QUrl("about:blank"))

    def show_page(self, url: str) -> None:
        self.web_view.setUrl(QUrl(url))

    def show_remote(self, url: str) -> None:
        self.page.pin_to(url)
        self.show_page(url)

    def show_placeholder(self, text: str) -> None:
        """Cloud: say ``text`` in the view instead of a page (this also drops the previous live view:
        it is a credential and keeps streaming otherwise). Local: the browser stays on screen."""
        if self.is_browser:
            return
        import html

        body = "<br>".join(html.escape(line) for line in text.splitlines())
        self.web_view.setHtml(PLACEHOLDER_PAGE.format(body), QUrl("about:blank"))

    def browser_page(self) -> HandoffPage | None:
        """The Local browser's page while it is on screen (what the agent reads), else None."""
        page = self.web_view.page()
        return page if isinstance(page, HandoffPage) and page.is_browser else None

    def forget_site_data(self) -> str:
        """Cookies, cache and history go now; other site storage at the next start (it is in use)."""
        parked, self._parked_browser_page = self._parked_browser_page, None
        if parked is not None:
            parked.deleteLater()  # its page and session storage would outlive the wipe
        profile = self._profiles.get(True)
        if profile is not None:
            profile.cookieStore().deleteAllCookies()
            profile.clearHttpCache()
            profile.clearAllVisitedLinks()
        schedule_profile_wipe(self._browser_storage)
        return (
            "Site data forgotten: you are logged out of every site. "
            "Remaining stored site data is removed the next time Handoff starts."
        )

    # -- locking -------------------------------------------------------------------------------

    def set_locked(self, locked: bool, message: str = "", *, offer_take_over: bool = True) -> None:
        if locked:
            self.shield.set_message(message, offer_take_over=offer_take_over)
            self.shield.setGeometry(self._page_area.rect())
            self.shield.show()
            self.shield.raise_()
            self.web_view.setEnabled(False)
            self.bar.setEnabled(False)
            if self.window().isActiveWindow():
                self.shield.setFocus()
        else:
            if self._shield is not None:
                self._shield.hide()
            self.web_view.setEnabled(True)
            self.bar.setEnabled(True)

    @property
    def locked(self) -> bool:
        return self._shield is not None and self._shield.isVisible()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._page_area and self._shield is not None and event.type() == QEvent.Type.Resize:
            self._shield.setGeometry(self._page_area.rect())
        return super().eventFilter(watched, event)


def make_live_view(paths: Paths, *, is_browser: bool | None = None, session: int = 1) -> LiveView:
    """``session``: the window's session number (each has its own browser profile)."""
    storage, cache = paths.session_browser_profile(session)
    view = LiveView(resources=resources_dir(), browser_storage=storage, browser_cache=cache, downloads=paths.downloads)
    if is_browser is not None:
        view.configure(is_browser=is_browser)
    return view
