"""The few questions playbooks ask — a name, the values of ``{{variables}}``, a file — opened and
awaited through a future, never ``exec()`` (a nested event loop breaks qasync)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QLabel, QLineEdit, QWidget


async def ask_values(parent: QWidget, title: str, intro: str, labels: list[str], values: dict[str, str] | None = None) -> dict[str, str] | None:
    """One line per label; None when cancelled."""
    dialog = QDialog(parent)
    dialog.setObjectName("playbookValuesDialog")
    dialog.setWindowTitle(title)
    form = QFormLayout(dialog)
    heading = QLabel(intro, dialog)
    heading.setWordWrap(True)
    form.addRow(heading)
    fields: dict[str, QLineEdit] = {}
    for label in labels:
        field = QLineEdit((values or {}).get(label, ""), dialog)
        field.setObjectName(f"value_{label}")
        field.setAccessibleName(label)
        form.addRow(label, field)
        fields[label] = field
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form.addRow(buttons)
    answer: asyncio.Future[dict[str, str] | None] = asyncio.get_running_loop().create_future()

    def finished(result: int) -> None:
        if not answer.done():
            accepted = result == QDialog.DialogCode.Accepted
            answer.set_result({label: f.text() for label, f in fields.items()} if accepted else None)
        dialog.deleteLater()

    dialog.finished.connect(finished)
    dialog.open()
    return await answer


async def choose_file(parent: QWidget, title: str, folder: Path, *, save_as: str | None = None) -> Path | None:
    """A JSON file to save (``save_as``: the suggested name) or to open; None when cancelled."""
    chooser = QFileDialog(parent, title)
    chooser.setObjectName("playbookFileDialog")
    chooser.setNameFilter("Handoff playbook (*.json)")
    if save_as is not None:
        chooser.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        chooser.setDefaultSuffix("json")
        chooser.selectFile(str(folder / save_as))
    else:
        chooser.setFileMode(QFileDialog.FileMode.ExistingFile)
    chooser.setDirectory(str(folder))
    answer: asyncio.Future[Path | None] = asyncio.get_running_loop().create_future()

    def finished(result: int) -> None:
        files = chooser.selectedFiles()
        if not answer.done():
            answer.set_result(Path(files[0]) if result == QDialog.DialogCode.Accepted and files else None)
        chooser.deleteLater()

    chooser.finished.connect(finished)
    chooser.open()
    return await answer
