"""The vault and site rules in a real Local run: a real browser-use Agent, driven by a scripted model
that records every request (text and images), on pages served from 127.0.0.1.

- The agent logs in alone with a password and a 2FA code from the vault; the model never receives
  the username, the password, the 2FA secret or any code (in text or in a screenshot), and the bank
  received the right code. ``test_the_checks_see_the_values_when_vault_hiding_is_off`` switches the
  vault's protection off and the same checks find the values: they are able to fail.
- Site rules: the agent's click on Pay is refused before it reaches the page on a site with
  "a person pays" (and by the rule for every site); without a rule it goes through.
- Allowed sites: a page outside the task's list is refused, and the timeline says so in plain words.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pyotp
import pytest

from desktop_app.core import timeline as tl
from desktop_app.core.control import Control
from desktop_app.core.site_rules import Duty, SiteRule, SiteRules
from desktop_app.services import Services
from tests.fakes import scripted_llm as sl
from tests.fakes.site import SiteServer
from tests.fakes.vault_site import PASSWORD, TOTP_SECRET, USERNAME, VaultSite
from tests.helpers import wait_until
from tests.ui.actions import run_task
from tests.ui.test_privacy import white_share
from tests.ui.web import js, load


@pytest.fixture
def bank() -> Any:
    with VaultSite() as served:
        yield served


def login_script(bank: VaultSite) -> list[sl.Step]:
    return [
        sl.navigate(bank.url("vault_login.html")),
        sl.type_text("id=username", "<secret>bank_username</secret>"),
        sl.type_text("type=password", "<secret>bank_password</secret>"),
        sl.click("id=login"),
        sl.type_text("id=code", "<secret>bank_bu_2fa_code</secret>"),
        sl.click("id=verify"),
        sl.done("Logged in to Ledger Bank"),
    ]


def store_bank_login(services: Services) -> None:
    told = services.vault.save_entry(
        None, "bank", ("127.0.0.1",), {"username": USERNAME, "password": PASSWORD, "totp": f"otpauth://totp/Ledger:ada?secret={TOTP_SECRET}&issuer=Ledger"}
    )
    assert told == ["“bank” saved: its values are in your system keychain."]


def codes_during(start: float, end: float) -> set[str]:
    """Every code the authenticator showed from a window before the run to one after it."""
    totp = pyotp.TOTP(TOTP_SECRET)
    return {totp.at(at) for at in range(int(start) - 30, int(end) + 61, 30)}


def leaks_in_text(calls: list[sl.Call], codes: set[str]) -> list[str]:
    found = []
    for call in calls:
        for text in call.texts:
            for name, value in (("username", USERNAME), ("password", PASSWORD), ("2FA secret", TOTP_SECRET)):
                if value in text:
                    found.append(name)
            found += [f"code {code}" for code in codes if re.search(rf"(?<!\d){code}(?!\d)", text)]
    return found


async def box_of(view: Any, element_id: str) -> tuple[float, float, float, float]:
    r = json.loads(await js(view, f"JSON.stringify(document.getElementById('{element_id}').getBoundingClientRect())"))
    return (r["x"], r["y"], r["width"], r["height"])


def images_answered_with(calls: list[sl.Call], action: str, target_id: str) -> list[bytes]:
    """The screenshots the model was sent in the request it answered with ``action`` on ``target_id``
    (the one that sees the field just filled)."""
    found = []
    for call in calls:
        if call.answer and action in call.answer and re.search(rf"\[{call.answer[action].get('index')}\]<[^>]*id={target_id}", call.state):
            found += call.images
    return found


def values_on_disk(root: Path) -> list[str]:
    needles = [USERNAME.encode(), PASSWORD.encode(), TOTP_SECRET.encode()]
    return [f"{p.relative_to(root)}: {n.decode()}" for p in root.rglob("*") if p.is_file() for n in needles if n in p.read_bytes()]


def run_login(services: Services, bank: VaultSite, make_window: Any, qrun: Any, install: Any) -> dict[str, Any]:
    store_bank_login(services)
    model = sl.ScriptedModel(login_script(bank))
    install(model)
    window = make_window(services)
    view = window.live_view.web_view
    controller = services.controller
    state: dict[str, Any] = {"model": model, "window": window}

    async def scenario() -> None:
        # Where the fields are (the same pages, measured before the run).
        await load(view, bank.url("vault_login.html"))
        state["username_box"] = await box_of(view, "username")
        await load(view, bank.url("vault/code-page"))
        state["code_box"] = await box_of(view, "code")
        state["start"] = time.time()
        run_task(window, "Log in to my bank")
        await wait_until(lambda: model.calls and controller.state is Control.IDLE, timeout=90, what="the agent to log in and finish")
        state["end"] = time.time()

    qrun(scenario(), timeout=150)
    return state


def test_the_agent_logs_in_alone_and_the_model_never_sees_the_values(
    local_services: Services, install: Any, bank: VaultSite, make_window: Any, qrun: Any, paths: Any, caplog: Any
) -> None:
    caplog.set_level("DEBUG")
    state = run_login(local_services, bank, make_window, qrun, install)
    model: sl.ScriptedModel = state["model"]

    # The bank got the right values, and the right code within its window, from the agent alone.
    assert [s["path"] for s in bank.submissions] == ["/vault/login", "/vault/totp"]
    assert bank.submissions[0] == {"path": "/vault/login", "username": USERNAME, "password": PASSWORD}
    assert len(bank.codes) == 1 and bank.code_was_right(*bank.codes[0])
    handoffs = [e for e in local_services.controller.timeline.entries if isinstance(e, tl.Handoff)]
    assert handoffs == [], "the agent logged in without asking the person"
    finished = [e for e in local_services.controller.timeline.entries if isinstance(e, tl.TaskFinished)]
    assert finished[-1].result.output == "Logged in to Ledger Bank"

    # The model was told the entry by name, and never a value: not in text ...
    assert any("<secret>bank_password</secret>" in t and "bank (on 127.0.0.1)" in t for c in model.calls for t in c.texts)
    codes = codes_during(state["start"], state["end"]) | {bank.codes[0][0]}
    assert leaks_in_text(model.calls, codes) == []
    # ... nor in a screenshot: the username and the code the agent typed are painted over.
    username_shots = images_answered_with(model.calls, "click", "login")
    code_shots = images_answered_with(model.calls, "click", "verify")
    assert username_shots and code_shots, "the model was sent no screenshot of the filled pages: nothing was checked"
    assert [white_share(image, state["username_box"]) > 0.5 for image in username_shots] == [False] * len(username_shots)
    assert [white_share(image, state["code_box"]) > 0.5 for image in code_shots] == [False] * len(code_shots)
    # Nothing of it on disk or in the log.
    assert values_on_disk(paths.config.parent) == []
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert USERNAME not in logged and PASSWORD not in logged and TOTP_SECRET not in logged
    assert not [code for code in codes if re.search(rf"(?<!\d){code}(?!\d)", logged)]


def test_the_checks_see_the_values_when_vault_hiding_is_off(
    local_services: Services, install: Any, agent_in_thread: Any, bank: VaultSite, make_window: Any, qrun: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The vault's protection switched off (neither the window's privacy guard nor the agent's side
    of it is told the values): the checks above must find the code in the text and the filled
    fields in the screenshots."""
    from desktop_app.backends.agent_host import HostPrivacy
    from desktop_app.core.privacy import PrivacyGuard

    monkeypatch.setattr(PrivacyGuard, "use_vault", lambda self, values: None)
    monkeypatch.setattr(HostPrivacy, "use_vault", lambda self, values: None)
    state = run_login(local_services, bank, make_window, qrun, install)
    model: sl.ScriptedModel = state["model"]
    assert bank.codes and bank.code_was_right(*bank.codes[0])
    assert f"code {bank.codes[0][0]}" in leaks_in_text(model.calls, {bank.codes[0][0]})
    username_shots = images_answered_with(model.calls, "click", "login")
    code_shots = images_answered_with(model.calls, "click", "verify")
    assert any(white_share(image, state["username_box"]) > 0.5 for image in username_shots)
    assert any(white_share(image, state["code_box"]) > 0.5 for image in code_shots)


def pay_script(site: SiteServer) -> list[sl.Step]:
    return [sl.navigate(site.url("pay.html")), sl.type_text("id=name", "Ada Lovelace"), sl.click("id=pay"), sl.done("Paid")]


@pytest.mark.parametrize(
    ("rules", "reason"),
    [
        (
            SiteRules((SiteRule("127.0.0.1", frozenset({Duty.PAY})),), final_pay_everywhere=False),
            "A person pays on 127.0.0.1 (the rule for 127.0.0.1): the agent stopped before pressing “Pay $28.50”. "
            "Check the order and the amount, press it yourself, then hand back.",
        ),
        (
            SiteRules(),
            "A person pays on 127.0.0.1 (the rule for every site): the agent stopped before pressing “Pay $28.50”. "
            "Check the order and the amount, press it yourself, then hand back.",
        ),
        (SiteRules((SiteRule("shop.example", frozenset({Duty.PAY, Duty.CONFIRM})),), final_pay_everywhere=False), None),
    ],
    ids=["a person pays here", "the rule for every site", "no rule here"],
)
def test_a_site_rule_keeps_the_pay_click_for_the_person(
    local_services: Services, install: Any, site: SiteServer, make_window: Any, qrun: Any, rules: SiteRules, reason: str | None
) -> None:
    local_services.vault.save_rules(rules)
    model = sl.ScriptedModel(pay_script(site))
    install(model)
    window = make_window(local_services)
    controller = local_services.controller
    expected = Control.HUMAN if reason else Control.IDLE
    state: dict[str, Any] = {}

    async def scenario() -> None:
        run_task(window, "Pay for my order")
        await wait_until(lambda: model.calls and controller.state is expected, timeout=60, what=f"control to reach {expected}")
        state["counts"] = await controller.backend.guard_counts()

    qrun(scenario(), timeout=120)
    entries = controller.timeline.entries
    if reason is None:
        assert [s.get("name") for s in site.submissions] == ["Ada Lovelace"], "without a rule the click goes through"
        assert state["counts"]["rule_refusals"] == 0
        assert not [e for e in entries if isinstance(e, tl.Handoff | tl.AgentStep) and getattr(e, "step", None) and e.step.error]
        return
    assert site.submissions == [], "the page received no submit"
    assert state["counts"]["rule_refusals"] == 1
    asked = [e for e in entries if isinstance(e, tl.Handoff)]
    assert [(e.to, e.by, e.reason) for e in asked] == [(tl.Actor.PERSON, tl.Actor.AGENT, reason)]
    errors = [e.step.error for e in entries if isinstance(e, tl.AgentStep) and e.step.error]
    assert errors == ["Not done: a site rule keeps this press for the person (see the request below)."]
    assert window.task_panel.hand_back_button.isEnabled()


def test_a_site_outside_the_allowed_list_is_refused_in_plain_words(
    local_services: Services, install: Any, site: SiteServer, make_window: Any, qrun: Any
) -> None:
    other = site.url("form.html").replace("127.0.0.1", "localhost")
    local_services.slots[0].vault.allowed_sites = ("127.0.0.1",)  # the first session's own list
    model = sl.ScriptedModel([sl.navigate(site.url("form.html")), sl.navigate(other), sl.done("Stayed")])
    install(model)
    window = make_window(local_services)
    controller = local_services.controller

    async def scenario() -> None:
        run_task(window, "Open the form, then the other one")
        await wait_until(lambda: model.calls and controller.state is Control.IDLE, timeout=60, what="the task to end")

    qrun(scenario(), timeout=120)
    port = site.origin.rsplit(":", 1)[1]
    errors = [e.step.error for e in controller.timeline.entries if isinstance(e, tl.AgentStep) and e.step.error]
    assert errors == [f"The agent was kept from localhost:{port}/form.html: this task may only visit 127.0.0.1."]
    assert any("Stay on these sites: 127.0.0.1." in t for c in model.calls for t in c.texts)


PRESSES_REFUSED = [
    pytest.param(
        sl.Step("send_keys", {"keys": "Enter"}, goal="Submit the form"),
        "A person pays on 127.0.0.1 (the rule for every site): the agent stopped before pressing Enter in the form. "
        "Check the order and the amount, press it yourself, then hand back.",
        id="enter-in-a-card-form",
    ),
    pytest.param(
        sl.Step("evaluate", {"code": "document.getElementById('pay').click()"}, goal="Press Pay with a script"),
        "A person pays on 127.0.0.1 (the rule for every site): the agent may not press or submit here with a script. "
        "Do this step yourself, then hand back.",
        id="a-script-pressing-pay",
    ),
]


@pytest.mark.parametrize(("press", "reason"), PRESSES_REFUSED)
def test_other_ways_to_press_pay_are_refused_like_the_click(
    press: Any, reason: str, local_services: Services, install: Any, site: SiteServer, make_window: Any, qrun: Any
) -> None:
    """Enter in a card form, or a script that clicks Pay, is refused as the click is."""
    model = sl.ScriptedModel([sl.navigate(site.url("pay.html")), sl.type_text("id=name", "Ada Lovelace"), press, sl.done("Paid")])
    install(model)
    window = make_window(local_services)
    controller = local_services.controller

    async def scenario() -> None:
        run_task(window, "Pay for my order")
        await wait_until(lambda: model.calls and controller.state is Control.HUMAN, timeout=60, what="the person to get control")

    qrun(scenario(), timeout=120)
    assert site.submissions == []
    assert [e.reason for e in controller.timeline.entries if isinstance(e, tl.Handoff)] == [reason]
