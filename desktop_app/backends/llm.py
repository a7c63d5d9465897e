"""The local agent's chat model: built from Settings, guarded so a dead endpoint stops the run cleanly."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from desktop_app.core.errors import BackendError, Problem
from desktop_app.core.messages import plural
from desktop_app.system.keychain import Keychain
from desktop_app.core.cards import redact_cards
from desktop_app.backends.providers import provider
from desktop_app.settings import LLMSettings

if TYPE_CHECKING:
    from desktop_app.core.privacy import PrivacyGuard

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 90.0
NOT_CONFIGURED = (
    "Choose the AI model for the local agent in Settings: a provider with your API key, or a model server "
    "on this computer (Ollama or OpenAI-compatible)."
)


def check_llm_settings(settings: LLMSettings, keychain: Keychain) -> None:
    """BackendError(LLM_NOT_CONFIGURED) if these settings cannot give a model (nothing is built)."""
    chosen = provider(settings.provider)
    if chosen is None:
        raise BackendError(Problem.LLM_NOT_CONFIGURED, NOT_CONFIGURED)
    model_key(settings.provider, keychain)
    if chosen.needs_model and not settings.effective_model():
        raise BackendError(Problem.LLM_NOT_CONFIGURED, f"{chosen.missing_model()} Do it in Settings.")


def make_llm(settings: LLMSettings, keychain: Keychain) -> Any:
    """A browser-use chat model for these settings, or BackendError(LLM_NOT_CONFIGURED)."""
    check_llm_settings(settings, keychain)
    provider = settings.provider
    model = settings.effective_model()
    key = model_key(provider, keychain)
    if provider == "browser_use":
        from browser_use.llm.browser_use.chat import ChatBrowserUse

        return ChatBrowserUse(model=model, api_key=key, max_retries=2)
    if provider == "openai":
        from browser_use.llm.openai.chat import ChatOpenAI

        return ChatOpenAI(model=model, api_key=key, max_retries=2)
    if provider == "anthropic":
        from browser_use.llm.anthropic.chat import ChatAnthropic

        return ChatAnthropic(model=model, api_key=key, max_retries=2)
    if provider == "google":
        from browser_use.llm.google.chat import ChatGoogle

        return ChatGoogle(model=model, api_key=key, max_retries=2)
    if provider == "openai_compatible":
        from browser_use.llm.openai.chat import ChatOpenAI

        return ChatOpenAI(model=model, api_key=key or "not-needed", base_url=settings.base_url, max_retries=1)
    if provider == "ollama":
        from browser_use.llm.ollama.chat import ChatOllama

        return ChatOllama(model=model, host=settings.base_url or None, timeout=DEFAULT_TIMEOUT)
    raise BackendError(Problem.LLM_NOT_CONFIGURED, NOT_CONFIGURED)


def model_key(provider_id: str, keychain: Keychain) -> str | None:
    """The key the provider's model client is given (None: it takes none, or none is stored and it
    needs none); BackendError(LLM_NOT_CONFIGURED) when it needs one and none is stored."""
    chosen = provider(provider_id)
    if chosen is None or chosen.secret is None:
        return None
    key = keychain.get(chosen.secret)
    if not key and chosen.needs_key:
        raise BackendError(
            Problem.LLM_NOT_CONFIGURED, f"Add your {chosen.name} API key in Settings so the local agent can think."
        )
    return key


class GuardedModel:
    """Wraps a browser-use chat model: a refused connection, a rejected key or a silent endpoint ends
    the run at once with a clear message, instead of browser-use's retry loop of failing steps."""

    _verified_api_keys = True

    def __init__(
        self,
        inner: Any,
        on_fault: Callable[[BackendError], None],
        timeout: float = DEFAULT_TIMEOUT,
        *,
        user_address: bool = False,
        privacy: PrivacyGuard | None = None,
    ) -> None:
        self._inner = inner
        self._privacy = privacy
        self._on_fault = on_fault
        self.timeout = timeout
        self._user_address = user_address  # the person typed the server's address (it may be wrong)
        self.model = getattr(inner, "model", "model")

    @property
    def provider(self) -> str:
        return str(getattr(self._inner, "provider", "unknown"))

    @property
    def name(self) -> str:
        return str(getattr(self._inner, "name", self.model))

    @property
    def model_name(self) -> str:
        return str(self.model)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def ainvoke(self, messages: list[Any], output_format: Any = None, **kwargs: Any) -> Any:
        if self._privacy is not None:
            messages = await self._hide_from_model(messages)
        try:
            return await asyncio.wait_for(self._inner.ainvoke(messages, output_format, **kwargs), self.timeout)
        except TimeoutError:
            fault = BackendError(
                Problem.LLM_FAILED,
                f"The AI model did not answer within {plural(round(self.timeout), 'second')}.",
            )
        except Exception as error:
            fault = classify_model_error(error, user_address=self._user_address)
            if fault is None:
                raise
        self._on_fault(fault)
        raise fault


    async def _hide_from_model(self, messages: list[Any]) -> list[Any]:
        """Every value the person typed (and every secret field's value) leaves the text; the page
        is read again first, so a value typed a moment ago is known. If the page cannot be read,
        card numbers are removed by their shape as well."""
        privacy = self._privacy
        assert privacy is not None
        reading = await privacy.current(why="model call")
        if reading is not None and reading.confirmed:
            return scrub_messages(messages, privacy.scrub)
        return scrub_messages(messages, lambda text: redact_cards(privacy.scrub(text)))


def scrub_messages(messages: list[Any], scrub: Callable[[str], str]) -> list[Any]:
    """Copies of browser-use's messages with ``scrub`` applied to every text part (images untouched:
    they are masked when captured)."""
    cleaned = []
    for message in messages:
        content = getattr(message, "content", None)
        if isinstance(content, str):
            text = scrub(content)
            if text != content:
                message = message.model_copy(update={"content": text})
        elif isinstance(content, list):
            parts = [
                part.model_copy(update={"text": scrub(part.text)}) if isinstance(getattr(part, "text", None), str) else part
                for part in content
            ]
            message = message.model_copy(update={"content": parts})
        cleaned.append(message)
    return cleaned


def classify_model_error(error: BaseException, *, user_address: bool = False) -> BackendError | None:
    """A fault that retrying within seconds will not fix, or None to let browser-use retry."""
    status = getattr(error, "status_code", None)
    if status in (401, 403):
        return BackendError(
            Problem.LLM_NOT_CONFIGURED,
            "The AI model provider did not accept your API key. Check it in Settings.",
            detail=str(error)[:300],
        )
    if status == 404:
        return BackendError(
            Problem.LLM_NOT_CONFIGURED,
            "The AI model server does not know this model. Check the model name (and the address) in Settings.",
            detail=str(error)[:300],
        )
    if isinstance(error, AttributeError | TypeError | KeyError):
        # e.g. "'str' object has no attribute 'choices'": the address is not a model server of that kind.
        check = "its address and the provider" if user_address else "the provider and the model name"
        return BackendError(
            Problem.LLM_NOT_CONFIGURED,
            f"The AI model server answered in a way Handoff does not understand. Check {check} in Settings.",
            detail=f"{type(error).__name__}: {error}"[:300],
        )
    import httpx  # loaded by the model client by now; not at app startup

    chain: list[BaseException] = []
    link: BaseException | None = error
    while link is not None and len(chain) < 12:
        chain.append(link)
        link = link.__cause__ or link.__context__
    detail = str(error)[:300]
    # The most specific cause decides the wording.
    if any(isinstance(e, httpx.ConnectError | ConnectionRefusedError) for e in chain):
        return BackendError(
            Problem.LLM_FAILED,
            "The AI model server refused the connection. Check that it is running and that its address "
            "in Settings is right.",
            detail=detail,
        )
    if any(isinstance(e, httpx.TimeoutException) or type(e).__name__ == "APITimeoutError" for e in chain):
        return BackendError(Problem.LLM_FAILED, "The AI model server did not answer in time.", detail=detail)
    if any(type(e).__name__ == "APIConnectionError" for e in chain):
        return BackendError(
            Problem.LLM_FAILED,
            "Handoff could not reach the AI model. Check your connection and the model settings.",
            detail=detail,
        )
    return None
