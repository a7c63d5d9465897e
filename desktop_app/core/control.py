"""Who controls the browser: the control state machine.

Every transition is listed in one table; anything not in it is refused (raises
``TransitionRefused``), so a double click or a late event can never queue work twice or unlock the
view early. Input is unlocked only in IDLE and HUMAN, i.e. after the agent is confirmed stopped or
paused.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class Control(Enum):
    NO_SESSION = "no_session"
    STARTING = "starting"
    IDLE = "idle"  # session alive, nobody acting
    AGENT = "agent"  # a task runs; the view is view-only
    TAKING_OVER = "taking_over"  # stop/pause requested, not yet confirmed; the view stays locked
    HUMAN = "human"  # the person has the browser
    ENDING = "ending"

    @property
    def view_locked(self) -> bool:
        # ENDING too: a running task may still act until its stop is confirmed.
        return self in (Control.AGENT, Control.TAKING_OVER, Control.ENDING)

    @property
    def session_alive(self) -> bool:
        return self not in (Control.NO_SESSION, Control.ENDING)


class Trigger(Enum):
    START_SESSION = "start_session"
    SESSION_READY = "session_ready"
    SESSION_FAILED = "session_failed"
    RUN = "run"
    RUN_FAILED = "run_failed"  # the task could not be created
    AGENT_FINISHED = "agent_finished"
    AGENT_FAULTED = "agent_faulted"  # the run broke (LLM down, browser gone): the person gets control
    TAKE_OVER = "take_over"
    CONTROL_CONFIRMED = "control_confirmed"  # the agent is confirmed stopped/paused
    TAKE_OVER_FAILED = "take_over_failed"  # the stop was not confirmed: the agent may still act
    AGENT_ASKS_HUMAN = "agent_asks_human"
    HAND_BACK = "hand_back"
    HAND_BACK_FAILED = "hand_back_failed"
    RELEASE = "release"  # hand back with nothing for the agent to do
    END_SESSION = "end_session"
    SESSION_ENDED = "session_ended"
    END_FAILED = "end_failed"
    SESSION_LOST = "session_lost"  # timed out or gone on the provider's side


C, T = Control, Trigger
_ALIVE = (C.STARTING, C.IDLE, C.AGENT, C.TAKING_OVER, C.HUMAN)

TRANSITIONS: dict[tuple[Control, Trigger], Control] = {
    (C.NO_SESSION, T.START_SESSION): C.STARTING,
    (C.STARTING, T.SESSION_READY): C.IDLE,
    (C.STARTING, T.SESSION_FAILED): C.NO_SESSION,
    (C.IDLE, T.RUN): C.AGENT,
    (C.AGENT, T.RUN_FAILED): C.IDLE,
    (C.AGENT, T.AGENT_FINISHED): C.IDLE,
    (C.AGENT, T.AGENT_FAULTED): C.HUMAN,
    (C.TAKING_OVER, T.AGENT_FAULTED): C.HUMAN,
    (C.IDLE, T.TAKE_OVER): C.HUMAN,
    (C.AGENT, T.TAKE_OVER): C.TAKING_OVER,
    (C.TAKING_OVER, T.CONTROL_CONFIRMED): C.HUMAN,
    (C.TAKING_OVER, T.TAKE_OVER_FAILED): C.AGENT,
    (C.AGENT, T.AGENT_ASKS_HUMAN): C.HUMAN,
    (C.TAKING_OVER, T.AGENT_ASKS_HUMAN): C.HUMAN,
    (C.HUMAN, T.HAND_BACK): C.AGENT,
    (C.AGENT, T.HAND_BACK_FAILED): C.HUMAN,
    (C.HUMAN, T.RELEASE): C.IDLE,
    **{(state, T.END_SESSION): C.ENDING for state in _ALIVE},
    (C.ENDING, T.SESSION_ENDED): C.NO_SESSION,
    (C.ENDING, T.END_FAILED): C.IDLE,
    **{(state, T.SESSION_LOST): C.NO_SESSION for state in (*_ALIVE, C.ENDING)},
}


class Command(Enum):
    NEW_SESSION = "new_session"
    RUN = "run"
    TAKE_OVER = "take_over"
    HAND_BACK = "hand_back"
    STOP_SESSION = "stop_session"
    SWITCH_MODE = "switch_mode"  # between Local and Cloud: only with no session open


# What a person can ask for in each state; the UI enables its buttons from this.
AVAILABLE: dict[Control, frozenset[Command]] = {
    C.NO_SESSION: frozenset({Command.NEW_SESSION, Command.RUN, Command.SWITCH_MODE}),
    C.STARTING: frozenset({Command.RUN, Command.STOP_SESSION}),
    C.IDLE: frozenset({Command.RUN, Command.TAKE_OVER, Command.STOP_SESSION}),
    C.AGENT: frozenset({Command.TAKE_OVER, Command.STOP_SESSION}),
    C.TAKING_OVER: frozenset({Command.STOP_SESSION}),
    C.HUMAN: frozenset({Command.HAND_BACK, Command.STOP_SESSION}),
    C.ENDING: frozenset(),
}


def allows(state: Control, command: Command) -> bool:
    return command in AVAILABLE[state]


class TransitionRefused(Exception):
    def __init__(self, state: Control, trigger: Trigger) -> None:
        super().__init__(f"{trigger.value} is not possible while {state.value}")
        self.state = state
        self.trigger = trigger


@dataclass(frozen=True)
class Transition:
    before: Control
    trigger: Trigger
    after: Control
    at: float


class ControlMachine:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._state = Control.NO_SESSION
        self._clock = clock

    @property
    def state(self) -> Control:
        return self._state

    def can(self, trigger: Trigger) -> bool:
        return (self._state, trigger) in TRANSITIONS

    def apply(self, trigger: Trigger) -> Transition:
        after = TRANSITIONS.get((self._state, trigger))
        if after is None:
            raise TransitionRefused(self._state, trigger)
        transition = Transition(self._state, trigger, after, self._clock())
        self._state = after
        return transition
