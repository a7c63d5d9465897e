"""An OpenAI-compatible chat endpoint on 127.0.0.1 that answers with a script (``scripted_llm``).

For the app as a subprocess: Settings point the local agent at this server (provider "OpenAI-
compatible"), so the app's real model client, over real HTTP, drives real pages offline.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from tests.fakes.loopback import LoopbackServer, QuietHandler, send_body
from tests.fakes.scripted_llm import Step, agent_output, done


class FakeModelServer(LoopbackServer):
    def __init__(self, steps: list[Step]) -> None:
        self.steps = list(steps)
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def _handler(self) -> Any:
        server = self

        class Handler(_Handler):
            fake = server

        return Handler

    def answer(self, body: dict[str, Any]) -> str:
        """The assistant message's content for one chat request."""
        with self._lock:
            self.requests.append(body)
            if "response_format" not in body:
                return ""  # a free-text request (browser-use's own summaries): nothing to say
            step = self.steps.pop(0) if self.steps else done("Script finished")
            number = len(self.requests)
        if step.delay:
            time.sleep(step.delay)
        state = _last_user_text(body.get("messages", []))
        return json.dumps(agent_output(step, step.resolve(state), number))


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        return "\n".join(part.get("text", "") for part in content or [] if part.get("type") == "text")
    return ""


class _Handler(QuietHandler):
    fake: FakeModelServer

    def do_POST(self) -> None:
        if not self.path.endswith("/chat/completions"):
            self._reply(404, {"error": {"message": f"no route {self.path}"}})
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        try:
            content = self.fake.answer(body)
        except LookupError as error:  # the script names an element the page does not have
            self._reply(500, {"error": {"message": str(error)}})
            return
        self._reply(
            200,
            {
                "id": f"chatcmpl-{len(self.fake.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "scripted-model"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            },
        )

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        send_body(self, status, json.dumps(payload).encode(), "application/json")
