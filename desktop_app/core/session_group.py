"""Every session the window holds, as one: what quitting would cost across them (asked once), and
shutting them all down within one time limit. The quitter and the mode switch ask this, never a
single session's controller."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from desktop_app.core.controller import SHUTDOWN_TIMEOUT, QuitConcern, SessionController
from desktop_app.core.messages import QuitQuestion


@dataclass(frozen=True)
class Member:
    name: str  # as the window shows it ("Session 2")
    controller: SessionController


class SessionGroup:
    def __init__(self) -> None:
        self._members: list[Member] = []

    def add(self, name: str, controller: SessionController) -> None:
        self._members.append(Member(name, controller))

    def remove(self, controller: SessionController) -> None:
        self._members = [m for m in self._members if m.controller is not controller]

    @property
    def members(self) -> tuple[Member, ...]:
        return tuple(self._members)

    @property
    def quit_concern(self) -> QuitConcern | None:
        """The weightiest concern of any session: a billed session alive outweighs a task cut short."""
        concerns = {m.controller.quit_concern for m in self._members}
        for concern in (QuitConcern.BILLED_SESSION, QuitConcern.UNFINISHED_TASK):
            if concern in concerns:
                return concern
        return None

    def quit_question(self) -> QuitQuestion:
        """One question naming every billed session alive (call while ``quit_concern`` is BILLED_SESSION)."""
        billed = [m for m in self._members if m.controller.quit_concern is QuitConcern.BILLED_SESSION]
        if len(billed) == 1:
            return billed[0].controller.quit_question()
        return QuitQuestion(
            billed[0].controller.capabilities.display_name,
            [(m.name, m.controller.session.id if m.controller.session else "", m.controller.session_cost) for m in billed],
            agent_working=any(m.controller.agent_working for m in billed),
        )

    async def shutdown(self, *, stop_session: bool = True, within: float = SHUTDOWN_TIMEOUT) -> None:
        """All at once, so the time limit holds however many sessions there are."""
        await asyncio.gather(*(m.controller.shutdown(stop_session=stop_session, within=within) for m in self._members))

    @property
    def backend_locked_reason(self) -> str | None:
        """Why the mode cannot change now (a session is open in some tab), or None."""
        return next((r for m in self._members if (r := m.controller.backend_locked_reason) is not None), None)

    def session_ids(self) -> set[str]:
        return {m.controller.session.id for m in self._members if m.controller.session is not None}


__all__ = ["Member", "SessionGroup"]
