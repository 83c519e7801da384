"""django-auditlog forwarding: each `post_log` becomes a `model.*` event.

Field names only (`changed_fields`), never values; the object's `__str__`, the
`object_repr` and `additional_data` are never read. Inside an audited request the
event takes `request_id`, `session.id` and `source.address` from our context, so the
address is the trusted-proxy resolution (W3), not auditlog's left-most
X-Forwarded-For entry; outside a request, auditlog's `remote_addr` is used.
"""

from __future__ import annotations

from typing import Any, Final

from sec_audit.core.context import get_context
from sec_audit.core.events import EventType, event_level
from sec_audit.logging import diagnostics

from ..events import make_event
from ..runtime import DjangoLoggingRuntime, get_runtime

__all__ = ["ACTIONS", "connect", "disconnect", "forward_auditlog"]

ACTIONS: Final = {
    0: EventType.MODEL_CREATE,
    1: EventType.MODEL_UPDATE,
    2: EventType.MODEL_DELETE,
    3: EventType.MODEL_ACCESS,
}
_DISPATCH_UID = "sec_audit.django.model.forward_auditlog"


def _actor_values(runtime: DjangoLoggingRuntime, entry: Any) -> dict[str, Any]:
    actor_id = getattr(entry, "actor_id", None)
    values: dict[str, Any] = {"user.id": None if actor_id is None else str(actor_id)}
    if runtime.include_usernames and actor_id is not None:
        actor = entry.actor
        get_username = getattr(actor, "get_username", None)
        if callable(get_username):
            values["user.name"] = str(get_username())
    return values


def _changed_fields(changes: Any) -> list[str] | None:
    if not isinstance(changes, dict):
        return None
    names = [str(key) for key in changes]
    return [name for name in names if name] or None


def build_model_values(
    runtime: DjangoLoggingRuntime, entry: Any, changes: Any
) -> tuple[str, dict[str, Any]]:
    action: Any = getattr(entry, "action", None)
    event_type = ACTIONS.get(action, EventType.MODEL_UNKNOWN)
    verb = event_type.rsplit(".", 1)[1]
    content_type = getattr(entry, "content_type", None)
    model = getattr(content_type, "model", "") or ""
    app_label = getattr(content_type, "app_label", "") or ""
    values: dict[str, Any] = {
        "action.name": verb,
        "action.type": event_type,
        "model": model,
        "app_label": app_label,
        "model_label": f"{app_label}.{model}" if model and app_label else None,
        "object_id": str(getattr(entry, "object_pk", None)),
        "crud_action": verb,
        "changed_fields": _changed_fields(changes),
    }
    values.update(_actor_values(runtime, entry))
    ctx = get_context()
    if ctx is not None:
        values["request_id"] = ctx.request_id
        values["session.id"] = ctx.session_id
        values["source.address"] = ctx.source_address
    else:
        remote = getattr(entry, "remote_addr", None)
        values["source.address"] = str(remote) if remote else None
    return event_type, values


def forward_auditlog(
    sender: Any,
    log_entry: Any = None,
    changes: Any = None,
    error: Any = None,
    **kwargs: Any,
) -> None:
    """Receiver of `auditlog.signals.post_log`."""
    try:
        runtime = get_runtime()
        if not runtime.model_events_active:
            return
        if error is not None or log_entry is None:
            diagnostics.debug("audit.model_forward_skipped", "auditlog reported no entry")
            return
        if not isinstance(changes, dict):
            changes = getattr(log_entry, "changes", None)
        event_type, values = build_model_values(runtime, log_entry, changes)
        runtime.record(
            make_event(event_type, runtime.schema_version, values), event_level(event_type)
        )
    except Exception as exc:
        diagnostics.report("audit.model_forward_failed", "model event not written", exc=exc)


def connect() -> None:
    from auditlog.signals import post_log

    post_log.connect(forward_auditlog, dispatch_uid=_DISPATCH_UID, weak=False)


def disconnect() -> None:
    try:
        from auditlog.signals import post_log
    except ImportError:
        return
    post_log.disconnect(dispatch_uid=_DISPATCH_UID)
