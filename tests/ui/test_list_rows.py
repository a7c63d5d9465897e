"""A list's rows are reused and trimmed to match, without a selection or a signal in between."""

from __future__ import annotations

from PySide6.QtWidgets import QListWidget
from pytestqt.qtbot import QtBot

from desktop_app.ui.list_rows import rows_for


def test_rows_are_reused_trimmed_and_added_without_signals(qtbot: QtBot) -> None:
    widget = QListWidget()
    qtbot.addWidget(widget)
    for text in ("a", "b", "c"):
        widget.addItem(text)
    widget.setCurrentRow(1)
    first = widget.item(0)
    changes: list[object] = []
    widget.currentItemChanged.connect(lambda current, _previous: changes.append(current))

    rows = rows_for(widget, 2)

    assert widget.count() == 2
    assert rows[0] is first and rows[0].text() == "a"
    assert widget.currentRow() == -1
    assert changes == []

    rows = rows_for(widget, 4)
    assert widget.count() == 4
    assert [row.text() for row in rows] == ["a", "b", "", ""]
    assert rows_for(widget, 0) == [] and widget.count() == 0
