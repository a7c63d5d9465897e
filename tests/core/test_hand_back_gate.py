"""Hand back's gate and the boxes' rules, without Qt: when it asks, what it answers without dialogs,
what a sent text clears and how a text given back merges in."""

from __future__ import annotations

import asyncio

from desktop_app.backends.capabilities import CLOUD, LOCAL
from desktop_app.core.events import EventBus, PrivacyDecision
from desktop_app.core.hand_back import HandBackChoice, HandBackDecision, HandBackGate, NotePrefill
from desktop_app.core.page_masks import FrameReport
from desktop_app.core.privacy import PrivacyGuard
from desktop_app.core.task_box import merged_into, unchanged
from tests.fakes.event_recorder import Recorder
from tests.fakes.page_inspector import FakeInspector, report


def gate_with(tree: object) -> tuple[HandBackGate, Recorder]:
    bus = EventBus()
    guard = PrivacyGuard(bus.subscribe, bus.publish)
    guard.attach_inspector(FakeInspector(tree))  # type: ignore[arg-type]
    return HandBackGate(guard, bus), Recorder(bus)


class Asker:
    def __init__(self, answer: HandBackChoice) -> None:
        self.answer = answer
        self.questions: list[tuple[str, tuple[HandBackChoice, ...]]] = []

    async def __call__(self, question: str, informative: str, choices: tuple[HandBackChoice, ...]) -> HandBackChoice:
        self.questions.append((question, choices))
        return self.answer


def test_a_local_page_read_in_full_goes_back_without_a_question(arun) -> None:
    gate, _ = gate_with(FrameReport(report()))
    ask = Asker(HandBackChoice.KEEP_CONTROL)
    assert arun(gate.decide(LOCAL, ask)) == HandBackDecision(True, screenshots=True, told="")
    assert ask.questions == []


def test_a_local_page_that_cannot_be_read_asks_and_keeps_control_without_dialogs(arun) -> None:
    gate, events = gate_with(RuntimeError("renderer gone"))
    ask = Asker(HandBackChoice.HAND_BACK)
    assert arun(gate.decide(LOCAL, ask)).go is True
    assert [c for _, c in ask.questions] == [(HandBackChoice.HAND_BACK, HandBackChoice.KEEP_CONTROL)]
    unattended = arun(gate.decide(LOCAL, None))
    assert unattended.go is False and unattended.kept_because.startswith("Handoff could not check every part of this page")
    answers = [e.fields["answer"] for e in events.of(PrivacyDecision) if e.event == "hand_back_question"]
    assert answers == ["hand_back", "keep_control"]


def test_cloud_always_asks_and_without_dialogs_goes_back_without_screenshots(arun) -> None:
    gate, _ = gate_with(None)
    ask = Asker(HandBackChoice.WITHOUT_SCREENSHOTS)
    assert arun(gate.decide(CLOUD, ask)) == HandBackDecision(True, screenshots=False, told="")
    assert ask.questions[0][1] == (HandBackChoice.HAND_BACK, HandBackChoice.WITHOUT_SCREENSHOTS, HandBackChoice.KEEP_CONTROL)
    assert arun(gate.decide(CLOUD, None)) == HandBackDecision(True, screenshots=False, told="")
    assert arun(gate.decide(CLOUD, Asker(HandBackChoice.KEEP_CONTROL))) == HandBackDecision(False)


def test_a_second_hand_back_while_the_question_is_open_is_ignored(arun) -> None:
    gate, _ = gate_with(None)
    release = asyncio.Event()

    async def slow(question: str, informative: str, choices: tuple[HandBackChoice, ...]) -> HandBackChoice:
        await release.wait()
        return HandBackChoice.HAND_BACK

    async def both() -> tuple[object, object]:
        first = asyncio.ensure_future(gate.decide(CLOUD, slow))
        await asyncio.sleep(0)
        second = await gate.decide(CLOUD, slow)
        release.set()
        return await first, second

    first, second = arun(both())
    assert second is None and first == HandBackDecision(True, screenshots=True, told="")


def test_the_note_starts_with_the_account_until_the_person_edits_it() -> None:
    prefill = NotePrefill()
    assert prefill.update("", "Filled Card number.") == "Filled Card number."
    assert prefill.update("Filled Card number.", "Filled Card number, CVC.") == "Filled Card number, CVC."
    assert prefill.update("I paid with my card", "Filled Card number, CVC, Expiry.") is None


def test_a_sent_text_is_cleared_only_if_the_box_still_holds_it() -> None:
    assert unchanged("  Book a table \n", "Book a table")
    assert not unchanged("Book a table for two", "Book a table")


def test_a_task_given_back_goes_below_what_was_typed_since() -> None:
    assert merged_into("", "Book a table") == "Book a table"
    assert merged_into("   ", "Book a table") == "Book a table"
    assert merged_into("Also call Bob\n", "Book a table") == "Also call Bob\n\nBook a table"
    assert merged_into("Book a table, then call Bob", "Book a table") is None
    assert merged_into("Anything", "") is None
