"""A scripted model: pre-decided actions, so a real browser-use ``Agent`` can drive real pages offline.

Element indexes change with every page, so a script step names its element by a pattern, resolved
against the browser state the agent sends (``[12]<input id=name …``) — the same text a real model
reads. The script is served over real HTTP as an OpenAI-compatible endpoint
(``tests.fakes.model_server``): the app's own model client asks it, as it would ask a real server,
whether the app runs in the test's process or as a subprocess.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any



@dataclass
class Step:
    """One model answer: an action name and its parameters; ``find`` names an element by pattern."""

    action: str
    params: dict[str, Any] = field(default_factory=dict)
    find: str | None = None  # regex matched inside the element tag, e.g. "id=name"
    goal: str = ""
    delay: float = 0.0  # seconds the "model" thinks before answering
    # A fault served instead of an answer: "not_json" (a reply that cannot be parsed), "gone" (the
    # server stops listening and drops the request: the model server went away mid-run).
    fault: str | None = None

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
    at: float  # when the answer was given (after the step's delay)
    state: str
    answer: dict[str, Any] | None  # None: a free-text request (browser-use's own summaries), or a fault
    texts: list[str] = field(default_factory=list)  # every text part of every message of the request
    images: list[bytes] = field(default_factory=list)  # every image in it (decoded)
    api_key: str = ""  # the key the model client sent


class ScriptedModel:
    """A script's steps in order, and every request it was asked (``calls``); after the script, done.
    Safe to read from the test's thread while the server's threads answer."""

    def __init__(self, steps: list[Step], *, model: str = "scripted-model") -> None:
        self.steps = list(steps)
        self.model = model
        self.calls: list[Call] = []
        self.lock = threading.Lock()

    def next_step(self, state: str) -> tuple[Step, dict[str, Any]]:
        """The next step and its action resolved against ``state``; LookupError (the step kept for
        the next request) when the page has no element the step names."""
        with self.lock:
            step = self.steps[0] if self.steps else done("Script finished")
            answer = step.resolve(state)
            if self.steps:
                self.steps.pop(0)
            return step, answer

    def record(self, call: Call) -> int:
        """Keeps ``call``; its number among the calls."""
        with self.lock:
            self.calls.append(call)
            return len(self.calls)


def agent_output(step: Step, answer: dict[str, Any], number: int) -> dict[str, Any]:
    """What the model says for one step, in browser-use's AgentOutput shape."""
    return {
        "evaluation_previous_goal": "Looks right",
        "memory": f"Scripted step {number}",
        "next_goal": step.goal,
        "action": [answer],
    }


def from_json(script: list[dict[str, Any]]) -> list[Step]:
    return [Step(**{k: v for k, v in item.items()}) for item in script]
