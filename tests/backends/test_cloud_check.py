"""Asking an address whether it is the Browser Use API, against the fake cloud on 127.0.0.1, and the
Cloud adapter that explains its failures with the answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from desktop_app.backends.cloud_check import CheckedCloudBackend, check_cloud, probe
from desktop_app.core.config_check import CloudConfig, ConfigProblem, ProbeOutcome, ProbeResult, Setting
from desktop_app.core.errors import BackendError, Problem
from desktop_app.system.early_init import free_loopback_port
from tests.fakes.cloud_server import FakeCloud
from tests.fakes.web_page import WebPageServer


@pytest.fixture
def web_page() -> Iterator[str]:
    """A web server that answers every path with a page (a captive portal, an intranet site)."""
    with WebPageServer() as server:
        yield server.origin


def test_the_api_answers_as_the_api(cloud: FakeCloud, arun) -> None:
    assert arun(probe(cloud.base_url, cloud.api_key)) == ProbeResult(ProbeOutcome.API, status=200, detail="application/json")
    assert [r.path for r in cloud.requests] == ["/billing/account"]  # one read-only request


@pytest.mark.parametrize("path", ["/api/v3", "", "/api"])
def test_a_wrong_path_answers_404_on_the_api_root(cloud: FakeCloud, arun, path: str) -> None:
    result = arun(probe(cloud.origin + path, cloud.api_key))
    assert (result.outcome, result.status) == (ProbeOutcome.NOT_THE_API, 404)


def test_a_wrong_key_is_refused(cloud: FakeCloud, arun) -> None:
    result = arun(probe(cloud.base_url, "bu_not_the_right_key"))
    assert (result.outcome, result.status) == (ProbeOutcome.KEY_REFUSED, 401)


def test_a_port_nobody_listens_on_refuses(arun) -> None:
    assert arun(probe(f"http://127.0.0.1:{free_loopback_port()}/api/v2", "bu_key")).outcome is ProbeOutcome.REFUSED


def test_a_web_page_is_not_the_api(web_page: str, arun) -> None:
    result = arun(probe(web_page + "/api/v2", "bu_key"))
    assert (result.outcome, result.status) == (ProbeOutcome.NOT_THE_API, 200)


def test_an_address_that_stalls_is_given_up_on_quickly(cloud: FakeCloud, arun) -> None:
    cloud.fail(r"/billing/account", 200, stall=3.0)
    assert arun(probe(cloud.base_url, cloud.api_key, timeout=0.5)).outcome is ProbeOutcome.TIMED_OUT


def test_check_cloud_says_what_is_wrong_in_words(cloud: FakeCloud, arun) -> None:
    config = CloudConfig(address=cloud.origin + "/api/v3", key=cloud.api_key, in_settings_dialog=True)
    assert arun(check_cloud(config)) == ConfigProblem(
        Setting.BROWSER_USE_ADDRESS,
        f"This address does not look like the Browser Use API: {cloud.origin}/api/v3 answered “not found” (HTTP 404). "
        "Check the API address; Browser Use's own is https://api.browser-use.com/api/v2.",
    )
    assert arun(check_cloud(CloudConfig(address=cloud.base_url, key=cloud.api_key))) is None
    before = len(cloud.requests)
    arun(check_cloud(CloudConfig(address="ftp://x", key=cloud.api_key)))
    assert len(cloud.requests) == before  # a written problem is found without the network


def backend(address: str, key: str, *, from_environment: bool = True) -> CheckedCloudBackend:
    return CheckedCloudBackend(lambda: CloudConfig(address=address, key=key, address_from_environment=from_environment))


def test_a_path_typo_fails_the_session_with_the_right_words(cloud: FakeCloud, arun) -> None:
    made = backend(cloud.origin + "/api/v3", cloud.api_key)
    with pytest.raises(BackendError) as caught:
        arun(made.open_session())
    arun(made.aclose())
    assert caught.value.problem is Problem.CONFIG and caught.value.needs_settings
    assert caught.value.message == (
        f"This address does not look like the Browser Use API: {cloud.origin}/api/v3 answered “not found” (HTTP 404). "
        "Check BROWSER_USE_BASE_URL; Browser Use's own is https://api.browser-use.com/api/v2."
    )
    # Not "Browser Use no longer knows this session or task" — that was the SDK's 404, kept for the log.
    assert caught.value.detail is not None and "404" in caught.value.detail


def test_an_ftp_address_is_refused_before_any_request(arun) -> None:
    made = backend("ftp://x", "bu_key")
    with pytest.raises(BackendError) as caught:
        made.preflight()
    assert caught.value.problem is Problem.CONFIG
    assert caught.value.message == (
        "BROWSER_USE_BASE_URL must be an address starting with http:// or https:// "
        "(for example https://api.browser-use.com/api/v2); it is “ftp://x”."
    )
    with pytest.raises(BackendError) as opened:
        arun(made.open_session())
    assert opened.value.message == caught.value.message


def test_a_missing_key_asks_for_one_in_settings_or_the_environment(cloud: FakeCloud, arun) -> None:
    with pytest.raises(BackendError) as caught:
        arun(backend(cloud.base_url, "").open_session())
    assert caught.value.problem is Problem.AUTH
    assert caught.value.message == "Add your Browser Use API key in Settings (or set BROWSER_USE_API_KEY) to use Browser Use Cloud."
    assert cloud.requests == []


def test_a_404_from_the_real_api_is_left_as_it_was(cloud: FakeCloud, arun) -> None:
    # The address is the API: the probe says so, and the adapter's own words stand.
    cloud.fail(r"/sessions", 404, method="POST", body={"detail": "Not found"})
    made = backend(cloud.base_url, cloud.api_key)
    with pytest.raises(BackendError) as caught:
        arun(made.open_session())
    arun(made.aclose())
    assert (caught.value.problem, caught.value.message) == (Problem.NOT_FOUND, "Browser Use no longer knows this session or task.")


def test_a_working_session_sends_no_extra_request(cloud: FakeCloud, arun) -> None:
    made = backend(cloud.base_url, cloud.api_key)
    arun(made.open_session())
    arun(made.end_session())
    arun(made.aclose())
    assert not [r for r in cloud.requests if r.path == "/billing/account"]
