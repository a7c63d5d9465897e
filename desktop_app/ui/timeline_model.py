"""What the timeline list holds: its entries as a Qt model, their colours, and the screenshot
thumbnails, loaded lazily (the first time a row is painted) off the window's thread and kept in a
small cache, so a long run never downloads images nobody scrolls to."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QImage, QPixmap

from desktop_app.core import timeline as tl

ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1
THUMB_SIZE = QSize(72, 45)
_CACHE_LIMIT = 300
MAX_SCREENSHOT_BYTES = 20 * 2**20  # a provider's screenshot, read no further

COLORS = {
    "agent": QColor("#3b6fd8"),
    "person": QColor("#1f9d55"),
    "problem": QColor("#d64545"),
    "session": QColor("#8a8f98"),
}


def entry_color(entry: tl.Entry) -> QColor:
    if isinstance(entry, tl.Handoff) and entry.fault:
        return COLORS["problem"]
    if isinstance(entry, tl.Handoff):
        return {tl.Actor.PERSON: COLORS["person"], tl.Actor.AGENT: COLORS["agent"]}.get(entry.to, COLORS["session"])
    if isinstance(entry, tl.Incident):
        return COLORS["problem"]
    if isinstance(entry, tl.TaskFinished) and entry.result.success is False:
        return COLORS["problem"]
    if isinstance(entry, tl.AgentStep) and entry.step.error:
        return COLORS["problem"]
    if isinstance(entry, (tl.AgentStep, tl.TaskStarted, tl.TaskFinished)):
        return COLORS["agent"]
    return COLORS["session"]


class TimelineModel(QAbstractListModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.entries: list[tl.Entry] = []
        self._rows_by_screenshot: dict[str, list[int]] = {}  # a loaded thumbnail repaints only its rows

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.entries)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.entries):
            return None
        entry = self.entries[index.row()]
        if role == ENTRY_ROLE:
            return entry
        if role == Qt.ItemDataRole.DisplayRole:
            return entry.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return entry.detail or entry.title
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{entry.title}. {entry.detail}".strip()
        return None

    def append(self, entry: tl.Entry) -> None:
        row = len(self.entries)
        self.beginInsertRows(QModelIndex(), row, row)
        self.entries.append(entry)
        self._index_screenshots(row, [entry])
        self.endInsertRows()

    def extend(self, entries: list[tl.Entry]) -> None:
        """Many rows in one insertion (a long history): one layout pass, not one per row."""
        if not entries:
            return
        row = len(self.entries)
        self.beginInsertRows(QModelIndex(), row, row + len(entries) - 1)
        self.entries.extend(entries)
        self._index_screenshots(row, entries)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self.entries.clear()
        self._rows_by_screenshot.clear()
        self.endResetModel()

    def _index_screenshots(self, first_row: int, entries: list[tl.Entry]) -> None:
        for row, entry in enumerate(entries, start=first_row):
            url = screenshot_of(entry)
            if url:
                self._rows_by_screenshot.setdefault(url, []).append(row)

    def rows_with_screenshot(self, url: str) -> list[int]:
        return list(self._rows_by_screenshot.get(url, ()))


class ThumbnailCache(QObject):
    """Step screenshots, small, for the rows on screen. Fetched, decoded and scaled in a worker
    thread (a full-size PNG is ~30 ms to decode; Qt's network manager blocks the window for
    seconds on its first request here); only the small result is made a pixmap on the window's
    thread."""

    loaded = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pixmaps: OrderedDict[str, QPixmap] = OrderedDict()
        self._pending: set[str] = set()
        self._failed: set[str] = set()
        self._work: set[asyncio.Task[None]] = set()
        self.requested: list[str] = []  # what was fetched, in order (tests check laziness)

    def get(self, url: str) -> QPixmap | None:
        if url in self._pixmaps:
            self._pixmaps.move_to_end(url)
            return self._pixmaps[url]
        if url not in self._pending and url not in self._failed:
            self._fetch(url)
        return None

    def _fetch(self, url: str) -> None:
        qurl = QUrl(url)
        self.requested.append(url)
        if not qurl.isLocalFile() and qurl.scheme() not in ("http", "https"):
            self._failed.add(url)
            return
        path = qurl.toLocalFile() if qurl.isLocalFile() else None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop runs (a plain Qt test): load here and now
            self._store(url, _pixmap(url, path))
            return
        self._pending.add(url)
        task = loop.create_task(self._load(url, path))
        self._work.add(task)
        task.add_done_callback(self._work.discard)

    async def _load(self, url: str, path: str | None) -> None:
        try:
            image = await asyncio.to_thread(_small_image, url, path)
        except Exception:  # noqa: BLE001 — a thumbnail that cannot be had is simply not shown
            image = QImage()
        finally:
            self._pending.discard(url)
        self._store(url, QPixmap.fromImage(image))

    def _store(self, url: str, pixmap: QPixmap) -> None:
        if pixmap.isNull():
            self._failed.add(url)
            return
        self._pixmaps[url] = pixmap
        while len(self._pixmaps) > _CACHE_LIMIT:
            self._pixmaps.popitem(last=False)
        self.loaded.emit(url)




def _pixmap(url: str, path: str | None) -> QPixmap:
    try:
        return QPixmap.fromImage(_small_image(url, path))
    except Exception:  # noqa: BLE001 — a thumbnail that cannot be had is simply not shown
        return QPixmap()


def _small_image(url: str, path: str | None) -> QImage:
    """In a worker thread: read or download the screenshot, decode and scale it (QImage, unlike
    QPixmap, may be used off the window's thread)."""
    if path is not None:
        data = Path(path).read_bytes()
    else:
        import urllib.request

        with urllib.request.urlopen(url, timeout=15.0) as answer:  # noqa: S310 (http(s) only, checked above)
            data = answer.read(MAX_SCREENSHOT_BYTES)
    image = QImage.fromData(data)
    if image.isNull():
        raise ValueError("not an image")
    return image.scaled(THUMB_SIZE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)


def screenshot_of(entry: tl.Entry) -> str | None:
    return entry.step.screenshot_url if isinstance(entry, tl.AgentStep) else None
