"""Settings: where the browser runs, the Browser Use key, the local agent's model, site data.

Opened with ``open()`` (never ``exec()``). Stored keys are never shown: an empty key field means
"keep the stored key". Invalid input keeps the dialog open with a message and loses nothing.
Check asks the Browser Use address (with the key) whether it is the API; Save does not wait on the
network, so it works offline.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.backends.ollama import detect_ollama
from desktop_app.backends.providers import OLLAMA_URL, PROVIDERS, provider
from desktop_app.core.backend_kind import BackendKind
from desktop_app.core.config_check import CloudConfig, key_problem
from desktop_app.core.messages import plural
from desktop_app.system.keychain import SecretName
from desktop_app.services import Services
from desktop_app.settings import LLMSettings, Settings, cloud_config


class SecretField(QWidget):
    """A key entry that never displays the stored value."""

    def __init__(self, services: Services, name: SecretName, object_name: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.name = name
        self.edit = QLineEdit(self)
        self.edit.setObjectName(object_name)
        self.edit.setAccessibleName(object_name)
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setClearButtonEnabled(True)
        source = services.keychain.source(name)
        self.is_set = source != "not set"
        self.edit.setPlaceholderText(services.keychain.field_hint(name))
        # Shows what is being typed; a saved key is never read back into the window.
        self.show_button = QPushButton("Show", self)
        self.show_button.setCheckable(True)
        self.show_button.setToolTip("Show the key you are typing")
        self.show_button.toggled.connect(self._show_typed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.show_button)

    def _show_typed(self, shown: bool) -> None:
        self.edit.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.show_button.setText("Hide" if shown else "Show")

    @property
    def new_value(self) -> str:
        return self.edit.text().strip()

    @property
    def will_have_key(self) -> bool:
        return self.is_set or bool(self.new_value)


class SettingsDialog(QDialog):
    saved = Signal()
    forgetSiteDataRequested = Signal()

    def __init__(self, services: Services, parent: QWidget | None = None, *, focus_cloud_key: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Handoff — Settings")
        self.setMinimumWidth(520)
        self._services = services
        settings = services.settings

        where = QGroupBox("Where the browser runs", self)
        self.backend_group = QButtonGroup(self)
        where_layout = QVBoxLayout(where)
        self.backend_buttons: dict[BackendKind, QRadioButton] = {}
        for kind in BackendKind:
            button = QRadioButton(kind.label, where)
            button.setObjectName(f"backend_{kind.value}")
            button.setChecked(kind == services.backend_kind)
            self.backend_group.addButton(button)
            self.backend_buttons[kind] = button
            where_layout.addWidget(button)
        locked = services.sessions.backend_locked_reason
        if locked is not None:
            # Say it here rather than refuse on Save: the choice cannot take effect while a session is open.
            for button in self.backend_buttons.values():
                button.setEnabled(button.isChecked())
            where_layout.addWidget(_hint(locked, where))
        elif any(services.restart_needed_for(kind) for kind in BackendKind if kind != services.backend_kind):
            where_layout.addWidget(_hint("Switching between Local and Cloud restarts Handoff.", where))
        where_layout.addWidget(
            _hint(
                "Local: the browser inside this window, driven by an AI model you choose — no account needed.\n"
                "Browser Use Cloud: a browser on Browser Use's servers, billed by Browser Use.",
                where,
            )
        )

        cloud = QGroupBox("Browser Use", self)
        cloud_form = QFormLayout(cloud)
        self.cloud_key = SecretField(services, SecretName.BROWSER_USE, "browserUseKey", cloud)
        cloud_form.addRow("API key", self.cloud_key)
        self.cloud_url = QLineEdit(settings.cloud_base_url, cloud)
        self.cloud_url.setObjectName("cloudBaseUrl")
        override = os.environ.get("BROWSER_USE_BASE_URL", "").strip()
        self.cloud_url.setPlaceholderText(
            f"Set by BROWSER_USE_BASE_URL: {override}" if override else "Default (api.browser-use.com)"
        )
        cloud_form.addRow("API address", self.cloud_url)
        self.check_button = QPushButton("Check", cloud)
        self.check_button.setObjectName("cloudCheckButton")
        self.check_button.setToolTip("Ask this address, with this key, whether it is the Browser Use API")
        self.check_button.clicked.connect(self._start_cloud_check)
        self.check_status = _hint("", cloud)
        self.check_status.setObjectName("cloudCheckStatus")
        check_row = QHBoxLayout()
        check_row.addWidget(self.check_button)
        check_row.addWidget(self.check_status, 1)
        cloud_form.addRow(check_row)
        self._cloud_check: asyncio.Task[None] | None = None
        self.finished.connect(self._stop_cloud_check)
        cloud_form.addRow(_hint("Get a key at cloud.browser-use.com. It is also used by the Browser Use LLM.", cloud))

        model = QGroupBox("Local agent's AI model", self)
        model_form = QFormLayout(model)
        self.provider = QComboBox(model)
        self.provider.setObjectName("llmProvider")
        self.provider.addItem("Choose…", "")
        for choice in PROVIDERS.values():
            self.provider.addItem(choice.label, choice.id)
        self.provider.setCurrentIndex(max(0, self.provider.findData(settings.llm.provider)))
        self.provider.currentIndexChanged.connect(self._provider_changed)
        model_form.addRow("Provider", self.provider)
        self.model = QLineEdit(settings.llm.model, model)
        self.model.setObjectName("llmModel")
        model_form.addRow("Model", self.model)
        self.llm_url = QLineEdit(settings.llm.base_url, model)
        self.llm_url.setObjectName("llmBaseUrl")
        self.llm_url.setPlaceholderText("e.g. http://127.0.0.1:8000/v1")
        model_form.addRow("Server address", self.llm_url)
        self._model_form = model_form
        self.provider_keys = {
            choice.id: SecretField(services, choice.secret, f"{choice.id}Key", model)
            for choice in PROVIDERS.values()
            if choice.secret is not None and choice.secret is not SecretName.BROWSER_USE
        }
        self.provider_key_label = QLabel("API key", model)
        for field in self.provider_keys.values():
            model_form.addRow(field)
        model_form.insertRow(model_form.rowCount() - len(self.provider_keys), self.provider_key_label)
        self.ollama_status = _hint("", model)
        self.ollama_status.setObjectName("ollamaStatus")
        model_form.addRow(self.ollama_status)

        site = QGroupBox("Site data (Local browser)", self)
        site_layout = QVBoxLayout(site)
        self.forget_button = QPushButton("Forget all site data…", site)
        self.forget_button.setObjectName("forgetSiteDataButton")
        self.forget_button.clicked.connect(self.forgetSiteDataRequested)
        site_layout.addWidget(_hint("Sites you log in to in the Local browser stay logged in between runs.", site))
        site_layout.addWidget(self.forget_button)

        vault = QGroupBox("Vault and site rules", self)
        vault_layout = QVBoxLayout(vault)
        vault_layout.addWidget(_hint(
            "Logins the agent may use without the AI model seeing them, and what a person always does on a site "
            "(log in, pay, confirm).",
            vault,
        ))
        vault_buttons = QHBoxLayout()
        self.vault_button = QPushButton("Vault…", vault)
        self.vault_button.setObjectName("settingsVaultButton")
        self.sites_button = QPushButton("Site rules…", vault)
        self.sites_button.setObjectName("settingsSitesButton")
        from desktop_app.ui.vault_dialog import open_vault_dialog

        self.vault_button.clicked.connect(lambda: open_vault_dialog(self.parentWidget() or self, services.vault))
        self.sites_button.clicked.connect(lambda: open_vault_dialog(self.parentWidget() or self, services.vault, tab="sites"))
        vault_buttons.addWidget(self.vault_button)
        vault_buttons.addWidget(self.sites_button)
        vault_buttons.addStretch(1)
        vault_layout.addLayout(vault_buttons)

        self.keychain_status = _hint(services.keychain.status_text, self)
        self.keychain_status.setObjectName("keychainStatus")
        self.error = QLabel(self)
        self.error.setObjectName("settingsError")
        self.error.setWordWrap(True)
        self.error.hide()

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("settingsSaveButton")

        layout = QVBoxLayout(self)
        for widget in (where, cloud, model, site, vault, self.keychain_status, self.error, buttons):
            layout.addWidget(widget)
        self._provider_changed()
        self.model_group = model
        self.backend_group.buttonToggled.connect(self._mode_changed)
        self._mode_changed()
        # An error shown after Save goes as soon as anything is changed.
        for edit in (self.cloud_url, self.model, self.llm_url, self.cloud_key.edit, *(f.edit for f in self.provider_keys.values())):
            edit.textEdited.connect(self.error.hide)
        self.provider.currentIndexChanged.connect(self.error.hide)
        for edit in (self.cloud_url, self.cloud_key.edit):
            edit.textEdited.connect(self.check_status.clear)  # it was about what is no longer typed
        self.backend_group.buttonToggled.connect(self.error.hide)
        if focus_cloud_key:
            self.cloud_key.edit.setFocus(Qt.FocusReason.OtherFocusReason)

    async def look_for_ollama(self, base_url: str = OLLAMA_URL) -> None:
        """Offer a local Ollama when one answers (started by the window once the dialog is open)."""
        models = await detect_ollama(base_url)
        if not self.isVisible():
            return
        if models is None:
            self.ollama_status.setText("Ollama is not running on this computer.")
            self._provider_changed()
            return
        names = ", ".join(models[:5]) + ("…" if len(models) > 5 else "")
        self.ollama_status.setText(f"Ollama is running here with {plural(len(models), 'model')}: {names or 'none yet'}.")
        index = self.provider.findData("ollama")
        self.provider.setItemText(index, f"{PROVIDERS['ollama'].label} — found")
        if not self.provider.currentData():
            self.provider.setCurrentIndex(index)
            if models and not self.model.text():
                self.model.setText(models[0])
        self._provider_changed()

    def _typed_cloud_config(self) -> CloudConfig:
        typed = replace(self._services.settings, cloud_base_url=self.cloud_url.text().strip())
        return cloud_config(typed, self._services.keychain, typed_key=self.cloud_key.new_value, in_settings_dialog=True)

    def _start_cloud_check(self) -> None:
        self._stop_cloud_check()
        self._cloud_check = asyncio.get_event_loop().create_task(self.check_cloud())

    def _stop_cloud_check(self) -> None:
        if self._cloud_check is not None and not self._cloud_check.done():
            self._cloud_check.cancel()

    async def check_cloud(self) -> None:
        """What the Browser Use address and key typed here would do, in words (Check)."""
        from desktop_app.backends.cloud_check import check_cloud

        self.check_button.setEnabled(False)
        self.check_status.setText("Checking…")
        try:
            problem = await check_cloud(self._typed_cloud_config())
        finally:
            self.check_button.setEnabled(True)
        self.check_status.setText(problem.message if problem is not None else "Browser Use answered: the address and the key work.")

    def _provider_changed(self) -> None:
        provider_id = self.provider.currentData() or ""
        chosen = provider(provider_id)
        self._model_form.setRowVisible(self.llm_url, chosen is not None and chosen.at_address)
        if provider_id == "ollama" and not self.llm_url.text():
            self.llm_url.setText(OLLAMA_URL)
        # Whether Ollama runs matters while choosing a provider, and when it is the one chosen.
        self.ollama_status.setVisible(provider_id in ("", "ollama") and bool(self.ollama_status.text()))
        for name, field in self.provider_keys.items():
            field.setVisible(name == provider_id)
        self.provider_key_label.setVisible(provider_id in self.provider_keys)
        self.model.setPlaceholderText((chosen.default_model if chosen else "") or "Model name")

    def _mode_changed(self) -> None:
        # Cloud's agent runs on Browser Use's servers: the local model settings would only confuse.
        self.model_group.setVisible(self.chosen_backend().runs_agent_here)
        self.adjustSize()

    def chosen_backend(self) -> BackendKind:
        return next(kind for kind, button in self.backend_buttons.items() if button.isChecked())

    def save(self) -> None:
        provider_id = self.provider.currentData() or ""
        chosen = provider(provider_id)
        settings: Settings = replace(
            self._services.settings,
            backend=self.chosen_backend(),
            cloud_base_url=self.cloud_url.text().strip(),
            llm=LLMSettings(
                provider=provider_id,
                model=self.model.text().strip(),
                base_url=self.llm_url.text().strip() if chosen is not None and chosen.at_address else "",
            ),
        )
        problems = settings.problems()
        if not settings.backend.runs_agent_here and not problems:  # the agent runs on Browser Use's servers
            missing_key = key_problem(self._typed_cloud_config())
            if missing_key is not None:
                problems.append(missing_key.message)
        key_field = self.provider_keys.get(provider_id)
        needs_key = settings.backend.runs_agent_here and chosen is not None and chosen.needs_key  # Cloud never uses it
        if key_field is not None and needs_key and not key_field.will_have_key:
            problems.append(f"Paste your {chosen.name} API key, or choose another provider.")
        if problems:
            self._show_error("\n".join(problems))
            return
        try:
            messages = self._services.save_settings(settings)
        except OSError as error:
            self._show_error(f"Your settings could not be saved ({error.strerror or error}). Check the disk; nothing was lost here.")
            return
        for field in (self.cloud_key, *self.provider_keys.values()):
            if field.new_value:
                messages.append(self._services.keychain.set(field.name, field.new_value).message)
        self.saved_messages = messages
        self.saved.emit()
        self.accept()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()


def _hint(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setProperty("hint", True)
    return label
