"""The queue panel's clicks → core: steps added, edited, moved, skipped, run again; Run queue (which
asks whether to continue where the queue stopped); playbooks started (asking for their variables),
saved, exported, imported and deleted; History's "Run this again".

The rules are core's (``QueueRunner``, ``PlaybookStore``); a refusal shows as a notice.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget

from desktop_app.core import messages
from desktop_app.core.controller import CommandResult
from desktop_app.core.events import Level, Notice
from desktop_app.core.playbooks import Playbook, PlaybookStep, parse_one
from desktop_app.core.queue import QueueRefused, StepKind
from desktop_app.core.tasks import TaskSet
from desktop_app.services import Services
from desktop_app.ui.dialogs import ask
from desktop_app.ui.notice_banner import NoticeBanner
from desktop_app.ui.playbook_dialogs import ask_values, choose_file
from desktop_app.ui.queue_panel import QueuePanel

log = logging.getLogger(__name__)


class QueueActions:
    def __init__(
        self,
        window: QWidget,
        services: Services,
        panel: QueuePanel,
        banner: NoticeBanner,
        tasks: TaskSet,
        follow: Callable[[CommandResult], None],
        *,
        interactive: bool,
    ) -> None:
        self._window = window
        self._services = services
        self._runner = services.queue
        self._store = services.playbooks
        self._panel = panel
        self._banner = banner
        self._tasks = tasks
        self._follow = follow
        self._interactive = interactive
        self.playbooks: list[Playbook] = self._store.load()
        panel.show_playbooks([p.name for p in self.playbooks])
        panel.show_steps(self._runner.steps, self._runner.running)

        panel.addRequested.connect(self.add)
        panel.editRequested.connect(lambda step_id, text: self._refusable(self._runner.edit, step_id, text))
        panel.removeRequested.connect(lambda step_id: self._refusable(self._runner.remove, step_id))
        panel.moveRequested.connect(self.move)
        panel.skipRequested.connect(lambda step_id: self._refusable(self._runner.skip, step_id))
        panel.runAgainRequested.connect(lambda step_id: self._refusable(self._runner.run_again, step_id))
        panel.runQueueRequested.connect(self.run_queue)
        panel.startPlaybookRequested.connect(lambda name: self._tasks.spawn(self.start_playbook(name)))
        panel.savePlaybookRequested.connect(lambda: self._tasks.spawn(self.save_playbook()))
        panel.exportPlaybookRequested.connect(lambda name: self._tasks.spawn(self.export_playbook(name)))
        panel.importPlaybookRequested.connect(lambda: self._tasks.spawn(self.import_playbook()))
        panel.deletePlaybookRequested.connect(self.delete_playbook)

    # -- steps -----------------------------------------------------------------------------------

    def add(self, kind: StepKind, text: str) -> None:
        if self._refusable(self._runner.add, kind, text):
            self._panel.clear_step_input()

    def move(self, step_id: int, to: int) -> None:
        if self._refusable(self._runner.move, step_id, to):
            self._panel.select_row(to)

    def _refusable(self, command: Callable[..., Any], *args: Any) -> bool:
        try:
            command(*args)
        except QueueRefused as refused:
            self._banner.show_notice(Notice(Level.INFO, str(refused)))
            return False
        return True

    # -- running ---------------------------------------------------------------------------------

    def run_queue(self) -> None:
        offer = self._runner.continue_offer()
        if offer is None or not self._interactive:
            self._follow(self._runner.start())
            return
        self._tasks.spawn(self._ask_where_to_continue(offer))

    async def _ask_where_to_continue(self, question: str) -> None:
        choices = [
            ("Continue", QMessageBox.ButtonRole.AcceptRole),
            ("Run from the start", QMessageBox.ButtonRole.ActionRole),
            ("Cancel", QMessageBox.ButtonRole.RejectRole),
        ]
        answer = await ask(self._window, "Run the queue", question, choices, default=0)
        if answer in (0, 1):
            self._follow(self._runner.start(from_start=answer == 1))

    # -- playbooks -------------------------------------------------------------------------------

    def _playbook(self, name: str) -> Playbook | None:
        return next((p for p in self.playbooks if p.name == name), None)

    async def start_playbook(self, name: str, values: dict[str, str] | None = None) -> bool:
        """Load the playbook into the queue and run it, asking for its variables first."""
        playbook = self._playbook(name)
        if playbook is None:
            return False
        if playbook.variables and values is None:
            if not self._interactive:
                return False
            values = await ask_values(
                self._window, f"Start “{playbook.name}”", "This playbook needs a few values:", playbook.variables
            )
            if values is None:
                return False
        try:
            steps = playbook.filled(values or {})
        except ValueError as problem:
            self._banner.show_notice(Notice(Level.INFO, str(problem)))
            return False
        return self.load_and_run(steps)

    def load_and_run(self, steps: list[PlaybookStep]) -> bool:
        if not self._refusable(self._runner.load, steps):
            return False
        self._panel.hide_summary()
        result = self._runner.start()
        self._follow(result)
        return result.accepted

    def run_plan_again(self, plan: str) -> bool:
        """History's "Run this again": the queue a session ran, as it was."""
        try:
            playbook = parse_one(plan)
        except ValueError as problem:
            self._banner.show_message(messages.playbook_import_failed(str(problem)), Level.WARNING)
            return False
        return self.load_and_run(list(playbook.steps))

    async def save_playbook(self, name: str | None = None) -> bool:
        steps = self._runner.plan()
        if not steps:
            self._banner.show_notice(Notice(Level.INFO, messages.QUEUE_EMPTY))
            return False
        if name is None:
            answer = await ask_values(
                self._window, "Save as playbook", "Name it. Write {{name}} in a step for a value asked for when it starts.", ["Name"]
            )
            if answer is None:
                return False
            name = answer["Name"]
        if not name.strip():
            self._banner.show_notice(Notice(Level.INFO, messages.PLAYBOOK_NAME_NEEDED))
            return False
        return self._saved(Playbook(name.strip(), tuple(steps)), f"Saved the playbook “{name.strip()}”.")

    def _saved(self, playbook: Playbook, told: str) -> bool:
        try:
            self.playbooks = self._store.saved_with(playbook)
        except OSError as error:
            self._banner.show_message(f"The playbook could not be saved: {error.strerror or error}", Level.WARNING)
            return False
        self._panel.show_playbooks([p.name for p in self.playbooks])
        self._panel.playbook_list.setCurrentText(playbook.name)
        self._banner.show_message(told)
        return True

    async def export_playbook(self, name: str, path: Path | None = None) -> bool:
        playbook = self._playbook(name)
        if playbook is None:
            return False
        if path is None:
            folder = self._services.paths.exports
            folder.mkdir(parents=True, exist_ok=True)
            path = await choose_file(self._window, "Export the playbook", folder, save_as=f"{_file_name(name)}.json")
            if path is None:
                return False
        try:
            self._store.export(playbook, path)
        except OSError as error:
            self._banner.show_message(f"Could not save {path.name}: {error.strerror or error}", Level.WARNING)
            return False
        self._banner.show_message(f"Exported “{name}” to {path}")
        return True

    async def import_playbook(self, path: Path | None = None) -> bool:
        if path is None:
            path = await choose_file(self._window, "Import a playbook", self._services.paths.exports)
            if path is None:
                return False
        try:
            playbook = self._store.read_export(path)
        except ValueError as problem:
            self._banner.show_message(messages.playbook_import_failed(str(problem)), Level.WARNING)
            return False
        return self._saved(playbook, f"Imported the playbook “{playbook.name}”.")

    def delete_playbook(self, name: str) -> None:
        try:
            self.playbooks = self._store.removed(name)
        except OSError as error:
            self._banner.show_message(f"The playbook could not be deleted: {error.strerror or error}", Level.WARNING)
            return
        self._panel.show_playbooks([p.name for p in self.playbooks])


def _file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-").lower() or "playbook"
