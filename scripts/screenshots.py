"""Take the README's screenshots of the real window (a developer tool; not shipped).

Run under Xvfb so the window is a real X11 window:
    xvfb-run -a -s "-screen 0 1440x900x24" .venv/bin/python scripts/screenshots.py

It drives the app with the test fakes (a scripted model in Local mode, the fake Browser Use Cloud)
into five states (start, agent working, agent asks, you in control, a queue at its You step) and
saves docs/screenshot-*.png.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from desktop_app.system.early_init import prepare_environment  # noqa: E402
from desktop_app.system.paths import Paths  # noqa: E402

PATHS = Paths.temporary_base().ensure()
EARLY = prepare_environment(PATHS.data / "browser-use")
# An in-memory keychain stands in for the desktop's (Xvfb has none), as a user's machine would have.
os.environ["PYTHON_KEYRING_BACKEND"] = "tests.fakes.memory_keyring.MemoryKeyring"

import qasync  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop_app.core.control import Control  # noqa: E402
from desktop_app.system.keychain import SecretName  # noqa: E402
from desktop_app.system.page_rendering import choose_page_rendering  # noqa: E402
from desktop_app.system.paths import resources_dir  # noqa: E402
from desktop_app.services import Services  # noqa: E402
from desktop_app.ui.main_window import MainWindow  # noqa: E402
from tests.fakes import scripted_llm as sl  # noqa: E402
from tests.fakes.cloud_server import FakeCloud  # noqa: E402
from tests.fakes.model_server import FakeModelServer  # noqa: E402
from tests.fakes.site import SiteServer  # noqa: E402
from tests.helpers import wait_until  # noqa: E402

DOCS = REPO / "docs"


def save(window: MainWindow, name: str) -> None:
    path = DOCS / name
    window.grab().save(str(path))
    print(f"saved {path.relative_to(REPO)}")


_model_server: FakeModelServer | None = None


def serve(services: Services, model: sl.ScriptedModel) -> None:
    """The Local agent's model: this script, from a model server on 127.0.0.1 chosen in Settings."""
    global _model_server
    if _model_server is None:
        _model_server = FakeModelServer().start()
    services.save_settings(replace(services.settings, llm=_model_server.serve(model)))


async def settle(seconds: float = 1.5) -> None:
    await asyncio.sleep(seconds)


async def local_shots(site: SiteServer) -> None:
    services = Services(Paths.temporary_base().ensure(), EARLY.devtools_url, backend_override="local")
    serve(
        services,
        sl.ScriptedModel(
            [
                sl.navigate(site.url("checkout.html"), goal="Open the checkout page"),
                sl.type_text("id=name", "Ada Lovelace", goal="Fill in the name on the order"),
                sl.type_text("id=address", "12 St James's Square, London", goal="Fill in the shipping address"),
                sl.Step("wait", {"seconds": 1}, goal="Check the order total before payment", delay=6.0),
                sl.ask_human("Enter the card number and press Pay — I must not handle payment details."),
                sl.done("Order placed"),
            ]
        )
    )
    window = MainWindow.open(services, interactive=False)
    window.resize(1400, 860)
    window.show()
    panel = window.task_panel
    await wait_until(lambda: window.live_view.first_load_done, timeout=30)
    await settle()
    save(window, "screenshot-start.png")
    panel.task_input.setPlainText("Order two blue mugs from Blue Mug Co. and ship them to my office")
    window.actions.run_task(panel.task_text)
    controller = services.controller
    await wait_until(lambda: len(panel.timeline.timeline_model.entries) >= 5, timeout=60)
    await settle(2.0)
    save(window, "screenshot-agent-working.png")
    await wait_until(lambda: controller.state is Control.HUMAN, timeout=60)
    panel.note_input.setPlainText("Entered the card and paid")
    await settle()
    save(window, "screenshot-agent-asks.png")
    await window.close_gracefully()


def cloud_window(cloud: FakeCloud) -> tuple[Services, MainWindow]:
    """The window in Cloud mode against the stand-in server, shown at the screenshots' size."""
    os.environ["BROWSER_USE_BASE_URL"] = cloud.base_url
    services = Services(Paths.temporary_base().ensure(), EARLY.devtools_url, backend_override="cloud")
    services.keychain.set(SecretName.BROWSER_USE, cloud.api_key)
    window = MainWindow.open(services, interactive=False)
    window.resize(1400, 860)
    window.show()
    return services, window


async def cloud_shot() -> None:
    with FakeCloud(manual_steps=True) as cloud:
        services, window = cloud_window(cloud)
        controller = services.controller
        window.actions.run_task("Go to the shop, add the blue mug to the cart and open the checkout")
        await wait_until(lambda: cloud.tasks and controller.state is Control.AGENT, timeout=30)
        for goal in ("Open the shop's home page", "Search for the blue mug", "Add the blue mug to the cart", "Open the checkout"):
            cloud.add_step(goal=goal)
        await wait_until(lambda: len(window.task_panel.timeline.timeline_model.entries) >= 6, timeout=30)
        window.actions.take_over()
        await wait_until(lambda: controller.state is Control.HUMAN, timeout=30)
        window.task_panel.task_input.setPlainText("Now confirm the order and send me the receipt")
        window.task_panel.note_input.setPlainText("Entered the card holder name and card number")
        await settle(2.0)
        save(window, "screenshot-cloud-you-in-control.png")
        await window.close_gracefully()


async def vault_shots(site: SiteServer) -> None:
    """The vault dialog (both tabs), and a site rule refusing the agent's Pay click."""
    from desktop_app.core.site_rules import Duty, SiteRule, SiteRules
    from desktop_app.ui.vault_dialog import open_vault_dialog

    services = Services(Paths.temporary_base().ensure(), EARLY.devtools_url, backend_override="local")
    vault = services.vault
    vault.save_entry(None, "bank", ("mybank.example", "*.mybank.example"), {"username": "ada@example.com", "password": "x" * 14, "totp": "JBSWY3DPEHPK3PXP"})
    vault.save_entry(None, "Blue Mug Co.", ("bluemug.example",), {"username": "ada", "password": "y" * 12})
    vault.save_rules(SiteRules((SiteRule("mybank.example", frozenset({Duty.CONFIRM})), SiteRule("tickets.example", frozenset({Duty.LOGIN, Duty.PAY})))))
    serve(
        services,
        sl.ScriptedModel(
            [
                sl.navigate(site.url("pay.html"), goal="Open the payment page"),
                sl.type_text("id=name", "Ada Lovelace", goal="Fill in the name on the card"),
                sl.click("id=pay", goal="Press Pay"),
                sl.done("Paid"),
            ]
        )
    )
    window = MainWindow.open(services, interactive=False)
    window.resize(1400, 860)
    window.show()
    await wait_until(lambda: window.live_view.first_load_done, timeout=30)
    dialog = open_vault_dialog(window, vault)
    dialog.edit_entry("bank")
    await settle()
    dialog.grab().save(str(DOCS / "screenshot-vault.png"))
    print("saved docs/screenshot-vault.png")
    dialog.tabs.setCurrentIndex(1)
    await settle()
    dialog.grab().save(str(DOCS / "screenshot-site-rules.png"))
    print("saved docs/screenshot-site-rules.png")
    dialog.close()
    panel = window.task_panel
    panel.task_input.setPlainText("Pay for my Blue Mug order")
    window.actions.run_task(panel.task_text)
    await wait_until(lambda: services.controller.state is Control.HUMAN, timeout=60)
    await settle(2.0)
    save(window, "screenshot-site-rule-refusal.png")
    await window.close_gracefully()


async def queue_shot() -> None:
    """The example playbook (Google Flights) at its You step, after the agent's first step."""
    import json

    with FakeCloud(manual_steps=True) as cloud:
        services, window = cloud_window(cloud)
        controller = services.controller
        await window.queue_actions.start_playbook("Flight search (example)", {"from": "Paris", "to": "Rome"})
        await wait_until(lambda: cloud.tasks and controller.state is Control.AGENT, timeout=30)
        for goal in ("Open Google Flights", "Fill in Paris and Rome", "Read the cheapest flights"):
            cloud.add_step(goal=goal)
        result = "Cheapest: Air France AF1234 10:05 → 12:10, 120 EUR; ITA AZ317 13:40 → 15:45, 134 EUR"
        cloud.finish_task(output=json.dumps({"status": "done", "result": result, "person_should": ""}))
        await wait_until(lambda: controller.state is Control.HUMAN, timeout=30)
        window.task_panel.note_input.setPlainText("Picked the 10:05 Air France flight")
        await settle(2.0)
        save(window, "screenshot-queue.png")
        await window.close_gracefully()


async def sessions_shot() -> None:
    """Three Cloud sessions in tabs; two agents ask for the person; the inbox open."""
    import json

    from desktop_app.ui.window_wiring import add_session_tab

    with FakeCloud(manual_steps=True) as cloud:
        services, window = cloud_window(cloud)
        add_session_tab(window)
        add_session_tab(window)
        tasks = ["Book a flight from Paris to Rome for 12 March", "File the expense report for the Lyon trip", "Renew the museum membership"]
        for tab, text in zip(window.tabs, tasks):
            window.tab_widget.setCurrentWidget(tab.page)
            tab.actions.run_task(text)
        await wait_until(lambda: all(t.controller.state is Control.AGENT and t.controller.work.run for t in window.tabs), timeout=30)
        for tab, goal in zip(window.tabs, ("Search flights Paris → Rome", "Open the expense tool", "Open the membership page")):
            cloud.add_step(tab.controller.work.run.handle.task_id, goal=goal)
        asks = {0: "Pick the flight you want: three are under 150 EUR", 2: "Confirm the renewal price (89 EUR) before paying"}
        for index, what in asks.items():
            task_id = window.tabs[index].controller.work.run.handle.task_id
            cloud.finish_task(task_id, output=json.dumps({"status": "needs_person", "result": "", "person_should": what}))
            await wait_until(lambda index=index: window.tabs[index].controller.state is Control.HUMAN, timeout=30)
        window.tab_widget.setCurrentWidget(window.tabs[1].page)
        window.tab_widget.inbox_button.setChecked(True)
        await settle(2.0)
        save(window, "screenshot-sessions-inbox.png")
        await window.close_gracefully()


async def main() -> None:
    with SiteServer() as site:
        await local_shots(site)
        await vault_shots(site)
    await cloud_shot()
    await queue_shot()
    await sessions_shot()


if __name__ == "__main__":
    app = QApplication(sys.argv)
    choose_page_rendering()  # as app.py does, before the first web view
    app.setQuitOnLastWindowClosed(False)  # as app.py: one window closes before the next opens
    app.setStyleSheet((resources_dir() / "style.qss").read_text(encoding="utf-8"))
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(main())
    PATHS.remove_if_temporary()
