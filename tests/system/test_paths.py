from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.system.paths import Paths, resources_dir, user_downloads_dir


def test_basedir_puts_everything_under_it(tmp_path: Path) -> None:
    paths = Paths.from_options(basedir=str(tmp_path), temp_basedir=False).ensure()
    for directory in (paths.config, paths.data, paths.cache, paths.logs):
        assert directory.is_dir() and tmp_path in directory.parents
    assert paths.database.parent == paths.data and paths.settings_file.parent == paths.config


def test_temp_basedir_is_fresh_and_removed(tmp_path: Path) -> None:
    first = Paths.from_options(basedir=None, temp_basedir=True).ensure()
    second = Paths.from_options(basedir=None, temp_basedir=True).ensure()
    assert first.config != second.config
    (first.data / "x").write_text("x")
    first.remove_if_temporary()
    second.remove_if_temporary()
    assert not first.config.parent.exists() and not second.config.parent.exists()


def test_a_basedir_is_never_removed(tmp_path: Path) -> None:
    paths = Paths.under(tmp_path).ensure()
    paths.remove_if_temporary()
    assert paths.data.exists()


def test_standard_paths_follow_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "c"))
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path))
    paths = Paths.standard()
    assert paths.config == tmp_path / "c" / "handoff"
    assert paths.data == tmp_path / ".local" / "share" / "handoff"


def test_the_downloads_folder_comes_from_user_dirs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))
    (tmp_path / ".config").mkdir()
    (tmp_path / ".config" / "user-dirs.dirs").write_text('XDG_DOWNLOAD_DIR="$HOME/Téléchargements"\n')
    assert user_downloads_dir() == tmp_path / "Téléchargements"


def test_resources_are_found_in_a_checkout() -> None:
    assert (resources_dir() / "start.html").is_file()
