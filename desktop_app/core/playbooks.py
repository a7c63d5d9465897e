"""Playbooks: a queue saved under a name, with ``{{variables}}`` asked for when it starts.

Kept as one human-readable, versioned JSON file in the config directory (``Paths.playbooks_file``);
one playbook exports to (and imports from) a file of its own in the same format. A file that cannot
be read as playbooks is kept aside (``playbooks.json.bad``), never overwritten, and the person is
told; the example playbook is offered meanwhile.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_app.core import messages
from desktop_app.core import timeline as tl
from desktop_app.core.queue import StepKind

log = logging.getLogger(__name__)

FILE_FORMAT = "handoff-playbooks"
ONE_FORMAT = "handoff-playbook"
VERSION = 1
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_ ]*?)\s*\}\}")


@dataclass(frozen=True)
class PlaybookStep:
    kind: StepKind
    text: str


@dataclass(frozen=True)
class Playbook:
    name: str
    steps: tuple[PlaybookStep, ...]

    @property
    def variables(self) -> list[str]:
        """Each ``{{name}}`` in the steps, once, in the order they first appear."""
        found: list[str] = []
        for step in self.steps:
            for name in _VARIABLE.findall(step.text):
                if name not in found:
                    found.append(name)
        return found

    def filled(self, values: dict[str, str]) -> list[PlaybookStep]:
        """The steps with every variable replaced (ValueError naming the ones with no value)."""
        missing = [name for name in self.variables if not values.get(name, "").strip()]
        if missing:
            raise ValueError(messages.PLAYBOOK_VARIABLE_MISSING.format(names=", ".join(missing)))
        return [
            PlaybookStep(s.kind, _VARIABLE.sub(lambda m: values[m.group(1)].strip(), s.text)) for s in self.steps
        ]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "steps": [{"kind": s.kind.value, "text": s.text} for s in self.steps]}

    @classmethod
    def from_json(cls, data: Any) -> Playbook:
        if not isinstance(data, dict):
            raise ValueError("a playbook must be an object with a name and steps")
        name = data.get("name")
        steps = data.get("steps")
        if not isinstance(name, str) or not name.strip():
            raise ValueError("a playbook has no name")
        if not isinstance(steps, list) or not steps:
            raise ValueError(f"the playbook {name!r} has no steps")
        parsed = []
        for step in steps:
            if not isinstance(step, dict) or not isinstance(step.get("text"), str) or not step["text"].strip():
                raise ValueError(f"a step of {name!r} has no text")
            try:
                kind = StepKind(step.get("kind"))
            except ValueError:
                raise ValueError(f"a step of {name!r} is neither \"agent\" nor \"you\"") from None
            parsed.append(PlaybookStep(kind, step["text"].strip()))
        return cls(name.strip(), tuple(parsed))


EXAMPLE = Playbook(
    "Flight search (example)",
    (
        PlaybookStep(StepKind.AGENT, "Search flights from {{from}} to {{to}} on Google Flights"),
        PlaybookStep(StepKind.PERSON, "Pick a flight"),
        PlaybookStep(StepKind.AGENT, "Get the details of the selected flight: airline, price, departure and arrival times"),
    ),
)


def plan_json(steps: list[PlaybookStep], name: str = "Queue") -> str:
    """A queue's steps as one playbook's JSON (what History keeps to run it again)."""
    return json.dumps({"format": ONE_FORMAT, "version": VERSION, **Playbook(name, tuple(steps)).to_json()}, ensure_ascii=False)


def replay_plan(entries: list[tl.Entry]) -> str | None:
    """What History's "Run this again" runs: the session's last queue, else the tasks the person
    ran in it, in order, as agent steps (None: nothing to run again)."""
    queues = [e for e in entries if isinstance(e, tl.QueueStarted)]
    if queues:
        return queues[-1].plan
    tasks = [
        PlaybookStep(StepKind.AGENT, e.goal)
        for e in entries
        if isinstance(e, tl.TaskStarted) and e.origin is tl.TaskOrigin.RUN and e.goal
    ]
    return plan_json(tasks) if tasks else None


def parse_one(text: str) -> Playbook:
    """One playbook from an exported file (or a History plan); ValueError says what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"it is not JSON ({error.msg}, line {error.lineno})") from None
    if not isinstance(data, dict) or data.get("format") != ONE_FORMAT:
        raise ValueError(f'it does not say "format": "{ONE_FORMAT}"')
    _check_version(data)
    return Playbook.from_json(data)


def _check_version(data: dict[str, Any]) -> None:
    version = data.get("version")
    if not isinstance(version, int) or version < 1:
        raise ValueError("it has no version number")
    if version > VERSION:
        raise ValueError(f"it was written by a newer Handoff (version {version}; this one reads up to {VERSION})")


class PlaybookStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.problem: str | None = None  # shown to the person once, when the file was unusable
        self._writable = True  # False when the file could not be read: never overwrite what we could not read

    def load(self) -> list[Playbook]:
        """The saved playbooks; before any is saved, the example."""
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return [EXAMPLE]
        except OSError as error:
            self._writable = False
            self.problem = messages.playbooks_unreadable(error.strerror or type(error).__name__)
            return [EXAMPLE]
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("format") != FILE_FORMAT:
                raise ValueError(f'it does not say "format": "{FILE_FORMAT}"')
            _check_version(data)
            items = data.get("playbooks")
            if not isinstance(items, list):
                raise ValueError("it has no list of playbooks")
            return [Playbook.from_json(item) for item in items]
        except (ValueError, TypeError) as error:
            aside = self.path.with_suffix(".json.bad")
            try:
                os.replace(self.path, aside)
            except OSError:
                self._writable = False
                aside = self.path
            log.warning("Playbooks file unusable (%s); kept as %s", error, aside.name)
            self.problem = messages.playbooks_damaged(aside.name)
            return [EXAMPLE]

    def save(self, playbooks: list[Playbook]) -> None:
        """OSError if the disk refuses (nothing changes then)."""
        if not self._writable:
            raise OSError(self.problem or "the playbooks file could not be read")
        data = {"format": FILE_FORMAT, "version": VERSION, "playbooks": [p.to_json() for p in playbooks]}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(temporary, self.path)  # atomic: a crash never leaves half a file

    def saved_with(self, playbook: Playbook) -> list[Playbook]:
        """Save ``playbook`` (replacing one of the same name); returns them all."""
        playbooks = [p for p in self.load() if p.name != playbook.name] + [playbook]
        self.save(playbooks)
        return playbooks

    def removed(self, name: str) -> list[Playbook]:
        playbooks = [p for p in self.load() if p.name != name]
        self.save(playbooks)
        return playbooks

    @staticmethod
    def export(playbook: Playbook, path: Path) -> None:
        data = {"format": ONE_FORMAT, "version": VERSION, **playbook.to_json()}
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    @staticmethod
    def read_export(path: Path) -> Playbook:
        """ValueError (with words for the person) if the file is not a playbook."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"it could not be read ({error})") from None
        return parse_one(text)
