"""The work in hand: what the agent has been asked to do in this session, and what goes with the next task.

One object instead of loose fields on the controller: the run in progress (if any), the goal of a
task being created, the goal a Take over or a fault cut short, the notes and the person's account
waiting for the next task, and which task ids belong to this session.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from desktop_app.core.ports import RunHandle, StepReport


@dataclass
class Run:
    handle: RunHandle
    goal: str  # what the person asked for, without the hand-back context around it
    note: str = ""  # the person's note this run was started with (given back if it fails)
    paused: bool = False
    got_going: bool = False  # the agent reported a step (or asked for the person) in this run
    last_step: int = 0  # the newest step number reported for this run
    busy_since: float = 0.0  # when the agent last started or resumed work on its next step

    @property
    def task_id(self) -> str:
        return self.handle.task_id


@dataclass
class WorkInHand:
    run: Run | None = None
    creating_goal: str = ""  # the goal of a task being created (no run handle yet)
    interrupted_goal: str | None = None  # cut short by Take over (Cloud) or a fault, not yet continued
    carried_notes: list[str] = field(default_factory=list)  # hand-back notes with nothing to run yet
    # What the person did in the browser while it was theirs with the agent idle (PrivacyGuard's
    # account): told to the agent with the next Run, as a hand-back note would be.
    person_account: str = ""
    without_screenshots_next: bool = False  # chosen at Hand back, for the next task created
    known_tasks: set[str] = field(default_factory=set)
    finished_tasks: set[str] = field(default_factory=set)
    step_floor: dict[str, int] = field(default_factory=dict)  # steps already in the history (reattached)

    def unfinished_goal(self) -> str:
        """What the person asked for that the agent has not finished: running, paused, being created or stopped."""
        if self.run is not None:
            return self.run.goal
        return self.creating_goal or self.interrupted_goal or ""

    @property
    def paused_run(self) -> Run | None:
        return self.run if self.run is not None and self.run.paused else None

    def is_current(self, task_id: str) -> bool:
        return self.run is not None and self.run.task_id == task_id

    def is_new_step(self, step: StepReport) -> bool:
        """A step of a task of this session, and not one the history already holds."""
        return step.task_id in self.known_tasks and step.number > self.step_floor.get(step.task_id, 0)

    def takes_result(self, task_id: str) -> bool:
        """A result of a task of this session that has not been told yet (told once)."""
        if task_id not in self.known_tasks or task_id in self.finished_tasks:
            return False
        self.finished_tasks.add(task_id)
        return True

    def started(self, handle: RunHandle, goal: str, note: str, now: float) -> Run:
        """A task was created: it is the run now, and what waited for it has gone with it."""
        self.run = Run(handle, goal, note=note, busy_since=now, last_step=self.step_floor.get(handle.task_id, 0))
        self.interrupted_goal = None
        self.carried_notes.clear()
        self.person_account = ""
        self.known_tasks.add(handle.task_id)
        return self.run

    def forget_carried(self, note: str) -> None:
        """A note told some other way from now on (a queue tells a You step's note with every later step)."""
        if note and self.carried_notes and self.carried_notes[-1] == note:
            self.carried_notes.pop()

    def cut_short(self, *, keep_goal: bool) -> Run | None:
        """The run is over before its end (stopped, failed); its goal waits for a hand back if ``keep_goal``."""
        run, self.run = self.run, None
        if run is not None:
            self.interrupted_goal = run.goal if keep_goal else None
        return run

    def new_session(self, step_floor: dict[str, int] | None = None) -> None:
        """Task ids of an earlier session mean nothing in a new one."""
        self.known_tasks.clear()
        self.finished_tasks.clear()
        self.step_floor = dict(step_floor or {})

    def session_closed(self) -> str:
        """Everything in hand goes with the session; returns the goal left unfinished ("" if none)."""
        unfinished = self.unfinished_goal()
        self.run = None
        self.interrupted_goal = None
        self.carried_notes.clear()
        self.person_account = ""
        return unfinished
