"""The vault's rules: sites, 2FA codes (RFC 6238's own test vectors), placeholders, export."""

from __future__ import annotations

import json

import pytest

from desktop_app.core.access import TaskAccess
from desktop_app.core.site_rules import Duty, SiteRule, SiteRules
from desktop_app.core.vault import (
    EntryValues,
    VaultEntry,
    VaultInputError,
    check_site,
    check_sites,
    cloud_secrets,
    codes_around,
    export_text,
    import_text,
    parse_totp,
    sensitive_data,
    site_matches,
    totp_code,
)

RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # "12345678901234567890", RFC 6238 appendix B


@pytest.mark.parametrize(
    ("at", "code"),
    [(59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"), (1234567890, "89005924"),
     (2000000000, "69279037"), (20000000000, "65353130")],
)
def test_totp_matches_rfc_6238(at: int, code: str) -> None:
    assert totp_code(RFC_SECRET, at, digits=8) == code
    assert totp_code(RFC_SECRET, at) == code[-6:]


def test_codes_around_cover_the_neighbouring_windows() -> None:
    import pyotp  # an independent implementation for the window after (RFC 6238 lists no vector there)

    assert codes_around(RFC_SECRET, 1111111111) == ("081804", "050471", pyotp.TOTP(RFC_SECRET).at(1111111141))


def test_a_secret_is_read_from_an_otpauth_address_or_as_typed() -> None:
    assert parse_totp("otpauth://totp/Bank:ada?secret=JBSWY3DPEHPK3PXP&issuer=Bank") == "JBSWY3DPEHPK3PXP"
    assert parse_totp("jbsw y3dp ehpk 3pxp") == "JBSWY3DPEHPK3PXP"


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Paste the 2FA secret"),
        ("JBSWY3DPEHPK3PX1", "letters A–Z and the digits 2–7"),
        ("otpauth://hotp/Bank?secret=JBSWY3DPEHPK3PXP&counter=1", "not for time-based codes"),
        ("otpauth://totp/Bank?issuer=Bank", "no secret= part"),
        ("otpauth://totp/Bank?secret=JBSWY3DPEHPK3PXP&digits=8", "6-digit codes"),
        ("otpauth://totp/Bank?secret=JBSWY3DPEHPK3PXP&algorithm=SHA256", "SHA-1"),
        ("JBSWY3DP", "too short"),
    ],
)
def test_bad_2fa_secrets_are_named(typed: str, says: str) -> None:
    with pytest.raises(VaultInputError, match=says):
        parse_totp(typed)


def test_sites_are_checked_and_normalised() -> None:
    assert check_site(" Bank.Example/ ") == "bank.example"
    assert check_site("*.example.com") == "*.example.com"
    assert check_site("HTTP*://intranet.example") == "http*://intranet.example"
    assert check_sites("a.example, *.b.example\nlocalhost 127.0.0.1") == ("a.example", "*.b.example", "localhost", "127.0.0.1")


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("*", "every site"),
        ("example.*", "only stand at the start"),
        ("ex ample", "not a site name"),
        ("bank", "whole name with its ending"),
        ("example.com/login", "without a page path"),
        ("example.com:8443", "leave out the port"),
        ("ftp://example.com", "https://, http://"),
    ],
)
def test_bad_sites_are_named(typed: str, says: str) -> None:
    with pytest.raises(VaultInputError, match=says):
        check_site(typed)


def test_every_bad_site_is_named_in_one_message() -> None:
    with pytest.raises(VaultInputError) as raised:
        check_sites("good.example, *, x.*")
    assert "every site" in str(raised.value) and "only stand at the start" in str(raised.value)


def test_site_matching_like_browser_use() -> None:
    assert site_matches("https://bank.example/login", "bank.example")
    assert not site_matches("http://bank.example/login", "bank.example")  # https only, unless said
    assert site_matches("http://bank.example/", "http*://bank.example")
    assert site_matches("https://www.bank.example/", "*.bank.example")
    assert site_matches("https://bank.example/", "*.bank.example")
    assert not site_matches("https://evilbank.example/", "*.bank.example")
    assert not site_matches("https://bank.example.evil.test/", "bank.example")
    assert site_matches("http://127.0.0.1:8123/login.html", "127.0.0.1")  # this computer: http too


BANK = VaultEntry("My bank", ("bank.example", "127.0.0.1"), ("username", "password", "totp"))
SHOP = VaultEntry("shop", ("*.shop.example",), ("password",))
VALUES = {
    "My bank": EntryValues(username="ada", password="correct horse 42", totp="JBSWY3DPEHPK3PXP"),
    "shop": EntryValues(password="sh0p-pass"),
}


def test_browser_use_gets_domain_scoped_placeholders() -> None:
    assert sensitive_data([BANK, SHOP], VALUES) == {
        "https://bank.example": {"my_bank_username": "ada", "my_bank_password": "correct horse 42", "my_bank_bu_2fa_code": "JBSWY3DPEHPK3PXP"},
        "http*://127.0.0.1": {"my_bank_username": "ada", "my_bank_password": "correct horse 42", "my_bank_bu_2fa_code": "JBSWY3DPEHPK3PXP"},
        "https://*.shop.example": {"shop_password": "sh0p-pass"},
    }
    assert cloud_secrets([SHOP], VALUES) == {"shop_password": "sh0p-pass"}


def test_the_model_is_told_names_and_placeholders_only() -> None:
    access = TaskAccess.build([BANK, SHOP], VALUES)
    told = access.briefing()
    assert "<secret>my_bank_password</secret>" in told and "<secret>my_bank_bu_2fa_code</secret>" in told
    assert "My bank (on bank.example, 127.0.0.1)" in told
    for value in ("ada", "correct horse 42", "JBSWY3DPEHPK3PXP", "sh0p-pass"):
        assert value not in told.replace("<secret>my_bank_username</secret>", "")
    assert "a person presses the final Pay" in told


def test_allowed_sites_limit_entries_and_domains() -> None:
    access = TaskAccess.build([BANK, SHOP], VALUES, allowed_sites=("*.shop.example",))
    assert [e.name for e in access.entries] == ["shop"]
    assert access.local_allowed_domains() == ["https://*.shop.example"]
    assert access.cloud_allowed_domains() == ["https://*.shop.example"]
    free = TaskAccess.build([SHOP], VALUES)
    assert free.local_allowed_domains() is None and free.cloud_allowed_domains() == ["https://*.shop.example"]


def test_a_site_where_a_person_logs_in_gets_no_login() -> None:
    rules = SiteRules((SiteRule("bank.example", frozenset({Duty.LOGIN})),))
    access = TaskAccess.build([BANK, SHOP], VALUES, rules=rules)
    assert [e.name for e in access.entries] == ["shop"]
    assert access.problems == ("“My bank” is not offered to the agent: a person logs in on its site.",)


def test_secret_values_include_the_current_codes() -> None:
    access = TaskAccess.build([BANK], {"My bank": EntryValues(password="pw-123456", totp=RFC_SECRET)})
    assert access.secret_values(1111111111) >= {"pw-123456", RFC_SECRET, "081804", "050471"}


def test_export_never_holds_a_value_and_imports_back() -> None:
    rules = SiteRules((SiteRule("shop.example", frozenset({Duty.PAY, Duty.CONFIRM})),), final_pay_everywhere=False)
    text = export_text([BANK, SHOP], rules.to_json())
    for value in ("ada", "correct horse 42", "JBSWY3DPEHPK3PXP", "sh0p-pass", "fields"):
        assert value not in text
    assert json.loads(text)["entries"] == [{"name": "My bank", "sites": ["bank.example", "127.0.0.1"]}, {"name": "shop", "sites": ["*.shop.example"]}]
    entries, rules_json = import_text(text)
    assert [(e.name, e.sites, e.fields) for e in entries] == [("My bank", ("bank.example", "127.0.0.1"), ()), ("shop", ("*.shop.example",), ())]
    assert SiteRules.from_json(rules_json) == rules


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("not json", "not JSON"),
        ('{"kind": "other"}', "not a Handoff vault export"),
        ('{"kind": "handoff-vault-catalog", "version": 9}', "newer Handoff"),
        ('{"kind": "handoff-vault-catalog", "version": 1, "entries": [{"name": "x", "sites": ["*"]}]}', "every site"),
    ],
)
def test_bad_import_files_are_named(text: str, says: str) -> None:
    with pytest.raises(VaultInputError, match=says):
        import_text(text)
