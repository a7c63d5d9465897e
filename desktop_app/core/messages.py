"""What the app says to the person, in one place: notices, refusals, questions, help.

Money and counts read the same everywhere; the session controller's words live here, not in its logic.
"""

from __future__ import annotations

from decimal import Decimal


def format_cost(usd: Decimal) -> str:
    """Dollars as people read them: cents for normal amounts, more digits only for fractions of a cent."""
    return f"${usd:.2f}" if abs(usd) >= Decimal("0.01") or usd == 0 else f"${usd:.4f}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class QuitQuestion:
    """What closing the window asks while billed sessions are alive: which sessions, what they cost,
    and what each answer does to them (the agents' tasks are stopped whichever is chosen)."""

    cancel = "Cancel"

    def __init__(self, service: str, sessions: list[tuple[str, str, Decimal]], *, agent_working: bool) -> None:
        """``sessions``: (name in the window, provider's id, cost so far) of each billed session alive."""
        several = len(sessions) > 1
        self.stop = "Stop the sessions and quit" if several else "Stop the session and quit"
        self.keep = f"Quit and leave {'them' if several else 'the session'} running (billed)"
        self.title = f"Stop the {plural(len(sessions), service + ' session')} before quitting?" if several else f"Stop the {service} session before quitting?"
        described = [_billed_session(name if several else "", session_id, cost) for name, session_id, cost in sessions]
        if several:
            self.text = (
                f"These {service} sessions are billed for as long as they run — also after Handoff quits, until "
                f"{service} ends them or you stop them:\n" + "\n".join(f"• {line}" for line in described)
            )
        else:
            self.text = (
                f"The {service} session ({described[0]}) is billed for as long as it runs — also after Handoff "
                f"quits, until {service} ends it or you stop it."
            )
            cost = sessions[0][2]
            if cost:
                self.text += f" It has cost {format_cost(cost)} so far."
        self.informative = (
            "The agent's current task is stopped either way; the next start offers to reattach to a session left running."
            if agent_working
            else "The next start offers to reattach to a session left running, or to stop it."
        )


def _billed_session(name: str, session_id: str, cost: Decimal) -> str:
    shown_id = session_id if len(session_id) <= 12 else session_id[:8] + "…"
    if not name:
        return shown_id
    return f"{name} ({shown_id}), {format_cost(cost)} so far" if cost else f"{name} ({shown_id})"


# -- what the window says ------------------------------------------------------------------------


def close_tab_question(name: str, service: str) -> tuple[str, str, str, str]:
    """Title, text, and the two answers: closing a tab stops its session."""
    return (
        f"Close {name}?",
        f"Closing the tab stops its {service} session and the agent's task. The timeline so far stays in History.",
        "Stop the session and close",
        "Keep it",
    )


def tab_not_closed(name: str) -> str:
    return f"{name} was not closed: its session is still open. Stop the session first."


HAND_BACK_TITLE = "Hand back to the agent?"
STOP_SESSION_QUESTION = ("Stop the session?", "Stop session", "Keep working", "The timeline so far stays in History.")
LEFT_RUNNING_STOPPED = "The session from the earlier run has been stopped."


def went_wrong(error: BaseException) -> str:
    return f"Something went wrong: {type(error).__name__}: {error}"


def folder_not_opened(folder: object) -> str:
    return f"Could not open the folder. It is here: {folder}"


def before_the_agent_can_work(problem: str) -> str:
    return f"Before the agent can work: {problem}"


def left_running_not_stopped(problem: str) -> str:
    return f"The session could not be stopped: {problem} Try again."


def reattach_after_restart(reason: str) -> str:
    return f"{reason} The session will be offered again after the restart."


# What closing the window asks while the agent works on a task in a session that is not billed.
STOP_TASK_QUESTION = (
    "Stop the agent and quit?",
    "The agent has not finished its task. Quitting stops it; the timeline so far stays in History.",
    "Stop and quit",
    "Cancel",
)

HELP_TEXT = """You and the agent share one browser; one of you has it at a time.
Run (Ctrl+Enter): the agent works on the task in the box; the browser is view-only meanwhile.
Take over (Ctrl+T): the agent pauses or stops; the browser is yours once that is confirmed.
Hand back (Ctrl+H): the agent carries on, told what you did (your note) and your next instruction.
Ready: the browser is yours until you press Run; the agent is told what you did.
Settings (Ctrl+,) · this help (F1) · Quit (Ctrl+Q).
Fields you fill stay hidden from the agent in Local mode; in Cloud mode Hand back asks first."""


def about_text(version: str) -> str:
    return (
        f"Handoff {version}\n"
        "A person and a browser agent share one live browser and pass control back and forth.\n"
        "Local mode: the open-source browser-use agent with the AI model you choose. "
        "Browser Use Cloud: a browser on Browser Use's servers, with your API key."
    )


# -- what the session controller says ----------------------------------------------------------

KEEP_ALIVE_TASK = (
    "This is only a keep-alive check for this browser session. Do not open, click or type anything; "
    "finish immediately with done."
)
TYPE_A_TASK = "Type a task for the agent first."
SESSION_ALREADY_OPEN = "A session is already open."
STOP_BEFORE_REATTACH = "Stop the current session before reattaching to another one."
KEEP_ALIVE_ONLY_IDLE = "The session can only be kept alive while nobody is using it."
RUN_ALREADY_WAITING = "A task is already waiting for the browser to start."
ALREADY_IN_CONTROL = "You already have control."
START_A_SESSION = "Start a session first."
ONLY_PERSON_HANDS_BACK = "Only the person in control can hand back."
NO_SESSION_TO_STOP = "There is no session to stop."
ALREADY_STOPPING = "Already stopping."
BACKEND_LOCKED = "Stop the current session before switching between Local and Cloud."
STOP_SESSION_CONCERN = "{situation}. Stopping the session ends it; the task goes back to the task box."
TASK_KEPT = " Your task is kept."


def busy_reason(*, agent_working: bool, person_in_control: bool) -> str:
    """Why Run is refused while the session is busy."""
    if agent_working:
        return "The agent is already working. Take over first, or wait until it finishes."
    if person_in_control:
        return "You have control: press Hand back to give the agent your instruction."
    return "The session is not ready yet."


def already_taking_over(pauses_in_place: bool) -> str:
    doing = "pausing the agent" if pauses_in_place else "stopping the agent's task"
    return f"Already {doing} — the view unlocks as soon as that is confirmed."


def unfinished_situation(*, paused_for_person: bool, working: bool) -> str:
    if paused_for_person:
        return "The agent's task is paused while you have the browser"
    if working:
        return "The agent is still working on its task"
    return "The agent's task is unfinished"  # stopped at Take over (Cloud), or by a fault, and not yet continued


def cards_shortened(what: str) -> str:
    return (
        f"Card details in your {what} were shortened to their last four digits before the agent saw it. "
        "Type card details into the page itself: they stay hidden from the agent there."
    )


def outcome(finished: bool, success: bool | None, output: str) -> str | None:
    """A notice for how a task the person gave ended (None: stopped, nothing to say)."""
    if finished and success is not False:
        return f"Done: {output}" if output else "The agent finished the task."
    if finished:
        return f"The agent could not do it: {output}" if output else "The agent could not do the task."
    return None


def task_failed(output: str) -> str:
    return f"The task failed: {output}" if output else "The task failed."


def could_not_start(message: str) -> str:
    return f"The agent could not start: {message} Your task is kept; press Run to try again."


def agent_stopped(message: str) -> str:
    return f"The agent stopped: {message} You have control of the browser; hand back to let the agent try again."


def session_lost(reason: str) -> str:
    return f"{reason} Start a new session to carry on — your task text is kept."


def could_not_pause(message: str) -> str:
    return (
        f"The agent could not be paused: {message} "
        "The view stays locked until the agent is confirmed stopped — press Take over to try again."
    )


def inbox_session_ending(*, idle: bool) -> str:
    """An inbox row for a session about to time out (nobody asked for the person there)."""
    return "Its session ends soon: open it to keep it alive" if idle else "Its session ends soon: hand back to the agent to keep it"


def session_ending_soon(service: str, minutes: int, *, idle: bool) -> str:
    what_to_do = "Run a task, or keep it alive with a short agent task (billed)." if idle else "Hand back to the agent to keep it."
    return f"The {service} session will end in about {plural(minutes, 'minute')} without agent activity. {what_to_do}"


def activity(step: int, waited: int, slow_after: int) -> str:
    """What the agent is doing, for someone watching a page that has not moved."""
    text = f"Working on step {step}"
    if waited >= slow_after:
        return f"{text} · {waited} s (the model is slow to answer)"
    return f"{text} · {waited} s" if waited >= 3 else text


# -- the queue and playbooks (core/queue.py, core/queue_runner.py, core/playbooks.py) --------------

QUEUE_STEP_EMPTY = "Type what the step should do first."
QUEUE_STEP_GONE = "That step is no longer in the queue."
QUEUE_STEP_BUSY = "That step is in progress: it can be changed once it is done."
QUEUE_SKIP_ONLY_WAITING = "Only a waiting or failed step can be skipped."
QUEUE_ALREADY_WAITING = "That step is already waiting to run."
QUEUE_EMPTY = "Add a step to the queue first."
QUEUE_ALREADY_RUNNING = "The queue is already running."
QUEUE_NOTHING_LEFT = "Every step of the queue is done or skipped. Use Run again on a step, or add one."
QUEUE_DONE = "The queue is done."
QUEUE_STOPPED_SESSION = "The session ended, so the queue stopped. Nothing is lost: Run the queue to continue from the step that was running."


def queue_step_failed(number: int, reason: str) -> str:
    return f"Step {number} failed, so the queue stopped: {reason} The other steps are kept; Run again or Skip it, then Run the queue."


def queue_continue_question(number: int, text: str) -> str:
    return f"The queue stopped at step {number} ({text}). Continue from there, or run it from the start?"


def queue_person_step(number: int, text: str) -> str:
    return f"Step {number} is yours: {text}"


PERSON_STEP_HINT = "Do it in the browser, then press Hand back (add a note for the agent if it helps)."
PLAYBOOK_NAME_NEEDED = "Give the playbook a name."
PLAYBOOK_VARIABLE_MISSING = "Fill in every value: {names}."


def playbooks_damaged(aside: str) -> str:
    return f"Your playbooks file was damaged and has been kept aside as {aside}; the example playbook is shown instead."


def playbooks_unreadable(reason: str) -> str:
    return f"Your playbooks could not be read ({reason}); they are left as they are."


def playbook_import_failed(reason: str) -> str:
    return f"That file is not a Handoff playbook: {reason}"
