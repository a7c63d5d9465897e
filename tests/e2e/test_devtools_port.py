"""Which DevTools (CDP) endpoint the real app opens: one on 127.0.0.1 for Local mode, none for Cloud.

Anyone on this computer can use a DevTools port: ``/json/list`` names every page with its URL (a
Cloud live view's URL is a credential) and hands out a websocket that drives it. The ports are
found the way another program would find them: every TCP port the app's processes listen on is
asked for ``/json/version``.
"""

from __future__ import annotations

from typing import Any

import httpx
import psutil
import pytest

from desktop_app.system.early_init import free_loopback_port
from tests.e2e.app_process import AppProcess, app_environment, cloud_environment
from tests.fakes.cloud_server import FakeCloud

pytestmark = pytest.mark.e2e


@pytest.fixture
def cloud_options() -> dict[str, Any]:
    return {"step_interval": 0.2, "steps_per_task": 2}


def listening_ports(pid: int) -> set[int]:
    """TCP ports the app and its helper processes (QtWebEngine's) listen on."""
    root = psutil.Process(pid)
    ports: set[int] = set()
    for process in [root, *root.children(recursive=True)]:
        try:
            connections = process.net_connections(kind="tcp")
        except psutil.NoSuchProcess:
            continue
        ports |= {c.laddr.port for c in connections if c.status == psutil.CONN_LISTEN}
    return ports


def devtools_ports(pid: int) -> dict[int, dict]:
    """The ports among them that answer as a DevTools endpoint, with what /json/version said."""
    found = {}
    for port in listening_ports(pid):
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/json/version", timeout=2.0)
            version = answer.json()
        except (httpx.HTTPError, ValueError):
            continue
        if isinstance(version, dict) and "webSocketDebuggerUrl" in version:
            found[port] = version
    return found


def test_a_cloud_run_opens_no_devtools_port_even_when_its_environment_asks_for_one(cloud: FakeCloud) -> None:
    # What a launcher or a developer's shell might pass on: both would open a port in a plain QtWebEngine app.
    inherited_port, flag_port = free_loopback_port(), free_loopback_port()
    env = cloud_environment(
        cloud,
        QTWEBENGINE_REMOTE_DEBUGGING=f"127.0.0.1:{inherited_port}",
        QTWEBENGINE_CHROMIUM_FLAGS=f"--remote-debugging-port={flag_port}",
    )
    with AppProcess(["--temp-basedir", "--no-err-windows", "--backend", "cloud", "--task", "Look around"], env) as app:
        started = app.wait_for_event("app_started", timeout=90)
        app.wait_for_event("task_finished", timeout=90)  # the live view (its URL a credential) is on screen
        found = devtools_ports(app.process.pid)
        ports = listening_ports(app.process.pid)
        code = app.terminate_and_wait()
    assert code == 0, app.stderr
    assert found == {}
    assert inherited_port not in ports and flag_port not in ports
    assert started["devtools_port"] is False


def test_a_local_run_opens_exactly_one_devtools_port_on_loopback() -> None:
    # The other side of the check above: the same search finds the port when there is one.
    with AppProcess(["--temp-basedir", "--no-err-windows", "--backend", "local"], app_environment()) as app:
        started = app.wait_for_event("view_ready", timeout=90) and app.wait_for_event("app_started", timeout=90)
        found = devtools_ports(app.process.pid)
        [port] = found
        pages = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=2.0).json()
        addresses = {c.laddr.ip for c in psutil.Process(app.process.pid).net_connections(kind="tcp") if c.laddr.port == port}
        code = app.terminate_and_wait()
    assert code == 0, app.stderr
    assert started["devtools_port"] is True
    assert addresses == {"127.0.0.1"}
    # What the README warns about: no login, and every page listed with its URL and a websocket that drives it.
    [page] = [p for p in pages if p["type"] == "page"]
    assert (page["url"], page["title"]) == ("about:blank", "Handoff")  # the start page (see LiveView.load_start_page)
    assert page["webSocketDebuggerUrl"].startswith(f"ws://127.0.0.1:{port}/devtools/page/")
