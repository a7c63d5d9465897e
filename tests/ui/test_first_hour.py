"""What a new user trips over in the first hour, in the real window (issue 14)."""

from __future__ import annotations

from desktop_app.core.control import Control
from desktop_app.core.events import Level
from tests.fakes.cloud_server import FakeCloud
from tests.helpers import wait_until
from tests.ui.actions import click


def test_the_too_long_notice_goes_once_the_task_is_short_enough(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    window = make_window(cloud_services)
    panel = window.task_panel
    panel.task_input.setPlainText("a" * 60_000)

    async def scenario() -> None:
        click(panel.run_button)

    qrun(scenario())
    assert window.banner.message.startswith("The task is 60,000 characters long")
    panel.task_input.setPlainText("Buy the blue mug, size M.")
    assert window.banner.message == ""
    assert cloud.requests == []


def test_notices_of_any_length_move_nothing_below(cloud: FakeCloud, cloud_services, make_window, qtbot) -> None:
    window = make_window(cloud_services)
    panel = window.task_panel
    qtbot.waitExposed(window)
    run_top = panel.run_button.mapTo(window, panel.run_button.rect().topLeft()).y()
    long_text = "The agent could not start: " + "the model server answered with an error. " * 12
    for text in ("Short.", "Two lines of notice " * 8, long_text):
        window.banner.show_message(text, Level.WARNING)
        qtbot.wait(20)
        assert panel.run_button.mapTo(window, panel.run_button.rect().topLeft()).y() == run_top, text
    # Cut to two lines; the whole notice is in the tooltip (and readable by screen readers).
    assert window.banner.shown_text.count("\n") == 1 and window.banner.shown_text.endswith("…")
    assert window.banner.text.toolTip() == long_text
    window.banner.hide()
    qtbot.wait(20)
    assert panel.run_button.mapTo(window, panel.run_button.rect().topLeft()).y() == run_top


def test_ready_says_whose_browser_it_is(cloud: FakeCloud, cloud_services, make_window, qrun) -> None:
    window = make_window(cloud_services)

    async def scenario() -> None:
        click(window.task_panel.new_session_button)
        await wait_until(lambda: cloud_services.controller.state is Control.IDLE, what="the session to open")

    qrun(scenario())
    assert window.task_panel.indicator.text() == "Ready — the browser is yours until you press Run"
    assert window.windowTitle() == "Handoff — Ready"


def test_the_window_comes_back_at_the_size_it_was_left(cloud_services, make_window, qrun) -> None:
    window = make_window(cloud_services)
    window.resize(1000, 640)
    qrun(window.close_gracefully())
    assert cloud_services.paths.window_geometry.is_file()
    again = make_window(cloud_services)
    # Height only: Qt fits a restored window to the screen, and the offscreen screen is 800 px wide
    # (less than the window's minimum width).
    assert again.height() == 640


def test_help_and_about_are_in_the_panel(cloud_services, make_window, qrun) -> None:
    from PySide6.QtWidgets import QApplication, QMessageBox

    window = make_window(cloud_services)
    menu = window.task_panel.help_button.menu()
    assert [a.text() for a in menu.actions()] == ["How it works and keyboard shortcuts  (F1)", "About Handoff"]
    menu.actions()[1].trigger()
    box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.objectName() == "aboutBox")
    assert box.isVisible() and "<b>About Handoff</b>" in box.text() and "Handoff 0." in box.text()
    box.close()


def test_a_task_finishing_while_the_person_is_elsewhere_is_told_on_the_desktop(
    cloud: FakeCloud, cloud_services, make_window, qrun, monkeypatch
) -> None:
    window = make_window(cloud_services)
    told: list[tuple[str, str]] = []
    monkeypatch.setattr(window.view, "notify", lambda title, text: told.append((title, text)))
    monkeypatch.setattr(window, "isActiveWindow", lambda: False)

    async def scenario() -> None:
        window.task_panel.task_input.setPlainText("Find the museum's opening hours")
        click(window.task_panel.run_button)
        await wait_until(lambda: cloud_services.controller.state is Control.AGENT and cloud.tasks, what="the task")
        cloud.finish_task(output="Open 10:00-18:00")
        await wait_until(lambda: cloud_services.controller.state is Control.IDLE, what="the task to finish")

    qrun(scenario())
    assert told == [("Handoff: the task succeeded", "Open 10:00-18:00")]


def test_a_task_typed_while_handoff_starts_is_the_panels_task(cloud_services, qrun) -> None:
    """The task box is there before the rest of the window (issue 14: type the task at once); the
    panel takes that very box over, so what was typed, and where the cursor was, stay."""
    from PySide6.QtTest import QTest

    from desktop_app.ui.live_view import make_live_view
    from desktop_app.ui.main_window import MainWindow
    from tests.ui.conftest import dispose

    window = MainWindow(make_live_view(cloud_services.paths, is_browser=False))
    window.show()
    editor = window.early_task_box.editor
    QTest.keyClicks(editor, "Book a table for two")
    editor.moveCursor(editor.textCursor().MoveOperation.Start)
    window.attach(cloud_services, interactive=False)
    try:
        assert window.task_panel.task_input is editor
        assert editor.toPlainText() == "Book a table for two" and editor.textCursor().position() == 0
        assert window.early_task_box is None and window.task_panel.run_button.isEnabled()
        QTest.keyClicks(editor, "Please ")
        assert window.task_panel.task_text == "Please Book a table for two"
        qrun(window.close_gracefully())
    finally:
        cloud_services.close()
        dispose(window)


def test_what_waits_for_the_windows_first_frame_runs_after_it_is_painted(cloud_services, qtbot) -> None:
    """The warm-up imports start after the first frame (bench/responsiveness.py: importing during
    that paint made it 100–120 ms under Xvfb); a window already on screen calls back at once."""
    from PySide6.QtCore import QEvent, QObject

    from desktop_app.ui.live_view import make_live_view
    from desktop_app.ui.main_window import MainWindow
    from tests.ui.conftest import dispose

    class Paints(QObject):
        count = 0

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.count += 1
            return False

    window = MainWindow(make_live_view(cloud_services.paths, is_browser=False))
    paints = Paints()
    window.installEventFilter(paints)
    painted_before: list[int] = []
    window.after_first_frame(lambda: painted_before.append(paints.count))
    try:
        qtbot.wait(50)
        assert painted_before == []  # not shown: nothing painted, nothing called
        window.show()
        qtbot.waitUntil(lambda: painted_before != [])
        assert painted_before[0] >= 1
        again: list[bool] = []
        window.after_first_frame(lambda: again.append(True))
        qtbot.waitUntil(lambda: again == [True])
    finally:
        window.removeEventFilter(paints)
        cloud_services.close()
        dispose(window)
