import json

import pytest

from desktop_app.core.ports import StepReport
from desktop_app.core.step_words import describe_action, describe_actions
from desktop_app.core.timeline import AgentStep


def act(name: str, **params) -> str:
    return json.dumps({name: params})


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (act("input", index=3, text="Ada Lovelace"), "Typed “Ada Lovelace”"),
        (act("input_text", index=3, text=""), "Cleared a field"),
        (act("navigate", url="https://www.example.com/cart?x=1"), "Opened example.com"),
        (act("go_to_url", url="shop.test/path"), "Opened shop.test"),
        (act("click", index=5), "Clicked on the page"),
        (act("click_element_by_index", index=5), "Clicked on the page"),
        (act("scroll", down=False, pages=1), "Scrolled up"),
        (act("scroll", down=True), "Scrolled down"),
        (act("search", query="flights to Lisbon"), "Searched for “flights to Lisbon”"),
        (act("send_keys", keys="Enter"), "Pressed “Enter”"),
        (act("send_keys"), "Pressed keys"),
        (act("scroll", down="false"), "Scrolled up"),
        (act("navigate", url=None), "Opened a page"),
        (act("navigate", url="http://[::1"), "Opened “http://[::1”"),
        (act("wait", seconds=3), "Waited 3 s"),
        (act("wait", seconds=1.5), "Waited 1.5 s"),
        (act("select_dropdown", index=2, text="Express"), "Picked “Express”"),
        (act("done", text="ok", success=False), "Gave up on the task"),
        (act("done", text="ok", success=True), "Finished the task"),
        (act("request_human", reason="2FA"), "Asked you for help"),
        (act("open_new_window", url="x"), "Used “open new window”"),
        ("not json at all", "not json at all"),
        (json.dumps(["a list"]), '["a list"]'),
        (json.dumps({"wait": "three"}), "Waited"),
    ],
)
def test_actions_read_as_plain_words(raw: str, words: str) -> None:
    assert describe_action(raw) == words


def test_long_typed_text_is_cut_so_a_row_stays_readable() -> None:
    words = describe_action(act("input", index=1, text="x" * 200))
    assert words.startswith("Typed “xxx") and words.endswith("…”") and len(words) < 60


def test_several_actions_read_as_one_sentence() -> None:
    words = describe_actions([act("input", index=1, text="Ada"), act("send_keys", keys="Enter")])
    assert words == "Typed “Ada”, then pressed “Enter”"
    assert describe_actions([]) == ""


def test_step_detail_says_what_was_done_without_jargon() -> None:
    step = StepReport(
        task_id="t",
        number=2,
        next_goal="Fill the name",
        url="https://shop.test/",
        evaluation="Success",
        actions=(act("input", index=1, text="Ada"),),
    )
    detail = AgentStep(at=0.0, session_id="s", step=step).detail
    assert "Did: Typed “Ada”" in detail
    assert "Last step: Success" in detail and "on shop.test ·" in detail
    assert "Evaluation" not in detail
    first = AgentStep(at=0.0, session_id="s", step=StepReport(task_id="t", number=1, next_goal="Open", url="about:blank", evaluation="Start"))
    assert first.detail == ""  # no previous step to judge, and the empty start page says nothing


def test_absurd_input_is_shown_shortened_and_never_breaks_the_row() -> None:
    assert describe_action("[" * 100_000) == "[" * 159 + "…"
    assert describe_action(json.dumps({"wait": {"seconds": {"nested": 1}}})) == "Waited"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://www.shop.test/cart?session=abc#top", "shop.test/cart"),
        ("http://127.0.0.1:8080/", "127.0.0.1:8080"),
        ("https://ada:hunter2@mail.test/inbox", "mail.test/inbox"),
        ("http://[::1", "http://[::1"),
        ("about:blank#x", "about:blank#x"),
    ],
)
def test_step_rows_show_a_short_address_and_never_credentials(url: str, shown: str) -> None:
    step = StepReport(task_id="t", number=2, next_goal="Look", url=url)
    assert AgentStep(at=0.0, session_id="s", step=step).detail == f"on {shown}"
