"""browser-use's temporary downloads folders do not pile up in /tmp."""

from __future__ import annotations

from pathlib import Path

from desktop_app.leftovers import TempDownloadsSweeper


def test_empty_folders_made_during_a_session_are_removed_at_its_end(tmp_path: Path) -> None:
    older = tmp_path / "browser-use-downloads-older000"
    older.mkdir()
    sweeper = TempDownloadsSweeper(tmp_path)
    sweeper.session_started()
    made = tmp_path / "browser-use-downloads-1a2b3c4d"
    made.mkdir()
    kept = tmp_path / "browser-use-downloads-5e6f7a8b"
    kept.mkdir()
    (kept / "report.pdf").write_text("something the agent downloaded")
    assert sweeper.sweep() == [made]
    assert not made.exists() and kept.exists() and older.exists()
    assert sweeper.sweep() == []  # nothing more until the next session starts
