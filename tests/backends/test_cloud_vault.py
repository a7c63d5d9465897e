"""Cloud: a task carries the vault's entries as ``secrets`` and the sites as ``allowedDomains``
(real HTTP to the fake v2 server, real SDK, each request checked against the API's own model);
its text names the entries and never carries a value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desktop_app.core.site_rules import Duty, SiteRule, SiteRules
from desktop_app.system.keychain import Keychain
from desktop_app.vault_store import VaultStore
from tests.backends.test_cloud import Harness, request
from tests.fakes.cloud_server import FakeCloud
from tests.helpers import wait_until

PASSWORD = "Tr0ub4dor&3-cloud"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def cloud() -> Any:
    with FakeCloud(manual_steps=True, live_url_after=1) as fake:
        yield fake
    assert fake.validation_errors == [], "the app sent a request the real API would refuse"


@pytest.fixture
def vault(tmp_path: Path) -> VaultStore:
    store = VaultStore(tmp_path / "vault.json", Keychain())
    store.save_entry(None, "bank", ("bank.example", "*.bank.example"), {"username": "ada", "password": PASSWORD, "totp": SECRET})
    store.save_entry(None, "Mail", ("mail.example",), {"password": "m41l-pass"})
    return store


def test_the_task_carries_secrets_and_allowed_domains_but_no_value_in_its_text(cloud: FakeCloud, vault: VaultStore, arun: Any) -> None:
    made = Harness(cloud, vault=vault)

    async def scenario() -> None:
        await made.backend.open_session()
        await made.backend.start_task(request("Log in to my bank and download the statement"))

    arun(scenario())
    arun(made.backend.aclose())
    body = cloud.task_creates()[0].body
    assert body["secrets"] == {  # the task is about the bank: the mail login stays home
        "bank_username": "ada",
        "bank_password": PASSWORD,
        "bank_bu_2fa_code": SECRET,
    }
    assert body["allowedDomains"] == ["https://*.bank.example", "https://bank.example"]
    text = body["task"]
    assert text.startswith("Log in to my bank and download the statement\n\n")
    assert "- bank (on bank.example, *.bank.example): username <secret>bank_username</secret>, password " in text
    assert "On every site a person presses the final Pay" in text
    for value in ("ada", PASSWORD, SECRET, "m41l-pass"):
        assert value not in text.replace("bank_username", "")


def test_allowed_sites_limit_the_task_and_a_refused_site_is_said_plainly(cloud: FakeCloud, vault: VaultStore, arun: Any) -> None:
    vault.allowed_sites = ("mail.example",)
    vault.save_rules(SiteRules((SiteRule("mail.example", frozenset({Duty.CONFIRM})),), final_pay_everywhere=False))
    made = Harness(cloud, vault=vault)

    async def scenario() -> None:
        await made.backend.open_session()
        await made.backend.start_task(request("Read my mail"))
        cloud.add_step(evaluation="Failed: Navigation to https://news.example blocked by security policy")
        await wait_until(lambda: made.listener.steps, what="the step")

    arun(scenario())
    arun(made.backend.aclose())
    body = cloud.task_creates()[0].body
    assert body["secrets"] == {"mail_password": "m41l-pass"}  # the bank is outside the task's sites
    assert body["allowedDomains"] == ["https://mail.example"]
    assert "- On mail.example a person confirms orders and submits forms." in body["task"]
    assert "Stay on these sites: mail.example." in body["task"]
    assert made.listener.steps[0].error == (
        "Browser Use kept the agent from a site outside this task's list: it may only visit mail.example."
    )


def test_without_vault_entries_nothing_is_added(cloud: FakeCloud, tmp_path: Path, arun: Any) -> None:
    empty = VaultStore(tmp_path / "vault.json", Keychain())
    empty.save_rules(SiteRules(final_pay_everywhere=False))
    made = Harness(cloud, vault=empty)

    async def scenario() -> None:
        session = await made.backend.open_session()
        await made.backend.start_task(request("Find the cheapest flight"))
        body = dict(cloud.task_creates()[0].body)
        assert body.pop("structuredOutput").startswith('{"title": "HandoffOutcome"')  # every task's outcome schema (the queue)
        assert body == {"task": "Find the cheapest flight", "sessionId": session.id, "metadata": {"handoffRequest": "req-1"}}

    arun(scenario())
    arun(made.backend.aclose())


def test_a_task_about_no_entry_carries_no_secret_and_no_site_limit(cloud: FakeCloud, vault: VaultStore, arun: Any) -> None:
    """allowedDomains follow the entries a task carries: carried to every task, they would keep an
    unrelated task (a flight search) on the bank's site."""
    made = Harness(cloud, vault=vault)

    async def scenario() -> None:
        await made.backend.open_session()
        first = await made.backend.start_task(request("Search flights from Paris to Rome on Google Flights"))
        await made.backend.stop_task(first)  # one task at a time on a session
        await made.backend.start_task(request("Check my mail.example inbox for the receipt"))

    arun(scenario())
    arun(made.backend.aclose())
    unrelated, mail = (create.body for create in cloud.task_creates())
    assert "secrets" not in unrelated and "allowedDomains" not in unrelated
    assert mail["secrets"] == {"mail_password": "m41l-pass"} and mail["allowedDomains"] == ["https://mail.example"]
