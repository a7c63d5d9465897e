"""A --task run without windows whose settings cannot work says why within seconds and exits 2.

Before, an empty key logged nothing at all (the run looked hung), a path typo in the address was
reported as "Browser Use no longer knows this session or task", and ``ftp://`` was blamed on the
internet connection.
"""

from __future__ import annotations

import time

import pytest

from desktop_app.system.early_init import free_loopback_port
from tests.e2e.app_process import AppProcess, app_environment
from tests.fakes.cloud_server import FakeCloud

pytestmark = pytest.mark.e2e

SAYS_WITHIN = 20.0  # seconds from start, WebEngine's start included (about 2 s on an idle machine)


def run_task(env: dict[str, str], backend: str = "cloud") -> tuple[AppProcess, dict, float, int]:
    started = time.monotonic()
    with AppProcess(["--temp-basedir", "--no-err-windows", "--backend", backend, "--task", "Book a table"], env) as app:
        problem = app.wait_for_event("config_problem", timeout=SAYS_WITHIN)
        said_after = time.monotonic() - started
        code = app.wait_exit(30)
    return app, problem, said_after, code


@pytest.mark.parametrize(
    ("case", "setting", "message"),
    [
        (
            "empty key",
            "browser_use_key",
            "Add your Browser Use API key in Settings (or set BROWSER_USE_API_KEY) to use Browser Use Cloud.",
        ),
        (
            "ftp address",
            "browser_use_address",
            "BROWSER_USE_BASE_URL must be an address starting with http:// or https:// "
            "(for example https://api.browser-use.com/api/v2); it is “ftp://x”.",
        ),
        (
            "path typo",
            "browser_use_address",
            "This address does not look like the Browser Use API: {origin}/api/v3 answered “not found” (HTTP 404). "
            "Check BROWSER_USE_BASE_URL; Browser Use's own is https://api.browser-use.com/api/v2.",
        ),
        (
            "wrong key",
            "browser_use_key",
            "Browser Use did not accept your API key. Check BROWSER_USE_API_KEY, which overrides Settings.",
        ),
    ],
)
def test_a_cloud_task_with_bad_settings_says_why_and_exits(cloud: FakeCloud, case: str, setting: str, message: str) -> None:
    env = {
        "empty key": app_environment(BROWSER_USE_API_KEY="", BROWSER_USE_BASE_URL=cloud.base_url),
        "ftp address": app_environment(BROWSER_USE_API_KEY=cloud.api_key, BROWSER_USE_BASE_URL="ftp://x"),
        "path typo": app_environment(BROWSER_USE_API_KEY=cloud.api_key, BROWSER_USE_BASE_URL=cloud.origin + "/api/v3"),
        "wrong key": app_environment(BROWSER_USE_API_KEY="bu_not_the_right_key_1234", BROWSER_USE_BASE_URL=cloud.base_url),
    }[case]
    app, problem, said_after, code = run_task(env)
    assert problem["message"] == message.format(origin=cloud.origin)
    assert (problem["setting"], problem["backend"], problem["action"], problem["level"]) == (setting, "cloud", "exiting", "error")
    assert said_after < SAYS_WITHIN
    assert code == 2, app.stderr
    assert "session_created" not in app.event_names() and cloud.sessions == {}  # nothing billed
    assert "bu_not_the_right_key_1234" not in app.stderr


def test_a_refused_connection_is_named_as_such(cloud: FakeCloud) -> None:
    address = f"http://127.0.0.1:{free_loopback_port()}/api/v2"
    app, problem, _, code = run_task(app_environment(BROWSER_USE_API_KEY=cloud.api_key, BROWSER_USE_BASE_URL=address))
    assert problem["message"] == (
        f"Nothing is answering at {address} (the connection was refused). Check BROWSER_USE_BASE_URL, "
        "or start the server it points to."
    )
    assert code == 2, app.stderr


def test_a_local_task_without_a_model_says_so_and_exits() -> None:
    app, problem, _, code = run_task(app_environment(), backend="local")
    assert (problem["setting"], problem["backend"]) == ("model", "local")
    assert problem["message"] == (
        "Choose the AI model for the local agent in Settings: a provider with your API key, or a model server "
        "on this computer (Ollama or OpenAI-compatible)."
    )
    assert code == 2, app.stderr
