"""The queue in the task panel: its steps (Agent / You) with their states and outputs, adding,
editing, removing and reordering them (drag, or Ctrl+Up / Ctrl+Down), Skip and Run again, Run queue,
the You step's text shown big, the summary at the end, and the playbooks to start from.

It shows what core publishes (``QueueChanged``…) and forwards clicks as signals; the rules are
``core/queue.py``'s and ``core/queue_runner.py``'s.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.queue import Step, StepKind, StepState
from desktop_app.ui.list_rows import rows_for

STEP_ID_ROLE = Qt.ItemDataRole.UserRole + 1
STEP_TEXT_ROLE = Qt.ItemDataRole.UserRole + 2
LIST_HEIGHT = 150
EMPTY_LIST_HEIGHT = 34
STATE_MARKS = {
    StepState.WAITING: "○",
    StepState.RUNNING: "▶",
    StepState.NEEDS_YOU: "!",
    StepState.DONE: "✓",
    StepState.FAILED: "✗",
    StepState.SKIPPED: "↷",
}


def step_row(number: int, step: Step) -> str:
    """A step as its row reads: number, who, text, state; then its output or why it failed."""
    lines = [f"{STATE_MARKS[step.state]} {number}. {step.kind.label}: {step.text}  — {step.state.label}"]
    if step.state is StepState.FAILED and step.reason:
        lines.append(f"    Why: {step.reason}")
    elif step.state is StepState.NEEDS_YOU and step.reason:
        lines.append(f"    The agent asks: {step.reason}")
    elif step.output:
        lines.append(f"    {'Result' if step.kind is StepKind.AGENT else 'Note'}: {step.output}")
    return "\n".join(lines)


class _StepEditor(QStyledItemDelegate):
    """Editing a row edits the step's text only (the row shows more); the core decides if it may."""

    def __init__(self, panel: QueuePanel) -> None:
        super().__init__(panel)
        self._panel = panel

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QWidget:
        editor = QLineEdit(parent)
        editor.setObjectName("stepEditor")
        return editor

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        assert isinstance(editor, QLineEdit)
        editor.setText(str(index.data(STEP_TEXT_ROLE) or ""))

    def setModelData(self, editor: QWidget, model: object, index: QModelIndex | QPersistentModelIndex) -> None:
        assert isinstance(editor, QLineEdit)
        step_id, text = index.data(STEP_ID_ROLE), editor.text()
        if text.strip() != str(index.data(STEP_TEXT_ROLE) or ""):
            QTimer.singleShot(0, lambda: self._panel.editRequested.emit(step_id, text))


class _StepList(QListWidget):
    """Rows dragged to a new place, or moved with Ctrl+Up / Ctrl+Down, are asked of the core."""

    moved = Signal(int, int)  # step id, new row
    removeKey = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setWordWrap(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.model().rowsMoved.connect(self._rows_moved)

    def _rows_moved(self, _parent: QModelIndex, start: int, _end: int, _destination: QModelIndex, row: int) -> None:
        item = self.item(row if row < start else row - 1)
        if item is not None:
            step_id, to = int(item.data(STEP_ID_ROLE)), self.row(item)
            QTimer.singleShot(0, lambda: self.moved.emit(step_id, to))  # not while the drop is handled

    def keyPressEvent(self, event: QKeyEvent) -> None:
        item = self.currentItem()
        ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
        if item is not None and ctrl and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            to = self.row(item) + (-1 if event.key() == Qt.Key.Key_Up else 1)
            if 0 <= to < self.count():
                self.moved.emit(int(item.data(STEP_ID_ROLE)), to)
            return
        if item is not None and event.key() == Qt.Key.Key_Delete:
            self.removeKey.emit()
            return
        super().keyPressEvent(event)


def _named(widget: QWidget, name: str, accessible: str) -> QWidget:
    widget.setObjectName(name)
    widget.setAccessibleName(accessible)
    return widget


class QueuePanel(QWidget):
    addRequested = Signal(object, str)  # StepKind, text
    editRequested = Signal(int, str)
    removeRequested = Signal(int)
    moveRequested = Signal(int, int)  # step id, new row
    skipRequested = Signal(int)
    runAgainRequested = Signal(int)
    runQueueRequested = Signal()
    savePlaybookRequested = Signal()
    startPlaybookRequested = Signal(str)
    exportPlaybookRequested = Signal(str)
    importPlaybookRequested = Signal()
    deletePlaybookRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queuePanel")
        self._steps: list[Step] = []
        self._running = False
        self._redraw_later = QTimer(self)
        self._redraw_later.setSingleShot(True)
        self._redraw_later.setInterval(200)
        self._redraw_later.timeout.connect(lambda: self.show_steps(self._steps, self._running))

        self.queue_list = _named(_StepList(self), "queueList", "Queue of steps")
        assert isinstance(self.queue_list, _StepList)
        self.queue_list.setItemDelegate(_StepEditor(self))
        self.queue_list.setMaximumHeight(EMPTY_LIST_HEIGHT)
        self.queue_list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.queue_list.moved.connect(self.moveRequested)
        self.queue_list.removeKey.connect(self._remove_selected)

        self.step_input = _named(QLineEdit(self), "stepInput", "Text of a new step")
        self.step_input.setPlaceholderText("A step: what the agent should do, or what you will do")
        self.step_input.returnPressed.connect(lambda: self._add(StepKind.AGENT))
        self.add_agent_button = _named(QPushButton("+ Agent", self), "addAgentStepButton", "Add an agent step")
        self.add_agent_button.setToolTip("Add the text as a step for the agent (Enter)")
        self.add_person_button = _named(QPushButton("+ You", self), "addPersonStepButton", "Add a step for you")
        self.add_person_button.setToolTip("Add the text as a step you do in the browser; the queue waits for your Hand back")
        self.add_agent_button.clicked.connect(lambda: self._add(StepKind.AGENT))
        self.add_person_button.clicked.connect(lambda: self._add(StepKind.PERSON))

        self.run_queue_button = _named(QPushButton("Run queue", self), "runQueueButton", "Run the queue")
        self.skip_button = _named(QPushButton("Skip", self), "skipStepButton", "Skip the selected step")
        self.run_again_button = _named(QPushButton("Run again", self), "runStepAgainButton", "Run the selected step again")
        self.remove_button = _named(QPushButton("Remove", self), "removeStepButton", "Remove the selected step")
        self.run_queue_button.clicked.connect(self.runQueueRequested)
        self.skip_button.clicked.connect(lambda: self._with_selected(self.skipRequested.emit))
        self.run_again_button.clicked.connect(lambda: self._with_selected(self.runAgainRequested.emit))
        self.remove_button.clicked.connect(self._remove_selected)

        self.playbook_list = _named(QComboBox(self), "playbookList", "Playbooks")
        assert isinstance(self.playbook_list, QComboBox)
        # As wide as the panel gives it, not as its longest name: a long name must not widen the panel.
        self.playbook_list.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.playbook_list.setMinimumContentsLength(10)
        self.start_playbook_button = _named(QPushButton("Start", self), "startPlaybookButton", "Start the chosen playbook")
        self.start_playbook_button.clicked.connect(lambda: self._with_playbook(self.startPlaybookRequested.emit))
        self.save_playbook_button = _named(QPushButton("Save as playbook…", self), "savePlaybookButton", "Save the queue as a playbook")
        self.save_playbook_button.clicked.connect(self.savePlaybookRequested)
        self.playbook_menu_button = _named(QToolButton(self), "playbookMenuButton", "More about playbooks")
        self.playbook_menu_button.setText("…")
        self.playbook_menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.playbook_menu_button)
        menu.setObjectName("playbookMenu")
        menu.addAction("Export the chosen playbook…", lambda: self._with_playbook(self.exportPlaybookRequested.emit))
        menu.addAction("Import a playbook…", self.importPlaybookRequested.emit)
        menu.addAction("Delete the chosen playbook", lambda: self._with_playbook(self.deletePlaybookRequested.emit))
        self.playbook_menu_button.setMenu(menu)

        self.person_step_label = _named(QLabel(self), "personStepLabel", "Your step")
        self.person_step_label.setWordWrap(True)
        self.person_step_label.setTextFormat(Qt.TextFormat.PlainText)
        self.person_step_label.hide()

        self.summary_box = _named(QPlainTextEdit(self), "queueSummary", "The queue's summary")
        self.summary_box.setReadOnly(True)
        self.summary_box.setMaximumHeight(110)
        self.copy_summary_button = _named(QPushButton("Copy summary", self), "copySummaryButton", "Copy the queue's summary")
        self.copy_summary_button.clicked.connect(self._copy_summary)
        self.close_summary_button = _named(QPushButton("Close", self), "closeSummaryButton", "Close the summary")
        self.close_summary_button.clicked.connect(self.hide_summary)

        add_row = QHBoxLayout()
        add_row.addWidget(self.step_input, 1)
        add_row.addWidget(self.add_agent_button)
        add_row.addWidget(self.add_person_button)
        step_row_ = QHBoxLayout()
        step_row_.addWidget(self.run_queue_button, 1)
        step_row_.addWidget(self.skip_button)
        step_row_.addWidget(self.run_again_button)
        step_row_.addWidget(self.remove_button)
        playbook_row = QHBoxLayout()
        playbook_row.addWidget(self.playbook_list, 1)
        playbook_row.addWidget(self.start_playbook_button)
        playbook_row.addWidget(self.save_playbook_button)
        playbook_row.addWidget(self.playbook_menu_button)
        summary_row = QHBoxLayout()
        summary_row.addStretch(1)
        summary_row.addWidget(self.copy_summary_button)
        summary_row.addWidget(self.close_summary_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("Queue — steps run one after another on this session", self)
        title.setProperty("hint", True)
        layout.addWidget(title)
        layout.addLayout(playbook_row)
        layout.addWidget(self.queue_list)
        layout.addLayout(add_row)
        layout.addLayout(step_row_)
        layout.addWidget(self.person_step_label)
        layout.addWidget(self.summary_box)
        layout.addLayout(summary_row)
        self.hide_summary()
        self._update_buttons()

    # -- what the core publishes -----------------------------------------------------------------

    def show_steps(self, steps: Sequence[Step], running: bool) -> None:
        selected = self.selected_step()
        self._steps, self._running = list(steps), running
        same_rows = [s.id for s in steps] == [self._row_id(i) for i in range(self.queue_list.count())]
        if not same_rows and self.queue_list.state() is QAbstractItemView.State.EditingState:
            self._redraw_later.start()  # rows are not made again under an open editor: once it closes
            return
        if not same_rows:  # a step added, removed or moved: as many rows as steps, all rewritten below
            rows_for(self.queue_list, len(steps))
        # Rows are rewritten in place: an editor closing on a row never loses its item.
        for row, step in enumerate(steps):
            item = self.queue_list.item(row)
            text = step_row(row + 1, step)
            item.setText(text)
            item.setToolTip(text)
            item.setData(STEP_ID_ROLE, step.id)
            item.setData(STEP_TEXT_ROLE, step.text)
            flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsDragEnabled
            if not step.state.in_progress:
                flags |= Qt.ItemFlag.ItemIsEditable
            item.setFlags(flags)
            if not same_rows and selected is not None and step.id == selected:
                self.queue_list.setCurrentItem(item)
        # Room for the steps when there are some; an empty queue leaves the timeline its space.
        self.queue_list.setMaximumHeight(LIST_HEIGHT if steps else EMPTY_LIST_HEIGHT)
        in_progress = next((s for s in steps if s.state.in_progress and s.kind is StepKind.PERSON), None)
        if in_progress is None:
            self.person_step_label.hide()
        self._update_buttons()

    def show_person_step(self, text: str) -> None:
        self.person_step_label.setText(text)
        self.person_step_label.show()

    def show_summary(self, text: str) -> None:
        self.summary_box.setPlainText(text)
        self.summary_box.show()
        self.copy_summary_button.show()
        self.close_summary_button.show()

    def hide_summary(self) -> None:
        self.summary_box.hide()
        self.copy_summary_button.hide()
        self.close_summary_button.hide()

    def show_playbooks(self, names: Sequence[str]) -> None:
        current = self.playbook_list.currentText()
        self.playbook_list.clear()
        self.playbook_list.addItems(list(names))
        if current in names:
            self.playbook_list.setCurrentText(current)
        self._update_buttons()

    # -- what the person asks for ----------------------------------------------------------------

    def _row_id(self, row: int) -> int | None:
        item = self.queue_list.item(row)
        return int(item.data(STEP_ID_ROLE)) if item is not None and item.data(STEP_ID_ROLE) is not None else None

    def selected_step(self) -> int | None:
        item = self.queue_list.currentItem()
        return int(item.data(STEP_ID_ROLE)) if item is not None else None

    def select_row(self, row: int) -> None:
        self.queue_list.setCurrentRow(row)

    def clear_step_input(self) -> None:
        self.step_input.clear()

    def _add(self, kind: StepKind) -> None:
        text = self.step_input.text().strip()
        if text:
            self.addRequested.emit(kind, text)

    def _with_selected(self, emit: object) -> None:
        step_id = self.selected_step()
        if step_id is not None:
            emit(step_id)  # type: ignore[operator]

    def _with_playbook(self, emit: object) -> None:
        name = self.playbook_list.currentText()
        if name:
            emit(name)  # type: ignore[operator]

    def _remove_selected(self) -> None:
        self._with_selected(self.removeRequested.emit)

    def _copy_summary(self) -> None:
        from PySide6.QtWidgets import QApplication

        QApplication.clipboard().setText(self.summary_box.toPlainText())

    def _update_buttons(self) -> None:
        step_id = self.selected_step()
        step = next((s for s in self._steps if s.id == step_id), None)
        self.skip_button.setEnabled(step is not None and step.state.can_skip)
        self.run_again_button.setEnabled(step is not None and step.state.can_run_again)
        self.remove_button.setEnabled(step is not None and step.state.can_remove)
        self.run_queue_button.setEnabled(bool(self._steps) and not self._running)
        self.run_queue_button.setText("Queue running…" if self._running else "Run queue")
        has_playbook = self.playbook_list.count() > 0
        self.start_playbook_button.setEnabled(has_playbook and not self._running)
        self.save_playbook_button.setEnabled(bool(self._steps))


__all__ = ["QueuePanel", "step_row"]
