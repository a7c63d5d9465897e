"""A scripted chat model implementing browser-use's chat-model protocol (``browser_use/llm/base.py``).

It returns pre-decided actions, so a real ``Agent`` can drive real pages offline. Element indexes
change with every page, so a script step names its element by a pattern, resolved against the
browser state the agent sends (``[12]<input id=name …``) — the same text a real model reads.

In-process tests build ``ScriptedModel`` directly. The app as a subprocess picks it up through
``HANDOFF_TEST_LLM=tests.fakes.scripted_llm:from_environment`` with the script as JSON in
``HANDOFF_TEST_SCRIPT``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from browser_use.llm.views import ChatInvokeCompletion


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
        state = _text_of(messages[-1]) if messages else ""
        if output_format is None:
            self.calls.append(Call(time.monotonic(), state, None))
            return ChatInvokeCompletion(completion="", usage=None)
        step = self.steps.pop(0) if self.steps else done("Script finished")
        if step.delay:
            await asyncio.sleep(step.delay)
        if step.raise_error is not None:
            self.calls.append(Call(time.monotonic(), state, None))
            raise step.raise_error
        answer = step.resolve(state)
        call = Call(time.monotonic(), state, answer)
        self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)
        completion = output_format.model_validate(
            {
                "evaluation_previous_goal": "Looks right",
                "memory": f"Scripted step {len(self.calls)}",
                "next_goal": step.goal,
                "action": [answer],
            }
        )
        return ChatInvokeCompletion(completion=completion, usage=None)


def _text_of(message: Any) -> str:
    text = getattr(message, "text", None)
    if isinstance(text, str):
        return text
    return str(getattr(message, "content", message))


def from_json(script: list[dict[str, Any]]) -> ScriptedModel:
    return ScriptedModel([Step(**{k: v for k, v in item.items()}) for item in script])


def from_environment(settings: Any) -> ScriptedModel:
    """The app's test hook (``HANDOFF_TEST_LLM``): the script comes from ``HANDOFF_TEST_SCRIPT``."""
    return from_json(json.loads(os.environ.get("HANDOFF_TEST_SCRIPT", "[]")))


_installed: ScriptedModel | None = None


def install(model: ScriptedModel) -> None:
    """In-process tests: the next agent built with ``HANDOFF_TEST_LLM=…:installed`` uses this model."""
    global _installed
    _installed = model


def installed(settings: Any) -> ScriptedModel:
    if _installed is None:
        raise ScriptExhausted("no scripted model installed")
    return _installed
