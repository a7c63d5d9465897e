"""Helpers to look into a real QtWebEngine page from a test."""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWebEngineWidgets import QWebEngineView


async def js(view: QWebEngineView, script: str) -> Any:
    result: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    view.page().runJavaScript(script, 0, lambda value: result.done() or result.set_result(value))
    return await asyncio.wait_for(result, 10)


def type_into(view: QWebEngineView, text: str) -> None:
    """Real key events into the view, as a person typing (through the widget, not JavaScript)."""
    target = view.focusProxy() or view
    QTest.keyClicks(target, text)


def press(view: QWebEngineView, key: Qt.Key) -> None:
    QTest.keyClick(view.focusProxy() or view, key)


async def load(view: QWebEngineView, url: str, timeout: float = 15.0) -> bool:
    """Navigate and wait for this URL's own loadFinished (the URL changes before its load starts)."""
    from PySide6.QtCore import QUrl

    finished: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def on_finished(ok: bool) -> None:
        if view.url() == QUrl(url) and not finished.done():
            finished.set_result(ok)

    view.loadFinished.connect(on_finished)
    try:
        view.setUrl(QUrl(url))
        return await asyncio.wait_for(finished, timeout)
    finally:
        view.loadFinished.disconnect(on_finished)


async def type_into_field(view: QWebEngineView, element_id: str, text: str) -> None:
    """Type real key events into a page field, as a person would, once the field really has focus.

    Right after the view is re-enabled, Chromium can still be without keyboard focus and drop the
    first keys; a person would click again, so this focuses, types, checks, and tries once more.
    """
    from tests.helpers import wait_until

    view.window().activateWindow()
    for attempt in range(2):
        view.setFocus()
        await js(view, f"var f = document.getElementById('{element_id}'); f.value = ''; f.focus();")
        await wait_until(lambda: view.focusProxy() is not None and view.focusProxy().hasFocus(), timeout=5, what="keyboard focus")
        focused = await js(view, "document.activeElement && document.activeElement.id")
        if focused == element_id:
            _values.pop((id(view), element_id), None)  # an answer from before the typing must not count
            type_into(view, text)
            try:
                await wait_until(lambda: _value(view, element_id) == text, timeout=5, what="typed text in the page")
                return
            except AssertionError:
                if attempt:
                    raise
        await asyncio.sleep(0.2)
    raise AssertionError(f"the field {element_id!r} never got the keyboard focus (it is now on {focused!r})")


_values: dict[tuple[int, str], Any] = {}


def _value(view: QWebEngineView, element_id: str) -> Any:
    key = (id(view), element_id)
    view.page().runJavaScript(f"document.getElementById('{element_id}').value", 0, lambda v: _values.__setitem__(key, v))
    return _values.get(key)
