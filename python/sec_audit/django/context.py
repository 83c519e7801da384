"""Per-request audit state, which is also the lazy `AuditContext` the view runs under.

The middleware must set a context for the view (auth and model events inside the
request carry its request id, session id, address, URL, path and method), but an
unlogged request must cost next to nothing. So the context is a view of the request
whose fields are computed on first read and then fixed: the HTTP event and every
event raised inside the request see the same values, and a request nobody asks about
never mints an id, resolves an address, builds a URL or touches the session.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from sec_audit.core.context import AuditContext, get_context

from . import request as req
from .sessions import audit_session_id

if TYPE_CHECKING:
    from .runtime import DjangoLoggingRuntime

__all__ = ["RequestAudit", "request_base"]

_UNREAD: Any = object()  # a lazy field not computed yet


class RequestAudit(AuditContext):
    """Everything the audit knows about one request, as a lazy `AuditContext`.

    The lazy fields hold `_UNREAD` until first read (a sentinel, not an unset slot:
    catching the AttributeError of an unset slot costs more than the read).
    """

    __slots__ = (
        "_address",
        "_host",
        "_request_id",
        "_session_id",
        "_url",
        "body",
        "outer",
        "request",
        "runtime",
        "started_ns",
    )
    # Slot types (annotations only: no class attributes, the slots stay lazy).
    _address: Any
    _host: Any
    _request_id: Any
    _session_id: Any
    _url: Any
    body: bytes | str | None
    outer: Any
    request: Any
    runtime: DjangoLoggingRuntime
    started_ns: int

    def __init__(
        self, runtime: DjangoLoggingRuntime, request: Any, started_ns: int, outer: Any = None
    ) -> None:
        # The slots' own setters (the AuditContext dataclass is frozen): nine
        # object.__setattr__ calls were ~10,000 instructions of every request.
        _set_runtime(self, runtime)
        _set_request(self, request)
        _set_started_ns(self, started_ns)
        _set_outer(self, outer)  # an enclosing AuditContext: its request id is reused
        _set_body(self, None)  # set by keep_body when the body is captured
        _set_request_id(self, _UNREAD)
        _set_session_id(self, _UNREAD)
        _set_address(self, _UNREAD)
        _set_url(self, _UNREAD)

    def __repr__(self) -> str:  # never computes a lazy field (no minting, no session)
        return f"<RequestAudit {self.method} {self.path!r}>"

    def keep_body(self, pending: bytes | str | None) -> None:
        _set_body(self, pending)

    @property  # type: ignore[override]
    def request_id(self) -> str:
        rid = self._request_id
        if rid is _UNREAD:
            outer_id = getattr(self.outer, "request_id", None)
            # 32 hex characters, like uuid4().hex, at a quarter of the cost.
            rid = outer_id if isinstance(outer_id, str) and outer_id else os.urandom(16).hex()
            _set_request_id(self, rid)
        return rid  # type: ignore[no-any-return]

    @property  # type: ignore[override]
    def session_id(self) -> str | None:
        sid = self._session_id
        if sid is _UNREAD:
            sid = audit_session_id(self.request) if self.runtime.emit_session_id else None
            _set_session_id(self, sid)
        return sid  # type: ignore[no-any-return]

    @property  # type: ignore[override]
    def source_address(self) -> str | None:
        address = self._address
        if address is _UNREAD:
            rt = self.runtime
            address = req.client_address(self.request, rt.proxy_networks, rt.proxy_count)
            _set_address(self, address)
        return address  # type: ignore[no-any-return]

    @property  # type: ignore[override]
    def url(self) -> str | None:
        url = self._url
        if url is _UNREAD:
            url, host = req.request_url(self.request)
            _set_host(self, host)
            _set_url(self, url)
        return url  # type: ignore[no-any-return]

    @property
    def disallowed_host(self) -> str | None:
        """The raw Host when it is not in ALLOWED_HOSTS (B4), else None."""
        _ = self.url
        return self._host

    @property  # type: ignore[override]
    def path(self) -> str | None:
        return req.request_path(self.request)

    @property  # type: ignore[override]
    def method(self) -> str | None:
        return req.request_method(self.request)

    @property
    def captured_body(self) -> bytes | str | None:
        """What `body.read_for_capture` kept before the view (None: no capture)."""
        return self.body


# Slot writers that bypass the frozen `__setattr__` (a field is written once: by
# `__init__`, `keep_body` or the first read of a lazy field).
_set_runtime = RequestAudit.__dict__["runtime"].__set__
_set_request = RequestAudit.__dict__["request"].__set__
_set_started_ns = RequestAudit.__dict__["started_ns"].__set__
_set_outer = RequestAudit.__dict__["outer"].__set__
_set_body = RequestAudit.__dict__["body"].__set__
_set_request_id = RequestAudit.__dict__["_request_id"].__set__
_set_session_id = RequestAudit.__dict__["_session_id"].__set__
_set_address = RequestAudit.__dict__["_address"].__set__
_set_url = RequestAudit.__dict__["_url"].__set__
_set_host = RequestAudit.__dict__["_host"].__set__


def request_base(runtime: DjangoLoggingRuntime, request: Any) -> dict[str, Any]:
    """Request fields for a non-HTTP event (auth): from the active context when it is this
    request's, else read from the request itself (a fresh request id, as the original)."""
    ctx = get_context()
    if isinstance(ctx, RequestAudit):
        audit = ctx
    elif ctx is not None:  # someone else's context: the original copied its fields
        return {
            "request_id": ctx.request_id,
            "session.id": ctx.session_id,
            "source.address": ctx.source_address,
            "http.request.method": ctx.method,
            "url.full": ctx.url,
            "url.path": ctx.path,
        }
    else:
        audit = RequestAudit(runtime, request, 0)
    return {
        "request_id": audit.request_id,
        "session.id": audit.session_id,
        "source.address": audit.source_address,
        "http.request.method": audit.method,
        "url.full": audit.url,
        "url.path": audit.path,
        "http.request.header.host": audit.disallowed_host,
    }
