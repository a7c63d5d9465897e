"""Local mode as a subprocess: a real agent whose model is an OpenAI-compatible server on 127.0.0.1
answering with a script (chosen in Settings, as a user would), offscreen, exiting with code 0 —
twice on one data directory, so a site login made in the first run is still there in the second."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.system.paths import Paths
from desktop_app.settings import LLMSettings, Settings, SettingsStore
from tests.e2e.app_process import AppProcess, app_environment
from tests.fakes.model_server import FakeModelServer
from tests.fakes.scripted_llm import from_json
from tests.fakes.site import SiteServer

pytestmark = pytest.mark.e2e


def run_local(basedir: Path, task: str, script: list[dict]) -> AppProcess:
    with FakeModelServer(from_json(script)) as model:
        # What a user does in Settings: the local agent's model is an OpenAI-compatible server.
        settings_file = Paths.from_options(basedir=str(basedir), temp_basedir=False).ensure().settings_file
        SettingsStore(settings_file).save(Settings(backend="local", llm=LLMSettings("openai_compatible", "scripted", model.base_url)))
        with AppProcess(["--basedir", str(basedir), "--no-err-windows", "--task", task], app_environment()) as app:
            app.wait_for_event("task_finished", timeout=120)
            code = app.terminate_and_wait()
        assert model.requests and all(r["model"] == "scripted" for r in model.requests)  # over HTTP, as set
    assert code == 0, app.stderr
    return app


def test_local_runs_end_cleanly_and_site_logins_survive_a_restart(site: SiteServer, tmp_path: Path) -> None:
    basedir = tmp_path / "handoff"
    navigate = {"action": "navigate", "params": {"new_tab": False}}
    first = run_local(
        basedir,
        "Log me in",
        [{**navigate, "params": {**navigate["params"], "url": site.url("login")}}, {"action": "done", "params": {"text": "Logged in", "success": True}}],
    )
    names = first.event_names()
    # No OpenGL offscreen: pages drawn in software, chosen before the window (page_rendering.py);
    # the reason depends on whether this machine has a graphics device at all.
    assert names.index("page_rendering") < names.index("window_shown")
    assert next(e for e in first.events if e["event"] == "page_rendering")["message"] in {
        "Pages are drawn by: software (no graphics device)",
        "Pages are drawn by: software (no OpenGL)",
    }
    assert names.index("session_created") < names.index("task_created") < names.index("task_finished")
    assert names.index("task_finished") < names.index("session_stopped") < names.index("app_exiting")
    finished = next(e for e in first.events if e["event"] == "task_finished")
    assert (finished["status"], finished["success"]) == ("finished", True)

    run_local(
        basedir,
        "Who am I?",
        [{**navigate, "params": {**navigate["params"], "url": site.url("whoami")}}, {"action": "done", "params": {"text": "Checked", "success": True}}],
    )
    whoami = [s for s in site.submissions if s["path"] == "/whoami"]
    assert whoami and whoami[-1]["cookie"] == "handoff_login=ada"
    # The browser's profile lives under the data directory, not in the user's home.
    assert (basedir / "data" / "browser-profile").is_dir()
    # Everything the app wrote is this user's only: files 0600, folders 0700.
    written = [p for p in basedir.rglob("*") if not p.is_symlink()]
    assert written and {oct(p.stat().st_mode & 0o777) for p in written if p.is_dir()} == {"0o700"}
    assert {oct(p.stat().st_mode & 0o077) for p in written if p.is_file()} == {"0o0"}
