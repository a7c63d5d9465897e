"""A fake Browser Use Cloud (API v2) on 127.0.0.1, for tests and benchmarks.

A real HTTP server in a background thread. Every request body it accepts and every response it
sends is validated with the SDK's own pydantic models (unknown request fields are refused too), so
the fake cannot drift from the API the SDK speaks. Tasks produce steps over time; latency and
faults (status codes with Retry-After, dropped connections, stalls mid-response) are injectable.

``live_url`` points at a small stand-in browser page served here (an input and a button); what a
person types and submits there is recorded in ``live_events``.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from browser_use_sdk.generated.v2.models import TooManyConcurrentActiveSessionsError
from browser_use_sdk import (
    AccountView,
    CreateSessionRequest,
    CreateTaskRequest,
    SessionItemView,
    SessionListResponse,
    SessionView,
    TaskCreatedResponse,
    TaskListResponse,
    TaskStatusView,
    TaskView,
    UpdateSessionRequest,
    UpdateTaskRequest,
)
from pydantic import BaseModel, ValidationError

from tests.fakes.loopback import LoopbackServer, QuietHandler, send_body

API_PREFIX = "/api/v2"
DEFAULT_KEY = "bu_fake_test_key_0123456789"
# A 1×1 PNG: enough for the timeline's lazily loaded thumbnails.
PNG_PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

LIVE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Live browser (fake)</title>
<style>body{font-family:sans-serif;margin:2em;background:#f4f6fb}
.card{background:#fff;padding:1.5em;border-radius:8px;max-width:32em;box-shadow:0 1px 4px #0002}
input{font-size:1.1em;padding:.4em;width:18em}button{font-size:1.1em;padding:.4em 1em}</style></head>
<body><div class="card"><h2>Checkout — payment details</h2>
<p>Stand-in for the remote browser of session <code>SESSION_ID</code>.</p>
<label>Card holder <input id="field" autocomplete="off"></label>
<button id="submit" onclick="submitField()">Submit</button>
<p id="result"></p>
<p><a id="popup" href="/elsewhere" target="_blank">Open help in a new window</a></p>
</div>
<script>
function submitField(){
  var value=document.getElementById('field').value;
  document.getElementById('result').textContent='Submitted: '+value;
  fetch(location.pathname+'/events',{method:'POST',headers:{'Content-Type':'application/json'},
        body:JSON.stringify({value:value})});
}
</script></body></html>"""


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


@dataclass
class Fault:
    method: str | None
    path: re.Pattern[str]
    status: int = 500
    body: Any = None
    retry_after: int | None = None
    drop: bool = False  # close the connection without an answer
    stall: float = 0.0  # send headers and half the body, then wait this long
    after_processing: bool = False  # apply the request first (the answer is what gets lost)
    times: int = 1


@dataclass
class FakeSession:
    id: str
    token: str
    started_at: datetime
    live_url_after: int  # GETs before live_url is set
    gets: int = 0
    status: str = "active"
    finished_at: datetime | None = None
    keep_alive: bool = True


@dataclass
class FakeTask:
    id: str
    session_id: str
    text: str
    metadata: dict[str, str]
    created_at: datetime
    planned_steps: int
    step_interval: float
    manual: bool
    succeed: bool = True
    steps: list[dict[str, Any]] = field(default_factory=list)
    status: str = "started"
    finished_at: datetime | None = None
    output: str | None = None
    stop_delay: float = 0.0
    stop_requested_at: float | None = None
    step_times: list[float] = field(default_factory=list)  # monotonic time each step appeared

    @property
    def terminal(self) -> bool:
        return self.status in ("finished", "failed", "stopped")


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    at: float


class FakeCloud(LoopbackServer):
    def __init__(
        self,
        *,
        api_key: str = DEFAULT_KEY,
        latency: float = 0.0,
        step_interval: float = 0.3,
        steps_per_task: int = 3,
        live_url_after: int = 1,
        manual_steps: bool = False,
    ) -> None:
        self.api_key = api_key
        self.latency = latency
        self.step_interval = step_interval
        self.steps_per_task = steps_per_task
        self.live_url_after = live_url_after
        self.manual_steps = manual_steps
        self.stop_delay = 0.0  # how long a task keeps running after a stop request
        # The plan's limit on sessions active at once (None: none); past it a new session gets
        # Browser Use's 429 "Too many concurrent active sessions".
        self.max_active_sessions: int | None = None
        self.sessions: dict[str, FakeSession] = {}
        self.tasks: dict[str, FakeTask] = {}
        self.requests: list[RecordedRequest] = []
        self.live_events: list[dict[str, Any]] = []
        self.validation_errors: list[str] = []
        self.on_request: Callable[[RecordedRequest], None] | None = None
        self._faults: list[Fault] = []
        self._lock = threading.RLock()

    def _handler(self) -> type[QuietHandler]:
        return type("Handler", (_Handler,), {"cloud": self})

    @property
    def base_url(self) -> str:
        return self.origin + API_PREFIX

    # -- test controls -------------------------------------------------------------------------

    def fail(
        self,
        path: str,
        status: int = 500,
        *,
        method: str | None = None,
        times: int = 1,
        retry_after: int | None = None,
        body: Any = None,
        drop: bool = False,
        stall: float = 0.0,
        after_processing: bool = False,
    ) -> None:
        """The next ``times`` requests whose path matches the regex ``path`` get this fault."""
        with self._lock:
            self._faults.append(
                Fault(method, re.compile(path), status, body, retry_after, drop, stall, after_processing, times)
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def add_step(self, task_id: str | None = None, *, goal: str | None = None, evaluation: str | None = None) -> float:
        """Manual mode: make one more step appear now; returns the monotonic time it appeared."""
        with self._lock:
            task = self.tasks[task_id] if task_id else self.latest_task()
            self._append_step(task, goal, evaluation)
            return task.step_times[-1]

    def finish_task(self, task_id: str | None = None, *, output: str = "Done.", success: bool = True) -> None:
        with self._lock:
            task = self.tasks[task_id] if task_id else self.latest_task()
            self._finish(task, "finished", output, success)

    def latest_task(self) -> FakeTask:
        with self._lock:
            return list(self.tasks.values())[-1]

    def requests_to(self, method: str, path_regex: str) -> list[RecordedRequest]:
        pattern = re.compile(path_regex)
        with self._lock:
            return [r for r in self.requests if r.method == method and pattern.fullmatch(r.path)]

    def task_creates(self) -> list[RecordedRequest]:
        return self.requests_to("POST", r"/tasks")

    def expire_session(self, session_id: str | None = None) -> None:
        """As Browser Use does after 15 minutes without activity."""
        with self._lock:
            session = self.sessions[session_id] if session_id else list(self.sessions.values())[-1]
            session.status = "stopped"
            session.finished_at = _now()
            for task in self.tasks.values():
                if task.session_id == session.id and not task.terminal:
                    self._finish(task, "stopped", None, None)

    # -- the API -------------------------------------------------------------------------------

    def _append_step(self, task: FakeTask, goal: str | None = None, evaluation: str | None = None) -> None:
        number = len(task.steps) + 1
        task.steps.append(
            {
                "number": number,
                "memory": f"Memory after step {number}",
                "evaluationPreviousGoal": evaluation or ("Success" if number > 1 else "Start"),
                "nextGoal": goal or f"Step {number} of: {task.text[:40]}",
                "url": f"https://example.com/step/{number}",
                "screenshotUrl": f"{self.origin}/screenshots/{task.id}/{number}.png",
                "actions": [json.dumps({"click": {"index": number}})],
                "duration": 1.25,
            }
        )
        task.step_times.append(time.monotonic())

    def _finish(self, task: FakeTask, status: str, output: str | None, success: bool | None) -> None:
        if task.terminal:
            return
        task.status = status
        task.finished_at = _now()
        task.output = output
        task.succeed = bool(success)

    def _advance(self, task: FakeTask) -> None:
        if task.terminal:
            return
        if task.stop_requested_at is not None:
            if time.monotonic() - task.stop_requested_at >= task.stop_delay:
                self._finish(task, "stopped", None, None)
            return
        if task.manual:
            return
        elapsed = (_now() - task.created_at).total_seconds()
        due = int(elapsed / task.step_interval)
        while len(task.steps) < min(due, task.planned_steps):
            self._append_step(task)
        if due > task.planned_steps:
            self._finish(task, "finished", f"Finished: {task.text[:60]}", True)

    def _task_view(self, task: FakeTask) -> dict[str, Any]:
        return {
            "id": task.id,
            "sessionId": task.session_id,
            "llm": "browser-use-2.0",
            "task": task.text,
            "status": task.status,
            "createdAt": _iso(task.created_at),
            "startedAt": _iso(task.created_at),
            "finishedAt": _iso(task.finished_at),
            "metadata": task.metadata,
            "steps": list(task.steps),
            "output": task.output,
            "outputFiles": [],
            "browserUseVersion": "0.13.14",
            "isSuccess": task.succeed if task.status == "finished" else None,
            "cost": str(Decimal("0.01") * len(task.steps)) if task.steps else None,
        }

    def _task_item(self, task: FakeTask) -> dict[str, Any]:
        view = self._task_view(task)
        for key in ("steps", "outputFiles"):
            view.pop(key)
        return view

    def _session_item(self, session: FakeSession) -> dict[str, Any]:
        live = None
        if session.status == "active" and session.gets >= session.live_url_after:
            live = f"{self.origin}/live/{session.id}?token={session.token}"
        return {
            "id": session.id,
            "status": session.status,
            "liveUrl": live,
            "startedAt": _iso(session.started_at),
            "finishedAt": _iso(session.finished_at),
            "persistMemory": True,
            "keepAlive": session.keep_alive,
        }

    def _account(self) -> dict[str, Any]:
        active = sum(1 for s in self.sessions.values() if s.status == "active")
        return {
            "name": "Test account",
            "totalCreditsBalanceUsd": 10.0,
            "monthlyCreditsBalanceUsd": 0.0,
            "additionalCreditsBalanceUsd": 10.0,
            "rateLimit": 5,
            "concurrentSessionLimit": 5,
            "activeSessionCount": active,
            "planInfo": {
                "planName": "Pay as you go",
                "subscriptionStatus": None,
                "subscriptionId": None,
                "subscriptionCurrentPeriodEnd": None,
                "subscriptionCanceledAt": None,
            },
            "projectId": "00000000-0000-4000-8000-000000000001",
        }

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        with self._lock:
            return self._route(method, path, query, body)

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        if method == "GET" and path == "/billing/account":
            return 200, _checked(AccountView, self._account())
        if method == "POST" and path == "/sessions":
            _validate_request(CreateSessionRequest, body)
            active = sum(1 for s in self.sessions.values() if s.status == "active")
            if self.max_active_sessions is not None and active >= self.max_active_sessions:
                detail = "Too many concurrent active sessions. Please wait for one to finish, kill one, or upgrade your plan."
                return 429, _checked(TooManyConcurrentActiveSessionsError, {"detail": detail})
            session = FakeSession(
                id=str(uuid.uuid4()),
                token=uuid.uuid4().hex + uuid.uuid4().hex,
                started_at=_now(),
                live_url_after=self.live_url_after,
                keep_alive=bool(body.get("keepAlive", True)),
            )
            self.sessions[session.id] = session
            return 201, _checked(SessionItemView, self._session_item(session))
        if method == "GET" and path == "/sessions":
            wanted = (query.get("filterBy") or [None])[0]
            items = [self._session_item(s) for s in self.sessions.values() if wanted in (None, s.status)]
            return 200, _checked(
                SessionListResponse, {"items": items, "totalItems": len(items), "pageNumber": 1, "pageSize": 10}
            )
        if match := re.fullmatch(r"/sessions/([^/]+)", path):
            session = self.sessions.get(match.group(1))
            if session is None:
                return 404, {"detail": "Session not found"}
            if method == "GET":
                session.gets += 1
                tasks = [self._task_item(t) for t in self.tasks.values() if t.session_id == session.id]
                return 200, _checked(SessionView, {**self._session_item(session), "tasks": tasks})
            if method == "PATCH":
                _validate_request(UpdateSessionRequest, body)
                if session.status == "active":
                    session.status = "stopped"
                    session.finished_at = _now()
                    for task in self.tasks.values():
                        if task.session_id == session.id:
                            self._finish(task, "stopped", None, None)
                tasks = [self._task_item(t) for t in self.tasks.values() if t.session_id == session.id]
                return 200, _checked(SessionView, {**self._session_item(session), "tasks": tasks})
        if method == "POST" and path == "/tasks":
            request = _validate_request(CreateTaskRequest, body)
            session_id = str(request.session_id) if request.session_id else None
            session = self.sessions.get(session_id or "")
            if session is None:
                return 404, {"detail": "Session not found"}
            if session.status != "active":
                return 400, {"detail": "Session is stopped"}
            if any(t.session_id == session.id and not t.terminal for t in self.tasks.values()):
                return 409, {"detail": "Session is busy with another task"}
            task = FakeTask(
                id=str(uuid.uuid4()),
                session_id=session.id,
                text=request.task,
                metadata=dict(request.metadata or {}),
                created_at=_now(),
                planned_steps=self.steps_per_task,
                step_interval=self.step_interval,
                manual=self.manual_steps,
                stop_delay=self.stop_delay,
            )
            self.tasks[task.id] = task
            return 202, _checked(TaskCreatedResponse, {"id": task.id, "sessionId": session.id})
        if method == "GET" and path == "/tasks":
            session_id = (query.get("sessionId") or [None])[0]
            for task in self.tasks.values():
                self._advance(task)
            items = [self._task_item(t) for t in self.tasks.values() if session_id in (None, t.session_id)]
            items.reverse()  # newest first, as the API lists them
            return 200, _checked(
                TaskListResponse, {"items": items, "totalItems": len(items), "pageNumber": 1, "pageSize": 10}
            )
        if match := re.fullmatch(r"/tasks/([^/]+)(/status)?", path):
            task = self.tasks.get(match.group(1))
            if task is None:
                return 404, {"detail": "Task not found"}
            self._advance(task)
            if method == "GET" and match.group(2):
                view = self._task_view(task)
                status = {k: view[k] for k in ("id", "status", "output", "finishedAt", "isSuccess", "cost")}
                return 200, _checked(TaskStatusView, status)
            if method == "GET":
                return 200, _checked(TaskView, self._task_view(task))
            if method == "PATCH" and not match.group(2):
                request = _validate_request(UpdateTaskRequest, body)
                if task.terminal:
                    return 422, {"detail": f"Task is already {task.status}"}
                task.stop_requested_at = time.monotonic()
                if request.action.value == "stop_task_and_session":
                    self.sessions[task.session_id].status = "stopped"
                self._advance(task)
                return 200, _checked(TaskView, self._task_view(task))
        return 404, {"detail": f"No route for {method} {path}"}

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if (fault.method in (None, method)) and fault.path.fullmatch(path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)
        if self.on_request is not None:
            self.on_request(request)


class RequestRejected(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _validate_request(model: type[BaseModel], body: Any) -> Any:
    if not isinstance(body, dict):
        raise RequestRejected("Body must be a JSON object")
    known = {f.alias or name for name, f in model.model_fields.items()}
    unknown = set(body) - known
    if unknown:
        raise RequestRejected(f"Unknown fields for {model.__name__}: {sorted(unknown)}")
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise RequestRejected(str(error)) from error


def _checked(model: type[BaseModel], payload: dict[str, Any]) -> dict[str, Any]:
    """Every answer must parse with the SDK's model, or the fake is wrong, not the app."""
    model.model_validate(payload)
    return payload


class _Handler(QuietHandler):
    cloud: FakeCloud
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = raw.decode("utf-8", "replace")
        cloud = self.cloud
        if parts.path.startswith("/live/") or parts.path.startswith("/screenshots/") or parts.path == "/elsewhere":
            self._serve_page(method, parts.path, parse_qs(parts.query), body)
            return
        if not parts.path.startswith(API_PREFIX):
            self._send_json(404, {"detail": "Not found"})
            return
        path = parts.path[len(API_PREFIX) :] or "/"
        query = parse_qs(parts.query)
        request = RecordedRequest(method, path, query, body, time.monotonic())
        cloud.record(request)
        if cloud.latency:
            time.sleep(cloud.latency)
        if self.headers.get("X-Browser-Use-API-Key") != cloud.api_key:
            self._send_json(401, {"detail": "Invalid API key"})
            return
        fault = cloud.take_fault(method, path)
        if fault is not None and not fault.after_processing:
            self._send_fault(fault)
            return
        try:
            status, payload = cloud.handle(method, path, query, body)
        except RequestRejected as error:
            with cloud._lock:
                cloud.validation_errors.append(f"{method} {path}: {error.detail}")
            status, payload = 422, {"detail": error.detail}
        if fault is not None:
            self._send_fault(fault)
            return
        self._send_json(status, payload)

    def _send_fault(self, fault: Fault) -> None:
        if fault.drop:
            self.close_connection = True
            self.connection.shutdown(2)
            return
        payload = fault.body if fault.body is not None else {"detail": f"Injected fault {fault.status}"}
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        if fault.stall:
            data = json.dumps(payload).encode()
            self.send_response(fault.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            time.sleep(fault.stall)
            self.close_connection = True
            return
        self._send_json(fault.status, payload, headers)

    def _serve_page(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> None:
        cloud = self.cloud
        if path == "/elsewhere":
            self._send(200, b"<html><body><h1>Somewhere else</h1></body></html>", "text/html")
            return
        if path.startswith("/screenshots/"):
            self._send(200, PNG_PIXEL, "image/png")
            return
        match = re.fullmatch(r"/live/([^/]+)(/events)?", path)
        session = cloud.sessions.get(match.group(1)) if match else None
        if session is None:
            self._send(404, b"no such session", "text/plain")
            return
        if match and match.group(2) and method == "POST":
            with cloud._lock:
                cloud.live_events.append({"session_id": session.id, **(body if isinstance(body, dict) else {})})
            self._send_json(200, {"ok": True})
            return
        if (query.get("token") or [""])[0] != session.token:
            self._send(403, b"bad token", "text/plain")
            return
        self._send(200, LIVE_PAGE.replace("SESSION_ID", session.id).encode(), "text/html; charset=utf-8")

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", headers)

    def _send(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        send_body(self, status, data, content_type, headers)


def main() -> None:
    """Run the fake on its own (manual trials, screenshots): prints its base URL and key."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--step-interval", type=float, default=2.0)
    args = parser.parse_args()
    cloud = FakeCloud(steps_per_task=args.steps, step_interval=args.step_interval).start()
    print(json.dumps({"base_url": cloud.base_url, "api_key": cloud.api_key}), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        cloud.stop()


if __name__ == "__main__":
    main()
