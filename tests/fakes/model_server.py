"""An OpenAI-compatible chat endpoint on 127.0.0.1 that answers with scripts (``scripted_llm``).

Settings point the Local agent at this server (provider "OpenAI-compatible"), as a user would
point it at a model server on their network: the app's real model client, over real HTTP, drives
real pages offline — in the test's process or in the app as a subprocess.

Each model the server serves has an address of its own (``serve``): an agent's model client is made
as its first task starts, so two sessions started with two scripts each keep theirs.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any

from desktop_app.settings import LLMSettings
from tests.fakes.loopback import LoopbackServer, QuietHandler, send_body
from tests.fakes.scripted_llm import Call, ScriptedModel, Step, agent_output

MODEL_NAME = "scripted-model"


class FakeModelServer(LoopbackServer):
    def __init__(self, steps: list[Step] | None = None) -> None:
        # The model at /v1 (``base_url``); more at /scripts/<n>/v1 (``serve``).
        self.model = ScriptedModel(steps or [])
        self._models: dict[str, ScriptedModel] = {"": self.model}
        self.requests: list[dict[str, Any]] = []  # every request's body, whichever model it asked
        self._lock = threading.Lock()
        self._stopping = threading.Event()  # a step's delay ends early when the server stops

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def _handler(self) -> Any:
        server = self

        class Handler(_Handler):
            fake = server

        return Handler

    def serve(self, model: ScriptedModel) -> LLMSettings:
        """Serves ``model`` at an address of its own: the Local agent's settings that ask it."""
        with self._lock:
            prefix = f"/scripts/{len(self._models)}"
            self._models[prefix] = model
        return LLMSettings("openai_compatible", MODEL_NAME, f"{self.origin}{prefix}/v1")

    def stop(self) -> None:
        self._stopping.set()
        super().stop()

    def go_away(self) -> None:
        """Stops listening, from a request's own thread: later connections are refused."""
        threading.Thread(target=super().stop, name="model server going away", daemon=True).start()

    def model_at(self, path: str) -> ScriptedModel | None:
        prefix = path.removesuffix("/v1/chat/completions")
        with self._lock:
            return self._models.get(prefix)

    def answer(self, model: ScriptedModel, body: dict[str, Any], api_key: str) -> str | None:
        """The assistant message's content for one chat request; None: drop the request unanswered."""
        with self._lock:
            self.requests.append(body)
        texts_by_message = [_text_of(m) for m in body.get("messages", [])]
        # The browser state the agent sent: its last message, or the one before a nudge it appends
        # after a few steps ("PLANNING NUDGE: …").
        state = next((t for t in reversed(texts_by_message) if "<browser_state>" in t), texts_by_message[-1] if texts_by_message else "")
        texts, images = _contents(body.get("messages", []))
        if "response_format" not in body:
            model.record(Call(time.monotonic(), state, None, texts, images, api_key))
            return ""  # a free-text request (browser-use's own summaries): nothing to say
        step, action = model.next_step(state)
        if step.fault == "gone":
            model.record(Call(time.monotonic(), state, None, texts, images, api_key))
            self.go_away()
            return None
        if step.delay:
            self._stopping.wait(step.delay)
        number = model.record(Call(time.monotonic(), state, action if step.fault is None else None, texts, images, api_key))
        if step.fault == "not_json":
            return "Sure! I will click the button."
        if step.fault is not None:
            raise ValueError(f"unknown fault {step.fault!r} in the script")
        return json.dumps(agent_output(step, action, number))


def _text_of(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    return "\n".join(part.get("text", "") for part in content or [] if part.get("type") == "text")


def _contents(messages: list[dict[str, Any]]) -> tuple[list[str], list[bytes]]:
    """Everything the model received: each text part, and each image decoded."""
    texts: list[str] = []
    images: list[bytes] = []
    for message in messages:
        content = message.get("content")
        for part in [content] if isinstance(content, str) else (content or []):
            if isinstance(part, str):
                texts.append(part)
            elif part.get("type") == "text":
                texts.append(part.get("text", ""))
            elif part.get("type") == "image_url":
                url = str(part.get("image_url", {}).get("url", ""))
                images.append(base64.b64decode(url.split(",", 1)[1]) if url.startswith("data:") else url.encode())
    return texts, images


class _Handler(QuietHandler):
    fake: FakeModelServer

    def do_POST(self) -> None:
        model = self.fake.model_at(self.path) if self.path.endswith("/chat/completions") else None
        if model is None:
            self._reply(404, {"error": {"message": f"no route {self.path}"}})
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        api_key = self.headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            content = self.fake.answer(model, body, api_key)
        except LookupError as error:  # the script names an element the page does not have (yet)
            self._reply(500, {"error": {"message": str(error)}})
            return
        if content is None:
            self.close_connection = True  # dropped: no answer at all
            return
        self._reply(
            200,
            {
                "id": f"chatcmpl-{len(self.fake.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", MODEL_NAME),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            },
        )

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        send_body(self, status, json.dumps(payload).encode(), "application/json")
