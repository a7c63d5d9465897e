"""The control state machine, without Qt: every state × every trigger, against a table written out
here by hand (not read from ``TRANSITIONS``), so a wrong entry in the real table makes a case fail."""

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

# Where each trigger leads from each state; ``__`` means the trigger is refused there.
# Columns: the state the machine is in. Rows: the trigger applied. Every state and every trigger has
# exactly one cell (checked below), so a new state or trigger cannot slip past this table.
# fmt: off
NS, ST, ID, AG, TO, HU, EN, __ = (
    Control.NO_SESSION,
    Control.STARTING,
    Control.IDLE,
    Control.AGENT,
    Control.TAKING_OVER,
    Control.HUMAN,
    Control.ENDING,
    None,
)
COLUMNS = (NS, ST, ID, AG, TO, HU, EN)
EXPECTED_ROWS: dict[Trigger, tuple[Control | None, ...]] = {
    #                                NO_SESSION STARTING IDLE  AGENT  TAKING_OVER HUMAN ENDING
    Trigger.START_SESSION:          (ST,        __,      __,   __,    __,         __,   __),
    Trigger.SESSION_READY:          (__,        ID,      __,   __,    __,         __,   __),
    Trigger.SESSION_FAILED:         (__,        NS,      __,   __,    __,         __,   __),
    Trigger.RUN:                    (__,        __,      AG,   __,    __,         __,   __),
    Trigger.RUN_FAILED:             (__,        __,      __,   ID,    __,         __,   __),
    Trigger.AGENT_FINISHED:         (__,        __,      __,   ID,    __,         __,   __),
    Trigger.AGENT_FAULTED:          (__,        __,      __,   HU,    HU,         __,   __),
    Trigger.TAKE_OVER:              (__,        __,      HU,   TO,    __,         __,   __),
    Trigger.CONTROL_CONFIRMED:      (__,        __,      __,   __,    HU,         __,   __),
    Trigger.TAKE_OVER_FAILED:       (__,        __,      __,   __,    AG,         __,   __),
    Trigger.AGENT_ASKS_HUMAN:       (__,        __,      __,   HU,    HU,         __,   __),
    Trigger.HAND_BACK:              (__,        __,      __,   __,    __,         AG,   __),
    Trigger.HAND_BACK_FAILED:       (__,        __,      __,   HU,    __,         __,   __),
    Trigger.RELEASE:                (__,        __,      __,   __,    __,         ID,   __),
    Trigger.END_SESSION:            (__,        EN,      EN,   EN,    EN,         EN,   __),
    Trigger.SESSION_ENDED:          (__,        __,      __,   __,    __,         __,   NS),
    Trigger.END_FAILED:             (__,        __,      __,   __,    __,         __,   ID),
    Trigger.SESSION_LOST:           (__,        NS,      NS,   NS,    NS,         NS,   NS),
}
# fmt: on
EXPECTED: dict[tuple[Control, Trigger], Control | None] = {
    (state, trigger): row[column] for trigger, row in EXPECTED_ROWS.items() for column, state in enumerate(COLUMNS)
}
ALL_PAIRS = list(itertools.product(Control, Trigger))


def machine_in(state: Control) -> ControlMachine:
    machine = ControlMachine(clock=lambda: 42.0)
    machine._state = state  # place the machine directly in the state under test
    return machine


def test_the_expected_table_has_one_cell_for_every_state_and_trigger() -> None:
    assert set(COLUMNS) == set(Control) and len(COLUMNS) == len(Control)
    assert set(EXPECTED_ROWS) == set(Trigger)
    assert all(len(row) == len(COLUMNS) for row in EXPECTED_ROWS.values())
    assert set(EXPECTED) == set(ALL_PAIRS)


def test_the_real_table_is_the_expected_one() -> None:
    assert TRANSITIONS == {pair: target for pair, target in EXPECTED.items() if target is not None}


@pytest.mark.parametrize(("start", "trigger"), ALL_PAIRS, ids=[f"{s.value}-{t.value}" for s, t in ALL_PAIRS])
def test_every_trigger_in_every_state_goes_where_the_table_says(start: Control, trigger: Trigger) -> None:
    machine = machine_in(start)
    expected = EXPECTED[(start, trigger)]
    if expected is None:
        assert not machine.can(trigger)
        with pytest.raises(TransitionRefused):
            machine.apply(trigger)
        assert machine.state is start
    else:
        assert machine.can(trigger)
        transition = machine.apply(trigger)
        assert (transition.before, transition.trigger, transition.after, transition.at) == (start, trigger, expected, 42.0)
        assert machine.state is expected


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
