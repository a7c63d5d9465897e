"""Reads the Local page for the privacy guard (core/privacy.py): every frame, through the tracker.

The tracker (resources/page_privacy.js) runs in every frame, another site's frames included, in an
isolated script world that neither the page nor the agent's DevTools calls can reach. This module
only carries its reports out, frame by frame; what to hide is decided in core.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWebEngineCore import QWebEngineFrame, QWebEnginePage, QWebEngineScript

from desktop_app.system.paths import resources_dir

# The live view's page installs the tracker before the first page is on screen; reading the page
# comes later. asyncio and core's privacy rules (~40 ms of imports) are not needed for the first.
if TYPE_CHECKING:
    from desktop_app.core.page_masks import FrameReport

WORLD = QWebEngineScript.ScriptWorldId.ApplicationWorld
TRACKER_NAME = "handoff-privacy"
_QUERY = "window.__handoffPrivacy ? window.__handoffPrivacy.report() : null"
FRAME_TIMEOUT = 1.5


@functools.cache
def tracker_source() -> str:
    return (resources_dir() / "page_privacy.js").read_text(encoding="utf-8")


def install_tracker(page: QWebEnginePage) -> None:
    """In every frame of every document from now on, as it is created. Documents that a DevTools
    navigation creates (the agent's "open this address") do not get it: each read starts it there."""
    script = QWebEngineScript()
    script.setName(TRACKER_NAME)
    script.setSourceCode(tracker_source())
    script.setWorldId(WORLD)
    script.setRunsOnSubFrames(True)
    script.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
    page.scripts().insert(script)


class QtPageInspector:
    """``page`` is looked up at each read: the view's page changes with the mode."""

    def __init__(self, page: Callable[[], QWebEnginePage | None]) -> None:
        self._page = page

    async def inspect(self) -> FrameReport | None:
        page = self._page()
        return None if page is None else await self._frame(page.mainFrame())

    async def _frame(self, frame: QWebEngineFrame) -> FrameReport:
        import asyncio

        from desktop_app.core.page_masks import FrameReport

        children = frame.children()
        report, *reports = await asyncio.gather(self._report(frame), *(self._frame(child) for child in children))
        size = frame.size()
        return FrameReport(
            report=report,
            name=frame.htmlName(),
            url=frame.url().toString(),
            size=(size.width(), size.height()),
            children=tuple(reports),
        )

    async def _report(self, frame: QWebEngineFrame) -> dict[str, object] | None:
        try:
            raw = await _run(frame, _QUERY)
            if not raw:  # no tracker in this document yet (null arrives as ""): start it, then ask again
                raw = await _run(frame, f"{tracker_source()}\n;{_QUERY}")
        except TimeoutError:
            return None
        try:
            report = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            return None
        return report if isinstance(report, dict) else None


async def _run(frame: QWebEngineFrame, script: str) -> object:
    import asyncio

    answer: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    frame.runJavaScript(script, WORLD, lambda value: answer.done() or answer.set_result(value))
    return await asyncio.wait_for(answer, FRAME_TIMEOUT)
