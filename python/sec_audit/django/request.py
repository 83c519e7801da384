"""What the audit reads from a Django request: URL, path, client IP, user, route, headers.

Every function here is defensive: a request may be a bare `HttpRequest()` (the test
client's `login()`), carry a disallowed Host, or hold attacker-controlled bytes in any
header. Nothing raises; a field that cannot be read is None (and then omitted).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from types import CodeType
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.signals import setting_changed
from django.http import HttpRequest
from django.http.request import split_domain_port, validate_host
from django.utils.encoding import escape_uri_path
from django.utils.functional import SimpleLazyObject, empty

from sec_audit.core.ip import Network, resolve_client_ip

__all__ = [
    "MAX_HOST_CHARS",
    "MAX_QUERY_CHARS",
    "MAX_USER_AGENT_CHARS",
    "QueryRedactor",
    "client_address",
    "error_class_name",
    "error_type_name",
    "raw_host",
    "request_method",
    "request_path",
    "request_url",
    "request_user",
    "route_of",
    "user_agent",
    "user_identity",
]

MAX_HOST_CHARS = 256
MAX_USER_AGENT_CHARS = 512
# The query is cut before it is parsed, so a huge query string costs bounded work; the
# engine truncates the result to max_string_length anyway.
MAX_QUERY_CHARS = 8192
REDACTED = "[REDACTED]"


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "[TRUNCATED]"


def request_method(request: Any) -> str | None:
    method = getattr(request, "method", None)
    return method if isinstance(method, str) and method else None


def request_path(request: Any) -> str | None:
    """`url.path`: the decoded path with SCRIPT_NAME (B5), no query."""
    path = getattr(request, "path", None)
    return path if isinstance(path, str) and path else None


def raw_host(request: Any) -> str | None:
    """The Host the client sent (as Django would read it), bounded; for B4 only."""
    meta = getattr(request, "META", None) or {}
    host = None
    if getattr(settings, "USE_X_FORWARDED_HOST", False):
        host = meta.get("HTTP_X_FORWARDED_HOST")
    host = host or meta.get("HTTP_HOST") or meta.get("SERVER_NAME")
    return _bounded(host, MAX_HOST_CHARS) if isinstance(host, str) and host else None


# Host validation is Django's `get_host()` logic, memoised per raw host: the same few
# hosts arrive again and again, and the check (pattern matching against ALLOWED_HOSTS)
# costs more than the rest of the URL. Cleared whenever a setting it reads changes.
_HOST_SETTINGS = frozenset(
    {"ALLOWED_HOSTS", "DEBUG", "USE_X_FORWARDED_HOST", "USE_X_FORWARDED_PORT"}
)


_MAX_CACHED_KEY = 256  # longer (attacker-made) keys are computed, never cached


def _host_allowed(host: str) -> bool:
    return _host_allowed_cached(host) if len(host) <= _MAX_CACHED_KEY else _host_check(host)


def _host_check(host: str) -> bool:
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    domain, _ = split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed)


_host_allowed_cached = lru_cache(maxsize=512)(_host_check)


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    global _proxy_ssl_header
    if setting in _HOST_SETTINGS:
        _host_allowed_cached.cache_clear()
    if setting in _PREFIX_SETTINGS:
        _prefixes.clear()
        _proxy_ssl_header = _UNREAD


setting_changed.connect(_on_setting_changed, dispatch_uid="sec_audit.django.request.hosts")


_STOCK_GET_HOST = HttpRequest.get_host


def _checked_host(request: Any) -> str:
    get_raw = getattr(request, "_get_raw_host", None)
    if get_raw is None or type(request).get_host is not _STOCK_GET_HOST:
        return str(request.get_host())  # a customised request class: use its own logic
    host = get_raw()
    if not _host_allowed(host):
        raise DisallowedHost(host)
    return str(host)


# The `scheme://host` prefix of `url.full` (or the disallowed raw host), memoised on
# everything Django's `scheme` and `get_host()` read from the request: reading them
# through the settings costs more than the rest of the URL. Only for the stock request
# classes (a subclass may compute either differently); cleared when a setting they read
# changes, and when full (attacker-varied hosts only churn it).
_PREFIX_SETTINGS = _HOST_SETTINGS | {"SECURE_PROXY_SSL_HEADER"}
_STOCK_SCHEME = HttpRequest.scheme
_STOCK_RAW_HOST = HttpRequest._get_raw_host  # type: ignore[attr-defined]
_STOCK_PORT = HttpRequest.get_port
_MAX_PREFIXES = 512
_UNREAD: Any = object()
_proxy_ssl_header: Any = _UNREAD
_prefixes: dict[tuple[Any, ...], tuple[str | None, str | None]] = {}


def _prefix_key(request: Any) -> tuple[Any, ...] | None:
    global _proxy_ssl_header
    cls = type(request)
    if (
        cls.get_host is not _STOCK_GET_HOST
        or cls.scheme is not _STOCK_SCHEME
        or cls._get_raw_host is not _STOCK_RAW_HOST
        or cls.get_port is not _STOCK_PORT
    ):
        return None
    meta = request.META
    header = _proxy_ssl_header
    if header is _UNREAD:
        header = _proxy_ssl_header = settings.SECURE_PROXY_SSL_HEADER
    # The headers a client chooses; long ones are computed, never cached.
    proto = meta.get(header[0]) if isinstance(header, (tuple, list)) and header else None
    fwd_host = meta.get("HTTP_X_FORWARDED_HOST")
    host = meta.get("HTTP_HOST")
    fwd_port = meta.get("HTTP_X_FORWARDED_PORT")
    sent = len(proto or "") + len(fwd_host or "") + len(host or "") + len(fwd_port or "")
    if sent > _MAX_CACHED_KEY:
        return None
    return (
        cls,
        request._get_scheme(),
        proto,
        fwd_host,
        host,
        fwd_port,
        meta.get("SERVER_NAME"),
        meta.get("SERVER_PORT"),
    )


def _url_prefix(request: Any) -> tuple[str | None, str | None]:
    """(`scheme://host`, disallowed raw host), or (None, None) without host information."""
    try:
        host = _checked_host(request)
    except DisallowedHost:
        return None, raw_host(request)
    except Exception:  # a bare HttpRequest has no SERVER_NAME
        return None, None
    try:
        return f"{request.scheme}://{host}", None
    except Exception:
        return None, None


def request_url(request: Any) -> tuple[str | None, str | None]:
    """(`url.full`, disallowed raw host).

    Built from the raw (re-escaped) full path with SCRIPT_NAME, so an encoded `%3F`
    stays in the path (B5). A Host outside ALLOWED_HOSTS gives no URL but the raw host
    (B4); a request without host information (D7) gives neither.
    """
    path = request_path(request)
    if path is None:
        return None, None
    try:
        key = _prefix_key(request)
    except Exception:
        key = None
    found = _prefixes.get(key) if key is not None else None
    if found is None:
        found = _url_prefix(request)
        if key is not None and (found[0] is not None or found[1] is not None):
            if len(_prefixes) >= _MAX_PREFIXES:
                _prefixes.clear()
            _prefixes[key] = found
    prefix, disallowed = found
    if prefix is None:
        return None, disallowed
    # `escape_uri_path` (urllib's quote) returns a path made only of its safe
    # characters unchanged: skip the call for those (nearly all paths).
    escaped = path if path.isascii() and not path.rstrip(_URI_SAFE) else escape_uri_path(path)
    return prefix + escaped, None


# urllib.parse's always-safe characters plus the `safe` argument of Django's
# `escape_uri_path`: exactly the characters `quote` leaves as they are.
_URI_SAFE = (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~" + "/:@&+$,-_.!~*'()"
)


@lru_cache(maxsize=2048)
def _resolved(
    remote: str | None, forwarded: str | None, networks: tuple[Network, ...], count: int | None
) -> str | None:
    # A pure function of its inputs: addresses repeat, so parse each only once.
    return resolve_client_ip(remote, forwarded, networks, count).address


def client_address(request: Any, networks: Sequence[Network], count: int | None) -> str | None:
    meta = getattr(request, "META", None)
    if not meta:
        return None
    remote = meta.get("REMOTE_ADDR")
    forwarded = meta.get("HTTP_X_FORWARDED_FOR") if networks else None
    remote = remote if isinstance(remote, str) else None
    forwarded = forwarded if isinstance(forwarded, str) else None
    if len(remote or "") > _MAX_CACHED_KEY or len(forwarded or "") > _MAX_CACHED_KEY:
        return resolve_client_ip(remote, forwarded, networks, count).address
    if type(networks) is not tuple:
        networks = tuple(networks)
    return _resolved(remote, forwarded, networks, count)


def user_agent(request: Any) -> str | None:
    meta = getattr(request, "META", None) or {}
    agent = meta.get("HTTP_USER_AGENT")
    if not isinstance(agent, str) or not agent:
        return None
    return agent if len(agent) <= MAX_USER_AGENT_CHARS else _bounded(agent, MAX_USER_AGENT_CHARS)


class _AuthHooks:
    """What `request_user` compares against, read once (the auth middleware module
    imports models, so not before the apps are ready)."""

    __slots__ = (
        "auth",
        "auth_get_user",
        "code",
        "get_session",
        "middleware",
        "middleware_get_user",
    )

    def __init__(self) -> None:
        self.code: CodeType | None = None
        try:
            from django.contrib import auth
            from django.contrib.auth import middleware
            from django.contrib.sessions.backends.base import SessionBase
        except Exception:
            return
        self.auth: Any = auth
        self.middleware: Any = middleware
        # Django's `lambda: get_user(request)`, the `get_user` functions it ends in,
        # and the session loading that decides what an unloaded session holds.
        self.middleware_get_user = middleware.get_user
        self.auth_get_user = auth.get_user
        self.get_session = SessionBase._get_session  # type: ignore[attr-defined]
        for const in middleware.AuthenticationMiddleware.process_request.__code__.co_consts:
            if isinstance(const, CodeType) and const.co_name == "<lambda>":
                self.code = const
                break


_auth_hooks: _AuthHooks | None = None


def request_user(request: Any) -> Any:
    """`request.user`, or None when it can only be the anonymous user.

    Django's AuthenticationMiddleware sets a lazy `request.user`; evaluating it loads
    the session (and marks it accessed, which adds `Vary: Cookie` to the response) and
    looks the user up. When nothing has evaluated it yet, the request carries no
    session cookie and nothing has loaded the session, the stock lookup can only give
    `AnonymousUser` (an empty session has no user id): skip it. Anything else (another
    lazy factory, a patched `get_user`, a custom session class, a loaded session) is
    evaluated as before.
    """
    global _auth_hooks
    user = getattr(request, "user", None)
    if type(user) is not SimpleLazyObject:
        return user
    try:
        if object.__getattribute__(user, "_wrapped") is not empty:
            return user
        hooks = _auth_hooks
        if hooks is None:
            hooks = _auth_hooks = _AuthHooks()
        code = hooks.code
        if (
            code is None
            or getattr(object.__getattribute__(user, "_setupfunc"), "__code__", None) is not code
        ):
            return user
        if (
            hooks.middleware.get_user is not hooks.middleware_get_user
            or hooks.auth.get_user is not hooks.auth_get_user
            or hasattr(request, "_cached_user")
        ):
            return user
        session = request.session
        if (
            getattr(type(session), "_get_session", None) is not hooks.get_session
            or session.session_key is not None
            or hasattr(session, "_session_cache")
        ):
            return user
    except Exception:
        return user
    return None


def user_identity(user: Any, include_name: bool) -> tuple[str | None, str | None]:
    """(`user.id`, `user.name`) of an authenticated user; `get_username` only when asked."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None, None
    pk = getattr(user, "pk", None)
    if pk is None:
        pk = getattr(user, "id", None)
    user_id = None if pk is None else str(pk)
    name = None
    if include_name:
        get_username = getattr(user, "get_username", None)
        if callable(get_username):
            value = get_username()
            name = None if value is None else str(value)
    return user_id, name


def route_of(request: Any) -> tuple[str | None, str | None]:
    """(`http.route`, `http.route_name`) from the match Django already made (no resolve)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return None, None
    route = getattr(match, "route", None)
    pattern = "/" + route.lstrip("/") if isinstance(route, str) else None
    name = getattr(match, "view_name", None)
    return pattern, name if isinstance(name, str) else None


def error_type_name(exc: BaseException) -> str:
    """`error.type`: the exception's fully qualified class name (builtins unqualified)."""
    return error_class_name(type(exc))


def error_class_name(cls: type) -> str:
    """`error_type_name` of an exception class."""
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


class QueryRedactor:
    """`url.query`: the raw query string with the values of sensitive keys redacted.

    Keys are decoded (`+`, `%XX`) only to decide sensitivity, then matched exactly as
    body and attribute keys are: folded, `sensitive_keys` as substrings, the
    `sensitive_key_sets` words as whole tokens, the allowlist exact. The text written
    is the raw text the client sent, so nothing is normalised away. Value patterns and
    detectors then run on the whole string in the engine, like any attribute.
    """

    __slots__ = ("_is_sensitive",)

    def __init__(
        self, sensitive_keys: Sequence[str], allowlist: Sequence[str], key_sets: Sequence[str] = ()
    ) -> None:
        from sec_audit.core.config import key_set_words
        from sec_audit.core.engine.python.keys import KeyMatcher

        matcher = KeyMatcher(sensitive_keys, allowlist, key_set_words(key_sets))
        self._is_sensitive = matcher.is_sensitive

    def __call__(self, query: str) -> str:
        from urllib.parse import unquote_plus

        cut = len(query) > MAX_QUERY_CHARS
        if cut:
            query = query[:MAX_QUERY_CHARS]
        parts = []
        for piece in query.split("&"):
            key, sep, _ = piece.partition("=")
            if sep and self._is_sensitive(unquote_plus(key)):
                piece = f"{key}={REDACTED}"
            parts.append(piece)
        text = "&".join(parts)
        return text + "[TRUNCATED]" if cut else text
