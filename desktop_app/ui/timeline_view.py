"""The timeline list: steps, handoffs, results, problems — newest at the bottom.

Screenshot thumbnails load lazily: a row's image is fetched the first time the row is painted,
so a long run never downloads images nobody scrolls to.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPixmap, QResizeEvent, QTextLayout
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QPlainTextEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QWidget,
)

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
            url = _screenshot(entry)
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


DETAIL_LINES = 3  # a row shows this much of an entry's detail; EntryDetail shows all of it
_PADDING = 5


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


def one_line(text: str) -> str:
    """Page text and model output carry newlines and runs of spaces; a row reads better without."""
    return " ".join(text.split())


def wrapped(text: str, font: QFont, width: int, max_lines: int) -> list[str]:
    """``text`` broken into lines of at most ``width`` pixels; the last kept line ends in "…" if cut."""
    metrics = QFontMetrics(font)
    layout = QTextLayout(text, font)
    layout.beginLayout()
    lines: list[str] = []
    while len(lines) < max_lines:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(max(width, 1))
        start = line.textStart()
        if len(lines) == max_lines - 1:
            lines.append(metrics.elidedText(text[start:], Qt.TextElideMode.ElideRight, width))
        else:
            lines.append(text[start : start + line.textLength()].rstrip())
    layout.endLayout()
    return lines


class TimelineDelegate(QStyledItemDelegate):
    """Paints one entry: colour bar, optional thumbnail, bold title, up to three lines of detail, time."""

    def __init__(self, thumbnails: ThumbnailCache, view: QListView) -> None:
        super().__init__(view)
        self._thumbnails = thumbnails
        self._view = view
        self._line_cache: dict[tuple[str, int], list[str]] = {}
        # A row's height, by entry (kept alive here, so its id is not reused) and the list's width:
        # the list lays out every row again whenever rows arrive, and asks each one's size.
        self._size_cache: dict[int, tuple[tl.Entry, int, QSize]] = {}

    def _text_left(self, rect: QRect, entry: tl.Entry) -> int:
        left = rect.left() + 12
        return left + THUMB_SIZE.width() + 8 if _screenshot(entry) else left

    def _detail_lines(self, entry: tl.Entry, font: QFont, width: int) -> list[str]:
        detail = one_line(entry.detail)
        if not detail:
            return []
        key = (detail, width)
        if key not in self._line_cache:
            if len(self._line_cache) > 2000:  # widths change on resize; old layouts are not needed again
                self._line_cache.clear()
            self._line_cache[key] = wrapped(detail, font, width, DETAIL_LINES)
        return self._line_cache[key]

    def _stamp_width(self, metrics: QFontMetrics) -> int:
        return metrics.horizontalAdvance("00:00:00") + 10

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        entry: tl.Entry = index.data(ENTRY_ROLE)
        view_width = self._view.viewport().width()
        cached = self._size_cache.get(id(entry))
        if cached is not None and cached[0] is entry and cached[1] == view_width:
            return QSize(cached[2])
        size = self._measure(entry, option, view_width)
        if len(self._size_cache) > 20_000:  # widths change on resize; old sizes are not needed again
            self._size_cache.clear()
        self._size_cache[id(entry)] = (entry, view_width, size)
        return QSize(size)

    def forget_sizes(self) -> None:
        """The font changed (a style sheet arrived) or the rows were replaced: measure afresh."""
        self._size_cache.clear()
        self._line_cache.clear()

    def _measure(self, entry: tl.Entry, option: QStyleOptionViewItem, view_width: int) -> QSize:
        metrics = QFontMetrics(option.font)
        row = QRect(0, 0, view_width, 0)
        width = row.right() - self._text_left(row, entry) - self._stamp_width(metrics)
        lines = 1 + len(self._detail_lines(entry, option.font, width))
        height = max(metrics.lineSpacing() * lines + 2 * _PADDING + 2, THUMB_SIZE.height() + 2 * _PADDING if _screenshot(entry) else 0)
        return QSize(row.width(), height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        entry: tl.Entry = index.data(ENTRY_ROLE)
        painter.save()
        rect = option.rect
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, option.palette.highlight().color().lighter(170))
        painter.fillRect(QRect(rect.left(), rect.top() + 3, 4, rect.height() - 6), entry_color(entry))
        url = _screenshot(entry)
        if url:
            pixmap = self._thumbnails.get(url)
            frame = QRect(rect.left() + 12, rect.top() + _PADDING, THUMB_SIZE.width(), THUMB_SIZE.height())
            painter.fillRect(frame, QColor("#e6e8ee"))
            if pixmap is not None:  # scaled to fit: centre it in the frame
                painter.drawPixmap(
                    frame.left() + (frame.width() - pixmap.width()) // 2,
                    frame.top() + (frame.height() - pixmap.height()) // 2,
                    pixmap,
                )
        metrics = QFontMetrics(option.font)
        stamp_width = self._stamp_width(metrics)
        left = self._text_left(rect, entry)
        width = rect.right() - left - stamp_width
        top = rect.top() + _PADDING
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(option.palette.text().color())
        title = QFontMetrics(bold).elidedText(one_line(entry.title), Qt.TextElideMode.ElideRight, width)
        painter.drawText(QRect(left, top, width, metrics.lineSpacing()), Qt.AlignmentFlag.AlignLeft, title)
        painter.setFont(option.font)
        painter.setPen(option.palette.placeholderText().color())
        for number, line in enumerate(self._detail_lines(entry, option.font, width), start=1):
            painter.drawText(QRect(left, top + number * metrics.lineSpacing(), width, metrics.lineSpacing()), Qt.AlignmentFlag.AlignLeft, line)
        stamp = time.strftime("%H:%M:%S", time.localtime(entry.at))
        painter.drawText(QRect(rect.right() - stamp_width, top, stamp_width - 4, metrics.height()), Qt.AlignmentFlag.AlignRight, stamp)
        painter.restore()


def _screenshot(entry: tl.Entry) -> str | None:
    return entry.step.screenshot_url if isinstance(entry, tl.AgentStep) else None


class TimelineView(QListView):
    """Follows the newest entry — also as rows re-wrap when the panel is resized — unless the person
    scrolled up on purpose; then new entries do not pull the list away from what they are reading,
    and a "New entries ↓" button takes them back down."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeline")
        self.setAccessibleName("Timeline")
        self.timeline_model = TimelineModel(self)
        self.thumbnails = ThumbnailCache(self)
        self.setModel(self.timeline_model)
        self._delegate = TimelineDelegate(self.thumbnails, self)
        self.setItemDelegate(self._delegate)
        self.timeline_model.modelReset.connect(self._delegate.forget_sizes)  # a new session: let the old rows go
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setUniformItemSizes(False)
        self.setResizeMode(QListView.ResizeMode.Adjust)  # rows re-wrap when the panel is resized
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.thumbnails.loaded.connect(self._thumbnail_loaded)
        self.following = True
        self._scroll_pending = False
        scroll = self.verticalScrollBar()
        # Only the person's own scrolling (wheel, drag, the scroll bar's arrows and keys) decides.
        scroll.actionTriggered.connect(self._person_scrolled)
        scroll.sliderReleased.connect(self._person_scrolled)
        scroll.rangeChanged.connect(self._range_changed)
        self.new_entries_button = QToolButton(self.viewport())
        self.new_entries_button.setObjectName("newEntriesButton")
        self.new_entries_button.setText("New entries ↓")
        self.new_entries_button.setAccessibleName("Show the newest entries")
        self.new_entries_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.new_entries_button.clicked.connect(self.follow_newest)
        self.new_entries_button.hide()

    def _person_scrolled(self, *_: object) -> None:
        # On actionTriggered the slider position is already where the person moved it.
        scroll = self.verticalScrollBar()
        self.following = scroll.sliderPosition() >= scroll.maximum() - 4
        if self.following:
            self.new_entries_button.hide()

    def _range_changed(self, _minimum: int, _maximum: int) -> None:
        if self.following:
            self.scrollToBottom()

    def follow_newest(self) -> None:
        self.following = True
        self.new_entries_button.hide()
        self.scrollToBottom()

    def add(self, entry: tl.Entry) -> None:
        if isinstance(entry, tl.SessionStarted):
            self.timeline_model.clear()
            self.following = True
            self.new_entries_button.hide()
        self.timeline_model.append(entry)
        if self.following:
            self._follow_soon()
        else:
            self._place_button()
            self.new_entries_button.show()
            self.new_entries_button.raise_()

    def _place_button(self) -> None:
        button = self.new_entries_button
        button.adjustSize()
        area = self.viewport().rect()
        button.move(area.right() - button.width() - 8, area.bottom() - button.height() - 8)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._delegate.forget_sizes()
        super().changeEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_button()
        if self.following:
            QTimer.singleShot(0, self._keep_following)  # once the rows have re-wrapped

    def _keep_following(self) -> None:
        self._scroll_pending = False
        if self.following:  # unless the person scrolled up meanwhile
            self.scrollToBottom()

    def _follow_soon(self) -> None:
        """Scroll to the newest row once this turn of the event loop is over, however many rows
        arrived in it: scrolling lays out every row, and a burst of 25 must not pay that 25 times."""
        if not self._scroll_pending:
            self._scroll_pending = True
            QTimer.singleShot(0, self, self._keep_following)  # dropped if the list is gone by then

    def show_earlier(self, entries: list[tl.Entry]) -> None:
        """Put what the history holds before the current rows (a reattached session)."""
        current = list(self.timeline_model.entries)
        earlier = [e for e in entries if e not in current]  # the history also holds what is shown
        self.timeline_model.clear()
        for entry in [*earlier, *current]:
            self.timeline_model.append(entry)
        self.follow_newest()

    def _thumbnail_loaded(self, url: str) -> None:
        for row in self.timeline_model.rows_with_screenshot(url):
            index = self.timeline_model.index(row)
            self.timeline_model.dataChanged.emit(index, index)


class EntryDetail(QPlainTextEdit):
    """The selected entry in full, selectable and copyable: rows show at most three lines of it."""

    def __init__(self, timeline: TimelineView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("entryDetail")
        self.setAccessibleName("Selected timeline entry")
        self.setReadOnly(True)
        self.setMaximumHeight(100)
        self.hide()  # until an entry is picked: the timeline itself needs the room
        # Selection, not the current row: focus arriving in the list moves the current row without
        # anyone picking an entry, and the pane must not open by itself.
        self._timeline = timeline
        timeline.selectionModel().selectionChanged.connect(self._selection_changed)
        timeline.timeline_model.modelReset.connect(self._forget)

    def _selection_changed(self) -> None:
        selected = self._timeline.selectionModel().selectedIndexes()
        self._show(selected[0] if selected else QModelIndex())

    def _show(self, current: QModelIndex) -> None:
        entry: tl.Entry | None = current.data(ENTRY_ROLE) if current.isValid() else None
        if entry is None:
            self._forget()
            return
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.at))
        self.setPlainText(f"{entry.title} — {stamp}\n{entry.full_detail}".rstrip())
        self.show()

    def _forget(self) -> None:
        self.clear()
        self.hide()
