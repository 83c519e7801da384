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
        setattr_ = object.__setattr__  # the AuditContext dataclass is frozen
        setattr_(self, "runtime", runtime)
        setattr_(self, "request", request)
        setattr_(self, "started_ns", started_ns)
        setattr_(self, "outer", outer)  # an enclosing AuditContext: its request id is reused
        setattr_(self, "body", None)  # set by keep_body when the body is captured
        setattr_(self, "_request_id", _UNREAD)
        setattr_(self, "_session_id", _UNREAD)
        setattr_(self, "_address", _UNREAD)
        setattr_(self, "_url", _UNREAD)

    def __repr__(self) -> str:  # never computes a lazy field (no minting, no session)
        return f"<RequestAudit {self.method} {self.path!r}>"

    def keep_body(self, pending: bytes | str | None) -> None:
        object.__setattr__(self, "body", pending)

    def _keep(self, name: str, value: Any) -> Any:
        object.__setattr__(self, name, value)
        return value

    @property  # type: ignore[override]
    def request_id(self) -> str:
        rid = self._request_id
        if rid is _UNREAD:
            outer_id = getattr(self.outer, "request_id", None)
            # 32 hex characters, like uuid4().hex, at a quarter of the cost.
            rid = outer_id if isinstance(outer_id, str) and outer_id else os.urandom(16).hex()
            self._keep("_request_id", rid)
        return rid  # type: ignore[no-any-return]

    @property  # type: ignore[override]
    def session_id(self) -> str | None:
        sid = self._session_id
        if sid is _UNREAD:
            sid = audit_session_id(self.request) if self.runtime.emit_session_id else None
            self._keep("_session_id", sid)
        return sid  # type: ignore[no-any-return]

    @property  # type: ignore[override]
    def source_address(self) -> str | None:
        address = self._address
        if address is _UNREAD:
            rt = self.runtime
            address = req.client_address(self.request, rt.proxy_networks, rt.proxy_count)
            self._keep("_address", address)
        return address  # type: ignore[no-any-return]

    @property  # type: ignore[override]
    def url(self) -> str | None:
        url = self._url
        if url is _UNREAD:
            url, host = req.request_url(self.request)
            self._keep("_host", host)
            self._keep("_url", url)
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
