"""The one idea of a backend: which kinds exist, and what each is called and needs at start-up.

Free of imports, because start-up needs it before anything else is loaded (whether to open the
DevTools port is decided before QtWebEngine starts). Everything else about a kind (what it can do)
is in its ``Capabilities``; the UI reads those, never the kind.
"""

from __future__ import annotations

from enum import Enum


class BackendKind(str, Enum):
    """A ``str`` enum: stored in settings, history rows and events as its plain value."""

    LOCAL = "local"
    CLOUD = "cloud"

    def __str__(self) -> str:  # "local" in messages, log lines and command lines, on every Python
        return self.value

    @property
    def label(self) -> str:
        """How the mode selector names it."""
        return _LABELS[self]

    @property
    def view_is_browser(self) -> bool:
        """The live view is the browser itself (see ``Capabilities.view_is_browser``)."""
        return self is BackendKind.LOCAL

    @property
    def runs_agent_here(self) -> bool:
        """The agent (and the model the person chose in Settings) runs on this computer."""
        return self is BackendKind.LOCAL

    @property
    def needs_devtools(self) -> bool:
        """A run in this mode opens QtWebEngine's DevTools (CDP) port. Only the Local agent drives
        the built-in browser through it; a run with it must never show a Cloud live view (its URL,
        a credential, would be listed on the port). QtWebEngine reads the port once, before it
        starts: switching between the two needs a restart."""
        return self is BackendKind.LOCAL

    @classmethod
    def parse(cls, value: object, default: BackendKind | None = None) -> BackendKind:
        """The kind a setting or an argument names; ``default`` (or ValueError) for anything else."""
        try:
            return cls(value)
        except ValueError:
            if default is None:
                raise ValueError(f"Unknown backend {value!r}: choose one of {', '.join(k.value for k in cls)}") from None
            return default


_LABELS = {BackendKind.LOCAL: "Local (this computer)", BackendKind.CLOUD: "Browser Use Cloud"}
