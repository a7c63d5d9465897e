"""The local browser itself: downloads, site data that persists and can be forgotten, containment."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from desktop_app.core.control import Control
from tests.fakes import scripted_llm as sl
from tests.helpers import wait_until
from tests.ui.actions import click
from tests.ui.web import js, load


async def browse(window, url: str) -> None:
    assert await load(window.live_view.web_view, url)


def test_downloads_go_to_the_downloads_folder_with_a_notice(local_services, site, make_window, qrun) -> None:
    window = make_window(local_services)
    shown: list[str] = []
    original = window.banner.show_notice
    window.banner.show_notice = lambda notice, **how: (shown.append(notice.text), original(notice, **how))  # type: ignore[method-assign]

    async def scenario() -> None:
        await browse(window, site.url("downloads.html"))
        await js(window.live_view.web_view, "document.getElementById('report').click()")
        await wait_until(lambda: window.banner.message.startswith("Downloaded report.txt"), what="the finished notice")

    qrun(scenario())
    assert shown[0] == f"Downloading report.txt to {local_services.paths.downloads}"
    assert window.banner.message == f"Downloaded report.txt to {local_services.paths.downloads}"
    assert window.banner.action_button.isVisible() and window.banner.action_button.text() == "Open folder"
    saved = local_services.paths.downloads / "report.txt"
    assert saved.read_text() == "quarterly numbers\n"


def test_site_logins_persist_and_can_be_forgotten(local_services, site, make_window, qrun) -> None:
    window = make_window(local_services)
    view = window.live_view.web_view

    async def scenario() -> None:
        await browse(window, site.url("login"))
        await browse(window, site.url("whoami"))
        assert await js(view, "document.getElementById('who').textContent") == "Logged in as: ada"
        cleared = asyncio.get_running_loop().create_future()
        profile = window.live_view._profiles[True]
        profile.clearHttpCacheCompleted.connect(lambda: cleared.done() or cleared.set_result(True))
        message = window.live_view.forget_site_data()
        assert "logged out" in message
        await asyncio.wait_for(cleared, 10)
        await browse(window, site.url("whoami?again"))
        assert await js(view, "document.getElementById('who').textContent") == "Logged in as: nobody"

    qrun(scenario())
    assert site.submissions[-1] == {"path": "/whoami", "cookie": ""}
    assert (local_services.paths.browser_profile / ".forget-site-data").exists()  # the rest goes at the next start


def test_the_profile_wipe_happens_before_the_profile_opens(paths, qapp) -> None:
    from desktop_app.ui.web_page import browser_profile, schedule_profile_wipe

    storage, cache = paths.browser_profile, paths.browser_cache
    storage.mkdir(parents=True)
    (storage / "Cookies").write_text("old cookies")
    schedule_profile_wipe(storage)
    profile = browser_profile(storage, cache, qapp)
    try:
        assert not (storage / "Cookies").exists() and not (storage / ".forget-site-data").exists()
        assert profile.persistentStoragePath() == str(storage)
    finally:
        profile.deleteLater()


def test_choosing_cloud_in_a_local_run_offers_a_restart_and_never_shows_cloud_here(local_services, make_window, qrun) -> None:
    # This run's DevTools port is open (Local): a Cloud live view here would be listed on it.
    window = make_window(local_services)
    selector = window.task_panel.backend_selector
    selector.setCurrentIndex(selector.findData("cloud"))
    selector.activated.emit(selector.currentIndex())
    assert window.banner.message == (
        "Browser Use Cloud needs Handoff to restart: in a Local run other programs on this computer could reach "
        "the built-in browser's control port, and through it the Cloud live view."
    )
    assert window.banner.action_button.text() == "Restart Handoff"
    assert local_services.backend_kind == "local" and window.live_view.bar.isVisible()
    assert selector.currentData() == "local"  # the list shows the mode in use
    assert local_services.settings_store.load().backend == "cloud"  # the next start is in the mode chosen

    async def scenario() -> None:
        click(window.banner.action_button)
        await window.closed

    qrun(scenario())
    assert window.restart_backend == "cloud"  # app.py starts Handoff again in it


class ConnectionRecorder:
    """Every connect and name lookup made from Python while a local run goes on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.addresses: list[Any] = []
        self.lookups: list[str] = []
        real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
        real_getaddrinfo = socket.getaddrinfo

        def connect(sock: socket.socket, address: Any) -> Any:
            self.addresses.append(address)
            return real_connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> Any:
            self.addresses.append(address)
            return real_connect_ex(sock, address)

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            self.lookups.append(host)
            return real_getaddrinfo(host, *args, **kwargs)

        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    def outside_loopback(self) -> list[Any]:
        outside = []
        for address in self.addresses:
            host = address[0] if isinstance(address, tuple) else address
            if isinstance(host, str) and host.startswith("/"):
                continue  # a Unix socket
            try:
                if not ipaddress.ip_address(host).is_loopback:
                    outside.append(address)
            except ValueError:
                outside.append(address)
        outside += [h for h in self.lookups if h not in ("127.0.0.1", "localhost", "::1", None)]
        return outside


def test_a_local_run_connects_to_nothing_but_loopback(local_services, agent_in_thread, install, site, make_window, qrun, monkeypatch) -> None:
    recorder = ConnectionRecorder(monkeypatch)
    install(sl.ScriptedModel([sl.navigate(site.url("form.html")), sl.type_text("id=name", "Ada"), sl.done("Typed")]))
    window = make_window(local_services)
    controller = local_services.controller

    async def scenario() -> None:
        window.task_panel.task_input.setPlainText("Type my name")
        QTest.mouseClick(window.task_panel.run_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: controller.state is Control.AGENT, timeout=30)
        await wait_until(lambda: controller.state is Control.IDLE, timeout=60, what="the run to finish")
        assert await controller.stop_session().done

    qrun(scenario(), timeout=90)
    assert recorder.addresses, "the recorder saw nothing: it is not hooked in"
    assert recorder.outside_loopback() == []


def test_the_start_page_stays_when_the_agent_connects(local_services, make_window, qrun) -> None:
    window = make_window(local_services)
    view = window.live_view.web_view

    async def scenario() -> None:
        await wait_until(lambda: view.title() == "Handoff" and not view.page().isLoading(), what="the start page")
        assert await local_services.controller.new_session().done
        await asyncio.sleep(1.0)  # browser-use's watchdogs have had their chance to replace the page

    qrun(scenario())
    assert view.title() == "Handoff" and view.url().toString() == "about:blank"
    assert window.live_view.bar.address.text() == ""


def test_the_page_shown_before_the_panel_is_attached_keeps_working(local_services, site, qrun) -> None:
    """As at startup: the frame and its page first, the task panel (and its splitter) after."""
    from desktop_app.ui.live_view import make_live_view
    from desktop_app.ui.main_window import PANEL_WIDTH, MainWindow
    from tests.ui.conftest import dispose
    from tests.ui.web import type_into_field

    window = MainWindow(make_live_view(local_services.paths, is_browser=True))
    window.show()
    view = window.live_view.web_view

    async def before() -> None:
        await browse(window, site.url("form.html"))
        await js(view, "window.keptAcrossAttach = 'yes'")

    qrun(before())
    page_width = view.width()
    page_top = view.mapTo(window, QPoint(0, 0)).y()
    window.attach(local_services, interactive=False)

    async def after() -> None:
        assert window.live_view.parent() is window.splitter
        assert await js(view, "window.keptAcrossAttach") == "yes"  # the same page, not reloaded
        await type_into_field(view, "name", "Ada")
        assert await js(view, "document.getElementById('name').value") == "Ada"
        await window.close_gracefully()

    try:
        qrun(after())
        assert abs(view.width() - page_width) <= 8  # the page did not jump when the panel arrived
        assert view.mapTo(window, QPoint(0, 0)).y() == page_top  # nor move down (one session: no tab bar)
        assert window.task_panel.width() >= PANEL_WIDTH - 8
    finally:
        local_services.close()
        dispose(window)


def test_hand_back_after_typing_card_details_says_they_stay_hidden(local_services, site, make_window, qrun) -> None:
    from tests.ui.actions import click, open_question
    from tests.ui.web import type_into_field

    window = make_window(local_services, interactive=True)
    controller = local_services.controller
    panel = window.task_panel
    view = window.live_view.web_view

    async def scenario() -> None:
        assert await controller.new_session().done
        assert await controller.take_over().done and controller.state is Control.HUMAN
        assert panel.privacy_hint.isVisible() and "stay hidden from the agent" in panel.privacy_hint.text()
        await browse(window, site.url("checkout.html"))
        await type_into_field(view, "card", "4111 1111 1111 1111")
        await type_into_field(view, "name", "Ada Lovelace")
        click(panel.hand_back_button)
        await wait_until(lambda: controller.state is not Control.HUMAN, what="the hand back")
        assert open_question() is None  # nothing to ask: both fields are hidden
        assert window.banner.message == "The 2 fields you filled stay hidden from the agent."

    qrun(scenario())


def test_hand_back_asks_when_the_page_cannot_be_checked(local_services, site, make_window, qrun) -> None:
    from tests.ui.actions import answer_question, click, open_question

    window = make_window(local_services, interactive=True)
    controller = local_services.controller

    class Unanswering:
        async def inspect(self) -> None:
            await asyncio.sleep(60)  # a page that never answers

    async def scenario() -> None:
        assert await controller.new_session().done
        assert await controller.take_over().done
        await browse(window, site.url("checkout.html"))
        local_services.privacy.attach_inspector(Unanswering())
        click(window.task_panel.hand_back_button)
        box = await wait_until(open_question, timeout=10, what="the question")
        assert "could not check every part of this page" in box.text()
        assert answer_question("Keep control")
        await asyncio.sleep(0.2)
        assert controller.state is Control.HUMAN  # nothing was handed back
        click(window.task_panel.hand_back_button)
        await wait_until(lambda: answer_question("Hand back"), timeout=10, what="the question again")
        await wait_until(lambda: controller.state is not Control.HUMAN, what="the hand back")

    qrun(scenario(), timeout=60)


def test_without_dialogs_an_unconfirmed_page_keeps_control_and_says_why(local_services, site, make_window, qrun) -> None:
    from desktop_app.core.events import PrivacyDecision

    window = make_window(local_services)  # --no-err-windows: no dialog may open
    controller = local_services.controller
    decisions: list[PrivacyDecision] = []
    local_services.bus.subscribe(lambda event: isinstance(event, PrivacyDecision) and decisions.append(event))

    class Broken:
        async def inspect(self) -> None:
            raise RuntimeError("renderer gone")

    async def scenario() -> None:
        assert await controller.new_session().done
        assert await controller.take_over().done
        local_services.privacy.attach_inspector(Broken())
        window.actions.hand_back("", "")
        await asyncio.sleep(0.3)

    qrun(scenario())
    assert controller.state is Control.HUMAN
    assert "could not check every part of this page" in window.banner.message
    asked = [d for d in decisions if d.event == "hand_back_question"]
    assert [(d.fields["answer"], d.fields["asked"]) for d in asked] == [("keep_control", False)]  # logged by event_log


SET_FIELD = """
(() => {{
  const el = {where}.getElementById('{id}');
  el.value = {value!r};
  return el.value;
}})()
"""


@pytest.mark.parametrize(
    ("field", "value", "hidden"),
    [
        # Filled by the page's own script (not typed): hidden only when the field is for a secret.
        ("search", "gift cards for mum", False),
        ("phone", "+44 20 7946 0958", False),
        ("plain", "Leave it with the neighbour", False),
        ("shown_password", "hunter2", True),  # autocomplete=current-password
        ("security", "123", True),  # named securityCode
        ("shadow_pw", "hunter2", True),  # a password inside shadow DOM
    ],
)
def test_secret_fields_are_hidden_whoever_filled_them(local_services, site, make_window, qrun, field, value, hidden) -> None:
    window = make_window(local_services)
    view = window.live_view.web_view

    async def scenario() -> list[str]:
        await browse(window, site.url("secrets.html"))
        where = "document.getElementById('host').shadowRoot" if field == "shadow_pw" else "document"
        assert await js(view, SET_FIELD.format(where=where, id=field, value=value)) == value
        masks = await local_services.privacy.read(why="test")
        assert masks is not None and masks.confirmed
        return [f.value for f in masks.fields]

    assert qrun(scenario()) == ([value] if hidden else [])


def test_any_field_the_person_types_into_is_hidden_until_cleared(local_services, site, make_window, qrun) -> None:
    from tests.ui.web import type_into_field

    window = make_window(local_services)
    view = window.live_view.web_view

    async def scenario() -> tuple[list[str], list[str]]:
        await browse(window, site.url("secrets.html"))  # read-only, pre-filled, checkbox, radio: none typed
        before = await local_services.privacy.read(why="test")
        await type_into_field(view, "plain", "Leave it with the neighbour")
        typed = await local_services.privacy.read(why="test")
        await js(view, "document.getElementById('plain').value = ''")
        cleared = await local_services.privacy.read(why="test")
        return [f.label for f in before.fields], [f.label for f in typed.fields], [f.label for f in cleared.fields]

    assert qrun(scenario()) == ([], ["note"], [])  # no label on the page: its name
