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
