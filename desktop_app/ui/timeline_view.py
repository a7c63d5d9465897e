"""The timeline list: steps, handoffs, results, problems — newest at the bottom.

Screenshot thumbnails load lazily: a row's image is fetched the first time the row is painted,
so a long run never downloads images nobody scrolls to.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, QRect, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPixmap
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from desktop_app.core import timeline as tl

ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1
THUMB_SIZE = QSize(72, 45)
_CACHE_LIMIT = 300

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
    if isinstance(entry, (tl.AgentStep, tl.TaskStarted, tl.TaskFinished)):
        return COLORS["agent"]
    return COLORS["session"]


class TimelineModel(QAbstractListModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.entries: list[tl.Entry] = []

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
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self.entries.clear()
        self.endResetModel()

    def rows_with_screenshot(self, url: str) -> list[int]:
        return [
            row for row, e in enumerate(self.entries) if isinstance(e, tl.AgentStep) and e.step.screenshot_url == url
        ]


class ThumbnailCache(QObject):
    loaded = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._network = QNetworkAccessManager(self)
        self._pixmaps: OrderedDict[str, QPixmap] = OrderedDict()
        self._pending: set[str] = set()
        self._failed: set[str] = set()
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
        if qurl.isLocalFile():
            self._store(url, QPixmap(qurl.toLocalFile()))
            return
        if qurl.scheme() not in ("http", "https"):
            self._failed.add(url)
            return
        self._pending.add(url)
        reply = self._network.get(QNetworkRequest(qurl))
        reply.finished.connect(lambda: self._on_reply(url, reply))

    def _on_reply(self, url: str, reply: QNetworkReply) -> None:
        self._pending.discard(url)
        pixmap = QPixmap()
        if reply.error() == QNetworkReply.NetworkError.NoError:
            pixmap.loadFromData(reply.readAll().data())
        reply.deleteLater()
        self._store(url, pixmap)

    def _store(self, url: str, pixmap: QPixmap) -> None:
        if pixmap.isNull():
            self._failed.add(url)
            return
        self._pixmaps[url] = pixmap.scaled(THUMB_SIZE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        while len(self._pixmaps) > _CACHE_LIMIT:
            self._pixmaps.popitem(last=False)
        self.loaded.emit(url)


class TimelineDelegate(QStyledItemDelegate):
    def __init__(self, thumbnails: ThumbnailCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        entry: tl.Entry = index.data(ENTRY_ROLE)
        metrics = QFontMetrics(option.font)
        lines = 1 + (min(2, 1 + len(entry.detail) // 60) if entry.detail else 0)
        height = max(metrics.height() * lines + 14, THUMB_SIZE.height() + 10 if _screenshot(entry) else 0)
        return QSize(200, height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        entry: tl.Entry = index.data(ENTRY_ROLE)
        painter.save()
        rect = option.rect
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, option.palette.highlight().color().lighter(170))
        painter.fillRect(QRect(rect.left(), rect.top() + 3, 4, rect.height() - 6), entry_color(entry))
        left = rect.left() + 12
        url = _screenshot(entry)
        if url:
            pixmap = self._thumbnails.get(url)
            frame = QRect(left, rect.top() + 5, THUMB_SIZE.width(), THUMB_SIZE.height())
            if pixmap is not None:
                painter.drawPixmap(frame.topLeft(), pixmap)
            else:
                painter.fillRect(frame, QColor("#e6e8ee"))
            left = frame.right() + 8
        stamp = time.strftime("%H:%M:%S", time.localtime(entry.at))
        metrics = QFontMetrics(option.font)
        stamp_width = metrics.horizontalAdvance(stamp) + 8
        text_rect = QRect(left, rect.top() + 5, rect.right() - left - stamp_width, rect.height() - 10)
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(option.palette.text().color())
        title = QFontMetrics(bold).elidedText(entry.title, Qt.TextElideMode.ElideRight, text_rect.width())
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, title)
        if entry.detail:
            painter.setFont(option.font)
            painter.setPen(option.palette.placeholderText().color())
            detail_rect = text_rect.adjusted(0, metrics.height() + 2, 0, 0)
            painter.drawText(detail_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap, entry.detail)
        painter.setFont(option.font)
        painter.setPen(option.palette.placeholderText().color())
        painter.drawText(QRect(rect.right() - stamp_width, rect.top() + 5, stamp_width - 4, metrics.height()), Qt.AlignmentFlag.AlignRight, stamp)
        painter.restore()


def _screenshot(entry: tl.Entry) -> str | None:
    return entry.step.screenshot_url if isinstance(entry, tl.AgentStep) else None


class TimelineView(QListView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeline")
        self.setAccessibleName("Timeline")
        self.timeline_model = TimelineModel(self)
        self.thumbnails = ThumbnailCache(self)
        self.setModel(self.timeline_model)
        self.setItemDelegate(TimelineDelegate(self.thumbnails, self))
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setUniformItemSizes(False)
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.thumbnails.loaded.connect(self._thumbnail_loaded)

    def add(self, entry: tl.Entry) -> None:
        scroll = self.verticalScrollBar()
        follow = scroll.value() >= scroll.maximum() - 4
        if isinstance(entry, tl.SessionStarted):
            self.timeline_model.clear()
        self.timeline_model.append(entry)
        if follow:
            self.scrollToBottom()

    def show_earlier(self, entries: list[tl.Entry]) -> None:
        """Put what the history holds before the current rows (a reattached session)."""
        current = list(self.timeline_model.entries)
        earlier = [e for e in entries if e not in current]  # the history also holds what is shown
        self.timeline_model.clear()
        for entry in [*earlier, *current]:
            self.timeline_model.append(entry)
        self.scrollToBottom()

    def _thumbnail_loaded(self, url: str) -> None:
        for row in self.timeline_model.rows_with_screenshot(url):
            index = self.timeline_model.index(row)
            self.timeline_model.dataChanged.emit(index, index)
