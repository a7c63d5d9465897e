"""The wire between the window's process and the agent's (``agent_process`` ↔ ``agent_host``).

Messages are JSON, each preceded by its length (4 bytes, big-endian), over one loopback connection
the window's side accepts only with the one-time token it gave the agent (``agent_process``). Either side may call the other (``call`` → a reply with the same id, or an error)
or tell it something (``tell``: no reply). Values are the plain data of ``core.ports`` and the few
other frozen dataclasses named in ``WIRE_TYPES``; anything else is refused, on both sides.

What crosses holds secrets (the model's key, the vault's values, what the person typed): it is never
logged here, and the socket is never a file, a port or an argument.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import logging
import struct
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from enum import Enum
from typing import Any

from desktop_app.core.access import TaskAccess
from desktop_app.core.errors import BackendError, Problem
from desktop_app.core.page_masks import Box, HiddenField, PageMasks
from desktop_app.core.ports import (
    HandBackContext,
    InterruptOutcome,
    RunHandle,
    RunResult,
    RunStatus,
    SessionInfo,
    StepReport,
    TaskRequest,
)
from desktop_app.core.site_rules import Duty, SiteRule, SiteRules
from desktop_app.core.vault import EntryValues, VaultEntry
from desktop_app.settings import LLMSettings

log = logging.getLogger(__name__)

MAX_MESSAGE = 256 * 1024 * 1024  # a page's masks or a step's report are far smaller: a broken peer
_LENGTH = struct.Struct(">I")

WIRE_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Box,
        Duty,
        EntryValues,
        HandBackContext,
        HiddenField,
        InterruptOutcome,
        LLMSettings,
        PageMasks,
        Problem,
        RunHandle,
        RunResult,
        RunStatus,
        SessionInfo,
        SiteRule,
        SiteRules,
        StepReport,
        TaskAccess,
        TaskRequest,
        VaultEntry,
    )
}


class WireError(RuntimeError):
    """The other side sent what this side cannot read, or went away."""


def encode(value: Any) -> Any:
    """``value`` as JSON-ready data, each wire type tagged with its name."""
    if isinstance(value, Enum):  # before str: some enums are strings too (``Duty``)
        return {"$enum": type(value).__name__, "value": value.value}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if WIRE_TYPES.get(name) is not type(value):
            raise WireError(f"{name} does not cross the wire")
        return {"$": name, **{f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, BackendError):
        return {
            "$error": value.problem.value,
            "message": value.message,
            "detail": value.detail,
            "retry_after": value.retry_after,
            "unconfirmed_since": value.unconfirmed_since,
        }
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, frozenset):
        return {"$frozenset": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, Mapping):
        return {"$map": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    raise WireError(f"{type(value).__name__} does not cross the wire")


def decode(data: Any) -> Any:
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        raise WireError(f"unreadable value of type {type(data).__name__}")
    if "$" in data:
        cls = WIRE_TYPES.get(data["$"])
        if cls is None or not dataclasses.is_dataclass(cls):
            raise WireError(f"unknown type {data['$']!r}")
        return cls(**{k: decode(v) for k, v in data.items() if k != "$"})
    if "$enum" in data:
        enum = WIRE_TYPES.get(data["$enum"])
        if enum is None or not issubclass(enum, Enum):
            raise WireError(f"unknown enum {data['$enum']!r}")
        return enum(data["value"])
    if "$error" in data:
        return BackendError(
            Problem(data["$error"]),
            data["message"],
            detail=data.get("detail"),
            retry_after=data.get("retry_after"),
            unconfirmed_since=data.get("unconfirmed_since"),
        )
    if "$tuple" in data:
        return tuple(decode(v) for v in data["$tuple"])
    if "$frozenset" in data:
        return frozenset(decode(v) for v in data["$frozenset"])
    if "$map" in data:
        return {decode(k): decode(v) for k, v in data["$map"]}
    if "$decimal" in data:
        return Decimal(data["$decimal"])
    raise WireError("unreadable object")


Handler = Callable[..., Awaitable[Any]]
Listener = Callable[..., None]


class Channel:
    """One end of the wire: calls out, answers the calls coming in with ``handlers``, and passes
    what it is told to ``listeners``. ``closed`` is done when the other side has gone."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self.handlers: dict[str, Handler] = {}
        self.listeners: dict[str, Listener] = {}
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tasks: set[asyncio.Task[None]] = set()
        self._receiving = asyncio.get_running_loop().create_task(self._receive())

    async def call(self, name: str, **args: Any) -> Any:
        """The other side's answer to ``name(**args)``; its BackendError raised here as it was."""
        if self.closed.done():
            raise WireError("the other side has gone")
        number = next(self._ids)
        answer = asyncio.get_running_loop().create_future()
        self._waiting[number] = answer
        try:
            self._send({"id": number, "call": name, "args": encode(args)})
            return await answer
        finally:
            self._waiting.pop(number, None)

    def tell(self, name: str, **args: Any) -> None:
        if not self.closed.done():
            self._send({"tell": name, "args": encode(args)})

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._writer.close()
        self._receiving.cancel()
        self._gone(WireError("the wire was closed"))

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message, separators=(",", ":")).encode()
        self._writer.write(_LENGTH.pack(len(body)) + body)

    async def _receive(self) -> None:
        error: Exception = WireError("the other side has gone")
        try:
            while True:
                (length,) = _LENGTH.unpack(await self._reader.readexactly(_LENGTH.size))
                if length > MAX_MESSAGE:
                    raise WireError(f"a message of {length} bytes")
                self._dispatch(json.loads(await self._reader.readexactly(length)))
        except asyncio.CancelledError:
            raise
        except (asyncio.IncompleteReadError, ConnectionError) as lost:
            error = WireError(f"the other side has gone ({type(lost).__name__})")
        except Exception as broken:  # noqa: BLE001 — any unreadable message ends the wire
            log.warning("The wire to the agent's process broke: %s", type(broken).__name__)
            error = broken if isinstance(broken, WireError) else WireError(f"an unreadable message ({type(broken).__name__})")
        finally:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._gone(error)

    def _gone(self, error: Exception) -> None:
        for answer in self._waiting.values():
            if not answer.done():
                answer.set_exception(error)
        if not self.closed.done():
            self.closed.set_result(None)

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "call" in message:
            task = asyncio.get_running_loop().create_task(self._answer(message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif "tell" in message:
            # After the wake-up of a caller whose answer came just before: what the other side tells
            # after answering is heard after the answer, as it was said.
            asyncio.get_running_loop().call_soon(self._hear, message["tell"], decode(message["args"]))
        else:
            answer = self._waiting.get(message.get("id", -1))
            if answer is None or answer.done():
                return  # its caller gave up waiting
            if "error" in message:
                failure = decode(message["error"])
                answer.set_exception(failure if isinstance(failure, BackendError) else WireError(f"an unreadable error: {failure!r}"))
            else:
                answer.set_result(decode(message.get("result")))

    def _hear(self, name: str, args: dict[str, Any]) -> None:
        listener = self.listeners.get(name)
        if listener is None:
            log.warning("Nothing listens to %r from the other process", name)
            return
        try:
            listener(**args)
        except Exception:  # a listener's fault is this side's: the wire and the session go on
            log.exception("Handling %r from the other process failed", name)

    async def _answer(self, message: dict[str, Any]) -> None:
        number = message["id"]
        handler = self.handlers.get(message["call"])
        try:
            if handler is None:
                raise WireError(f"no call named {message['call']!r}")
            result = await handler(**decode(message["args"]))
            reply: dict[str, Any] = {"id": number, "result": encode(result)}
        except BackendError as error:
            reply = {"id": number, "error": encode(error)}
        except Exception as error:  # noqa: BLE001 — told to the caller, who decides
            log.warning("A call from the other process failed: %s: %s", type(error).__name__, error, exc_info=True)
            failure = BackendError(Problem.INTERNAL, f"The agent could not do that ({type(error).__name__}).", detail=str(error)[:300])
            reply = {"id": number, "error": encode(failure)}
        if not self.closed.done():
            self._send(reply)
