"""The window's dialogs: Settings, History, Help, About and the crash report — one of each at a time.

Settings and History are imported when first opened (start-up need not wait for them). All of them
``open()``, never ``exec()``: a nested event loop would break qasync.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QMessageBox

from desktop_app import APP_NAME, __version__
from desktop_app.core.events import Level
from desktop_app.core.messages import HELP_TEXT, about_text
from desktop_app.core.tasks import TaskSet
from desktop_app.ui.crash_dialog import show_crash_dialog
from desktop_app.ui.dialogs import ask, headlined

if TYPE_CHECKING:
    from desktop_app.services import Services
    from desktop_app.ui.history_dialog import HistoryDialog
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.settings_dialog import SettingsDialog


class WindowDialogs:
    def __init__(
        self,
        window: MainWindow,
        services: Services,
        tasks: TaskSet,
        *,
        interactive: bool,
        on_settings_saved: Callable[[Any], None],
    ) -> None:
        self._window = window
        self._services = services
        self._tasks = tasks
        self._interactive = interactive  # False with --no-err-windows: nothing pops up
        self._on_settings_saved = on_settings_saved
        self.settings: SettingsDialog | None = None
        self.history: HistoryDialog | None = None
        # History's "Run this again" (a queue's plan as JSON); window_wiring connects it to the queue.
        self.run_again_requested: Callable[[str], Any] = lambda plan: None

    # -- settings --------------------------------------------------------------------------------

    def open_settings(self, *, focus_cloud_key: bool = False) -> None:
        if self.settings is not None:
            self.settings.raise_()
            self.settings.activateWindow()
            return
        from desktop_app.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self._services, self._window, focus_cloud_key=focus_cloud_key)
        dialog.saved.connect(lambda: self._on_settings_saved(dialog))
        dialog.forgetSiteDataRequested.connect(lambda: self._tasks.spawn(self._confirm_forget_site_data()))
        dialog.finished.connect(self._settings_closed)
        self.settings = dialog
        dialog.open()
        self._tasks.spawn(dialog.look_for_ollama())

    def _settings_closed(self) -> None:
        if self.settings is not None:
            self.settings.deleteLater()
        self.settings = None

    async def _confirm_forget_site_data(self) -> None:
        choice = await ask(
            self.settings or self._window,
            "Forget all site data",
            "Log out of every site and delete cookies, cache and stored data of the Local browser?",
            [("Forget everything", QMessageBox.ButtonRole.DestructiveRole), ("Cancel", QMessageBox.ButtonRole.RejectRole)],
            default=1,
        )
        if choice == 0:
            # Every session's browser: those open now at once, the others' stored data at the next start.
            said = [tab.live_view.forget_site_data() for tab in self._window.tabs]
            from desktop_app.ui.web_page import schedule_profile_wipe

            for storage in self._services.paths.all_browser_profiles():
                schedule_profile_wipe(storage)
            self._window.banner.show_message(said[0])

    # -- history ---------------------------------------------------------------------------------

    def open_history(self) -> None:
        if self.history is not None:
            self.history.reload()
            self.history.raise_()
            return
        from desktop_app.ui.history_dialog import HistoryDialog

        dialog = HistoryDialog(self._services.history, self._services.paths.exports, self._window)
        dialog.runAgainRequested.connect(lambda plan: self.run_again_requested(plan))
        dialog.finished.connect(self._history_closed)
        self.history = dialog
        dialog.show()

    def _history_closed(self) -> None:
        if self.history is not None:
            self.history.deleteLater()
        self.history = None

    # -- help, about, crash reports --------------------------------------------------------------

    def open_help(self) -> None:
        self._show_info("helpBox", f"How {APP_NAME} works", HELP_TEXT)

    def open_about(self) -> None:
        self._show_info("aboutBox", f"About {APP_NAME}", about_text(__version__))

    def _show_info(self, name: str, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, title, headlined(title, text), QMessageBox.StandardButton.Close, self._window)
        box.setObjectName(name)
        box.setWindowIcon(self._window.windowIcon())
        box.finished.connect(box.deleteLater)
        box.open()

    def show_crash(self, report: Path, summary: str) -> None:
        """Told by the crash reporter; with --no-err-windows only the log and the file are written."""
        self._window.banner.show_message(f"Something went wrong ({summary}). A report was saved to {report}.", Level.ERROR)
        if self._interactive:
            show_crash_dialog(self._window, report, summary)
