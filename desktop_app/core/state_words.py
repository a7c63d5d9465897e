"""What the window says in each control state, in one table: the indicator, the window title, the
shield over a locked view, the placeholder of a remote view with no session, and the prompts of the
task and note boxes. Widgets look their words up here; none keeps a copy."""

from __future__ import annotations

from dataclasses import dataclass, replace

from desktop_app.core.control import Control

DEFAULT_TASK_PROMPT = "What should the agent do?"
NO_SESSION_PLACEHOLDER = "No browser session.\nPress New session, or type a task and press Run."


@dataclass(frozen=True)
class StateWords:
    indicator: str  # who is in control, in full
    title: str  # the window title's part: "Ready", not the whole line
    shield: str = ""  # over the locked view ("" = no words)
    shield_offers_take_over: bool = False
    placeholder: str = ""  # a remote view with nothing to show ("" = leave the view as it is)
    task_prompt: str = DEFAULT_TASK_PROMPT
    note_prompt: str = ""  # "" = no note box in this state
    # What the banner said was about the situation before (a request, an error, a hint); a notice
    # about this new state arrives after the transition and shows as usual.
    clears_notices: bool = False


_WORDS: dict[Control, StateWords] = {
    Control.NO_SESSION: StateWords("No session", "No session", placeholder=NO_SESSION_PLACEHOLDER, clears_notices=True),
    Control.STARTING: StateWords("Starting browser…", "Starting browser…", placeholder="Starting browser…", clears_notices=True),
    Control.IDLE: StateWords(
        "Ready — the browser is yours until you press Run",
        "Ready",
        note_prompt="Anything the agent should know? (optional — sent with Run)",
    ),
    Control.AGENT: StateWords(
        "Agent in control",
        "Agent in control",
        shield="Agent is working — Take over (Ctrl+T)",
        shield_offers_take_over=True,
        task_prompt="The agent is working. You can type your next instruction here.",
        clears_notices=True,
    ),
    Control.TAKING_OVER: StateWords(
        "Pausing the agent…",
        "Pausing the agent…",
        shield="Pausing the agent… the view unlocks as soon as it has paused.",
        task_prompt="Pausing the agent…",
    ),
    Control.HUMAN: StateWords(
        "You are in control",
        "You are in control",
        task_prompt="Next instruction for the agent (optional) — sent when you hand back",
        note_prompt="What did you do? (optional — the agent is told)",
    ),
    Control.ENDING: StateWords("Stopping session…", "Stopping session…", shield="Stopping the session…"),
}

# When Take over stops the agent's task instead of pausing it (Capabilities.pauses_in_place).
_STOPPING = replace(
    _WORDS[Control.TAKING_OVER], shield="Stopping the agent's task… the view unlocks as soon as it has stopped."
)


def state_words(state: Control, *, pauses_in_place: bool = True) -> StateWords:
    if state is Control.TAKING_OVER and not pauses_in_place:
        return _STOPPING
    return _WORDS[state]
