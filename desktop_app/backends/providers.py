"""The local agent's model providers, declared once: what each is called, which key it needs,
where it is reached and what must be named. Settings, the model adapter, the Settings dialog and
the start-up keychain notice all read this table (none of them repeats a rule of it)."""

from __future__ import annotations

from dataclasses import dataclass

from desktop_app.system.keychain import SecretName

OLLAMA_URL = "http://127.0.0.1:11434"


@dataclass(frozen=True)
class Provider:
    id: str  # as stored in settings
    label: str  # as the Settings list shows it
    name: str  # as a sentence names it: "Paste your OpenAI API key"
    secret: SecretName | None = None  # the keychain entry of its key (None: it takes none)
    key_required: bool = True  # False: a key is used when given (an OpenAI-compatible server may want none)
    at_address: bool = False  # reached at an address the person gives (a server on their network)
    default_model: str = ""  # "" = the person must name the model
    example_model: str = ""  # a model name to show as an example when one must be named

    @property
    def needs_key(self) -> bool:
        return self.secret is not None and self.key_required

    @property
    def needs_model(self) -> bool:
        return not self.default_model

    def missing_model(self) -> str:
        """What Settings says when the model is left empty."""
        if self.example_model:
            return f"Name the {self.name} model the agent should use (for example {self.example_model})."
        return f"Name the model your {self.name} should use."


PROVIDERS: dict[str, Provider] = {
    p.id: p
    for p in (
        Provider("browser_use", "Browser Use LLM (uses your Browser Use key)", "Browser Use", SecretName.BROWSER_USE, default_model="bu-2-0"),
        Provider("openai", "OpenAI", "OpenAI", SecretName.OPENAI, default_model="gpt-4.1-mini"),
        Provider("anthropic", "Anthropic", "Anthropic", SecretName.ANTHROPIC, default_model="claude-sonnet-4-5"),
        Provider("google", "Google Gemini", "Google Gemini", SecretName.GOOGLE, default_model="gemini-2.5-flash"),
        Provider(
            "openai_compatible",
            "OpenAI-compatible server",
            "OpenAI-compatible server",
            SecretName.OPENAI_COMPATIBLE,
            key_required=False,
            at_address=True,
        ),
        Provider("ollama", "Ollama on this computer", "Ollama", at_address=True, example_model="qwen3:8b"),
    )
}


def provider(provider_id: str) -> Provider | None:
    """The provider a setting names, or None ("" = not chosen yet, or an unknown name)."""
    return PROVIDERS.get(provider_id)
