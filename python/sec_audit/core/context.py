"""The request-scoped audit context (a ContextVar, so threads and asyncio tasks are isolated)."""

from __future__ import annotations

import uuid
from contextvars import ContextVar, Token
from dataclasses import dataclass

__all__ = ["AuditContext", "get_context", "new_request_id", "reset_context", "set_context"]


@dataclass(frozen=True, slots=True)
class AuditContext:
    """What events raised inside a request (auth, model) share with the HTTP event."""

    request_id: str
    session_id: str | None = None
    url: str | None = None
    path: str | None = None
    source_address: str | None = None
    method: str | None = None


_current: ContextVar[AuditContext | None] = ContextVar("sec_audit_context", default=None)


def new_request_id() -> str:
    """A fresh request id: 32 lowercase hex characters."""
    return uuid.uuid4().hex


def get_context() -> AuditContext | None:
    return _current.get()


def set_context(ctx: AuditContext | None) -> Token[AuditContext | None]:
    """Install `ctx`; keep the token and pass it to `reset_context` (restores the outer one)."""
    return _current.set(ctx)


def reset_context(token: Token[AuditContext | None]) -> None:
    _current.reset(token)
