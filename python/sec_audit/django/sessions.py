"""The audit session id (`session.id`): a random id kept in `request.session`.

Never derived from the session key (that is a credential). It survives login
(`cycle_key` keeps the data) and is lost at logout (`flush`). Only touched for an event
that is actually written, so an unlogged request never creates a session or a cookie.
"""

from __future__ import annotations

from typing import Any

from sec_audit.core.context import new_request_id

__all__ = ["SESSION_KEY", "audit_session_id"]

SESSION_KEY = "_sec_audit_session_id"


def audit_session_id(request: Any) -> str | None:
    """The request's audit session id, minted (and persisted) on first use; None without a session."""
    session = getattr(request, "session", None)
    if session is None:
        return None
    current = session.get(SESSION_KEY)
    if isinstance(current, str) and current:
        return current
    minted = new_request_id()
    session[SESSION_KEY] = minted  # marks the session modified: SessionMiddleware saves it
    return minted
