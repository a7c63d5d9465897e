"""The task panel: who is in control, the task box, Run / Take over / Hand back, the note, the timeline.

It shows the core's state and forwards clicks; what is allowed when comes from core.control.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.cards import redact_cards
from desktop_app.core.control import Command, Control, allows
from desktop_app.core.ports import Capabilities
from desktop_app.core.hand_back import NOTE_REDACTION_HINT, privacy_hint
from desktop_app.core.state_words import DEFAULT_TASK_PROMPT, StateWords, state_words
from desktop_app.core.task_box import merged_into, unchanged
from desktop_app.ui.early_task_box import task_editor
from desktop_app.ui.queue_panel import QueuePanel
from desktop_app.ui.timeline_view import EntryDetail, TimelineView
from desktop_app.ui.allowed_sites import AllowedSitesField


def _named(widget: QWidget, name: str, accessible: str) -> QWidget:
    widget.setObjectName(name)
    widget.setAccessibleName(accessible)
    return widget


class TaskPanel(QWidget):
    runRequested = Signal(str)
    takeOverRequested = Signal()
    handBackRequested = Signal(str, str)  # note, next instruction
    newSessionRequested = Signal()
    stopSessionRequested = Signal()
    settingsRequested = Signal()
    historyRequested = Signal()
    helpRequested = Signal()
    aboutRequested = Signal()
    backendChosen = Signal(object)  # one of the modes given to the panel

    def __init__(
        self, modes: list[tuple[object, str]], parent: QWidget | None = None, *, task_input: QPlainTextEdit | None = None
    ) -> None:
        """``modes``: (mode, label) for the selector; the panel only hands the chosen one back.
        ``task_input``: the task box the window showed before the panel existed (taken over as it is)."""
        super().__init__(parent)
        self.setObjectName("taskPanel")
        self._limit = 0  # the backend's limit, from set_capabilities
        self._state = Control.NO_SESSION
        self._noting = False

        self.indicator = _named(QLabel(self), "controlIndicator", "Who is in control")
        self.indicator.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.activity_label = _named(QLabel(self), "agentActivity", "What the agent is doing now")
        self.activity_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # Always there, one line high (style.qss): the buttons below never move as the agent starts and stops.

        self.backend_selector = _named(QComboBox(self), "backendSelector", "Where the browser runs")
        for mode, label in modes:
            self.backend_selector.addItem(label, mode)
        self.backend_selector.activated.connect(
            lambda index: self.backendChosen.emit(self.backend_selector.itemData(index))
        )
        self.settings_button = _named(QToolButton(self), "settingsButton", "Settings")
        self.settings_button.setText("⚙")
        self.settings_button.setToolTip("Settings (Ctrl+,)")
        self.settings_button.clicked.connect(self.settingsRequested)
        self.history_button = _named(QToolButton(self), "historyButton", "History")
        self.history_button.setText("History")
        self.history_button.setToolTip("Past sessions and their audit trails")
        self.history_button.clicked.connect(self.historyRequested)
        self.help_button = _named(QToolButton(self), "helpButton", "Help")
        self.help_button.setText("?")
        self.help_button.setToolTip("Help: keyboard shortcuts, about Handoff (F1)")
        self.help_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        help_menu = QMenu(self.help_button)
        help_menu.setObjectName("helpMenu")
        help_menu.addAction("How it works and keyboard shortcuts  (F1)", self.helpRequested.emit)
        help_menu.addAction("About Handoff", self.aboutRequested.emit)
        self.help_button.setMenu(help_menu)

        self.new_session_button = _named(QPushButton("New session", self), "newSessionButton", "New session")
        self.stop_session_button = _named(QPushButton("Stop session", self), "stopSessionButton", "Stop session")
        self.new_session_button.clicked.connect(self.newSessionRequested)
        self.stop_session_button.clicked.connect(self.stopSessionRequested)

        self.task_label = _named(QLabel(DEFAULT_TASK_PROMPT, self), "taskLabel", "Task label")
        self.task_input = task_input if task_input is not None else task_editor(self)
        self.task_input.setParent(self)
        self.task_input.textChanged.connect(self._update_counter)
        self.char_count = _named(QLabel(self), "taskCharCount", "Task length")
        self.char_count.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.allowed_sites = AllowedSitesField(self)  # and the Vault button

        self.run_button = _named(QPushButton("Run  (Ctrl+Enter)", self), "runButton", "Run")
        self.take_over_button = _named(QPushButton("Take over  (Ctrl+T)", self), "takeOverButton", "Take over")
        self.hand_back_button = _named(QPushButton("Hand back  (Ctrl+H)", self), "handBackButton", "Hand back")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.request_run)
        self.take_over_button.clicked.connect(self.takeOverRequested)
        self.hand_back_button.clicked.connect(self.request_hand_back)

        self.request_label = _named(QLabel(self), "humanRequestReason", "The agent asks")
        self.request_label.setWordWrap(True)
        self.request_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.request_label.setTextFormat(Qt.TextFormat.PlainText)  # the agent's words, never markup
        # A long request scrolls in its box rather than squeezing the timeline away.
        self.request_box = QScrollArea(self)
        self.request_box.setObjectName("humanRequestBox")
        self.request_box.setWidget(self.request_label)
        self.request_box.setWidgetResizable(True)
        self.request_box.setFrameShape(QFrame.Shape.NoFrame)
        self.request_box.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.request_box.setMaximumHeight(96)
        self.request_box.hide()
        self.note_label = QLabel(self)
        self.note_input = _named(QPlainTextEdit(self), "handBackNote", "Note for the agent")
        self.note_input.setPlaceholderText("e.g. Paid with my card and confirmed the 2FA code (never type the numbers here)")
        self.note_input.setTabChangesFocus(True)
        self.note_input.textChanged.connect(self._check_note)
        self.note_redaction_hint = _named(QLabel(NOTE_REDACTION_HINT, self), "noteRedactionHint", "Card details in the note")
        self.note_redaction_hint.setWordWrap(True)
        self.note_redaction_hint.setProperty("hint", True)
        self.note_redaction_hint.hide()
        self.privacy_hint = _named(QLabel(privacy_hint(page_readable_here=True), self), "privacyHint", "What the agent sees after hand back")
        self.privacy_hint.setWordWrap(True)
        self.privacy_hint.setProperty("hint", True)
        self.note_input.setMaximumHeight(70)

        self.queue_panel = QueuePanel(self)  # steps run one after another (ui/queue_panel.py)
        self.timeline = TimelineView(self)
        self.entry_detail = EntryDetail(self.timeline, self)
        self.cost_label = _named(QLabel(self), "costLabel", "Cost")

        session_row = QHBoxLayout()
        session_row.addWidget(self.backend_selector, 1)
        session_row.addWidget(self.history_button)
        session_row.addWidget(self.settings_button)
        session_row.addWidget(self.help_button)
        buttons_row = QHBoxLayout()
        buttons_row.addWidget(self.new_session_button)
        buttons_row.addWidget(self.stop_session_button)
        control_row = QHBoxLayout()
        for button in (self.run_button, self.take_over_button, self.hand_back_button):
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            control_row.addWidget(button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.indicator)
        layout.addWidget(self.activity_label)
        layout.addLayout(session_row)
        layout.addLayout(buttons_row)
        layout.addWidget(self.task_label)
        layout.addWidget(self.task_input, 2)
        layout.addWidget(self.char_count)
        layout.addWidget(self.allowed_sites)
        layout.addLayout(control_row)
        layout.addWidget(self.queue_panel)
        layout.addWidget(self.request_box)
        layout.addWidget(self.note_label)
        layout.addWidget(self.note_input)
        layout.addWidget(self.note_redaction_hint)
        layout.addWidget(self.privacy_hint)
        layout.addWidget(QLabel("Timeline", self))
        layout.addWidget(self.timeline, 5)
        layout.addWidget(self.entry_detail)
        layout.addWidget(self.cost_label)
        self._update_counter()
        self.set_state(Control.NO_SESSION, state_words(Control.NO_SESSION))

    # -- what the user asks for ----------------------------------------------------------------

    def request_run(self) -> None:
        # Even when Run is not possible now (Ctrl+Enter while the agent works): the core says why.
        if self.task_text:
            self.allowed_sites.apply()  # Ctrl+Enter may come before the field's editing finished
            self.runRequested.emit(self.task_text)

    def request_hand_back(self) -> None:
        if allows(self._state, Command.HAND_BACK):
            self.handBackRequested.emit(self.note_input.toPlainText(), self.task_text)

    @property
    def note_text(self) -> str:
        return self.note_input.toPlainText()

    def clear_sent(self, task: str, note: str = "") -> None:
        """What was sent goes from the boxes; anything typed meanwhile stays."""
        for box, sent in ((self.task_input, task), (self.note_input, note)):
            if sent.strip() and unchanged(box.toPlainText(), sent):
                box.clear()

    def give_back(self, task: str, note: str = "") -> None:
        """A task (and its note) the agent could not take, back in the boxes, never over what was typed since."""
        for box, returned in ((self.task_input, task), (self.note_input, note)):
            text = merged_into(box.toPlainText(), returned)
            if text is not None:
                box.setPlainText(text)

    def prefill_note(self, text: str) -> None:
        self.note_input.setPlainText(text)

    def focus_task(self) -> None:
        self.task_input.setFocus()

    @property
    def task_text(self) -> str:
        return self.task_input.toPlainText().strip()

    # -- showing the core's state --------------------------------------------------------------

    def set_capabilities(self, capabilities: Capabilities) -> None:
        self._limit = capabilities.task_max_chars
        self.privacy_hint.setText(privacy_hint(page_readable_here=capabilities.view_is_browser))
        self._update_counter()

    def show_mode(self, mode: object) -> None:
        index = self.backend_selector.findData(mode)
        if index >= 0:
            self.backend_selector.setCurrentIndex(index)

    def set_state(self, state: Control, words: StateWords) -> None:
        self._state = state
        self.indicator.setText(words.indicator)
        self.indicator.setProperty("control", state.value)
        self.indicator.style().unpolish(self.indicator)
        self.indicator.style().polish(self.indicator)
        self.new_session_button.setEnabled(allows(state, Command.NEW_SESSION))
        self.stop_session_button.setEnabled(allows(state, Command.STOP_SESSION))
        self.take_over_button.setEnabled(allows(state, Command.TAKE_OVER))
        self.hand_back_button.setEnabled(allows(state, Command.HAND_BACK))
        self.backend_selector.setEnabled(allows(state, Command.SWITCH_MODE))
        self.task_label.setText(words.task_prompt)
        human = state is Control.HUMAN
        # Idle, the browser is the person's too: a note (e.g. one given back after a failed
        # follow-up) goes with the next Run.
        self._noting = bool(words.note_prompt)
        if self._noting:
            self.note_label.setText(words.note_prompt)
        self.note_label.setVisible(self._noting)
        self.note_input.setVisible(self._noting)
        self.privacy_hint.setVisible(human)
        self._check_note()
        if not human:
            self.request_box.hide()
        self._update_run_button()

    def _check_note(self) -> None:
        text = self.note_input.toPlainText()
        self.note_redaction_hint.setVisible(self._noting and redact_cards(text) != text)

    def show_activity(self, text: str | None) -> None:
        if (text or "") != self.activity_label.text():
            self.activity_label.setText(text or "")

    def show_request(self, reason: str) -> None:
        self.request_label.setText(f"The agent asks for you: {reason}")
        self.request_box.show()

    def _update_counter(self) -> None:
        length = len(self.task_text)  # what is sent: leading and trailing blank lines are dropped
        over = length > self._limit
        self.char_count.setText(
            f"{length:,} / {self._limit:,} characters — too long, shorten it to run" if over else f"{length:,} / {self._limit:,}"
        )
        self.char_count.setProperty("over", over)
        self.char_count.style().unpolish(self.char_count)
        self.char_count.style().polish(self.char_count)
        self._update_run_button()

    def _update_run_button(self) -> None:
        # Over-long text keeps Run enabled: pressing it explains the limit instead of doing nothing.
        self.run_button.setEnabled(allows(self._state, Command.RUN) and bool(self.task_text))
