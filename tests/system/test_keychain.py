from __future__ import annotations

import keyring
import keyring.backends.fail
import pytest

from desktop_app.system.keychain import SERVICE, Keychain, SecretName
from desktop_app.core.redaction import redactor
from tests.fakes.memory_keyring import BrokenKeyring, CountingKeyring, MemoryKeyring


def test_keys_go_to_the_keychain(memory_keyring: MemoryKeyring) -> None:
    keychain = Keychain()
    result = keychain.set(SecretName.BROWSER_USE, "  bu_secret_value_123  ")
    assert result.persistent and "keychain" in result.message
    assert memory_keyring.store[(SERVICE, "browser-use-api-key")] == "bu_secret_value_123"
    assert Keychain().get(SecretName.BROWSER_USE) == "bu_secret_value_123"
    assert Keychain().source(SecretName.BROWSER_USE) == "keychain"


def test_the_environment_overrides_the_keychain(memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    keychain = Keychain()
    keychain.set(SecretName.BROWSER_USE, "bu_stored_key_123")
    monkeypatch.setenv("BROWSER_USE_API_KEY", "bu_from_env_456")
    assert keychain.get(SecretName.BROWSER_USE) == "bu_from_env_456"
    assert keychain.source(SecretName.BROWSER_USE) == "environment (BROWSER_USE_API_KEY)"
    assert keychain.field_hint(SecretName.BROWSER_USE) == "Set by BROWSER_USE_API_KEY in your environment — change it there"


def test_without_a_keychain_keys_live_in_memory_for_the_run() -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    keychain = Keychain()
    assert not keychain.persistent and "this run only" in keychain.status_text
    result = keychain.set(SecretName.OPENAI, "sk-memory-only-key-1234567890")
    assert not result.persistent and "this run only" in result.message
    assert keychain.get(SecretName.OPENAI) == "sk-memory-only-key-1234567890"
    assert keychain.source(SecretName.OPENAI) == "memory (this run only)"
    assert keychain.field_hint(SecretName.OPENAI).startswith("Kept until you quit")
    assert keychain.field_hint(SecretName.ANTHROPIC) == (
        "Paste your Anthropic API key (no keychain: kept until you quit, pasted again after a restart)"
    )
    assert Keychain().get(SecretName.OPENAI) is None  # gone with the run


def test_a_keychain_that_fails_later_falls_back_to_memory() -> None:
    keyring.set_keyring(BrokenKeyring())
    keychain = Keychain()
    assert keychain.persistent
    result = keychain.set(SecretName.ANTHROPIC, "sk-ant-fallback-key-123456")
    assert not result.persistent and not keychain.persistent
    assert keychain.get(SecretName.ANTHROPIC) == "sk-ant-fallback-key-123456"


def test_deleting_and_empty_values(memory_keyring: MemoryKeyring) -> None:
    keychain = Keychain()
    keychain.set(SecretName.GOOGLE, "AIza-google-key-value-0000000000")
    keychain.set(SecretName.GOOGLE, "   ")
    assert keychain.get(SecretName.GOOGLE) is None
    keychain.delete(SecretName.GOOGLE)  # deleting what is not there is fine


def test_every_key_read_is_registered_for_redaction(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password(SERVICE, "openai-compatible-api-key", "plain-looking-secret")
    Keychain().get(SecretName.OPENAI_COMPATIBLE)
    assert redactor.redact("key=plain-looking-secret!") == "key=[redacted]!"


def test_the_keychain_is_asked_once_not_at_every_api_call() -> None:
    backend = CountingKeyring()
    keyring.set_keyring(backend)
    keychain = Keychain()
    keychain.set(SecretName.BROWSER_USE, "bu_cached_key_0123456")
    for _ in range(5):
        assert keychain.get(SecretName.BROWSER_USE) == "bu_cached_key_0123456"
    assert backend.reads == 0
    fresh = Keychain()
    for _ in range(5):
        fresh.get(SecretName.OPENAI)
    assert backend.reads == 1


def test_without_a_keychain_the_startup_notice_is_only_for_keys_to_paste(monkeypatch: pytest.MonkeyPatch) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    keychain = Keychain()
    monkeypatch.setenv("BROWSER_USE_API_KEY", "bu_from_env_456")
    assert keychain.startup_notice(SecretName.BROWSER_USE) is None  # read from the environment each start
    assert keychain.startup_notice(None) is None  # e.g. Ollama: no key at all
    notice = keychain.startup_notice(SecretName.OPENAI)
    assert notice is not None and "remembers your settings (the model you chose) but not its key" in notice
    assert keychain.field_hint(SecretName.OPENAI) == (
        "Paste your OpenAI API key (no keychain: kept until you quit, pasted again after a restart)"
    )


def test_with_a_keychain_there_is_no_startup_notice(memory_keyring: MemoryKeyring) -> None:
    assert Keychain().startup_notice(SecretName.OPENAI) is None
