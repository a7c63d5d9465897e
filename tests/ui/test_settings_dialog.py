"""The Settings dialog: keys to the keychain, validation that keeps input, switching backends."""

from __future__ import annotations

import keyring
import keyring.backends.fail
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop_app.system.keychain import SERVICE, Keychain, SecretName
from desktop_app.services import Services
from desktop_app.ui.settings_dialog import SettingsDialog
from tests.conftest import EARLY
from tests.fakes.ollama_server import FakeOllama
from tests.helpers import wait_until


def services_for(paths, backend: str = "cloud") -> Services:
    # As the app starts them: only a Local run has a DevTools port.
    return Services(paths, EARLY.devtools_url if backend == "local" else None, backend_override=backend)


def open_dialog(services: Services, qtbot) -> SettingsDialog:
    dialog = SettingsDialog(services)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_a_new_key_is_saved_to_the_keychain_and_never_shown(paths, qtbot, qrun, memory_keyring) -> None:
    services = services_for(paths)
    dialog = open_dialog(services, qtbot)
    assert dialog.cloud_key.edit.echoMode() is dialog.cloud_key.edit.EchoMode.Password

    async def scenario() -> None:
        QTest.keyClicks(dialog.cloud_key.edit, "bu_new_key_0123456789")
        QTest.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    qrun(scenario())
    assert memory_keyring.store[(SERVICE, "browser-use-api-key")] == "bu_new_key_0123456789"
    assert not dialog.isVisible()
    again = open_dialog(services, qtbot)
    assert again.cloud_key.edit.text() == ""  # stored keys are never displayed
    assert "keychain" in again.cloud_key.edit.placeholderText()


def test_an_invalid_address_keeps_the_dialog_and_everything_typed(paths, qtbot, qrun, memory_keyring) -> None:
    services = services_for(paths)
    dialog = open_dialog(services, qtbot)

    async def scenario() -> None:
        dialog.cloud_url.setText("ftp://nope")
        QTest.keyClicks(dialog.cloud_key.edit, "bu_typed_key_0000000")
        QTest.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    qrun(scenario())
    assert dialog.isVisible() and "http://" in dialog.error.text()
    assert dialog.cloud_url.text() == "ftp://nope" and dialog.cloud_key.edit.text() == "bu_typed_key_0000000"
    assert memory_keyring.store == {} and services.settings.cloud_base_url == ""


def test_without_a_keychain_the_dialog_says_keys_last_this_run(paths, qtbot, qrun) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    services = services_for(paths)
    dialog = open_dialog(services, qtbot)
    assert "this run only" in dialog.keychain_status.text()
    saved: list[list[str]] = []
    dialog.saved.connect(lambda: saved.append(dialog.saved_messages))

    async def scenario() -> None:
        QTest.keyClicks(dialog.cloud_key.edit, "bu_memory_key_0000000")
        QTest.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    qrun(scenario())
    assert services.keychain.get(SecretName.BROWSER_USE) == "bu_memory_key_0000000"
    assert "this run only" in " ".join(saved[0])
    assert Keychain().get(SecretName.BROWSER_USE) is None


def test_choosing_local_in_a_cloud_run_is_saved_for_the_restart(paths, qtbot, qrun) -> None:
    services = services_for(paths, "cloud")
    dialog = open_dialog(services, qtbot)
    saved: list[list[str]] = []
    dialog.saved.connect(lambda: saved.append(dialog.saved_messages))

    async def scenario() -> None:
        dialog.backend_buttons["local"].setChecked(True)
        dialog.provider.setCurrentIndex(dialog.provider.findData("openai_compatible"))
        dialog.llm_url.setText("http://127.0.0.1:8000/v1")
        dialog.model.setText("my-model")
        QTest.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    qrun(scenario())
    assert saved == [
        [
            "Local mode needs Handoff to restart: a run in Cloud mode keeps the built-in browser's control port "
            "closed, and it can only be opened as Handoff starts."
        ]
    ]
    assert services.backend_kind == "cloud" and not services.controller.capabilities.view_is_browser
    assert services.settings.llm.provider == "openai_compatible" and services.settings.llm.base_url == "http://127.0.0.1:8000/v1"
    assert services.settings_store.load().backend == "local"  # the restart (or the next start) is in Local mode


def test_an_openai_compatible_server_needs_a_model_name(paths, qtbot, qrun) -> None:
    services = services_for(paths, "local")
    dialog = open_dialog(services, qtbot)

    async def scenario() -> None:
        dialog.provider.setCurrentIndex(dialog.provider.findData("openai_compatible"))
        dialog.llm_url.setText("http://127.0.0.1:8000/v1")
        QTest.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    qrun(scenario())
    assert dialog.isVisible() and "Name the model" in dialog.error.text()


def test_a_running_ollama_is_detected_and_offered(paths, qtbot, qrun) -> None:
    with FakeOllama(["qwen3:8b", "llama3.2:3b"]) as ollama:
        dialog = open_dialog(services_for(paths, "local"), qtbot)
        qrun(dialog.look_for_ollama(ollama.origin))
    assert "2 models: qwen3:8b, llama3.2:3b" in dialog.ollama_status.text()
    assert dialog.provider.currentData() == "ollama" and dialog.model.text() == "qwen3:8b"
    assert dialog.ollama_status.isVisible() and dialog.llm_url.isVisible()
    dialog.provider.setCurrentIndex(dialog.provider.findData("openai"))
    assert not dialog.ollama_status.isVisible() and not dialog.llm_url.isVisible()  # only what applies


def test_no_ollama_says_so(paths, qtbot, qrun) -> None:
    from desktop_app.system.early_init import free_loopback_port

    dialog = open_dialog(services_for(paths, "local"), qtbot)
    qrun(dialog.look_for_ollama(f"http://127.0.0.1:{free_loopback_port()}"))
    assert "not running" in dialog.ollama_status.text() and dialog.ollama_status.isVisible()
    assert dialog.provider.currentData() == ""


def test_switching_backend_with_a_session_open_is_refused_and_not_saved(paths, cloud, qrun, monkeypatch) -> None:
    from dataclasses import replace

    from desktop_app.settings import Settings, SettingsStore

    SettingsStore(paths.settings_file).save(replace(Settings(), backend="cloud"))  # Cloud is this person's default
    monkeypatch.setenv("BROWSER_USE_BASE_URL", cloud.base_url)
    cloud_services = Services(paths, None)  # a Cloud run: no DevTools port
    cloud_services.keychain.set(SecretName.BROWSER_USE, cloud.api_key)

    async def scenario() -> None:
        assert await cloud_services.controller.new_session().done

    qrun(scenario())
    dialog = SettingsDialog(cloud_services)
    assert not dialog.backend_buttons["local"].isEnabled() and dialog.backend_buttons["cloud"].isChecked()
    dialog.deleteLater()
    wanted = replace(cloud_services.settings, backend="local", llm=replace(cloud_services.settings.llm, model="gpt-4.1"))
    messages = cloud_services.save_settings(wanted)
    assert messages and "Stop the current session" in messages[0]
    saved = cloud_services.settings_store.load()
    assert saved.backend == "cloud" and cloud_services.backend_kind == "cloud"
    assert saved.llm.model == "gpt-4.1"  # the rest of what was typed is kept
    qrun(cloud_services.controller.shutdown())
    cloud_services.close()


def test_a_new_cloud_address_applies_from_the_next_session(paths, cloud, qrun, monkeypatch) -> None:
    from dataclasses import replace

    from desktop_app.core.ports import TaskRequest
    from tests.fakes.cloud_server import FakeCloud

    monkeypatch.delenv("BROWSER_USE_BASE_URL", raising=False)
    services = services_for(paths, "cloud")
    services.keychain.set(SecretName.BROWSER_USE, cloud.api_key)
    assert services.save_settings(replace(services.settings, backend="cloud", cloud_base_url=cloud.base_url)) == []
    controller = services.controller
    with FakeCloud() as other:

        async def scenario() -> None:
            assert await controller.new_session().done
            messages = services.save_settings(replace(services.settings, cloud_base_url=other.base_url))
            assert messages == ["The new Browser Use address is used from the next session."]
            await controller.backend.start_task(TaskRequest("Carry on", request_id="r1"))  # the open session's server
            assert cloud.task_creates() and not other.requests
            assert await controller.stop_session().done
            assert await controller.new_session().done  # now the new address
            assert other.sessions and len(cloud.sessions) == 1

        qrun(scenario())
        qrun(controller.shutdown())
    services.close()


def test_a_provider_that_needs_a_key_is_not_saved_without_one(paths, qtbot, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    services = services_for(paths, "local")
    dialog = open_dialog(services, qtbot)
    dialog.provider.setCurrentIndex(dialog.provider.findData("openai"))
    dialog.save()
    assert dialog.isVisible() and "Paste your OpenAI API key" in dialog.error.text()
    assert services.settings.llm.provider != "openai"  # nothing saved
    QTest.keyClicks(dialog.provider_keys["openai"].edit, "sk-typed-key-000000000000")
    assert dialog.error.isHidden()  # the message goes as soon as the person acts on it
    dialog.save()
    assert not dialog.isVisible() and services.settings.llm.provider == "openai"


def test_ollama_needs_a_model_name(paths, qtbot) -> None:
    dialog = open_dialog(services_for(paths, "local"), qtbot)
    dialog.provider.setCurrentIndex(dialog.provider.findData("ollama"))
    dialog.model.clear()
    dialog.save()
    assert dialog.isVisible() and "Name the Ollama model" in dialog.error.text()


def test_the_show_button_says_what_it_will_do(paths, qtbot) -> None:
    dialog = open_dialog(services_for(paths, "cloud"), qtbot)
    field = dialog.cloud_key
    field.show_button.click()
    assert field.show_button.text() == "Hide" and field.edit.echoMode() is field.edit.EchoMode.Normal
    field.show_button.click()
    assert field.show_button.text() == "Show" and field.edit.echoMode() is field.edit.EchoMode.Password


def test_backend_on_the_command_line_is_not_saved_as_the_default(paths, qtbot, qrun) -> None:
    services = services_for(paths, "cloud")  # as `handoff --backend cloud`; the saved default is Local
    dialog = open_dialog(services, qtbot)
    assert dialog.backend_buttons["cloud"].isChecked()

    async def scenario() -> None:
        QTest.keyClicks(dialog.cloud_key.edit, "bu_new_key_0123456789")
        QTest.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    qrun(scenario())
    assert services.backend_kind == "cloud"  # this run carries on as asked
    assert services.settings_store.load().backend == "local"  # the next run starts as before


def test_the_local_model_settings_show_only_for_local(paths, qtbot) -> None:
    dialog = open_dialog(services_for(paths, "cloud"), qtbot)
    assert dialog.model_group.isHidden()
    dialog.backend_buttons["local"].setChecked(True)
    assert not dialog.model_group.isHidden()
    dialog.backend_buttons["cloud"].setChecked(True)
    assert dialog.model_group.isHidden()


def test_check_says_when_the_address_is_not_the_api(paths, qtbot, qrun, cloud, monkeypatch) -> None:
    monkeypatch.delenv("BROWSER_USE_BASE_URL", raising=False)
    dialog = open_dialog(services_for(paths, "cloud"), qtbot)

    async def scenario() -> None:
        dialog.cloud_url.setText(cloud.origin + "/api/v3")  # a path typo
        QTest.keyClicks(dialog.cloud_key.edit, cloud.api_key)
        QTest.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: dialog.check_status.text() not in ("", "Checking…"), what="the answer")

    qrun(scenario())
    assert dialog.check_status.text() == (
        f"This address does not look like the Browser Use API: {cloud.origin}/api/v3 answered “not found” (HTTP 404). "
        "Check the API address; Browser Use's own is https://api.browser-use.com/api/v2."
    )
    dialog.cloud_url.setText(cloud.base_url)
    qrun(dialog.check_cloud())
    assert dialog.check_status.text() == "Browser Use answered: the address and the key work."
    QTest.keyClicks(dialog.cloud_url, "x")
    assert dialog.check_status.text() == ""  # it was about an address no longer typed


@pytest.mark.parametrize(
    ("address", "key", "said"),
    [
        ("ftp://x", "bu_key_0000000000", "The Browser Use API address must start with http:// or https:// (for example https://api.browser-use.com/api/v2)."),
        ("http://127.0.0.1:{port}/api/v2", "bu_key_0000000000", "Nothing is answering at http://127.0.0.1:{port}/api/v2 (the connection was refused). Check the API address, or start the server it points to."),
        ("", "", "Paste your Browser Use API key (from cloud.browser-use.com), or choose Local."),
    ],
)
def test_check_names_each_bad_setting(paths, qtbot, qrun, monkeypatch, address: str, key: str, said: str) -> None:
    from desktop_app.system.early_init import free_loopback_port

    monkeypatch.delenv("BROWSER_USE_BASE_URL", raising=False)
    port = free_loopback_port()
    dialog = open_dialog(services_for(paths, "cloud"), qtbot)
    dialog.cloud_url.setText(address.format(port=port))
    dialog.cloud_key.edit.setText(key)
    qrun(dialog.check_cloud())
    assert dialog.check_status.text() == said.format(port=port)


def test_check_names_the_environment_variable_that_overrides_the_field(paths, qtbot, qrun, monkeypatch) -> None:
    monkeypatch.setenv("BROWSER_USE_BASE_URL", "ftp://x")
    dialog = open_dialog(services_for(paths, "cloud"), qtbot)
    dialog.cloud_url.setText("https://api.browser-use.com/api/v2")  # ignored while the variable is set
    dialog.cloud_key.edit.setText("bu_key_0000000000")
    qrun(dialog.check_cloud())
    assert dialog.check_status.text() == (
        "BROWSER_USE_BASE_URL must be an address starting with http:// or https:// "
        "(for example https://api.browser-use.com/api/v2); it is “ftp://x”."
    )


def test_cloud_is_not_saved_without_a_key(paths, qtbot, memory_keyring, monkeypatch) -> None:
    monkeypatch.delenv("BROWSER_USE_API_KEY", raising=False)
    services = services_for(paths, "cloud")
    dialog = open_dialog(services, qtbot)
    dialog.save()
    assert dialog.isVisible()
    assert dialog.error.text() == "Paste your Browser Use API key (from cloud.browser-use.com), or choose Local."
    QTest.keyClicks(dialog.cloud_key.edit, "bu_typed_key_0123456789")
    dialog.save()
    assert not dialog.isVisible() and memory_keyring.store[(SERVICE, "browser-use-api-key")] == "bu_typed_key_0123456789"
