"""The banner: asides (downloads, blocked pop-ups) never push aside a warning not yet dismissed."""

from __future__ import annotations

from desktop_app.core.events import Level, Notice, NoticeAction
from desktop_app.ui.notice_banner import NoticeBanner


def _banner(qtbot) -> NoticeBanner:
    banner = NoticeBanner()
    qtbot.addWidget(banner)
    banner.show()
    return banner


def test_an_aside_waits_behind_a_warning(qtbot) -> None:
    banner = _banner(qtbot)
    banner.show_message("The agent needs you: enter the 2FA code", Level.WARNING)
    banner.show_aside(Notice(Level.INFO, "Downloaded report.txt to /tmp", NoticeAction.OPEN_DOWNLOADS))
    assert banner.message == "The agent needs you: enter the 2FA code"
    banner.close_button.click()
    banner.show_aside(Notice(Level.INFO, "Downloaded report.txt to /tmp", NoticeAction.OPEN_DOWNLOADS))
    assert banner.message == "Downloaded report.txt to /tmp" and banner.action_button.text() == "Open folder"


def test_an_aside_replaces_an_earlier_aside(qtbot) -> None:
    banner = _banner(qtbot)
    banner.show_aside(Notice(Level.INFO, "Downloading a.txt"))
    banner.show_aside(Notice(Level.INFO, "The page tried to open a new window"))
    assert banner.message == "The page tried to open a new window"
