"""History: past sessions, their timelines, and exports of the audit trail (JSON or one HTML file)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core import export
from desktop_app.core.playbooks import replay_plan
from desktop_app.core.store import HistoryStore, SessionRecord
from desktop_app.core.messages import format_cost, plural
from desktop_app.ui.list_rows import rows_for
from desktop_app.ui.timeline_view import EntryDetail, TimelineView

SESSION_ROLE = Qt.ItemDataRole.UserRole + 1
FIRST_TASK_LIMIT = 90  # characters of the first task shown to recognise a session by


def describe(session: SessionRecord) -> str:
    started = time.strftime("%Y-%m-%d %H:%M", time.localtime(session.started_at))
    status = "still open" if session.ended_at is None else (session.end_reason or "ended")
    cost = f" · {format_cost(session.total_cost)}" if session.total_cost else ""
    summary = f"{started} · {session.backend} · {plural(session.tasks, 'task')}{cost} · {status}"
    first = " ".join(session.first_task.split())
    if not first:
        return summary
    return f"{first if len(first) <= FIRST_TASK_LIMIT else first[: FIRST_TASK_LIMIT - 1] + '…'}\n{summary}"


ROWS_PER_SLICE = 500  # timeline rows added per turn of the event loop


class HistoryDialog(QDialog):
    loaded = Signal()  # the selected session's timeline is all shown
    runAgainRequested = Signal(str)  # the session's queue, as a playbook's JSON (core/playbooks.py)
    def __init__(self, history: HistoryStore, export_folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyDialog")
        self.setWindowTitle("Handoff — History")
        self.resize(1000, 640)
        self._history = history
        self._export_folder = export_folder
        self.sessions = QListWidget(self)
        self.sessions.setObjectName("historySessions")
        self.sessions.setWordWrap(True)  # a long first task wraps instead of running off the edge
        self.sessions.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.timeline = TimelineView(self)
        self.timeline.setObjectName("historyTimeline")
        self.entry_detail = EntryDetail(self.timeline, self)
        self.status = QLabel(self)
        self.status.setObjectName("historyStatus")
        self.status.setWordWrap(True)
        self.export_json = QPushButton("Export JSON…", self)
        self.export_json.setObjectName("exportJsonButton")
        self.export_html = QPushButton("Export HTML…", self)
        self.export_html.setObjectName("exportHtmlButton")
        self.show_folder = QPushButton("Show in folder", self)
        self.show_folder.setObjectName("showExportFolderButton")
        self.show_folder.hide()
        self.show_folder.clicked.connect(self._show_saved_folder)
        self._saved_folder: Path | None = None
        self._loading: asyncio.Future[None] | None = None
        self.run_again = QPushButton("Run this again", self)
        self.run_again.setObjectName("runThisAgainButton")
        self.run_again.setToolTip("Put this session's steps in the queue and run them on the current session")
        self.run_again.setEnabled(False)
        self.run_again.clicked.connect(self._run_again)
        self._plan: str | None = None
        close = QPushButton("Close", self)
        close.clicked.connect(self.close)
        self.export_json.clicked.connect(lambda: self._choose_file("json"))
        self.export_html.clicked.connect(lambda: self._choose_file("html"))
        self.sessions.currentItemChanged.connect(self._show_selected)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.sessions)
        timeline_pane = QWidget(self)
        timeline_column = QVBoxLayout(timeline_pane)
        timeline_column.setContentsMargins(0, 0, 0, 0)
        timeline_column.addWidget(self.timeline, 1)
        timeline_column.addWidget(self.entry_detail)
        splitter.addWidget(timeline_pane)
        splitter.setSizes([380, 620])
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.show_folder)
        buttons.addWidget(self.run_again)
        buttons.addWidget(self.export_json)
        buttons.addWidget(self.export_html)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        if history.problem:
            problem = QLabel(history.problem, self)
            problem.setWordWrap(True)
            layout.addWidget(problem)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)
        self.reload()

    def reload(self) -> None:
        sessions = self._history.sessions()
        for item, session in zip(rows_for(self.sessions, len(sessions)), sessions):
            item.setText(describe(session))
            item.setData(SESSION_ROLE, session)
        has_sessions = bool(sessions)
        self.export_json.setEnabled(has_sessions)
        self.export_html.setEnabled(has_sessions)
        if has_sessions:
            self.sessions.setCurrentRow(0)  # rows_for left none current: this shows it
        else:
            self.status.setText("No sessions yet.")
            self._show_selected()

    def selected(self) -> SessionRecord | None:
        item = self.sessions.currentItem()
        return item.data(SESSION_ROLE) if item is not None else None

    def _show_selected(self) -> None:
        session = self.selected()
        self.timeline.timeline_model.clear()
        self._plan = None
        self.run_again.setEnabled(False)
        if self._loading is not None:
            self._loading.cancel()
        if session is not None:
            self._loading = asyncio.ensure_future(self._load(session))

    async def _load(self, session: SessionRecord) -> None:
        """Read off the window's thread, then show in slices: the window stays live meanwhile."""
        self.status.setText("Loading…")
        entries = await self._history.entries_in_background(session.id)
        for start in range(0, len(entries), ROWS_PER_SLICE):
            self.timeline.timeline_model.extend(entries[start : start + ROWS_PER_SLICE])
            await asyncio.sleep(0)
        self._plan = replay_plan(entries)
        self.run_again.setEnabled(self._plan is not None)
        self.status.setText("")
        self.loaded.emit()

    def _run_again(self) -> None:
        if self._plan is not None:
            self.runAgainRequested.emit(self._plan)

    def _choose_file(self, kind: str) -> None:
        session = self.selected()
        if session is None:
            return
        chooser = QFileDialog(self, f"Export the audit trail as {kind.upper()}")
        chooser.setObjectName("exportFileDialog")
        chooser.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        chooser.setNameFilter("JSON (*.json)" if kind == "json" else "Web page (*.html)")
        chooser.setDefaultSuffix(kind)
        stamp = time.strftime("%Y%m%d-%H%M", time.localtime(session.started_at))
        folder = self._export_folder
        try:
            folder.mkdir(parents=True, exist_ok=True)  # Documents, as the README says, even on a fresh account
        except OSError as error:
            folder = Path.home()
            self.status.setText(f"Could not create {self._export_folder} ({error.strerror or error}): suggesting your home folder.")
        chooser.setDirectory(str(folder))
        chooser.selectFile(str(folder / f"handoff-session-{stamp}.{kind}"))
        chooser.fileSelected.connect(lambda path: self.export_to(Path(path), kind))
        chooser.open()  # never exec(): it would nest an event loop (qasync)

    def export_to(self, path: Path, kind: str) -> asyncio.Future[bool]:
        """Save the selected session's audit trail; built and written off the window's thread."""
        return asyncio.ensure_future(self._export(path, kind))

    async def _export(self, path: Path, kind: str) -> bool:
        session = self.selected()
        if session is None:
            return False
        self.status.setText(f"Saving {path.name}…")
        entries = await self._history.entries_in_background(session.id)

        def write() -> None:
            from desktop_app.system.warm_up import window_first

            with window_first():  # 5,000 entries scrubbed and formatted: the GIL goes back often
                trail = export.build(session, entries)
                path.write_text(export.to_json(trail) if kind == "json" else export.to_html(trail), encoding="utf-8")

        try:
            await asyncio.to_thread(write)
        except OSError as error:
            self.status.setText(f"Could not save {path.name}: {error.strerror or error}. Choose another folder.")
            self.show_folder.hide()
            return False
        self.status.setText(f"Saved {path}")
        self._saved_folder = path.parent
        self.show_folder.show()
        return True

    def _show_saved_folder(self) -> None:
        from desktop_app.system.folders import open_folder

        if self._saved_folder is not None and not open_folder(self._saved_folder):
            self.status.setText(f"Could not open the folder. It is here: {self._saved_folder}")
