"""The local agent's model: settings to a model, and a broken endpoint turned into one clear fault."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from desktop_app.backends.llm import GuardedModel, classify_model_error, make_llm
from desktop_app.core.errors import BackendError, Problem
from desktop_app.system.keychain import Keychain, SecretName
from desktop_app.settings import LLMSettings


class ProviderError(Exception):
    def __init__(self, status_code: int) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code


@pytest.mark.parametrize(
    ("error", "problem", "words"),
    [
        (ProviderError(401), Problem.LLM_NOT_CONFIGURED, "did not accept your API key"),
        (ProviderError(404), Problem.LLM_NOT_CONFIGURED, "does not know this model"),
        (AttributeError("'str' object has no attribute 'choices'"), Problem.LLM_NOT_CONFIGURED, "does not understand"),
        (httpx.ConnectError("refused"), Problem.LLM_FAILED, "refused the connection"),
        (httpx.ReadTimeout("slow"), Problem.LLM_FAILED, "did not answer in time"),
    ],
)
def test_model_failures_get_a_clear_message(error: Exception, problem: Problem, words: str) -> None:
    fault = classify_model_error(error)
    assert fault is not None and fault.problem is problem and words in fault.message


def test_an_odd_answer_points_at_the_address_only_where_the_person_typed_one() -> None:
    odd = AttributeError("'str' object has no attribute 'choices'")
    assert "Check its address" in classify_model_error(odd, user_address=True).message
    assert "address" not in classify_model_error(odd, user_address=False).message


def test_a_rate_limit_is_left_to_browser_use_to_retry() -> None:
    assert classify_model_error(ProviderError(429)) is None


def test_the_guard_reports_once_and_raises(arun) -> None:
    faults: list[BackendError] = []

    class Refusing:
        model = "m"

        async def ainvoke(self, messages, output_format=None, **kwargs):
            raise httpx.ConnectError("Connection refused")

    guarded = GuardedModel(Refusing(), faults.append, timeout=5)
    with pytest.raises(BackendError):
        arun(guarded.ainvoke([]))
    assert len(faults) == 1 and faults[0].problem is Problem.LLM_FAILED


def test_a_silent_model_times_out(arun) -> None:
    faults: list[BackendError] = []

    class Silent:
        model = "m"

        async def ainvoke(self, messages, output_format=None, **kwargs):
            await asyncio.sleep(10)

    with pytest.raises(BackendError):
        arun(GuardedModel(Silent(), faults.append, timeout=0.1).ainvoke([]))
    assert faults[0].problem is Problem.LLM_FAILED and "did not answer within" in faults[0].message


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (LLMSettings(), "Choose the AI model"),
        (LLMSettings("openai"), "Add your OpenAI API key"),
        (LLMSettings("ollama", "", "http://127.0.0.1:11434"), "Name the Ollama model the agent should use (for example qwen3:8b). Do it in Settings."),
        (LLMSettings("openai_compatible", "", "http://127.0.0.1:8000/v1"), "Name the model your OpenAI-compatible server should use. Do it in Settings."),
    ],
)
def test_what_is_missing_is_said(settings: LLMSettings, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(BackendError) as caught:
        make_llm(settings, Keychain())
    assert caught.value.problem is Problem.LLM_NOT_CONFIGURED and expected in caught.value.message


def test_a_configured_provider_builds_its_model() -> None:
    keychain = Keychain()
    keychain.set(SecretName.OPENAI, "sk-test-key-0000000000000000")
    model = make_llm(LLMSettings("openai", "gpt-4.1-mini"), keychain)
    assert type(model).__name__ == "ChatOpenAI" and model.model == "gpt-4.1-mini"
    compatible = make_llm(LLMSettings("openai_compatible", "local-model", "http://127.0.0.1:8000/v1"), keychain)
    assert str(compatible.base_url).startswith("http://127.0.0.1:8000")
