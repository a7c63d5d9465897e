"""The control state machine, without Qt: every listed transition works, every other is refused."""

from __future__ import annotations

import itertools

import pytest

from desktop_app.core.control import (
    TRANSITIONS,
    Control,
    ControlMachine,
    TransitionRefused,
    Trigger,
)


def machine_in(state: Control) -> ControlMachine:
    machine = ControlMachine(clock=lambda: 42.0)
    machine._state = state  # place the machine directly in the state under test
    return machine


@pytest.mark.parametrize(("start", "trigger"), sorted(TRANSITIONS, key=lambda k: (k[0].value, k[1].value)))
def test_listed_transition_moves_to_its_target(start: Control, trigger: Trigger) -> None:
    machine = machine_in(start)
    transition = machine.apply(trigger)
    assert (transition.before, transition.after, transition.at) == (start, TRANSITIONS[(start, trigger)], 42.0)
    assert machine.state is TRANSITIONS[(start, trigger)]


UNLISTED = [pair for pair in itertools.product(Control, Trigger) if pair not in TRANSITIONS]


@pytest.mark.parametrize(("start", "trigger"), UNLISTED, ids=[f"{s.value}-{t.value}" for s, t in UNLISTED])
def test_unlisted_transition_is_refused_and_changes_nothing(start: Control, trigger: Trigger) -> None:
    machine = machine_in(start)
    assert not machine.can(trigger)
    with pytest.raises(TransitionRefused):
        machine.apply(trigger)
    assert machine.state is start


def test_the_happy_path_of_the_seed_flow() -> None:
    machine = ControlMachine()
    steps = [
        (Trigger.START_SESSION, Control.STARTING),
        (Trigger.SESSION_READY, Control.IDLE),
        (Trigger.RUN, Control.AGENT),
        (Trigger.TAKE_OVER, Control.TAKING_OVER),
        (Trigger.CONTROL_CONFIRMED, Control.HUMAN),
        (Trigger.HAND_BACK, Control.AGENT),
        (Trigger.AGENT_FINISHED, Control.IDLE),
        (Trigger.END_SESSION, Control.ENDING),
        (Trigger.SESSION_ENDED, Control.NO_SESSION),
    ]
    for trigger, expected in steps:
        assert machine.apply(trigger).after is expected


def test_input_is_unlocked_only_when_the_agent_cannot_act() -> None:
    locked = {state for state in Control if state.view_locked}
    assert locked == {Control.AGENT, Control.TAKING_OVER, Control.ENDING}


def test_the_view_never_unlocks_straight_from_agent() -> None:
    """Only a confirmation, the agent asking, a fault or the end of the run leave AGENT for HUMAN/IDLE."""
    from_agent = {trigger for (state, trigger), target in TRANSITIONS.items() if state is Control.AGENT and not target.view_locked}
    assert from_agent == {
        Trigger.RUN_FAILED,
        Trigger.AGENT_FINISHED,
        Trigger.AGENT_FAULTED,
        Trigger.AGENT_ASKS_HUMAN,
        Trigger.HAND_BACK_FAILED,
        Trigger.SESSION_LOST,
    }


def test_every_state_says_which_commands_it_allows() -> None:
    from desktop_app.core.control import AVAILABLE, Command, allows

    assert set(AVAILABLE) == set(Control)
    assert allows(Control.AGENT, Command.TAKE_OVER) and not allows(Control.AGENT, Command.RUN)
    assert allows(Control.HUMAN, Command.HAND_BACK) and not allows(Control.HUMAN, Command.TAKE_OVER)
    assert not any(allows(Control.ENDING, command) for command in Command)
