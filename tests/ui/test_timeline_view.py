"""The timeline rows: long or messy text stays readable, and the full text is one click away."""

from __future__ import annotations

import time

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtGui import QFont, QFontMetrics

from desktop_app.core import timeline as tl
from desktop_app.core.ports import StepReport
from desktop_app.ui.timeline_view import (
    DETAIL_LINES,
    EntryDetail,
    TimelineView,
    one_line,
    wrapped,
)

LONG_OUTPUT = "The order was placed. " * 40


def _incident(text: str) -> tl.Incident:
    return tl.Incident(at=time.time(), session_id="s", text=text)


def _timeline(qtbot, width: int = 360) -> TimelineView:
    view = TimelineView()
    qtbot.addWidget(view)
    view.resize(width, 400)
    view.show()
    return view


def _row_height(view: TimelineView, row: int) -> int:
    return view.sizeHintForIndex(view.timeline_model.index(row)).height()


def test_whitespace_from_pages_and_models_is_collapsed() -> None:
    assert one_line("  Total:\n\n  $12.00\t(incl. tax)  ") == "Total: $12.00 (incl. tax)"


def test_long_text_is_cut_to_the_line_limit_with_an_ellipsis(qapp) -> None:
    font = QFont()
    lines = wrapped(LONG_OUTPUT.strip(), font, 200, 3)
    assert len(lines) == 3
    assert lines[-1].endswith("…")
    assert all(QFontMetrics(font).horizontalAdvance(line) <= 200 for line in lines)


def test_short_text_is_left_whole(qapp) -> None:
    assert wrapped("Clicked Pay", QFont(), 300, 3) == ["Clicked Pay"]


def test_rows_grow_with_their_text_up_to_the_limit(qtbot) -> None:
    view = _timeline(qtbot)
    view.add(_incident("short"))
    view.add(_incident("A somewhat longer problem description that needs more than one line here"))
    view.add(_incident(LONG_OUTPUT))
    view.add(_incident(LONG_OUTPUT * 5))
    short, medium, long, longer = (_row_height(view, row) for row in range(4))
    assert short < medium < long
    assert long == longer  # capped: the detail pane shows the rest
    line = QFontMetrics(view.font()).lineSpacing()
    assert long >= line * (1 + DETAIL_LINES)


def test_a_narrower_panel_wraps_into_more_lines(qtbot) -> None:
    view = _timeline(qtbot, width=700)
    view.add(_incident("A problem description long enough to wrap in a narrow panel but not a wide one"))
    wide = _row_height(view, 0)
    view.resize(260, 400)
    qtbot.waitUntil(lambda: _row_height(view, 0) > wide)


def test_rows_with_screenshots_fit_the_thumbnail(qtbot) -> None:
    view = _timeline(qtbot)
    view.add(tl.AgentStep(at=time.time(), session_id="s", step=StepReport("t", 1, "Open", "https://a.test", screenshot_url="file:///none.png")))
    assert _row_height(view, 0) >= 45 + 10


def test_selecting_an_entry_shows_all_of_it_for_reading_and_copying(qtbot) -> None:
    view = _timeline(qtbot)
    detail = EntryDetail(view)
    qtbot.addWidget(detail)
    assert detail.isHidden()
    view.add(_incident("line one\nline two " + LONG_OUTPUT))
    view.selectionModel().setCurrentIndex(view.timeline_model.index(0), QItemSelectionModel.SelectionFlag.NoUpdate)
    assert detail.isHidden()  # focus moving into the list is not a choice
    view.setCurrentIndex(view.timeline_model.index(0))
    assert not detail.isHidden()
    text = detail.toPlainText()
    assert text.startswith("Problem — ")
    assert "line one\nline two " in text and text.rstrip().endswith("The order was placed.")
    assert detail.isReadOnly()
    view.add(tl.SessionStarted(at=time.time(), session_id="s2", backend="Local"))
    assert detail.isHidden() and detail.toPlainText() == ""  # a new session clears the old selection


def test_a_step_in_the_detail_pane_lists_everything_the_agent_reported(qtbot) -> None:
    import json

    view = _timeline(qtbot)
    detail = EntryDetail(view)
    qtbot.addWidget(detail)
    actions = (json.dumps({"input": {"index": 3, "text": "Ada"}}), json.dumps({"click": {"index": 4}}))
    step = StepReport("t", 2, "Fill the name", "https://shop.test/checkout?step=2", "Success", "Name is next", actions, None, 1.25)
    view.add(tl.AgentStep(at=time.time(), session_id="s", step=step))
    view.setCurrentIndex(view.timeline_model.index(0))
    row = view.timeline_model.entries[0].detail
    assert "on shop.test/checkout ·" in row  # rows: short address; the pane: all of it
    lines = detail.toPlainText().splitlines()
    assert lines[0].startswith("Step 2: Fill the name — ")
    assert lines[1:] == [
        "What it did:",
        "  • Typed “Ada”",
        "  • Clicked on the page",
        "Page at the start of the step: https://shop.test/checkout?step=2",
        "Its verdict on the step before: Success",
        "What it keeps in mind: Name is next",
        "Took: 1.2 s",
    ]


def _at_bottom(view: TimelineView) -> bool:
    scroll = view.verticalScrollBar()
    return scroll.maximum() > 0 and scroll.value() == scroll.maximum()


def test_the_list_keeps_following_the_newest_entry_after_a_resize(qtbot) -> None:
    view = _timeline(qtbot, width=420)
    for number in range(30):
        view.add(_incident(f"Entry {number}: " + "a long line that wraps when the panel is narrow " * 2))
    qtbot.waitUntil(lambda: _at_bottom(view))
    view.resize(260, 400)  # rows re-wrap: taller, the bottom moves away
    qtbot.wait(50)
    view.add(_incident("The newest entry"))
    qtbot.waitUntil(lambda: _at_bottom(view), timeout=2000)
    assert not view.new_entries_button.isVisible()


def test_after_scrolling_up_new_entries_wait_behind_a_button(qtbot) -> None:
    from PySide6.QtWidgets import QAbstractSlider

    view = _timeline(qtbot)
    for number in range(30):
        view.add(_incident(f"Entry {number}"))
    qtbot.waitUntil(lambda: _at_bottom(view))
    view.verticalScrollBar().triggerAction(QAbstractSlider.SliderAction.SliderToMinimum)  # the person scrolls up
    qtbot.waitUntil(lambda: not view.following)
    view.add(_incident("Something new"))
    qtbot.wait(50)
    assert view.verticalScrollBar().value() == 0  # what they were reading stays put
    assert view.new_entries_button.isVisible() and view.new_entries_button.text() == "New entries ↓"
    view.new_entries_button.click()
    qtbot.waitUntil(lambda: _at_bottom(view))
    assert not view.new_entries_button.isVisible()
    view.add(_incident("And another"))
    qtbot.waitUntil(lambda: _at_bottom(view))


def test_a_burst_of_rows_is_laid_out_once_and_ends_at_the_newest(qtbot, monkeypatch) -> None:
    """A Cloud poll delivers dozens of steps in one turn of the loop: every row is kept, in order,
    the list follows to the last one, and it scrolls (laying out every row) once, not per row."""
    view = _timeline(qtbot)
    scrolls = []
    real_scroll = view.scrollToBottom
    monkeypatch.setattr(view, "scrollToBottom", lambda: (scrolls.append(1), real_scroll()))
    for number in range(200):
        view.add(_incident(f"Step {number}"))
    assert [e.text for e in view.timeline_model.entries] == [f"Step {n}" for n in range(200)]
    qtbot.waitUntil(lambda: _at_bottom(view))
    # The burst's one scroll, and the few the list's own range changes and first show ask for: not 200.
    assert 1 <= len(scrolls) <= 10


def test_row_heights_are_measured_again_when_the_font_changes(qtbot) -> None:
    view = _timeline(qtbot)
    view.add(_incident("A problem description"))
    before = _row_height(view, 0)
    font = QFont(view.font())
    font.setPointSizeF(font.pointSizeF() * 2)
    view.setFont(font)
    assert _row_height(view, 0) > before


def test_a_loaded_thumbnail_repaints_only_the_rows_that_show_it() -> None:
    from desktop_app.ui.timeline_model import TimelineModel

    model = TimelineModel()
    steps = [
        tl.AgentStep(at=time.time(), session_id="s", step=StepReport("t", n, "Open", "https://a.test", screenshot_url=f"file:///shot-{n % 2}.png"))
        for n in range(4)
    ]
    model.extend(steps[:3])
    model.append(steps[3])
    assert model.rows_with_screenshot("file:///shot-0.png") == [0, 2]
    assert model.rows_with_screenshot("file:///shot-1.png") == [1, 3]
    model.clear()
    assert model.rows_with_screenshot("file:///shot-0.png") == []
