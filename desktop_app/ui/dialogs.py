"""Questions that never block the event loop: ``open()`` the box and await a future.

``QDialog.exec()`` and ``QMessageBox.question()`` run a nested event loop, which breaks qasync
inside a running task (qasync #59/#174).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget


def headlined(title: str, text: str) -> str:
    """The question's title as a headline above its text: many window managers show no title bar
    text (or cut it short), and the title is what the question is about."""
    import html

    body = "<br>".join(html.escape(line, quote=False) for line in text.splitlines())
    return f"<p><b>{html.escape(title, quote=False)}</b></p><p>{body}</p>"


async def ask(
    parent: QWidget,
    title: str,
    text: str,
    choices: list[tuple[str, QMessageBox.ButtonRole]],
    *,
    default: int = 0,
    informative: str = "",
    on_open: Callable[[QMessageBox], None] | None = None,
) -> int | None:
    """Show a question; return the index of the chosen button, or None when it was dismissed.
    ``on_open`` gets the box, for a caller that may need to dismiss it (a quit signal arriving)."""
    box = QMessageBox(QMessageBox.Icon.Question, title, headlined(title, text), QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName("questionBox")
    box.setTextFormat(Qt.TextFormat.RichText)
    if informative:
        box.setInformativeText(informative)
    for label, role in choices:
        box.addButton(label, role)
    buttons = [_button(box, label) for label, _ in choices]
    box.setDefaultButton(buttons[default])  # type: ignore[arg-type]
    answer: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()

    def finished(_: int) -> None:
        clicked = box.clickedButton()
        if not answer.done():
            answer.set_result(buttons.index(clicked) if clicked in buttons else None)
        box.deleteLater()

    box.finished.connect(finished)
    box.open()
    if on_open is not None:
        on_open(box)
    return await answer


def _button(box: QMessageBox, label: str) -> QAbstractButton:
    """The box's button with this label, looked up among its buttons: ``addButton``'s return value
    was once seen to come back as a stale wrapper of another type (a QWidgetItem whose memory the
    new button reused), which made the question fail to open."""
    return next(b for b in box.buttons() if isinstance(b, QAbstractButton) and b.text() == label)


async def confirm(parent: QWidget, title: str, text: str, *, go: str, stay: str, informative: str = "") -> bool:
    """A yes/no before something that cannot be undone; the safe answer (``stay``) is the default."""
    choices = [(go, QMessageBox.ButtonRole.AcceptRole), (stay, QMessageBox.ButtonRole.RejectRole)]
    return await ask(parent, title, text, choices, default=1, informative=informative) == 0
