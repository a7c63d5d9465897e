"""The words for each bad Browser Use setting, in Settings and from the environment (no network here)."""

from __future__ import annotations

import pytest

from desktop_app.core.config_check import (
    CloudConfig,
    ConfigProblem,
    ProbeOutcome,
    ProbeResult,
    Setting,
    probe_problem,
    shown_address,
    written_problem,
)

GOOD_KEY = "bu_some_key_0123456789"


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            CloudConfig(address="", key="", in_settings_dialog=True),
            ConfigProblem(Setting.BROWSER_USE_KEY, "Paste your Browser Use API key (from cloud.browser-use.com), or choose Local."),
        ),
        (
            CloudConfig(address="", key="   "),
            ConfigProblem(
                Setting.BROWSER_USE_KEY,
                "Add your Browser Use API key in Settings (or set BROWSER_USE_API_KEY) to use Browser Use Cloud.",
            ),
        ),
        (
            CloudConfig(address="ftp://x", key=GOOD_KEY, in_settings_dialog=True),
            ConfigProblem(
                Setting.BROWSER_USE_ADDRESS,
                "The Browser Use API address must start with http:// or https:// (for example https://api.browser-use.com/api/v2).",
            ),
        ),
        (
            CloudConfig(address="ftp://x", key=GOOD_KEY, address_from_environment=True),
            ConfigProblem(
                Setting.BROWSER_USE_ADDRESS,
                "BROWSER_USE_BASE_URL must be an address starting with http:// or https:// "
                "(for example https://api.browser-use.com/api/v2); it is “ftp://x”.",
            ),
        ),
        (
            # No host: "https:" alone, or a bare host name without the scheme.
            CloudConfig(address="api.browser-use.com/api/v2", key=GOOD_KEY, address_from_environment=True),
            ConfigProblem(
                Setting.BROWSER_USE_ADDRESS,
                "BROWSER_USE_BASE_URL must be an address starting with http:// or https:// "
                "(for example https://api.browser-use.com/api/v2); it is “api.browser-use.com/api/v2”.",
            ),
        ),
        (
            # The address comes first: with a wrong address, a key changes nothing.
            CloudConfig(address="https://", key="", address_from_environment=True),
            ConfigProblem(
                Setting.BROWSER_USE_ADDRESS,
                "BROWSER_USE_BASE_URL must be an address starting with http:// or https:// "
                "(for example https://api.browser-use.com/api/v2); it is “https://”.",
            ),
        ),
    ],
)
def test_what_is_wrong_before_asking_the_network(config: CloudConfig, expected: ConfigProblem) -> None:
    assert written_problem(config) == expected


@pytest.mark.parametrize(
    "config",
    [
        CloudConfig(address="", key=GOOD_KEY),  # Browser Use's own address
        CloudConfig(address="http://127.0.0.1:8000/api/v2", key=GOOD_KEY),
        CloudConfig(address="https://proxy.example/browser-use/api/v2", key=GOOD_KEY, address_from_environment=True),
    ],
)
def test_usable_settings_have_no_written_problem(config: CloudConfig) -> None:
    assert written_problem(config) is None


TYPO = "http://127.0.0.1:8000/api/v3"


@pytest.mark.parametrize(
    ("config", "probe", "expected"),
    [
        (
            CloudConfig(address=TYPO, key=GOOD_KEY, address_from_environment=True),
            ProbeResult(ProbeOutcome.NOT_THE_API, status=404),
            ConfigProblem(
                Setting.BROWSER_USE_ADDRESS,
                "This address does not look like the Browser Use API: http://127.0.0.1:8000/api/v3 answered “not found” "
                "(HTTP 404). Check BROWSER_USE_BASE_URL; Browser Use's own is https://api.browser-use.com/api/v2.",
            ),
        ),
        (
            CloudConfig(address=TYPO, key=GOOD_KEY),
            ProbeResult(ProbeOutcome.NOT_THE_API, status=405),
            ConfigProblem(
                Setting.BROWSER_USE_ADDRESS,
                "This address does not look like the Browser Use API: http://127.0.0.1:8000/api/v3 answered HTTP 405. "
                "Check the Browser Use API address in Settings; Browser Use's own is https://api.browser-use.com/api/v2.",
            ),
        ),
        (
            CloudConfig(address="http://intranet.example/", key=GOOD_KEY, in_settings_dialog=True),
            ProbeResult(ProbeOutcome.NOT_THE_API, status=200),
            ConfigProblem(
                Setting.BROWSER_USE_ADDRESS,
                "This address does not look like the Browser Use API: http://intranet.example/ answered with a web page, "
                "not the API's data. Check the API address; Browser Use's own is https://api.browser-use.com/api/v2.",
            ),
        ),
        (
            CloudConfig(address="http://127.0.0.1:9/api/v2", key=GOOD_KEY, in_settings_dialog=True),
            ProbeResult(ProbeOutcome.REFUSED),
            ConfigProblem(
                Setting.BROWSER_USE_ADDRESS,
                "Nothing is answering at http://127.0.0.1:9/api/v2 (the connection was refused). Check the API address, "
                "or start the server it points to.",
            ),
        ),
        (
            CloudConfig(address="", key=GOOD_KEY),
            ProbeResult(ProbeOutcome.KEY_REFUSED, status=401),
            ConfigProblem(Setting.BROWSER_USE_KEY, "Browser Use did not accept your API key. Check it in Settings."),
        ),
        (
            CloudConfig(address="", key=GOOD_KEY, key_from_environment=True),
            ProbeResult(ProbeOutcome.KEY_REFUSED, status=403),
            ConfigProblem(
                Setting.BROWSER_USE_KEY,
                "Browser Use did not accept your API key. Check BROWSER_USE_API_KEY, which overrides Settings.",
            ),
        ),
        (
            CloudConfig(address="https://api.browser-use.con/api/v2", key=GOOD_KEY),
            ProbeResult(ProbeOutcome.HOST_UNKNOWN),
            ConfigProblem(
                Setting.BROWSER_USE_ADDRESS,
                "Handoff could not find api.browser-use.con. Check the Browser Use API address in Settings and your "
                "internet connection.",
                definite=False,
            ),
        ),
        (
            CloudConfig(address="", key=GOOD_KEY),
            ProbeResult(ProbeOutcome.TIMED_OUT),
            ConfigProblem(
                Setting.BROWSER_USE_ADDRESS,
                "https://api.browser-use.com/api/v2 did not answer in time. Check your internet connection and the "
                "Browser Use API address in Settings.",
                definite=False,
            ),
        ),
        (
            CloudConfig(address="https://proxy.example/api/v2", key=GOOD_KEY, address_from_environment=True),
            ProbeResult(ProbeOutcome.UNREACHABLE),
            ConfigProblem(
                Setting.BROWSER_USE_ADDRESS,
                "Handoff could not talk to https://proxy.example/api/v2. Check your internet connection and BROWSER_USE_BASE_URL.",
                definite=False,
            ),
        ),
    ],
)
def test_what_the_address_answered_in_words(config: CloudConfig, probe: ProbeResult, expected: ConfigProblem) -> None:
    assert probe_problem(config, probe) == expected


@pytest.mark.parametrize("outcome", [ProbeOutcome.API, ProbeOutcome.SERVER_TROUBLE])
def test_an_address_that_is_the_api_is_no_settings_problem(outcome: ProbeOutcome) -> None:
    # Trouble on Browser Use's side is reported by the request that meets it, not blamed on Settings.
    assert probe_problem(CloudConfig(address="", key=GOOD_KEY), ProbeResult(outcome, status=503)) is None


def test_addresses_are_shown_without_a_password_or_a_query() -> None:
    assert shown_address("https://ada:secret@proxy.example:8443/api/v2?token=abc") == "https://proxy.example:8443/api/v2"
    assert shown_address("ftp://x") == "ftp://x"
    assert shown_address("not a url?key=1") == "not a url"


def test_a_port_that_cannot_be_and_a_key_with_an_invisible_character_are_named() -> None:
    # Both used to pass the written check and then crash the network check.
    port = written_problem(CloudConfig(address="http://127.0.0.1:99999/api", key=GOOD_KEY, in_settings_dialog=True))
    assert port == ConfigProblem(
        Setting.BROWSER_USE_ADDRESS, "The Browser Use API address has a port that cannot be right: “http://127.0.0.1:99999/api”."
    )
    key = written_problem(CloudConfig(address="", key="bu_key\u200b0123456789", in_settings_dialog=True))
    assert key is not None and key.setting is Setting.BROWSER_USE_KEY and "invisible" in key.message
