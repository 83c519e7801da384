"""Auth signal receivers: `auth.login.success`, `auth.login.failed`, `auth.logout.*`.

Connected by `SecAuditConfig.ready()`. Inside an audited request the event shares the
request's context (same request id, session id, address); outside one (the test
client's `login()`, an ignored path) the request itself is read, and a request without
host information still gives an event, without URL fields (D7).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from sec_audit.core.events import EventType, event_level
from sec_audit.logging import diagnostics

from .. import request as req
from ..context import request_base
from ..drf import drf_attributes
from ..events import make_event, outcome_of
from ..runtime import DjangoLoggingRuntime, get_runtime

__all__ = ["MAX_FAILED_USERNAME_CHARS", "emit_auth_event"]

# The failed-login username is attacker-supplied text: bounded before it goes anywhere.
MAX_FAILED_USERNAME_CHARS = 150


def _request_values(runtime: DjangoLoggingRuntime, request: Any) -> dict[str, Any]:
    values = request_base(runtime, request)
    route, name = req.route_of(request)
    values["http.route"] = route
    values["http.route_name"] = name
    values["action.method"] = values.get("http.request.method")
    values["user_agent.original"] = req.user_agent(request)
    if runtime.drf_active:
        values.update(drf_attributes(request))
    return values


def emit_auth_event(
    event_type: str,
    action: str,
    request: Any,
    user_id: str | None = None,
    user_name: str | None = None,
) -> None:
    runtime = get_runtime()
    values: dict[str, Any] = {}
    if request is not None:
        values.update(_request_values(runtime, request))
    outcome = outcome_of(event_type)
    values.update(
        {
            "user.id": user_id,
            "user.name": user_name if runtime.include_usernames else None,
            "action.name": action,
            "action.result": outcome,
            "outcome": outcome,
        }
    )
    event = make_event(event_type, runtime.schema_version, values)
    runtime.record(event, event_level(event_type))


@receiver(user_logged_in, dispatch_uid="sec_audit.django.auth.logged_in")
def on_user_logged_in(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    if request is None or user is None:
        return
    try:
        user_id, name = req.user_identity(user, get_runtime().include_usernames)
        emit_auth_event(EventType.AUTH_LOGIN_SUCCESS, "login", request, user_id, name)
    except Exception as exc:
        diagnostics.report("audit.auth_login", "login event not written", exc=exc)


@receiver(user_login_failed, dispatch_uid="sec_audit.django.auth.login_failed")
def on_user_login_failed(
    sender: Any, credentials: Any = None, request: Any = None, **kwargs: Any
) -> None:
    try:
        name = None
        if get_runtime().include_usernames and isinstance(credentials, dict):
            raw = credentials.get("username") or credentials.get("email")
            if raw is not None:
                name = str(raw)[:MAX_FAILED_USERNAME_CHARS]
        emit_auth_event(EventType.AUTH_LOGIN_FAILED, "login", request, None, name)
    except Exception as exc:
        diagnostics.report("audit.auth_login_failed", "failed-login event not written", exc=exc)


@receiver(user_logged_out, dispatch_uid="sec_audit.django.auth.logged_out")
def on_user_logged_out(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    if request is None:
        return
    try:
        if user is None:
            emit_auth_event(EventType.AUTH_LOGOUT_UNKNOWN, "logout", request)
            return
        user_id, name = req.user_identity(user, get_runtime().include_usernames)
        emit_auth_event(EventType.AUTH_LOGOUT_SUCCESS, "logout", request, user_id, name)
    except Exception as exc:
        diagnostics.report("audit.auth_logout", "logout event not written", exc=exc)
