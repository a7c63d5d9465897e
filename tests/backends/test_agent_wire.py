"""The wire between the window's process and the agent's: what crosses it, and what a broken peer does."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from decimal import Decimal
from typing import Any

import pytest

from desktop_app.backends.agent_wire import Channel, WireError, decode, encode
from desktop_app.core.access import TaskAccess
from desktop_app.core.errors import BackendError, Problem
from desktop_app.core.page_masks import Box, HiddenField, PageMasks
from desktop_app.core.ports import HandBackContext, InterruptOutcome, RunResult, RunStatus, StepReport
from desktop_app.core.site_rules import Duty, SiteRule, SiteRules
from desktop_app.core.vault import EntryValues, VaultEntry


def test_a_page_reading_crosses_as_written() -> None:
    masks = PageMasks(
        fields=(HiddenField("Card number", "4111 1111 1111 1111", True, Box(10.0, 20.0, 200.0, 30.0)),),
        boxes=(Box(8.0, 18.0, 204.0, 34.0),),
        scale=2.0,
        scroll=(0.0, 120.5),
        confirmed=True,
        pressed=("Pay",),
    )
    wire = json.loads(json.dumps(encode(masks)))
    assert wire["$"] == "PageMasks"
    assert wire["fields"] == {"$tuple": [{"$": "HiddenField", "label": "Card number", "value": "4111 1111 1111 1111", "by_person": True,
                                          "box": {"$": "Box", "x": 10.0, "y": 20.0, "width": 200.0, "height": 30.0}}]}
    assert decode(wire) == masks


def test_a_task_access_crosses_with_its_values_and_rules() -> None:
    access = TaskAccess(
        entries=(VaultEntry("bank", ("bank.example",), ("username", "password", "totp")),),
        values={"bank": EntryValues("ada", "s3cret", "JBSWY3DPEHPK3PXP")},
        allowed_sites=("bank.example",),
        rules=SiteRules((SiteRule("shop.example", frozenset({Duty.PAY, Duty.CONFIRM})),), final_pay_everywhere=False),
        problems=("one left out",),
    )
    crossed = decode(json.loads(json.dumps(encode(access))))
    assert crossed == access
    assert crossed.values["bank"].password == "s3cret"
    assert crossed.rules.rules[0].duties == frozenset({Duty.PAY, Duty.CONFIRM})
    assert {type(duty) for duty in crossed.rules.rules[0].duties} == {Duty}  # not the plain strings they also are


def test_reports_results_and_enums_cross() -> None:
    step = StepReport("t-1", 3, "Type the name", "https://a.example/", actions=('{"input": {}}',), duration=1.25, error="")
    result = RunResult("t-1", RunStatus.FINISHED, "Done", True, Decimal("0.0123"), 4)
    context = HandBackContext("typed it", "", "The person typed it")
    for value in (step, result, context, InterruptOutcome.PAUSED, None, [1, "two"], {"a": (1, 2)}):
        assert decode(json.loads(json.dumps(encode(value)))) == value


def test_a_backend_error_crosses_with_its_problem_and_detail() -> None:
    sent = BackendError(Problem.LLM_FAILED, "No answer.", detail="timeout", retry_after=2.0, unconfirmed_since=1700000000.5)
    error = decode(json.loads(json.dumps(encode(sent))))
    assert isinstance(error, BackendError)
    assert (error.problem, error.message, error.detail, error.retry_after, error.unconfirmed_since) == (
        Problem.LLM_FAILED, "No answer.", "timeout", 2.0, 1700000000.5
    )


def test_anything_else_is_refused_both_ways() -> None:
    class Secretive:
        pass

    with pytest.raises(WireError, match="Secretive does not cross the wire"):
        encode(Secretive())
    with pytest.raises(WireError, match="unknown type 'Paths'"):
        decode({"$": "Paths", "data": "/"})
    with pytest.raises(WireError, match="unknown enum 'Control'"):
        decode({"$enum": "Control", "value": "idle"})


async def channels() -> tuple[Channel, Channel, socket.socket]:
    one, other = socket.socketpair()
    first = Channel(*await asyncio.open_connection(sock=one))
    second = Channel(*await asyncio.open_connection(sock=other))
    return first, second, other


def test_calls_go_both_ways_and_errors_come_back_as_raised(arun: Any) -> None:
    async def scenario() -> list[Any]:
        window, agent, _ = await channels()

        async def interrupt(*, run: str) -> InterruptOutcome:
            return InterruptOutcome.PAUSED if run == "t-1" else InterruptOutcome.ALREADY_OVER

        async def start_task() -> None:
            raise BackendError(Problem.SESSION_GONE, "There is no browser session.")

        async def privacy_read(*, why: str) -> dict[str, Any]:
            return {"why": why}

        told: list[str] = []
        agent.handlers.update(interrupt=interrupt, start_task=start_task)
        window.handlers.update(privacy_read=privacy_read)
        window.listeners.update(notice=lambda text: told.append(text))
        seen = [await window.call("interrupt", run="t-1"), await agent.call("privacy_read", why="screenshot")]
        with pytest.raises(BackendError, match="There is no browser session.") as raised:
            await window.call("start_task")
        seen.append(raised.value.problem)
        agent.tell("notice", text="Reconnecting")
        for _ in range(50):
            if told:
                break
            await asyncio.sleep(0.01)
        seen.append(told)
        window.close()
        agent.close()
        return seen

    assert arun(scenario()) == [InterruptOutcome.PAUSED, {"why": "screenshot"}, Problem.SESSION_GONE, ["Reconnecting"]]


def test_a_call_waiting_when_the_other_side_goes_fails_at_once(arun: Any) -> None:
    async def scenario() -> str:
        window, agent, _ = await channels()

        async def never(**_args: Any) -> None:
            await asyncio.sleep(3600)

        agent.handlers["interrupt"] = never
        waiting = asyncio.ensure_future(window.call("interrupt", run="t-1"))
        await asyncio.sleep(0.05)
        agent.close()  # the agent's process died
        with pytest.raises(WireError) as raised:
            await asyncio.wait_for(waiting, 2)
        await asyncio.wait_for(window.closed, 2)
        window.close()
        return str(raised.value)

    assert arun(scenario()).startswith("the other side has gone")


def test_an_oversized_or_unreadable_message_ends_the_wire(arun: Any) -> None:
    async def broken(junk: bytes) -> str:
        one, other = socket.socketpair()
        window = Channel(*await asyncio.open_connection(sock=one))
        other.sendall(junk)
        await asyncio.wait_for(window.closed, 2)
        with pytest.raises(WireError) as raised:
            await window.call("interrupt")
        window.close()
        other.close()
        return str(raised.value)

    assert arun(broken(struct.pack(">I", 2**31))) == "the other side has gone"
    assert arun(broken(struct.pack(">I", 5) + b"nope!")) == "the other side has gone"


def test_what_is_told_after_an_answer_is_heard_after_the_caller_has_it(arun: Any) -> None:
    """The agent answers start_task, then at once reports a fault for that task: the window must
    know the task before it hears about it (a report for an unknown task is dropped)."""

    async def scenario() -> list[str]:
        window, agent, _ = await channels()
        heard: list[str] = []

        async def start_task() -> str:
            asyncio.get_running_loop().call_soon(lambda: agent.tell("run_fault", task_id="t-1"))
            return "t-1"

        agent.handlers["start_task"] = start_task
        window.listeners["run_fault"] = lambda task_id: heard.append(f"fault for {task_id}")
        for _ in range(20):
            heard.append(f"started {await window.call('start_task')}")
            await asyncio.sleep(0.02)
        window.close()
        agent.close()
        return heard

    assert arun(scenario()) == ["started t-1", "fault for t-1"] * 20


def test_a_failing_listener_or_handler_does_not_end_the_wire(arun: Any) -> None:
    async def scenario() -> list[Any]:
        window, agent, _ = await channels()

        def broken_listener(**_args: Any) -> None:
            raise KeyError("a bug on the window's side")

        async def broken_handler() -> None:
            raise AttributeError("'NoneType' object has no attribute 'interrupt'")

        async def guard_counts() -> dict[str, int]:
            return {"actions_refused": 0}

        window.listeners["step"] = broken_listener
        agent.handlers.update(interrupt=broken_handler, guard_counts=guard_counts)
        agent.tell("step", number=1)
        agent.tell("nobody_listens")
        with pytest.raises(BackendError) as raised:
            await window.call("interrupt")
        seen = [raised.value.problem, raised.value.message, await window.call("guard_counts"), window.closed.done()]
        window.close()
        agent.close()
        return seen

    assert arun(scenario()) == [Problem.INTERNAL, "The agent could not do that (AttributeError).", {"actions_refused": 0}, False]
