"""Local mode in the real window: a real browser-use Agent, driven by a scripted model, works in the
embedded QWebEngineView over its DevTools port, on pages served from 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop_app.ui.quitter import QuitState
from desktop_app.core import timeline as tl
from desktop_app.core.control import Control
from desktop_app.core.events import ControlChanged
from desktop_app.services import Services
from desktop_app.settings import LLMSettings
from tests.fakes import scripted_llm as sl
from tests.helpers import wait_until
from tests.ui.actions import answer_question, click, run_task
from tests.ui.web import js, type_into_field


class ControlLog:
    """When control changed, and every action the agent executed (with who had control then)."""

    def __init__(self, services: Services) -> None:
        self.controller = services.controller
        self.changes: list[tuple[float, Control]] = []
        self.actions: list[tuple[float, str, Control]] = []
        services.bus.subscribe(self._on_event)

    def _on_event(self, event: Any) -> None:
        if isinstance(event, ControlChanged):
            self.changes.append((time.monotonic(), event.transition.after))

    def watch_actions(self, backend: Any) -> None:
        tools = backend._tools
        original = tools.act

        async def recording_act(action: Any, *args: Any, **kwargs: Any) -> Any:
            name = next(iter(action.model_dump(exclude_unset=True)), "?")
            self.actions.append((time.monotonic(), name, self.controller.state))
            return await original(action, *args, **kwargs)

        tools.act = recording_act


def entries(window, kind: type) -> list[Any]:
    return [e for e in window.task_panel.timeline.timeline_model.entries if isinstance(e, kind)]


def test_agent_fills_asks_for_the_person_and_finishes_after_hand_back(local_services, install, agent_in_thread, site, make_window, qrun) -> None:
    model = sl.ScriptedModel(
        [
            sl.navigate(site.url("form.html")),
            sl.type_text("id=name", "Ada Lovelace"),
            sl.ask_human("Type your email address into the Email field"),
            sl.click(r"button type=submit"),
            sl.done("Signed up as Ada Lovelace"),
        ]
    )
    install(model)
    window = make_window(local_services)
    controller = local_services.controller
    panel = window.task_panel
    view = window.live_view.web_view
    log = ControlLog(local_services)
    assert window.live_view.bar.isVisible()  # Local mode: a real browser with an address bar
    temp_before = browser_use_temp_folders()

    async def scenario() -> None:
        run_task(window, "Sign me up on the form")
        await wait_until(lambda: agent_in_thread.backend is not None and agent_in_thread.backend._tools is not None, timeout=30, what="the agent to connect")
        log.watch_actions(agent_in_thread.backend)
        await wait_until(lambda: controller.state is Control.HUMAN, timeout=60, what="the agent to ask for the person")
        assert "Type your email address" in panel.request_label.text()
        assert not window.live_view.locked
        assert await js(view, "document.getElementById('name').value") == "Ada Lovelace"

        # The person types with real key events, while the agent waits.
        await type_into_field(view, "email", "ada@example.com")
        await asyncio.sleep(0.5)  # the paused agent must stay quiet meanwhile
        QTest.keyClicks(panel.note_input, "Entered my email")
        click(panel.hand_back_button)
        await wait_until(lambda: controller.state is Control.IDLE, timeout=60, what="the agent to finish")


    qrun(scenario(), timeout=120)

    # The page's final state: the form went through with both the agent's and the person's input.
    assert site.submissions == [{"path": "/submit", "name": "Ada Lovelace", "email": "ada@example.com"}]
    assert view.title() == "Thanks"
    # The timeline, in order.
    kinds = [
        (type(e).__name__, getattr(e, "by", None), getattr(e, "to", None))
        for e in window.task_panel.timeline.timeline_model.entries
        if isinstance(e, (tl.TaskStarted, tl.Handoff, tl.TaskFinished))
    ]
    assert kinds == [
        ("TaskStarted", None, None),
        ("Handoff", tl.Actor.AGENT, tl.Actor.PERSON),
        ("Handoff", tl.Actor.PERSON, tl.Actor.AGENT),
        ("TaskFinished", None, None),
    ]
    steps = [e.step for e in entries(window, tl.AgentStep)]
    assert [s.number for s in steps] == list(range(1, len(steps) + 1)) and len(steps) >= 5
    assert any(s.screenshot_url and s.screenshot_url.startswith("file://") for s in steps)
    finished = entries(window, tl.TaskFinished)[-1].result
    assert finished.success is True and finished.output == "Signed up as Ada Lovelace"
    # The person's note reached the agent: it is in what the model read after the hand back.
    assert any("Entered my email" in call.state for call in model.calls)
    # No agent input while the person had control.
    assert log.actions and all(state is Control.AGENT for _, _, state in log.actions), log.actions
    human = [t for t, state in log.changes if state is Control.HUMAN]
    back = [t for t, state in log.changes if state is Control.AGENT and t > human[0]]
    assert not [a for a in log.actions if human[0] < a[0] < back[0]]
    assert qrun(controller.backend.guard_counts())["actions_refused"] == 0
    # browser-use keeps nothing in the temporary directory: no step screenshots (world-readable)
    # or scratch folders of its agent, no downloads folder of its default profile.
    assert browser_use_temp_folders() == temp_before


def browser_use_temp_folders() -> set[str]:
    import tempfile
    from pathlib import Path

    temp = Path(tempfile.gettempdir())
    return {p.name for pattern in ("browser_use_agent_*", "browser-use-downloads-*") for p in temp.glob(pattern)}


def test_take_over_mid_run_no_step_starts_after_the_pause(local_services, install, site, make_window, qrun) -> None:
    model = sl.ScriptedModel(
        [sl.navigate(site.url("form.html"))]
        + [sl.wait(1, delay=0.3) for _ in range(8)]
        + [sl.done("Waited long enough")]
    )
    install(model)
    window = make_window(local_services)
    controller = local_services.controller
    panel = window.task_panel

    async def scenario() -> None:
        run_task(window, "Wait around")
        await wait_until(lambda: len(model.calls) >= 3, timeout=60, what="a few steps")
        click(panel.take_over_button)
        assert controller.state is Control.TAKING_OVER and window.live_view.locked
        await wait_until(lambda: controller.state is Control.HUMAN, timeout=30, what="the pause to take effect")
        # A model answer already being thought about (0.3 s) is recorded when it arrives; it is
        # planned on the old page and ends unexecuted. From then on, nothing more may be asked.
        await asyncio.sleep(0.5)
        calls_at_pause = len(model.calls)
        steps_at_pause = len(entries(window, tl.AgentStep))
        await asyncio.sleep(2.0)
        assert len(model.calls) == calls_at_pause, "the model was asked for a step after the pause"
        assert len(entries(window, tl.AgentStep)) == steps_at_pause
        assert controller.work.paused_run is not None
        click(panel.hand_back_button)
        await wait_until(lambda: controller.state is Control.IDLE, timeout=60, what="the run to finish")

    qrun(scenario(), timeout=120)
    assert entries(window, tl.TaskFinished)[-1].result.output == "Waited long enough"
    assert qrun(controller.backend.guard_counts())["actions_refused"] == 0


def test_run_with_no_model_configured_says_what_to_set_up(local_services, site, make_window, qrun) -> None:
    from dataclasses import replace

    local_services.save_settings(replace(local_services.settings, llm=LLMSettings()))  # as on a first start
    window = make_window(local_services)
    panel = window.task_panel
    view = window.live_view.web_view

    async def scenario() -> None:
        run_task(window, "Find a recipe")
        assert "Choose the AI model" in window.banner.message  # at once: nothing was started
        assert window.banner.action_button.text() == "Open Settings"
        # The browser stays usable.
        window.live_view.bar.address.setText(site.url("form.html"))
        QTest.keyClick(window.live_view.bar.address, Qt.Key.Key_Return)
        await wait_until(lambda: view.title() == "Sign up", what="browsing to still work")

    qrun(scenario(), timeout=60)
    assert panel.task_input.toPlainText() == "Find a recipe"
    assert local_services.controller.state is Control.NO_SESSION  # and Local/Cloud can still be switched
    assert panel.backend_selector.isEnabled()


def test_a_model_that_cannot_be_reached_gives_the_task_back(local_services, install, site, make_window, qrun, monkeypatch) -> None:
    """Run → the model server refuses → Ready again with the task in the box → fix Settings → Run."""
    from dataclasses import replace

    from desktop_app.system.early_init import free_loopback_port

    window = make_window(local_services)
    panel = window.task_panel
    controller = local_services.controller
    refusing = LLMSettings("openai_compatible", "some-model", f"http://127.0.0.1:{free_loopback_port()}/v1")
    assert local_services.save_settings(replace(local_services.settings, llm=refusing)) == []

    async def scenario() -> None:
        run_task(window, "Summarise the page")
        await wait_until(lambda: "refused the connection" in window.banner.message, timeout=60, what="the message")
        await wait_until(lambda: controller.state is Control.IDLE)  # not "You are in control": nothing happened
        assert "press Run to try again" in window.banner.message
        await wait_until(lambda: panel.task_input.toPlainText() == "Summarise the page", what="the task back in the box")
        assert panel.run_button.isEnabled()
        install(sl.ScriptedModel([sl.done("Summarised")]))  # Settings now name a server that answers
        click(panel.run_button)  # the same task, as it was
        await wait_until(lambda: entries(window, tl.TaskFinished)[-1].result.output == "Summarised", timeout=60)

    qrun(scenario(), timeout=90)
    started = [e.text for e in entries(window, tl.TaskStarted)]
    assert started == ["Summarise the page", "Summarise the page"]


def test_a_silent_model_times_out_with_a_clear_message(local_services, install, site, make_window, qrun) -> None:
    model = sl.ScriptedModel([sl.navigate(site.url("form.html")), sl.wait(1, delay=30)])
    install(model)
    local_services.controller.backend.llm_timeout = 1.0
    window = make_window(local_services)
    controller = local_services.controller

    async def scenario() -> None:
        run_task(window, "Do something slow")
        await wait_until(lambda: "did not answer within 1 second." in window.banner.message, timeout=60, what="the timeout")
        await wait_until(lambda: controller.state is Control.HUMAN)

    qrun(scenario(), timeout=90)
    assert not window.live_view.locked


def test_each_task_numbers_its_own_steps_and_failed_steps_are_shown(local_services, install, site, make_window, qrun) -> None:
    model = sl.ScriptedModel(
        [
            sl.navigate(site.url("form.html")),
            sl.Step("wait", {"seconds": 1}, fault="not_json"),
            sl.done("First task done"),
            sl.wait(1),
            sl.done("Second task done"),
        ]
    )
    install(model)
    window = make_window(local_services)
    controller = local_services.controller

    async def run(text: str, finished: int) -> None:
        run_task(window, text)
        await wait_until(lambda: len(entries(window, tl.TaskFinished)) == finished, timeout=60, what=f"task {finished}")
        await wait_until(lambda: controller.state is Control.IDLE)

    async def scenario() -> None:
        await run("Open the form", 1)
        await run("Wait a moment", 2)

    qrun(scenario(), timeout=120)
    rows = window.task_panel.timeline.timeline_model.entries
    second_start = max(i for i, e in enumerate(rows) if isinstance(e, tl.TaskStarted))
    first = [e for e in rows[:second_start] if isinstance(e, tl.AgentStep)]
    second = [e for e in rows[second_start:] if isinstance(e, tl.AgentStep)]
    assert [e.step.number for e in first] == [1, 2, 3]
    assert [e.step.number for e in second] == [1, 2]  # not 4, 5: numbers are per task
    failed = first[1]
    assert failed.title == "Step 2 failed" and "Invalid JSON" in failed.detail
    results = [e.result for e in entries(window, tl.TaskFinished)]
    assert [r.output for r in results] == ["First task done", "Second task done"]
    assert [r.steps for r in results] == [3, 2]


def test_quitting_while_the_agent_works_asks_first(local_services, install, site, make_window, qrun) -> None:
    install(sl.ScriptedModel([sl.navigate(site.url("form.html"))] + [sl.wait(1, delay=0.3) for _ in range(20)]))
    window = make_window(local_services, interactive=True)
    controller = local_services.controller
    assert controller.quit_concern is None  # nothing to lose yet: closing would not ask

    async def scenario() -> None:
        run_task(window, "Keep waiting")
        await wait_until(lambda: entries(window, tl.AgentStep), timeout=60, what="the agent to work")
        window.close()
        await wait_until(lambda: answer_question("Cancel"), what="the question")
        await wait_until(lambda: window.quitter.state is QuitState.RUNNING)
        assert window.isVisible() and controller.state is Control.AGENT  # the agent carries on
        window.close()
        await wait_until(lambda: answer_question("Stop and quit"), what="the question again")
        await window.closed

    qrun(scenario(), timeout=90)
    assert controller.state is Control.NO_SESSION


def test_take_over_in_the_first_step_of_a_follow_up_task_pauses_it(local_services, install, site, make_window, qrun) -> None:
    model = sl.ScriptedModel(
        [
            sl.navigate(site.url("form.html")),
            sl.done("First task done"),
            sl.wait(1, delay=2.0),  # the second task's first answer is slow: take over meanwhile
            sl.done("Second task done"),
        ]
    )
    install(model)
    window = make_window(local_services)
    panel = window.task_panel
    controller = local_services.controller

    async def scenario() -> None:
        run_task(window, "Open the form")
        await wait_until(lambda: len(entries(window, tl.TaskFinished)) == 1, timeout=60, what="the first task")
        await wait_until(lambda: controller.state is Control.IDLE)
        run_task(window, "Wait a moment")
        await wait_until(lambda: len(model.steps) == 1, timeout=60, what="the slow answer to be asked for")
        click(panel.take_over_button)
        await wait_until(lambda: controller.state is Control.HUMAN, timeout=30)
        await asyncio.sleep(2.5)  # the slow answer arrives while paused: the task must stay paused
        assert controller.work.paused_run is not None and len(entries(window, tl.TaskFinished)) == 1
        click(panel.hand_back_button)
        await wait_until(lambda: len(entries(window, tl.TaskFinished)) == 2, timeout=60, what="the second task")

    qrun(scenario(), timeout=120)
    second = entries(window, tl.TaskFinished)[-1].result
    assert (second.status.value, second.output) == ("finished", "Second task done")  # not the first task's "done"


def test_a_step_interrupted_before_it_acted_is_not_listed(local_services, install, agent_in_thread, site, make_window, qrun, monkeypatch) -> None:
    typing = sl.type_text("id=name", "Ada", goal="Type the name")
    # The model answers step 2 twice: once before the pause (its actions never run), once after.
    model = sl.ScriptedModel([sl.navigate(site.url("form.html")), typing, typing, sl.done("Done")])
    install(model)
    window = make_window(local_services)
    panel = window.task_panel
    controller = local_services.controller
    from desktop_app.backends.local import LocalBackend

    answered = threading.Event()
    original = LocalBackend._save_screenshot

    async def slow_save(self: Any, task_id: str, number: int, data: str | None) -> str | None:
        if number == 2 and not answered.is_set():  # the model has answered step 2; its actions have not run
            answered.set()
            await asyncio.sleep(1.5)
        return await original(self, task_id, number, data)

    monkeypatch.setattr(LocalBackend, "_save_screenshot", slow_save)  # the agent runs in this process (agent_in_thread)

    async def scenario() -> None:
        run_task(window, "Fill in the name")
        await wait_until(answered.is_set, timeout=60, what="the model's answer to step 2")
        click(panel.take_over_button)
        await wait_until(lambda: controller.state is Control.HUMAN, timeout=30)
        await asyncio.sleep(2)  # past the slow screenshot: the step ends, interrupted
        assert [e.step.number for e in entries(window, tl.AgentStep)] == [1]
        assert await js(window.live_view.web_view, "document.getElementById('name').value") == ""
        click(panel.hand_back_button)
        await wait_until(lambda: entries(window, tl.TaskFinished), timeout=60, what="the task to finish")

    qrun(scenario(), timeout=120)
    name_after = qrun(js(window.live_view.web_view, "document.getElementById('name').value"))
    steps = [e.step for e in entries(window, tl.AgentStep)]
    assert [s.number for s in steps] == [1, 2, 3]  # step 2 listed once, when it really ran
    assert steps[1].next_goal == "Type the name"
    assert name_after == "Ada"


def test_a_corrected_model_key_is_used_by_the_next_task(local_services, install, site, make_window, qrun) -> None:
    from desktop_app.system.keychain import SecretName

    model = sl.ScriptedModel([sl.done("One"), sl.done("Two"), sl.done("Three")])
    install(model)
    local_services.keychain.set(SecretName.OPENAI_COMPATIBLE, "sk-old-key-000000000000")
    window = make_window(local_services)

    async def run(text: str, count: int) -> None:
        run_task(window, text)
        await wait_until(lambda: len(entries(window, tl.TaskFinished)) == count, timeout=60, what=text)

    async def scenario() -> None:
        await run("First", 1)
        await run("Second", 2)
        local_services.keychain.set(SecretName.OPENAI_COMPATIBLE, "sk-new-key-111111111111")  # corrected in Settings
        await run("Third", 3)

    qrun(scenario(), timeout=90)
    keys = [call.api_key for call in model.calls if call.answer is not None]
    assert keys == ["sk-old-key-000000000000", "sk-old-key-000000000000", "sk-new-key-111111111111"]


def test_take_over_does_not_wait_for_a_slow_model_and_its_stale_answer_is_dropped(local_services, install, site, make_window, qrun) -> None:
    model = sl.ScriptedModel(
        [
            sl.navigate(site.url("form.html")),
            sl.Step("input", {"text": "Stale plan", "clear": True}, find="id=name", goal="Type a name", delay=4.0),
            sl.type_text("id=name", "Fresh plan", goal="Type a name"),
            sl.done("Done"),
        ]
    )
    install(model)
    window = make_window(local_services)
    panel = window.task_panel
    controller = local_services.controller
    view = window.live_view.web_view
    timings: dict[str, float] = {}

    async def scenario() -> None:
        run_task(window, "Fill in a name")
        # The model is thinking about step 2 when the person takes over.
        await wait_until(lambda: len(model.steps) == 2, timeout=60, what="the slow answer to be asked for")
        await asyncio.sleep(0.3)
        clicked = time.monotonic()
        click(panel.take_over_button)
        await wait_until(lambda: controller.state is Control.HUMAN, timeout=10)
        timings["take_over"] = time.monotonic() - clicked
        assert not window.live_view.locked
        click(panel.hand_back_button)  # before the slow answer arrives
        await wait_until(lambda: entries(window, tl.TaskFinished), timeout=60, what="the task to finish")

    qrun(scenario(), timeout=120)
    assert timings["take_over"] < 1.5, timings  # not the 4 s the model still needed
    assert qrun(js(view, "document.getElementById('name').value")) == "Fresh plan"  # the stale plan never ran
    assert [e.step.number for e in entries(window, tl.AgentStep)] == [1, 2, 3]
    assert qrun(controller.backend.guard_counts())["actions_refused"] == 0  # the pause stopped it, not the guard


def test_stop_session_does_not_wait_for_a_slow_model(local_services, install, site, make_window, qrun) -> None:
    model = sl.ScriptedModel([sl.navigate(site.url("form.html")), sl.wait(1, delay=30.0)])
    install(model)
    window = make_window(local_services)
    controller = local_services.controller

    async def scenario() -> None:
        run_task(window, "Think for a long time")
        await wait_until(lambda: len(model.steps) == 0 and len(model.calls) >= 1, timeout=60, what="the slow answer to be asked for")
        await asyncio.sleep(0.3)
        started = time.monotonic()
        assert await controller.stop_session().done
        assert time.monotonic() - started < 5.0
        assert controller.state is Control.NO_SESSION

    qrun(scenario(), timeout=90)
