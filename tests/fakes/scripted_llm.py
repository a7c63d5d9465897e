"""A scripted chat model implementing browser-use's chat-model protocol (``browser_use/llm/base.py``).

It returns pre-decided actions, so a real ``Agent`` can drive real pages offline. Element indexes
change with every page, so a script step names its element by a pattern, resolved against the
browser state the agent sends (``[12]<input id=name …``) — the same text a real model reads.

In-process tests install a ``ScriptedModel`` and patch the app's ``make_llm`` with
``make_llm_with_script``. The app as a subprocess talks to ``tests.fakes.model_server`` instead: the
same script, served over real HTTP as an OpenAI-compatible endpoint.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from browser_use.llm.views import ChatInvokeCompletion

from desktop_app.settings import LLMSettings


class ScriptExhausted(RuntimeError):
    pass


@dataclass
class Step:
    """One model answer: an action name and its parameters; ``find`` names an element by pattern."""

    action: str
    params: dict[str, Any] = field(default_factory=dict)
    find: str | None = None  # regex matched inside the element tag, e.g. "id=name"
    goal: str = ""
    delay: float = 0.0  # seconds the "model" thinks before answering
    raise_error: BaseException | None = None

    def resolve(self, state: str) -> dict[str, Any]:
        params = dict(self.params)
        if self.find is not None:
            params["index"] = element_index(state, self.find)
        return {self.action: params}


def element_index(state: str, pattern: str) -> int:
    for match in re.finditer(r"\[(\d+)\]<([^>]*)>", state):
        if re.search(pattern, match.group(2)):
            return int(match.group(1))
    raise LookupError(f"no interactive element matching {pattern!r} in the browser state:\n{state[-1500:]}")


def navigate(url: str, goal: str = "") -> Step:
    return Step("navigate", {"url": url, "new_tab": False}, goal=goal or f"Open {url}")


def type_text(find: str, text: str, goal: str = "") -> Step:
    return Step("input", {"text": text, "clear": True}, find=find, goal=goal or f"Type {text!r}")


def click(find: str, goal: str = "") -> Step:
    return Step("click", {}, find=find, goal=goal or f"Click {find}")


def ask_human(reason: str) -> Step:
    return Step("request_human", {"reason": reason}, goal="Ask the person for help")


def done(text: str, success: bool = True) -> Step:
    return Step("done", {"text": text, "success": success}, goal="Report the result")


def wait(seconds: int = 1, delay: float = 0.0) -> Step:
    return Step("wait", {"seconds": seconds}, goal="Wait", delay=delay)


@dataclass
class Call:
    at: float
    state: str
    answer: dict[str, Any] | None
    texts: list[str] = field(default_factory=list)  # every text part of every message of the request
    images: list[bytes] = field(default_factory=list)  # every image in it (decoded)


class ScriptedModel:
    """Answers with the script's steps in order; after the script, reports done."""

    _verified_api_keys = True

    def __init__(self, steps: list[Step], *, model: str = "scripted-model") -> None:
        self.steps = list(steps)
        self.model = model
        self.calls: list[Call] = []
        self.on_call: Callable[[Call], None] | None = None

    @property
    def provider(self) -> str:
        return "scripted"

    @property
    def name(self) -> str:
        return self.model

    @property
    def model_name(self) -> str:
        return self.model

    async def ainvoke(self, messages: list[Any], output_format: Any = None, **kwargs: Any) -> ChatInvokeCompletion[Any]:
        # The browser state the agent sent: its last message, or the one before a nudge it appends
        # after a few steps ("PLANNING NUDGE: …").
        texts_by_message = [_text_of(m) for m in messages]
        state = next((t for t in reversed(texts_by_message) if "<browser_state>" in t), texts_by_message[-1] if messages else "")
        texts, images = _contents(messages)
        if output_format is None:
            self.calls.append(Call(time.monotonic(), state, None, texts, images))
            return ChatInvokeCompletion(completion="", usage=None)
        step = self.steps.pop(0) if self.steps else done("Script finished")
        if step.delay:
            await asyncio.sleep(step.delay)
        if step.raise_error is not None:
            self.calls.append(Call(time.monotonic(), state, None))
            raise step.raise_error
        answer = step.resolve(state)
        call = Call(time.monotonic(), state, answer, texts, images)
        self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)
        completion = output_format.model_validate(agent_output(step, answer, len(self.calls)))
        return ChatInvokeCompletion(completion=completion, usage=None)


def agent_output(step: Step, answer: dict[str, Any], number: int) -> dict[str, Any]:
    """What the model says for one step, in browser-use's AgentOutput shape."""
    return {
        "evaluation_previous_goal": "Looks right",
        "memory": f"Scripted step {number}",
        "next_goal": step.goal,
        "action": [answer],
    }


def _contents(messages: list[Any]) -> tuple[list[str], list[bytes]]:
    """Everything a real model would receive: each text part, and each image decoded."""
    texts: list[str] = []
    images: list[bytes] = []
    for message in messages:
        content = getattr(message, "content", None)
        for part in [content] if isinstance(content, str) else (content or []):
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(getattr(part, "text", None), str):
                texts.append(part.text)
            elif getattr(part, "image_url", None) is not None:
                url = str(part.image_url.url)
                images.append(base64.b64decode(url.split(",", 1)[1]) if url.startswith("data:") else url.encode())
    return texts, images


def _text_of(message: Any) -> str:
    text = getattr(message, "text", None)
    if isinstance(text, str):
        return text
    return str(getattr(message, "content", message))


def from_json(script: list[dict[str, Any]]) -> list[Step]:
    return [Step(**{k: v for k, v in item.items()}) for item in script]


# Settings that select the scripted model in-process (see ``make_llm_with_script``); the address
# is never contacted.
SCRIPTED_SETTINGS = LLMSettings("openai_compatible", "scripted-model", "http://127.0.0.1:9/v1")

_installed: ScriptedModel | None = None


def install(model: ScriptedModel) -> None:
    """In-process tests: the next agent built with ``SCRIPTED_SETTINGS`` uses this model."""
    global _installed
    _installed = model


def make_llm_with_script(real: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """A stand-in for the app's ``make_llm`` (patched in by tests and dev scripts, never shipped):
    the installed scripted model for ``SCRIPTED_SETTINGS``, the real model for anything else."""

    def make(settings: Any, keychain: Any) -> Any:
        if settings != SCRIPTED_SETTINGS:
            return real(settings, keychain)
        if _installed is None:
            raise ScriptExhausted("no scripted model installed")
        return _installed

    make.scripted = True  # type: ignore[attr-defined]
    return make


def select_for(services: Any) -> None:
    """Dev scripts (screenshots, benchmarks): this process's Local agent uses the installed model.
    Tests do the same through ``monkeypatch`` (tests/ui/conftest.py), which undoes it afterwards."""
    from dataclasses import replace

    import desktop_app.backends.local as local_backend

    if not getattr(local_backend.make_llm, "scripted", False):
        local_backend.make_llm = make_llm_with_script(local_backend.make_llm)
    services.save_settings(replace(services.settings, llm=SCRIPTED_SETTINGS))
