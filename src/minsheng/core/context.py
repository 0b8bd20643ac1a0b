"""What the audit trail needs to know about the current request, wherever it is asked."""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    ip: str | None = None


_current: ContextVar[RequestContext | None] = ContextVar("minsheng_request", default=None)


def current() -> RequestContext | None:
    return _current.get()


def current_request_id() -> str:
    ctx = _current.get()
    return ctx.request_id if ctx else ""


def begin(request_id: str | None = None, ip: str | None = None) -> object:
    """Start a context (a request, a command, a task); returns the token for ``end``."""
    return _current.set(RequestContext(request_id or uuid.uuid4().hex, ip))


def end(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
