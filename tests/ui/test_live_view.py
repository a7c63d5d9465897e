"""The live view, on real QtWebEngine pages: containment, locking, and lazy thumbnails."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QUrl

from desktop_app.core import timeline as tl
from desktop_app.core.ports import StepReport
from desktop_app.system.paths import Paths, resources_dir
from desktop_app.ui.live_view import LiveView, address_to_url
from desktop_app.ui.timeline_view import TimelineView
from tests.fakes.cloud_server import FakeCloud, FakeSession
from tests.fakes.site import SiteServer
from tests.helpers import wait_until
from tests.ui.conftest import dispose
from tests.ui.web import js, type_into, type_into_field
from tests.ui.web import load as load_url


@pytest.fixture
def live_view(paths: Paths, qtbot) -> Iterator[LiveView]:
    view = LiveView(
        resources=resources_dir(),
        browser_storage=paths.browser_profile,
        browser_cache=paths.browser_cache,
        downloads=paths.downloads,
    )
    view.resize(900, 600)
    view.show()
    yield view
    dispose(view)


async def load(view: LiveView, url: str) -> None:
    assert await load_url(view.web_view, url)


def test_permission_requests_are_denied_and_said(live_view: LiveView, site: SiteServer, qrun) -> None:
    live_view.configure(is_browser=True)
    blocked: list[str] = []
    live_view.pageBlocked.connect(blocked.append)

    async def scenario() -> None:
        await load(live_view, site.url("permissions.html"))
        web = live_view.web_view
        await wait_until(lambda: js_cached(web, "geo") != "pending", what="the geolocation answer")
        assert js_cached(web, "geo") == "denied:1"
        assert await js(web, "document.getElementById('notify').textContent") in ("denied", "default", "pending")
        assert await js(web, "Notification.permission") != "granted"
        await wait_until(lambda: blocked, what="the blocked notice")

    cache: dict[str, str] = {}

    def js_cached(web, element_id: str) -> str:
        web.page().runJavaScript(f"document.getElementById('{element_id}').textContent", 0, lambda v: cache.__setitem__(element_id, v))
        return cache.get(element_id, "pending")

    qrun(scenario())
    assert "Handoff did not let 127.0.0.1 know your location." in blocked


def test_a_remote_live_view_stays_put(live_view: LiveView, qrun) -> None:
    live_view.configure(is_browser=False)
    blocked: list[str] = []
    live_view.pageBlocked.connect(blocked.append)
    with FakeCloud() as cloud:
        token = "tok-" + "x" * 40
        cloud.sessions["s1"] = FakeSession(id="s1", token=token, started_at=datetime.now(UTC), live_url_after=0)
        live = f"{cloud.origin}/live/s1?token={token}"

        async def scenario() -> None:
            live_view.show_remote(live)
            await wait_until(lambda: live_view.web_view.url().toString() == live and not live_view.web_view.page().isLoading())
            await js(live_view.web_view, "document.getElementById('popup').click()")
            await js(live_view.web_view, "window.open('http://127.0.0.1:9/popup')")  # loopback: nothing leaves the machine
            await js(live_view.web_view, "location.href = 'http://127.0.0.1:9/elsewhere'")
            await asyncio.sleep(0.3)  # give a navigation that should not happen the time to happen
            await wait_until(lambda: not live_view.web_view.page().isLoading())

        qrun(scenario())
        assert live_view.web_view.url().toString() == live
        assert any("tried to open a new window" in text for text in blocked)


def test_the_local_browser_opens_new_windows_in_the_same_view(live_view: LiveView, site: SiteServer, qrun) -> None:
    live_view.configure(is_browser=True)

    async def scenario() -> None:
        await load(live_view, site.url("links.html"))
        await js(live_view.web_view, "document.getElementById('popup').click()")
        await wait_until(lambda: live_view.web_view.url().toString() == site.url("form.html"), what="the popup in the same view")

    qrun(scenario())
    assert live_view.bar.address.text() == site.url("form.html")


def test_the_local_page_is_kept_across_a_trip_to_cloud(live_view: LiveView, site: SiteServer, qrun) -> None:
    live_view.configure(is_browser=True)

    async def scenario() -> None:
        await load(live_view, site.url("form.html"))
        await type_into_field(live_view.web_view, "name", "Ada")
        local_page = live_view.web_view.page()
        live_view.configure(is_browser=False)
        assert live_view.web_view.page() is not local_page and not live_view.bar.isVisible()
        heard: list[str] = []
        live_view.pageBlocked.connect(heard.append)
        local_page.blocked.emit("from the hidden page")  # a page out of sight does not speak for the view
        assert heard == []
        live_view.configure(is_browser=True)
        assert live_view.web_view.page() is local_page
        local_page.blocked.emit("from the page on screen")
        assert heard == ["from the page on screen"]
        assert await js(live_view.web_view, "document.getElementById('name').value") == "Ada"

    qrun(scenario())
    assert live_view.web_view.url().toString() == site.url("form.html")
    assert live_view.bar.address.text() == site.url("form.html")


def test_forgetting_site_data_drops_the_hidden_local_page(live_view: LiveView, site: SiteServer, qrun) -> None:
    live_view.configure(is_browser=True)

    async def scenario() -> None:
        await load(live_view, site.url("form.html"))

    qrun(scenario())
    local_page = live_view.web_view.page()
    live_view.configure(is_browser=False)
    live_view.forget_site_data()
    live_view.configure(is_browser=True)
    assert live_view.web_view.page() is not local_page  # a fresh page at the start page, not the old one
    assert live_view.web_view.url().toString() in ("", "about:blank")


def test_the_local_browser_blocks_local_files_outside_its_resources(live_view: LiveView, qrun, tmp_path) -> None:
    secret = tmp_path / "secret.html"
    secret.write_text("<title>secret</title>")
    live_view.configure(is_browser=True)

    async def scenario() -> None:
        await wait_until(lambda: live_view.web_view.title() == "Handoff" and not live_view.web_view.page().isLoading(), what="the start page")
        live_view.web_view.setUrl(QUrl.fromLocalFile(str(secret)))
        await wait_until(lambda: not live_view.web_view.page().isLoading())

    qrun(scenario())
    assert live_view.web_view.title() != "secret"


def test_locking_swallows_keys_and_clicks(live_view: LiveView, site: SiteServer, qrun) -> None:
    live_view.configure(is_browser=True)

    async def scenario() -> None:
        await load(live_view, site.url("form.html"))
        await js(live_view.web_view, "document.getElementById('name').focus()")
        live_view.set_locked(True, "Agent is working — Take over (Ctrl+T)")
        assert live_view.shield.isVisible() and live_view.shield.geometry() == live_view._page_area.rect()
        type_into(live_view.web_view, "blocked")
        assert await js(live_view.web_view, "document.getElementById('name').value") == ""
        live_view.set_locked(False)
        await type_into_field(live_view.web_view, "name", "Grace")

    qrun(scenario())


def test_the_live_url_is_never_logged_whole(live_view: LiveView, qrun, caplog) -> None:
    live_view.configure(is_browser=False)
    token = "tok" + "q" * 40
    live = f"http://127.0.0.1:9/live/x?token={token}"
    caplog.set_level(logging.DEBUG)

    async def scenario() -> None:
        live_view.show_remote(live)
        live_view.web_view.page().acceptNavigationRequest(QUrl(f"http://127.0.0.2:9/?token={token}"), live_view.web_view.page().NavigationType.NavigationTypeTyped, True)
        await wait_until(lambda: True)

    qrun(scenario())
    assert token not in caplog.text


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("example.com", "http://example.com"),
        ("https://example.com/a?b=1", "https://example.com/a?b=1"),
        ("localhost:8000", "http://localhost:8000"),
        ("cheap flights to rome", "https://duckduckgo.com/?q=cheap%20flights%20to%20rome"),
        ("javascript:alert(1)", "https://duckduckgo.com/?q=javascript%3Aalert%281%29"),
    ],
)
def test_the_address_bar_understands_addresses_and_searches(typed: str, expected: str) -> None:
    url = address_to_url(typed)
    assert url is not None and url.toEncoded().data().decode() == expected


def test_thumbnails_load_only_for_rows_that_are_shown(qtbot, qrun) -> None:
    with FakeCloud() as cloud:
        timeline = TimelineView()
        timeline.resize(400, 300)
        timeline.show()
        qtbot.addWidget(timeline)
        for number in range(1, 61):
            step = StepReport("t", number, f"Goal {number}", "https://example.com", screenshot_url=f"{cloud.origin}/screenshots/t/{number}.png")
            timeline.add(tl.AgentStep(at=time.time(), session_id="s", step=step))

        async def scenario() -> None:
            await wait_until(lambda: timeline.thumbnails.requested, what="the first thumbnails")
            await wait_until(lambda: all(timeline.thumbnails.get(u) is not None for u in timeline.thumbnails.requested))

        qrun(scenario())
        shown = len(timeline.thumbnails.requested)
        assert 0 < shown < 20, shown  # the view follows the newest rows: only those were fetched
        assert timeline.thumbnails.requested[-1].endswith("/60.png")
        timeline.scrollToTop()

        async def scrolled() -> None:
            await wait_until(lambda: any(u.endswith("/1.png") for u in timeline.thumbnails.requested), what="scrolled rows")

        qrun(scrolled())
        assert len(timeline.thumbnails.requested) < 60


def test_an_address_with_spaces_shows_encoded(live_view: LiveView, site: SiteServer, qrun) -> None:
    live_view.configure(is_browser=True)

    async def scenario() -> None:
        await load(live_view, site.url("form.html") + "?q=blue mug")

    qrun(scenario())
    assert live_view.bar.address.text() == site.url("form.html") + "?q=blue%20mug"
