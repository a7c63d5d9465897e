"""Site rules: which presses are the person's."""

from __future__ import annotations

from desktop_app.core.site_rules import Duty, SiteRule, SiteRules, Target, refusal

SHOP = "https://shop.example/checkout"
PAY_BUTTON = Target(label="Pay $28.50", is_button=True, submits_form=True, form_has_card_fields=True)
SIGN_UP = Target(label="Sign up", is_button=True, submits_form=True)


def test_a_person_presses_the_final_pay_everywhere_by_default() -> None:
    reason = refusal(SHOP, PAY_BUTTON, SiteRules())
    assert reason == (
        "A person pays on shop.example (the rule for every site): the agent stopped before pressing “Pay $28.50”. "
        "Check the order and the amount, press it yourself, then hand back."
    )
    # Enter in a card form is the same press.
    assert refusal(SHOP, Target(submits_form=True, form_has_card_fields=True), SiteRules()) is not None
    # A Place order button without card fields on the page.
    assert refusal(SHOP, Target(label="Place order", is_button=True), SiteRules()) is not None


def test_other_presses_go_through_and_the_default_can_be_switched_off() -> None:
    assert refusal(SHOP, SIGN_UP, SiteRules()) is None
    assert refusal(SHOP, Target(label="Add to basket", is_button=True), SiteRules()) is None
    assert refusal(SHOP, PAY_BUTTON, SiteRules(final_pay_everywhere=False)) is None


def test_confirm_and_login_rules_hold_on_their_site_only() -> None:
    rules = SiteRules(
        (SiteRule("*.shop.example", frozenset({Duty.CONFIRM})), SiteRule("bank.example", frozenset({Duty.LOGIN}))),
        final_pay_everywhere=False,
    )
    assert refusal(SHOP, SIGN_UP, rules) == (
        "A person confirms and submits forms on shop.example (the rule for *.shop.example): the agent stopped before "
        "pressing “Sign up”. Check it, press it yourself, then hand back."
    )
    assert refusal("https://other.example/", SIGN_UP, rules) is None
    login = Target(label="Log in", is_button=True, submits_form=True, form_has_password=True)
    assert refusal("https://bank.example/login", login, rules) == (
        "A person logs in on bank.example (the rule for bank.example): the agent stopped before pressing “Log in”. "
        "Log in yourself, then hand back."
    )
    assert refusal("https://bank.example/login", Target(label="Help", is_button=True), rules) is None


def test_the_rules_briefing_and_round_trip() -> None:
    rules = SiteRules((SiteRule("shop.example", frozenset({Duty.PAY, Duty.LOGIN})),))
    assert rules.briefing().splitlines()[1:] == [
        "- On shop.example a person logs in and pays.",
        "- On every site a person presses the final Pay (or Place order / Buy now) button.",
    ]
    assert SiteRules.from_json(rules.to_json()) == rules
    assert rules.with_rule(SiteRule("shop.example", frozenset())).rules == ()


def test_a_script_that_presses_on_a_ruled_page_is_refused() -> None:
    from desktop_app.core.site_rules import script_refusal

    card_page = Target(page_has_card_fields=True)
    assert script_refusal(SHOP, "document.getElementById('pay').click()", card_page, SiteRules()) == (
        "A person pays on shop.example (the rule for every site): the agent may not press or submit here with a "
        "script. Do this step yourself, then hand back."
    )
    assert script_refusal(SHOP, "document.forms[0].requestSubmit()", card_page, SiteRules()) is not None
    assert script_refusal(SHOP, "document.title", card_page, SiteRules()) is None  # reading is fine
    assert script_refusal(SHOP, "document.querySelector('a').click()", Target(), SiteRules()) is None  # no card form
    confirm = SiteRules((SiteRule("shop.example", frozenset({Duty.CONFIRM})),), final_pay_everywhere=False)
    assert script_refusal(SHOP, "form.submit()", Target(), confirm) is not None
