"""Per-request audit state and the lazy `AuditContext` the view runs under.

The middleware must set a context for the view (auth and model events inside the
request carry its request id, session id, address, URL, path and method), but an
unlogged request must cost next to nothing. So the context is a view of the request
whose fields are computed on first read and then fixed: the HTTP event and every
event raised inside the request see the same values, and a request nobody asks about
never mints an id, resolves an address, builds a URL or touches the session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sec_audit.core.context import AuditContext, get_context, new_request_id

from . import request as req
from .sessions import audit_session_id

if TYPE_CHECKING:
    from .runtime import DjangoLoggingRuntime

__all__ = ["RequestAudit", "RequestContext", "request_base"]

_UNSET: Any = object()


class RequestAudit:
    """Everything the audit knows about one request; values are computed once, lazily."""

    __slots__ = (
        "_address",
        "_host",
        "_request_id",
        "_session_id",
        "_url",
        "body",
        "context",
        "error_type",
        "outer",
        "request",
        "runtime",
        "started_ns",
    )

    def __init__(
        self, runtime: DjangoLoggingRuntime, request: Any, started_ns: int, outer: Any = None
    ) -> None:
        self.runtime = runtime
        self.request = request
        self.started_ns = started_ns
        self.outer = outer  # an enclosing AuditContext: its request id is reused
        self.body: bytes | str | None = None
        self.error_type: str | None = None
        self._request_id: str | None = None
        self._session_id: Any = _UNSET
        self._address: Any = _UNSET
        self._url: Any = _UNSET
        self._host: str | None = None
        self.context = RequestContext(self)

    @property
    def request_id(self) -> str:
        rid = self._request_id
        if rid is None:
            outer_id = getattr(self.outer, "request_id", None) if self.outer is not None else None
            rid = outer_id if isinstance(outer_id, str) and outer_id else new_request_id()
            self._request_id = rid
        return rid

    @property
    def session_id(self) -> str | None:
        sid = self._session_id
        if sid is _UNSET:
            sid = audit_session_id(self.request) if self.runtime.emit_session_id else None
            self._session_id = sid
        return sid  # type: ignore[no-any-return]

    @property
    def source_address(self) -> str | None:
        address = self._address
        if address is _UNSET:
            rt = self.runtime
            address = req.client_address(self.request, rt.proxy_networks, rt.proxy_count)
            self._address = address
        return address  # type: ignore[no-any-return]

    @property
    def url(self) -> str | None:
        url = self._url
        if url is _UNSET:
            url, self._host = req.request_url(self.request)
            self._url = url
        return url  # type: ignore[no-any-return]

    @property
    def disallowed_host(self) -> str | None:
        """The raw Host when it is not in ALLOWED_HOSTS (B4), else None."""
        _ = self.url
        return self._host

    @property
    def path(self) -> str | None:
        return req.request_path(self.request)

    @property
    def method(self) -> str | None:
        return req.request_method(self.request)


class RequestContext(AuditContext):
    """An `AuditContext` whose fields come from a `RequestAudit` on first read."""

    __slots__ = ("_audit",)

    def __init__(self, audit: RequestAudit) -> None:
        object.__setattr__(self, "_audit", audit)

    @property  # type: ignore[override]
    def request_id(self) -> str:
        return self._audit.request_id

    @property  # type: ignore[override]
    def session_id(self) -> str | None:
        return self._audit.session_id

    @property  # type: ignore[override]
    def url(self) -> str | None:
        return self._audit.url

    @property  # type: ignore[override]
    def path(self) -> str | None:
        return self._audit.path

    @property  # type: ignore[override]
    def source_address(self) -> str | None:
        return self._audit.source_address

    @property  # type: ignore[override]
    def method(self) -> str | None:
        return self._audit.method

    @property
    def audit(self) -> RequestAudit:
        return self._audit


def request_base(runtime: DjangoLoggingRuntime, request: Any) -> dict[str, Any]:
    """Request fields for a non-HTTP event (auth): from the active context when it is this
    request's, else read from the request itself (a fresh request id, as the original)."""
    ctx = get_context()
    if isinstance(ctx, RequestContext):
        audit = ctx.audit
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
