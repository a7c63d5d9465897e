from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.settings import LLMSettings, Settings, SettingsStore


def test_settings_round_trip(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.json")
    settings = Settings(backend="cloud", cloud_base_url="https://proxy.example/api/v2", llm=LLMSettings("ollama", "qwen3", "http://127.0.0.1:11434"))
    store.save(settings)
    assert store.load() == settings
    assert not list(tmp_path.glob("*.tmp"))


def test_no_file_means_defaults(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.json")
    assert store.load() == Settings() and store.problem is None
    assert Settings().backend == "local"


def test_a_damaged_file_is_kept_aside_and_defaults_are_used(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    store = SettingsStore(path)
    assert store.load() == Settings()
    assert "kept aside" in store.problem
    assert (tmp_path / "settings.json.bad").read_text() == "{not json"


def test_unknown_values_fall_back_one_by_one(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"backend": "mars", "cloud_base_url": 42, "llm": {"provider": "skynet", "model": "m"}}))
    settings = SettingsStore(path).load()
    assert (settings.backend, settings.cloud_base_url, settings.llm.provider, settings.llm.model) == ("local", "", "", "m")


def test_the_environment_overrides_the_cloud_address(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(cloud_base_url="https://saved.example/api/v2")
    assert settings.effective_cloud_base_url() == "https://saved.example/api/v2"
    monkeypatch.setenv("BROWSER_USE_BASE_URL", "http://127.0.0.1:9/api/v2")
    assert settings.effective_cloud_base_url() == "http://127.0.0.1:9/api/v2"


def test_settings_never_hold_secrets() -> None:
    assert not any("key" in name for name in Settings().to_json())
