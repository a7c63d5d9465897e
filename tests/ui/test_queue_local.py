"""A queue end to end in Local mode: a real browser-use Agent driven by the scripted model works in
the embedded view; agent step, You step, agent step — with a Take over in the middle of the first,
and the agent asking for the person (request_human) in the last."""

from __future__ import annotations

import asyncio

from PySide6.QtTest import QTest

from desktop_app.core import timeline as tl
from desktop_app.core.control import Control
from desktop_app.core.queue import StepKind, StepState
from tests.fakes import scripted_llm as sl
from tests.helpers import wait_until
from tests.ui.actions import click
from tests.ui.web import type_into_field


def test_agent_you_agent_with_a_take_over_mid_step(local_services, install, site, make_window, qrun) -> None:
    model = sl.ScriptedModel(
        [sl.navigate(site.url("form.html")), sl.type_text("id=name", "Ada Lovelace")]
        + [sl.wait(1, delay=0.3) for _ in range(6)]
        + [sl.done("The form is open; name filled in as Ada Lovelace")]
        + [sl.ask_human("Check that the email address is right"), sl.click(r"button type=submit"), sl.done("Submitted the form")]
    )
    install(model)
    window = make_window(local_services)
    controller = local_services.controller
    runner = local_services.queue
    panel = window.task_panel
    queue = panel.queue_panel
    view = window.live_view.web_view
    first_task_calls: list[int] = []

    async def scenario() -> None:
        for kind, text in (
            (StepKind.AGENT, "Open the sign-up form and fill in the name"),
            (StepKind.PERSON, "Type your email address"),
            (StepKind.AGENT, "Submit the form"),
        ):
            queue.step_input.setText(text)
            click(queue.add_agent_button if kind is StepKind.AGENT else queue.add_person_button)
        click(queue.run_queue_button)
        await wait_until(lambda: len(model.calls) >= 4, timeout=60, what="a few steps of the first agent step")

        # Take over mid-step: the queue pauses on that step; Hand back resumes the same run.
        click(panel.take_over_button)
        await wait_until(lambda: controller.state is Control.HUMAN, timeout=30, what="the pause")
        assert controller.work.paused_run is not None
        assert [s.state for s in runner.steps] == [StepState.RUNNING, StepState.WAITING, StepState.WAITING]
        await asyncio.sleep(0.5)
        click(panel.hand_back_button)

        # The You step: the person has the browser, with the step's text shown big.
        await wait_until(lambda: runner.steps[1].state is StepState.NEEDS_YOU, timeout=60, what="the You step")
        first_task_calls.append(len(model.calls))
        assert controller.state is Control.HUMAN
        assert queue.person_step_label.isVisible() and "Type your email address" in queue.person_step_label.text()
        await type_into_field(view, "email", "ada@example.com")
        QTest.keyClicks(panel.note_input, "Typed ada@example.com as the email")
        click(panel.hand_back_button)

        # The agent asks for the person in the third step: control moves, the step "needs you".
        await wait_until(lambda: runner.steps[2].state is StepState.NEEDS_YOU, timeout=60, what="the agent to ask")
        assert controller.state is Control.HUMAN
        assert runner.steps[2].reason == "Check that the email address is right"
        click(panel.hand_back_button)
        await wait_until(lambda: not runner.running, timeout=60, what="the queue to end")

    qrun(scenario(), timeout=150)
    assert [s.state for s in runner.steps] == [StepState.DONE, StepState.DONE, StepState.DONE]
    assert runner.steps[0].output == "The form is open; name filled in as Ada Lovelace"
    assert runner.steps[1].output == "Typed ada@example.com as the email"
    assert runner.steps[2].output == "Submitted the form"
    assert site.submissions == [{"path": "/submit", "name": "Ada Lovelace", "email": "ada@example.com"}]
    # One task per agent step (the take over paused and resumed the first, it did not start another).
    started = [e for e in controller.timeline.entries if isinstance(e, tl.TaskStarted)]
    assert [e.goal for e in started] == ["Open the sign-up form and fill in the name", "Submit the form"]
    # The second agent task was told the first step's output and the person's note.
    later = model.calls[first_task_calls[0] :]
    told = "\n".join(t for call in later for t in call.texts)
    assert "1. Agent: Open the sign-up form and fill in the name — result: The form is open; name filled in as Ada Lovelace" in told
    assert "2. You: Type your email address — the person's note: Typed ada@example.com as the email" in told
    assert window.task_panel.queue_panel.summary_box.isVisible()
