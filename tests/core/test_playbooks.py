"""Playbooks: variables, the file in the config directory (versioned, readable), export and import,
a damaged file kept aside with a clear message, History's "Run this again"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.core import timeline as tl
from desktop_app.core.playbooks import EXAMPLE, Playbook, PlaybookStep, PlaybookStore, parse_one, replay_plan
from desktop_app.core.queue import StepKind
from desktop_app.system.paths import Paths

A, YOU = StepKind.AGENT, StepKind.PERSON
REPORT = Playbook(
    "Daily report",
    (
        PlaybookStep(A, "Log in to {{site}} as {{user}}"),
        PlaybookStep(YOU, "Enter the 2FA code for {{ user }}"),
        PlaybookStep(A, "Download the report of {{site}}"),
    ),
)


def test_variables_are_listed_once_in_order_and_filled() -> None:
    assert REPORT.variables == ["site", "user"]
    assert REPORT.filled({"site": "example.com", "user": "ada"}) == [
        PlaybookStep(A, "Log in to example.com as ada"),
        PlaybookStep(YOU, "Enter the 2FA code for ada"),
        PlaybookStep(A, "Download the report of example.com"),
    ]
    with pytest.raises(ValueError, match="Fill in every value: user."):
        REPORT.filled({"site": "example.com", "user": "  "})


def test_the_example_is_the_seed_flow() -> None:
    assert EXAMPLE.variables == ["from", "to"]
    assert [(s.kind, s.text) for s in EXAMPLE.filled({"from": "Paris", "to": "Rome"})] == [
        (A, "Search flights from Paris to Rome on Google Flights"),
        (YOU, "Pick a flight"),
        (A, "Get the details of the selected flight: airline, price, departure and arrival times"),
    ]


def test_before_anything_is_saved_the_example_is_offered(paths: Paths) -> None:
    store = PlaybookStore(paths.playbooks_file)
    assert store.load() == [EXAMPLE]
    assert store.problem is None
    assert not paths.playbooks_file.exists()


def test_a_playbook_survives_a_restart_an_export_and_an_import(paths: Paths, tmp_path: Path) -> None:
    PlaybookStore(paths.playbooks_file).saved_with(REPORT)
    restarted = PlaybookStore(paths.playbooks_file)  # as at the next start
    assert restarted.load() == [EXAMPLE, REPORT]
    saved = json.loads(paths.playbooks_file.read_text(encoding="utf-8"))
    assert saved["format"] == "handoff-playbooks" and saved["version"] == 1
    assert saved["playbooks"][1] == {
        "name": "Daily report",
        "steps": [
            {"kind": "agent", "text": "Log in to {{site}} as {{user}}"},
            {"kind": "you", "text": "Enter the 2FA code for {{ user }}"},
            {"kind": "agent", "text": "Download the report of {{site}}"},
        ],
    }
    exported = tmp_path / "daily-report.json"
    PlaybookStore.export(REPORT, exported)
    assert json.loads(exported.read_text(encoding="utf-8"))["format"] == "handoff-playbook"
    elsewhere = PlaybookStore(tmp_path / "other" / "playbooks.json")
    imported = elsewhere.read_export(exported)
    assert imported == REPORT
    elsewhere.saved_with(imported)
    assert PlaybookStore(tmp_path / "other" / "playbooks.json").load() == [EXAMPLE, REPORT]


def test_saving_under_the_same_name_replaces_it(paths: Paths) -> None:
    store = PlaybookStore(paths.playbooks_file)
    store.saved_with(REPORT)
    changed = Playbook("Daily report", (PlaybookStep(A, "Just download it"),))
    assert store.saved_with(changed) == [EXAMPLE, changed]
    assert store.removed("Flight search (example)") == [changed]


@pytest.mark.parametrize("content", ["{ not json", '{"format": "handoff-playbooks", "version": 1}', "[]"])
def test_a_damaged_file_is_kept_aside_with_a_clear_message(paths: Paths, content: str) -> None:
    paths.playbooks_file.write_text(content, encoding="utf-8")
    store = PlaybookStore(paths.playbooks_file)
    assert store.load() == [EXAMPLE]
    assert store.problem == (
        "Your playbooks file was damaged and has been kept aside as playbooks.json.bad; the example playbook is shown instead."
    )
    assert (paths.config / "playbooks.json.bad").read_text(encoding="utf-8") == content  # never lost
    assert not paths.playbooks_file.exists()
    store.saved_with(REPORT)  # the person can carry on saving
    assert PlaybookStore(paths.playbooks_file).load() == [EXAMPLE, REPORT]


def test_a_file_from_a_newer_version_is_not_read_as_this_one(tmp_path: Path) -> None:
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"format": "handoff-playbook", "version": 2, "name": "X", "steps": []}), encoding="utf-8")
    with pytest.raises(ValueError, match=r"written by a newer Handoff \(version 2; this one reads up to 1\)"):
        PlaybookStore.read_export(newer)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"format": "handoff-playbook", "version": 1, "name": "X", "steps": [{"kind": "robot", "text": "a"}]}', "neither"),
        ('{"format": "handoff-playbook", "version": 1, "name": "", "steps": [{"kind": "agent", "text": "a"}]}', "no name"),
        ('{"format": "something-else", "version": 1}', 'does not say "format": "handoff-playbook"'),
        ("not json", "it is not JSON"),
    ],
)
def test_an_import_that_is_not_a_playbook_says_why(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_one(text)


def test_run_this_again_takes_the_session_s_queue_else_its_tasks() -> None:
    plan = '{"format": "handoff-playbook", "version": 1, "name": "Queue", "steps": [{"kind": "you", "text": "Log in"}]}'
    with_queue = [
        tl.TaskStarted(at=1, session_id="s", task_id="t1", text="x", origin=tl.TaskOrigin.RUN, goal="Earlier task"),
        tl.QueueStarted(at=2, session_id="s", plan=plan, steps=1),
    ]
    assert replay_plan(with_queue) == plan
    tasks_only = [
        tl.TaskStarted(at=1, session_id="s", task_id="t1", text="x", origin=tl.TaskOrigin.RUN, goal="Find flights"),
        tl.TaskStarted(at=2, session_id="s", task_id="t2", text="y", origin=tl.TaskOrigin.HAND_BACK, goal="Continue"),
        tl.TaskStarted(at=3, session_id="s", task_id="t3", text="z", origin=tl.TaskOrigin.RUN, goal="Book it"),
    ]
    assert [(s.kind, s.text) for s in parse_one(replay_plan(tasks_only)).steps] == [(A, "Find flights"), (A, "Book it")]
    assert replay_plan([]) is None
