"""DRF metadata (`drf_*` attributes), read from the URL match Django already made.

After the view, `request.resolver_match.func` is the view function DRF built: it
carries `cls`, `initkwargs` and, for ViewSets, `actions` (method -> action). No view
instance and no serializer is created; results are cached per (view, method).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

__all__ = ["drf_attributes"]


def _names(classes: Any) -> list[str] | None:
    try:
        names = [getattr(c, "__name__", None) or type(c).__name__ for c in classes or ()]
    except TypeError:
        return None
    return names or None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@lru_cache(maxsize=1024)
def _for_view(func: Any, method: str) -> tuple[tuple[str, Any], ...]:
    from rest_framework.views import APIView

    cls = getattr(func, "cls", None)
    if not isinstance(cls, type) or not issubclass(cls, APIView):
        return ()
    actions = getattr(func, "actions", None)
    if isinstance(actions, dict):
        action = _text(actions.get(method.lower()))
    else:
        action = _text(getattr(cls, "action", None))
    initkwargs = getattr(func, "initkwargs", None) or {}
    serializer = getattr(cls, "serializer_class", None)
    values = (
        ("drf_action", action),
        (
            "drf_basename",
            _text(initkwargs.get("basename")) or _text(getattr(cls, "basename", None)),
        ),
        ("drf_view_class", cls.__name__),
        ("drf_serializer_class", getattr(serializer, "__name__", None)),
        ("drf_throttle_scope", _text(getattr(cls, "throttle_scope", None))),
        ("drf_authentication_classes", _names(getattr(cls, "authentication_classes", ()))),
        ("drf_permission_classes", _names(getattr(cls, "permission_classes", ()))),
    )
    return tuple((key, value) for key, value in values if value is not None)


def drf_attributes(request: Any) -> dict[str, Any]:
    """The `drf_*` attributes of the matched view; empty for non-DRF or unmatched requests."""
    match = getattr(request, "resolver_match", None)
    method = getattr(request, "method", None)
    if match is None or not isinstance(method, str):
        return {}
    try:
        items = _for_view(match.func, method)
    except TypeError:  # an unhashable view callable: no cache, compute directly
        items = _for_view.__wrapped__(match.func, method)
    if not items:  # not a DRF view
        return {}
    # Lists are copied: attributes belong to one event (enrichers may mutate them).
    return {key: list(value) if isinstance(value, list) else value for key, value in items}
