"""The timeline list: steps, handoffs, results, problems — newest at the bottom (its model and
thumbnails: ``timeline_model``)."""

from __future__ import annotations

import time

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QTimer,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QResizeEvent, QTextLayout
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
from desktop_app.ui.timeline_model import ENTRY_ROLE, THUMB_SIZE, ThumbnailCache, TimelineModel, entry_color, screenshot_of

DETAIL_LINES = 3  # a row shows this much of an entry's detail; EntryDetail shows all of it
_PADDING = 5

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
        return left + THUMB_SIZE.width() + 8 if screenshot_of(entry) else left

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
        height = max(metrics.lineSpacing() * lines + 2 * _PADDING + 2, THUMB_SIZE.height() + 2 * _PADDING if screenshot_of(entry) else 0)
        return QSize(row.width(), height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        entry: tl.Entry = index.data(ENTRY_ROLE)
        painter.save()
        rect = option.rect
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, option.palette.highlight().color().lighter(170))
        painter.fillRect(QRect(rect.left(), rect.top() + 3, 4, rect.height() - 6), entry_color(entry))
        url = screenshot_of(entry)
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
