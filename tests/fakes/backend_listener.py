"""A backend listener that records every callback a backend makes (``Backend.attach``)."""

from __future__ import annotations

from desktop_app.core.ports import RunResult, StepReport


class RecordingListener:
    def __init__(self) -> None:
        self.steps: list[StepReport] = []
        self.finished: list[RunResult] = []
        self.faults: list[tuple[str, Exception]] = []
        self.lost: list[str] = []
        self.asked: list[tuple[str, str]] = []
        self.notices: list[str] = []
        self.resolved: list[bool] = []
        self.created: list[str] = []

    def on_session_created(self, session_id: str) -> None:
        self.created.append(session_id)

    def on_notice(self, text: str, *, resolved: bool = False) -> None:
        self.notices.append(text)
        self.resolved.append(resolved)

    def on_step(self, step: StepReport) -> None:
        self.steps.append(step)

    def on_finished(self, result: RunResult) -> None:
        self.finished.append(result)

    def on_human_requested(self, task_id: str, reason: str) -> None:
        self.asked.append((task_id, reason))

    def on_run_fault(self, task_id: str, error: Exception) -> None:
        self.faults.append((task_id, error))

    def on_session_lost(self, reason: str) -> None:
        self.lost.append(reason)
