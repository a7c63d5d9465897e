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
