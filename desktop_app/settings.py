"""User settings: one JSON file in the config directory, never any secret (those go to keychain.py).

A file that cannot be read or parsed is kept aside (``settings.json.bad``) and defaults are used,
so a broken file never stops the app from starting.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from desktop_app.backends.providers import PROVIDERS, provider
from desktop_app.core.backend_kind import BackendKind
from desktop_app.core.config_check import ADDRESS_VARIABLE, CloudConfig, address_problem
from desktop_app.system.keychain import Keychain, SecretName

log = logging.getLogger(__name__)

@dataclass
class LLMSettings:
    provider: str = ""  # "" = not configured yet
    model: str = ""
    base_url: str = ""  # openai_compatible and ollama only

    def effective_model(self) -> str:
        chosen = provider(self.provider)
        return self.model.strip() or (chosen.default_model if chosen else "")


@dataclass
class Settings:
    backend: BackendKind = BackendKind.LOCAL
    cloud_base_url: str = ""  # "" = the SDK's default; BROWSER_USE_BASE_URL overrides
    llm: LLMSettings = field(default_factory=LLMSettings)

    def effective_cloud_base_url(self) -> str | None:
        return os.environ.get(ADDRESS_VARIABLE, "").strip() or self.cloud_base_url.strip() or None

    def cloud_base_url_from_environment(self) -> bool:
        return bool(os.environ.get(ADDRESS_VARIABLE, "").strip())

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Settings:
        if not isinstance(data, dict):
            raise ValueError("settings file does not hold an object")
        defaults = cls()
        llm_data = data.get("llm") if isinstance(data.get("llm"), dict) else {}
        llm = LLMSettings(
            provider=_choice(llm_data.get("provider"), ("", *PROVIDERS), ""),
            model=_text(llm_data.get("model")),
            base_url=_text(llm_data.get("base_url")),
        )
        return cls(
            backend=BackendKind.parse(data.get("backend"), defaults.backend),
            cloud_base_url=_text(data.get("cloud_base_url")),
            llm=llm,
        )

    def problems(self) -> list[str]:
        """What is wrong with these settings, in words for the person who typed them."""
        found = []
        address = address_problem(CloudConfig(address=self.cloud_base_url, key="", in_settings_dialog=True))
        if address is not None:
            found.append(address.message)
        chosen = provider(self.llm.provider)
        if not self.backend.runs_agent_here or chosen is None:
            return found  # the model settings are only used in Local mode: never block a Cloud user on them
        if chosen.at_address and not _is_http_url(self.llm.base_url):
            found.append("The model server address must start with http:// or https://.")
        if chosen.needs_model and not self.llm.model:
            found.append(chosen.missing_model())
        return found


def _is_http_url(text: str) -> bool:
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _choice(value: Any, allowed: tuple[str, ...], default: str) -> str:
    return value if value in allowed else default


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def cloud_config(settings: Settings, keychain: Keychain, *, typed_key: str = "", in_settings_dialog: bool = False) -> CloudConfig:
    """The Browser Use settings in effect (the environment overrides Settings), to check them."""
    from_environment = keychain.from_environment(SecretName.BROWSER_USE)
    # A key typed in Settings is what will be saved, but BROWSER_USE_API_KEY still wins over it.
    key = typed_key if typed_key and not from_environment else keychain.get(SecretName.BROWSER_USE) or ""
    return CloudConfig(
        address=settings.effective_cloud_base_url() or "",
        key=key,
        address_from_environment=settings.cloud_base_url_from_environment(),
        key_from_environment=from_environment,
        in_settings_dialog=in_settings_dialog,
    )


def chosen_backend(settings: Settings, override: str | None) -> BackendKind:
    """``--backend`` wins for this run; otherwise what the user chose in Settings."""
    return BackendKind.parse(override, settings.backend)


class SettingsStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.problem: str | None = None  # shown to the user once when the file was unusable

    def load(self) -> Settings:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Settings()
        except OSError as error:
            self.problem = f"Your settings could not be read ({error.strerror}); defaults are in use."
            return Settings()
        try:
            return Settings.from_json(json.loads(raw))
        except (ValueError, TypeError) as error:
            aside = self.path.with_suffix(".json.bad")
            try:
                os.replace(self.path, aside)
            except OSError:
                aside = self.path
            log.warning("Settings file unusable (%s); kept as %s", error, aside.name)
            self.problem = f"Your settings file was damaged and has been kept aside as {aside.name}; defaults are in use."
            return Settings()

    def save(self, settings: Settings) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(settings.to_json(), indent=2), encoding="utf-8")
        temporary.chmod(0o600)  # this user's only, whatever the umask of whoever saves it
        os.replace(temporary, self.path)  # atomic: a crash never leaves half a file
