"""The privacy rules without Qt: who typed what, what is hidden, where it is painted over, what the
model's text keeps, and what Hand back says or asks."""

from __future__ import annotations

from typing import Any

from desktop_app.core.control import Control, Transition, Trigger
from desktop_app.core.events import ControlChanged, PersonActed, PrivacyDecision
from desktop_app.core.hand_back import HandBackChoice, hand_back_check, prefilled_note
from desktop_app.core.page_masks import Box, ControlWindows, FrameReport, read_masks
from desktop_app.core.privacy import HIDDEN, PrivacyGuard, ValueScrubber
from tests.fakes.clock import FakeClock
from tests.fakes.page_inspector import FakeInspector, field, report


def windows_with_agent_between(start_ms: float, end_ms: float) -> ControlWindows:
    clock = FakeClock()
    windows = ControlWindows(clock)
    clock.now = start_ms / 1000
    windows.set_locked(True)
    clock.now = end_ms / 1000
    windows.set_locked(False)
    return windows


def test_input_while_the_view_was_locked_is_the_agents() -> None:
    windows = windows_with_agent_between(5_000, 9_000)
    assert windows.by_person(4_999)
    assert not windows.by_person(5_000) and not windows.by_person(7_000) and not windows.by_person(9_000)
    assert windows.by_person(9_001)


def test_the_persons_fields_and_secret_fields_are_hidden_the_agents_plain_ones_are_not() -> None:
    windows = windows_with_agent_between(5_000, 9_000)
    page = FrameReport(report([
        field("Name", "Ada Lovelace", [6_000]),  # the agent typed it
        field("Card number", "4111 1111 1111 1111", [10_000], rect=(10, 60, 200, 30)),  # the person
        field("Password", "hunter22", [7_000], rect=(10, 100, 200, 30), sensitive=True),  # agent, but secret
    ]))
    masks = read_masks(page, windows)
    assert [(f.label, f.by_person) for f in masks.fields] == [("Card number", True), ("Password", False)]
    assert masks.boxes == (Box(10, 60, 200, 30), Box(10, 100, 200, 30))
    assert masks.confirmed and masks.readable


def test_a_person_typed_frame_is_hidden_whole_and_placed_by_name_address_and_size() -> None:
    windows = windows_with_agent_between(5_000, 9_000)
    frames = [
        {"rect": [0, 300, 400, 100], "content": [1, 301, 398, 98], "name": "ad", "src": "http://ads.test/x"},
        {"rect": [0, 400, 400, 200], "content": [1, 401, 398, 198], "name": "", "src": "http://psp.test/card"},
    ]
    child_ad = FrameReport(report(), name="ad", url="http://ads.test/x", size=(398, 98))
    child_card = FrameReport(
        report([field("Card", "4111111111111111", [12_000], rect=(5, 5, 100, 20))]), url="http://psp.test/card", size=(398, 198)
    )
    masks = read_masks(FrameReport(report(frames=frames), children=(child_ad, child_card)), windows)
    assert [f.box for f in masks.fields] == [Box(6, 406, 100, 20)]  # in the top page's coordinates
    assert Box(0, 400, 400, 200) in masks.boxes  # the whole payment frame
    assert Box(0, 300, 400, 100) not in masks.boxes
    assert masks.confirmed


def test_a_frame_that_cannot_be_placed_or_read_fails_closed() -> None:
    windows = windows_with_agent_between(5_000, 9_000)
    frames = [{"rect": [0, 300, 400, 100], "content": [0, 300, 400, 100], "name": "", "src": "http://psp.test/a"}]
    typed = FrameReport(report([field("Card", "4111111111111111", [12_000])]), url="http://other.test/b", size=(50, 50))
    masks = read_masks(FrameReport(report(frames=frames), children=(typed,)), windows)
    assert not masks.confirmed and Box(0, 300, 400, 100) in masks.boxes
    silent = FrameReport(None, url="http://psp.test/a", size=(400, 100))
    masks = read_masks(FrameReport(report(frames=frames), children=(silent,)), windows)
    assert masks.boxes == (Box(0, 300, 400, 100),)  # not answering: painted over
    assert not read_masks(FrameReport(None), windows).readable


def test_boxes_are_clipped_to_the_viewport_and_fields_out_of_view_keep_their_value() -> None:
    windows = ControlWindows(FakeClock())
    masks = read_masks(FrameReport(report([
        field("Below", "secret-one", [1], rect=(10, 900, 100, 20)),
        field("Edge", "secret-two", [1], rect=(700, 590, 200, 30)),
    ])), windows)
    assert [f.box for f in masks.fields] == [None, Box(700, 590, 100, 10)]
    assert [f.value for f in masks.fields] == ["secret-one", "secret-two"]


def test_scrubber_hides_values_in_any_spacing_but_keeps_element_indexes_and_told_words() -> None:
    scrubber = ValueScrubber()
    scrubber.learn(["4111 1111 1111 1111", "737", "11/29", "Ada", "7"])
    scrubber.known_to_model("Pay for Ada's order")
    text = "[737]<input value=4111111111111111 /> [12]<input value=737 /> exp 11/29 cvc 737 for Ada qty value=7 step 7"
    assert scrubber.scrub(text) == (
        f"[737]<input value={HIDDEN} /> [12]<input value={HIDDEN} /> exp {HIDDEN} cvc {HIDDEN} for Ada qty value={HIDDEN} step 7"
    )
    assert scrubber.scrub("4111-1111-1111-1111") == HIDDEN


def test_hand_back_says_what_is_hidden_and_asks_only_when_it_cannot_be_confirmed() -> None:
    windows = ControlWindows(FakeClock())
    page = FrameReport(report([field("Card number", "4111111111111111", [1]), field("CVC", "737", [1])]))
    check = hand_back_check(read_masks(page, windows), page_readable_here=True)
    assert (check.question, check.told) == ("", "The 2 fields you filled stay hidden from the agent.")
    unconfirmed = hand_back_check(None, page_readable_here=True)
    assert unconfirmed.question and unconfirmed.unattended is HandBackChoice.KEEP_CONTROL
    cloud = hand_back_check(None, page_readable_here=False)
    assert HandBackChoice.WITHOUT_SCREENSHOTS in cloud.choices and cloud.unattended is HandBackChoice.WITHOUT_SCREENSHOTS


def test_the_note_is_prefilled_until_the_person_edits_it() -> None:
    assert prefilled_note("", "", "Filled Card number.") == "Filled Card number."
    assert prefilled_note("Filled Card number.", "Filled Card number.", "Filled Card number, CVC.") == "Filled Card number, CVC."
    assert prefilled_note("I paid", "Filled Card number.", "Filled Card number, CVC.") is None


def test_guard_learns_values_builds_the_account_and_reports_each_decision(arun: Any) -> None:
    published: list[Any] = []
    handlers: list[Any] = []
    clock = FakeClock()
    guard = PrivacyGuard(handlers.append, published.append, clock=clock)
    clock.now = 5.0
    handlers[0](ControlChanged(Transition(Control.IDLE, Trigger.RUN, Control.AGENT, 5.0)))
    clock.now = 9.0
    handlers[0](ControlChanged(Transition(Control.TAKING_OVER, Trigger.CONTROL_CONFIRMED, Control.HUMAN, 9.0)))
    page = FrameReport(report([field("Card number", "4111 1111 1111 1111", [10_000])], pressed=[{"t": 11_000, "label": "Pay"}]))
    guard.attach_inspector(FakeInspector(page))
    guard.page_opened("https://shop.test/pay?x=1")
    masks = arun(guard.read(why="test"))
    assert masks is not None and masks.confirmed
    assert guard.scrub("value=4111111111111111") == f"value={HIDDEN}"
    assert guard.account.describe() == "Opened shop.test/pay. Filled Card number. Pressed “Pay”."
    assert [e.event for e in published if isinstance(e, PrivacyDecision)] == ["fields_masked"]
    assert "4111" not in str(published)
    guard.attach_inspector(FakeInspector(RuntimeError("renderer gone")))
    assert arun(guard.read(why="test")) is None
    assert published[-1].event == "privacy_unconfirmed"
    guard.close()


def test_guard_tells_the_account_while_the_person_has_the_browser(arun: Any) -> None:
    import asyncio

    published: list[Any] = []
    handlers: list[Any] = []
    guard = PrivacyGuard(handlers.append, published.append)
    guard.attach_inspector(FakeInspector(FrameReport(report([field("Email", "ada@example.com", [1])]))))

    async def scenario() -> None:
        handlers[0](ControlChanged(Transition(Control.TAKING_OVER, Trigger.CONTROL_CONFIRMED, Control.HUMAN, 1.0)))
        for _ in range(100):
            if any(isinstance(e, PersonActed) for e in published):
                break
            await asyncio.sleep(0.01)
        guard.close()

    arun(scenario())
    assert [e.account for e in published if isinstance(e, PersonActed)] == ["Filled Email."]


def test_fields_the_agent_filled_from_the_vault_are_hidden_like_the_persons() -> None:
    windows = windows_with_agent_between(5_000, 9_000)
    page = FrameReport(report([
        field("Email", "ada@example.test", [6_000]),  # the agent typed it from the vault
        field("Code", "287082", [6_500], rect=(10, 60, 200, 30)),  # the 2FA code it typed
        field("Search", "blue mugs", [7_000], rect=(10, 100, 200, 30)),  # typed by the agent, its own words
    ]))
    masks = read_masks(page, windows, vault_values=frozenset({"ada@example.test", "287082"}))
    assert [(f.label, f.by_person) for f in masks.fields] == [("Email", False), ("Code", False)]
    assert masks.boxes == (Box(10, 20, 200, 30), Box(10, 60, 200, 30))


def test_vault_values_leave_the_text_even_when_a_task_names_them(arun: Any) -> None:
    handlers: list[Any] = []
    guard = PrivacyGuard(handlers.append, lambda event: None)
    guard.scrubber.known_to_model("Log in as ada@example.test please")
    codes = iter([("pw-Secret!", "287082"), ("pw-Secret!", "081804")])
    guard.use_vault(lambda: next(codes))
    assert guard.scrub("user ada@example.test typed pw-Secret!x and 287 082") == f"user ada@example.test typed {HIDDEN}x and {HIDDEN}"
    assert guard.scrub("now 081804, earlier 287082") == f"now {HIDDEN}, earlier {HIDDEN}"  # the new code, and the old kept
    guard.use_vault(lambda: ("ada@example.test",))
    assert guard.scrub("Log in as ada@example.test") == f"Log in as {HIDDEN}"
    guard.close()
