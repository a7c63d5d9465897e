"""Restart: which command starts Handoff again, and which modes need it."""

from __future__ import annotations

import sys

import pytest

from desktop_app.app import build_parser
from desktop_app.system.relaunch import relaunch_command
from desktop_app.services import Services
from tests.conftest import EARLY


def options(*argv: str):
    return build_parser().parse_args(list(argv))


@pytest.mark.parametrize(
    ("argv", "backend", "expected"),
    [
        ([], "local", ["--backend", "local"]),
        (
            # The --task of this run is never run again, and the mode asked for wins over --backend.
            ["--basedir", "/srv/handoff", "--backend", "cloud", "--task", "Pay the bill", "--no-err-windows", "--json-logging"],
            "local",
            ["--backend", "local", "--basedir", "/srv/handoff", "--no-err-windows", "--json-logging"],
        ),
        (["--temp-basedir", "--debug", "--smoke-test"], "cloud", ["--backend", "cloud", "--temp-basedir", "--debug"]),
    ],
)
def test_the_new_run_keeps_the_folders_and_options_but_not_the_task(argv, backend, expected, monkeypatch) -> None:
    monkeypatch.delattr(sys, "frozen", raising=False)
    assert relaunch_command(options(*argv), backend) == [sys.executable, "-m", "desktop_app", *expected]


def test_an_installed_build_starts_its_own_executable(monkeypatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/handoff/handoff")
    assert relaunch_command(options("--basedir", "/srv/h"), "cloud") == ["/opt/handoff/handoff", "--backend", "cloud", "--basedir", "/srv/h"]


@pytest.mark.parametrize(
    ("devtools_url", "expected"),
    [
        # A Local run (the port is open): Cloud needs a restart, Local does not.
        (EARLY.devtools_url, {"local": None, "cloud": "restart"}),
        # A Cloud run (no port): Local needs a restart.
        (None, {"local": "restart", "cloud": None}),
    ],
)
def test_which_modes_need_a_restart(paths, devtools_url, expected) -> None:
    services = Services(paths, devtools_url, backend_override="cloud" if devtools_url is None else "local")
    try:
        seen = {kind: ("restart" if services.restart_needed_for(kind) else None) for kind in ("local", "cloud")}
    finally:
        services.close()
    assert seen == expected
