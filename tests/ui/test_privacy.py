"""What the person types stays private (Local): a real browser-use Agent, driven by a scripted model
that records every request it gets (text and images), on pages served from 127.0.0.1. The person
types card details with real key events; the agent then pays. Nothing of the card may reach the
model, the data folder or the log.

``test_the_checks_see_a_leak_when_masking_is_off`` switches the protection off and asserts that the
same checks then find the card: they are able to fail."""

from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from desktop_app.core import timeline as tl
from desktop_app.core.control import Control
from desktop_app.services import Services
from tests.fakes import scripted_llm as sl
from tests.fakes.site import SiteServer
from tests.helpers import wait_until
from tests.ui.actions import click, run_task
from tests.ui.web import js, load, type_into, type_into_field

CARD = "4111 1111 1111 1111"
EXPIRY = "11/29"
CVC = "737"
BLUE_MUG = "pay.html"


def leaks_in_text(calls: list[sl.Call]) -> list[str]:
    """Every place a card value appears in what the model was sent."""
    found = []
    for call in calls:
        for text in call.texts:
            if "4111111111111111" in re.sub(r"[\s\-]", "", text):
                found.append("card number")
            if EXPIRY in text or "1129" in text.replace(" ", ""):
                found.append("expiry")
            if re.search(rf"(?<![\[\d]){CVC}(?![\]\d])", text):
                found.append("cvc")
    return found


def white_share(image: bytes, box: tuple[float, float, float, float]) -> float:
    """How much of ``box`` (CSS px, dpr 1 offscreen) is the white of an input field: a visible
    field with digits is mostly white; a masked one is not white at all."""
    x, y, width, height = box
    picture = Image.open(io.BytesIO(image)).convert("RGB")
    inner = picture.crop((int(x) + 3, int(y) + 3, int(x + width) - 3, int(y + height) - 3))
    data = inner.tobytes()  # RGB triples
    pixels = len(data) // 3
    white = sum(1 for i in range(0, len(data), 3) if min(data[i], data[i + 1], data[i + 2]) >= 245)
    return white / max(pixels, 1)


def readable_fields(calls: list[sl.Call], boxes: list[tuple[float, float, float, float]], since: int, page: str) -> int:
    """How many (image, field) pairs show a field unmasked, in the requests from ``since`` on that
    were made while the payment ``page`` was open (the state's tab line names it) — after Pay the
    same place is a "Thanks" page, white for other reasons."""
    on_page = re.compile(rf"Tab \w+: http://[^/\s]+/{re.escape(page)}[?\s]")
    images = [image for call in calls[since:] if on_page.search("".join(call.texts)) for image in call.images]
    assert images, "the model was sent no screenshot of the payment page: nothing was checked"
    return sum(1 for image in images for box in boxes if white_share(image, box) > 0.5)


def card_bytes_on_disk(root: Path) -> list[str]:
    needles = [CARD.encode(), CARD.replace(" ", "").encode(), EXPIRY.encode(), f"CVC {CVC}".encode()]
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits += [f"{path.relative_to(root)}: {n.decode()}" for n in needles if n in data]
    return hits


async def field_box(view: Any, element_id: str) -> tuple[float, float, float, float]:
    r = json.loads(await js(view, f"JSON.stringify(document.getElementById('{element_id}').getBoundingClientRect())"))
    return (r["x"], r["y"], r["width"], r["height"])


async def type_card(view: Any) -> list[tuple[float, float, float, float]]:
    """The person types the card into pay.html with real keys; returns the fields' boxes."""
    for element_id, value in (("number", CARD), ("expiry", EXPIRY), ("cvc", CVC)):
        await type_into_field(view, element_id, value)
    return [await field_box(view, element_id) for element_id in ("number", "expiry", "cvc")]


@pytest.fixture(autouse=True)
def agent_may_press_pay(request: pytest.FixtureRequest) -> None:
    """These tests are about masking: the agent presses Pay after the person filled the card, so
    the rule for every site ("a person presses the final Pay", tests/ui/test_vault.py) is off here."""
    if "local_services" in request.fixturenames:
        from desktop_app.core.site_rules import SiteRules

        request.getfixturevalue("local_services").vault.rules = SiteRules(final_pay_everywhere=False)


def pay_script(site: SiteServer) -> list[sl.Step]:
    return [
        sl.navigate(site.url("pay.html")),
        sl.type_text("id=name", "Ada Lovelace"),
        sl.ask_human("Enter your card details"),
        sl.click("id=pay"),
        sl.done("Paid"),
    ]


def test_card_typed_after_the_agent_asks_never_reaches_the_model(
    local_services: Services, install: Any, site: SiteServer, make_window: Any, qrun: Any, paths: Any, caplog: Any
) -> None:
    caplog.set_level("DEBUG")
    model = sl.ScriptedModel(pay_script(site))
    install(model)
    window = make_window(local_services)
    controller = local_services.controller
    view = window.live_view.web_view
    panel = window.task_panel
    state: dict[str, Any] = {}

    async def scenario() -> None:
        run_task(window, "Pay for my order")
        await wait_until(lambda: controller.state is Control.HUMAN, timeout=60, what="the agent to ask for the person")
        state["boxes"] = await type_card(view)
        # The note box fills itself with what the person did, by label, never the values.
        await wait_until(lambda: "CVC" in panel.note_input.toPlainText(), timeout=10, what="the account in the note box")
        state["note"] = panel.note_input.toPlainText()
        state["calls_before"] = len(model.calls)
        click(panel.hand_back_button)
        state["told"] = await wait_until(
            lambda: window.banner.message if "hidden" in window.banner.message else "", timeout=10, what="what stays hidden"
        )
        await wait_until(lambda: controller.state is Control.IDLE, timeout=60, what="the agent to pay and finish")

    qrun(scenario(), timeout=150)

    assert site.submissions == [
        {"path": "/submit", "name": "Ada Lovelace", "number": CARD, "expiry": EXPIRY, "cvc": CVC}
    ], "the agent pressed Pay with the person's card (masking hides values, it does not block the flow)"
    assert state["note"] == "Filled Card number, Expiry, CVC."
    assert state["told"] == "The 3 fields you filled stay hidden from the agent."
    assert leaks_in_text(model.calls) == []
    assert any("[filled by the person — hidden]" in t for c in model.calls[state["calls_before"] :] for t in c.texts)
    assert readable_fields(model.calls, state["boxes"], state["calls_before"], BLUE_MUG) == 0
    # What the model read after the hand back: the note, by label.
    assert any("Filled Card number, Expiry, CVC." in t for c in model.calls for t in c.texts)
    assert card_bytes_on_disk(paths.config.parent) == []
    # The thumbnails kept on disk are the masked images too.
    kept = [
        Path(urlsplit(e.step.screenshot_url).path).read_bytes()
        for e in panel.timeline.timeline_model.entries
        if isinstance(e, tl.AgentStep) and e.step.screenshot_url and e.step.url.endswith("/pay.html") and e.step.number > 3
    ]
    assert kept and [white_share(image, box) > 0.5 for image in kept for box in state["boxes"]] == [False] * (3 * len(kept))
    # The card's first group as a number of its own, or its first eight digits in any form (a bare
    # "4111" also occurs in object addresses such as 140234141112720).
    leak = re.compile(r"(?<!\d)4111(?!\d)|4111[ -]?1111")
    assert not [r for r in caplog.records if leak.search(r.getMessage()) or CVC in r.getMessage().split()]
    finished = [e for e in panel.timeline.timeline_model.entries if isinstance(e, tl.TaskFinished)]
    assert finished and finished[-1].result.output == "Paid"


def test_card_typed_while_ready_is_hidden_when_run_starts(
    local_services: Services, install: Any, site: SiteServer, make_window: Any, qrun: Any, paths: Any
) -> None:
    model = sl.ScriptedModel([sl.navigate(site.url("pay.html")), sl.done("On the payment page")])
    install(model)
    window = make_window(local_services)
    controller = local_services.controller
    view = window.live_view.web_view
    state: dict[str, Any] = {}

    async def scenario() -> None:
        run_task(window, "Open the payment page")
        await wait_until(lambda: controller.state is Control.IDLE and model.calls, timeout=60, what="the first task to end")
        # Ready: nobody acts, the browser is the person's. They type the card, then press Run.
        state["boxes"] = await type_card(view)
        await asyncio.sleep(1.5)  # the person's account is brought up to date about once a second
        state["calls_before"] = len(model.calls)
        model.steps = [sl.click("id=pay"), sl.done("Paid")]
        run_task(window, "Press Pay")
        await wait_until(
            lambda: controller.state is Control.IDLE and len(model.calls) > state["calls_before"] + 1,
            timeout=60,
            what="the second task to end",
        )

    qrun(scenario(), timeout=150)

    assert [s.get("number") for s in site.submissions] == [CARD]
    assert leaks_in_text(model.calls) == []
    assert readable_fields(model.calls, state["boxes"], state["calls_before"], BLUE_MUG) == 0
    # Run told the agent what the person did while the browser was theirs (never what they typed).
    second = [e for e in controller.timeline.entries if isinstance(e, tl.TaskStarted)][-1]
    assert second.detail == "Press Pay"
    assert second.text.startswith("Press Pay\n") and "What the person did:\n- Filled " in second.text
    assert card_bytes_on_disk(paths.config.parent) == []


@pytest.fixture
def provider() -> Any:
    """A second origin on loopback: the payment provider whose frame the shop embeds."""
    with SiteServer() as served:
        yield served


def test_card_typed_in_another_sites_frame_hides_the_whole_frame(
    local_services: Services, install: Any, site: SiteServer, provider: SiteServer, make_window: Any, qrun: Any, paths: Any
) -> None:
    page = site.url(f"embedded_pay.html?frame={provider.url('card_frame.html')}")
    model = sl.ScriptedModel(
        [sl.navigate(page), sl.ask_human("Enter your card in the payment frame"), sl.click("id=pay"), sl.done("Paid")]
    )
    install(model)
    window = make_window(local_services)
    controller = local_services.controller
    view = window.live_view.web_view
    panel = window.task_panel
    state: dict[str, Any] = {}

    async def frame_value(element_id: str) -> Any:
        frame = view.page().mainFrame().children()[0]
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        frame.runJavaScript(f"document.getElementById('{element_id}').value", 0, lambda v: answer.done() or answer.set_result(v))
        return await asyncio.wait_for(answer, 5)

    async def scenario() -> None:
        run_task(window, "Pay for my tea")
        await wait_until(lambda: controller.state is Control.HUMAN, timeout=60, what="the agent to ask for the person")
        frame_box = await field_box(view, "provider")
        state["boxes"] = [frame_box]
        # Another site's frame: the test cannot focus its fields by script, so it clicks, as a person does.
        for element_id, offset_y, value in (("number", 40, CARD), ("expiry", 95, EXPIRY), ("cvc", 150, CVC)):
            view.window().activateWindow()
            view.setFocus()
            QTest.mouseClick(view.focusProxy(), Qt.MouseButton.LeftButton, pos=QPoint(int(frame_box[0]) + 60, int(frame_box[1]) + offset_y))
            await wait_until(lambda: view.focusProxy().hasFocus(), timeout=5, what="keyboard focus")
            type_into(view, value)
            for _ in range(50):
                state[element_id] = await frame_value(element_id)
                if state[element_id] == value:
                    break
                await asyncio.sleep(0.1)
        assert (state["number"], state["expiry"], state["cvc"]) == (CARD, EXPIRY, CVC)
        state["calls_before"] = len(model.calls)
        click(panel.hand_back_button)
        await wait_until(lambda: controller.state is Control.IDLE, timeout=60, what="the agent to pay and finish")

    qrun(scenario(), timeout=150)

    assert [s.get("order") for s in site.submissions] == ["green-tea"]
    assert leaks_in_text(model.calls) == []
    assert readable_fields(model.calls, state["boxes"], state["calls_before"], "embedded_pay.html") == 0
    assert card_bytes_on_disk(paths.config.parent) == []


def test_a_value_the_person_typed_stays_hidden_on_later_pages(
    local_services: Services, install: Any, site: SiteServer, make_window: Any, qrun: Any
) -> None:
    """Typed into a field on one page, then shown as text on the page the person moved on to before
    handing back: still hidden from the model (the window's guard remembers every value it learnt
    this session, and tells the agent's side, which never read the first page with it)."""
    name = "Grace Brewster Hopper"
    model = sl.ScriptedModel([sl.navigate(site.url("form.html")), sl.ask_human("Type your full name"), sl.wait(1), sl.done("Checked")])
    install(model)
    window = make_window(local_services)
    controller = local_services.controller
    state: dict[str, Any] = {}

    async def scenario() -> None:
        run_task(window, "Check my details")
        await wait_until(lambda: controller.state is Control.HUMAN, timeout=60, what="the agent to ask for the person")
        view = window.live_view.web_view
        await type_into_field(view, "name", name)
        await wait_until(lambda: window.task_panel.note_input.toPlainText(), timeout=10, what="the guard to read the typed field")
        assert await load(view, site.url(f"echo?text={quote(name)}"))  # the person moves on
        state["calls_before"] = len(model.calls)
        click(window.task_panel.hand_back_button)
        await wait_until(lambda: controller.state is Control.IDLE, timeout=60, what="the agent to finish")

    qrun(scenario(), timeout=120)
    after = [t for c in model.calls[state["calls_before"] :] for t in c.texts]
    assert any("Your name:" in t for t in after), "the echo page was read"
    assert [t for t in after if "Grace Brewster Hopper" in t] == []


def test_the_checks_see_a_leak_when_masking_is_off(
    local_services: Services, install: Any, agent_in_thread: Any, site: SiteServer, make_window: Any, qrun: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The protection switched off (screenshot masking and text hiding): the checks above must fail."""
    import desktop_app.backends.llm as llm
    from desktop_app.backends import screenshot_masking

    monkeypatch.setattr(screenshot_masking, "protect", lambda guard, browser_session: None)

    async def no_hiding(self: Any, messages: list[Any]) -> list[Any]:
        return messages

    monkeypatch.setattr(llm.GuardedModel, "_hide_from_model", no_hiding)
    model = sl.ScriptedModel(pay_script(site))
    install(model)
    window = make_window(local_services)
    controller = local_services.controller
    state: dict[str, Any] = {}

    async def scenario() -> None:
        run_task(window, "Pay for my order")
        await wait_until(lambda: controller.state is Control.HUMAN, timeout=60, what="the agent to ask for the person")
        state["boxes"] = await type_card(window.live_view.web_view)
        state["calls_before"] = len(model.calls)
        click(window.task_panel.hand_back_button)
        await wait_until(lambda: controller.state is Control.IDLE, timeout=60, what="the agent to finish")

    qrun(scenario(), timeout=150)

    assert set(leaks_in_text(model.calls)) == {"card number", "expiry", "cvc"}
    assert readable_fields(model.calls, state["boxes"], state["calls_before"], BLUE_MUG) >= 3
