"""What the page inspector reports (``core.page_masks.PageInspector``), without a browser: builders for
a page report and its fields, and an inspector that answers with a given report (or fails)."""

from __future__ import annotations

from typing import Any

from desktop_app.core.page_masks import FrameReport


def report(fields: list[dict[str, Any]] = (), frames: list[dict[str, Any]] = (), **extra: Any) -> dict[str, Any]:
    return {"url": "http://shop.test/pay", "dpr": 1, "scroll": [0, 0], "viewport": [800, 600],
            "fields": list(fields), "frames": list(frames), "pressed": [], **extra}


def field(label: str, value: str, times: list[float], rect: list[float] = (10, 20, 200, 30), sensitive: bool = False) -> dict[str, Any]:
    return {"label": label, "value": value, "times": times, "rect": list(rect), "sensitive": sensitive}


class FakeInspector:
    def __init__(self, tree: FrameReport | None | Exception) -> None:
        self.tree = tree

    async def inspect(self) -> FrameReport | None:
        if isinstance(self.tree, Exception):
            raise self.tree
        return self.tree
