"""Keep one line under `max_record_bytes` by giving up its largest extras first (B6).

The original replaced any oversize record by a bare malformed_record, silently. We
first replace the largest non-core attribute values by `[TRUNCATED]`, one at a time,
until the line fits, and count them in `audit.degraded`. The line came from the
engine, which writes exactly what `json.dumps` writes, so parsing it and dumping it
again with the same separators reproduces every untouched byte.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["CORE_ATTRIBUTES", "DEGRADED_KEY", "TRUNCATED", "shrink_line"]

# What an investigator needs to place the event; never given up.
CORE_ATTRIBUTES: frozenset[str] = frozenset(
    {
        "event_type",
        "schema_version",
        "request_id",
        "session.id",
        "source.address",
        "http.request.method",
        "http.response.status_code",
        "url.path",
        "user.id",
        "action.name",
        "action.result",
        "outcome",
    }
)
DEGRADED_KEY = "audit.degraded"
TRUNCATED = "[TRUNCATED]"


def shrink_line(line: str, limit: int, *, compact: bool) -> tuple[str, list[str]] | None:
    """(line that fits, keys given up, largest first), or None when that cannot work."""
    record = json.loads(line)
    attrs = record.get("attributes") if isinstance(record, dict) else None
    if not isinstance(attrs, dict):
        return None
    separators = (",", ":") if compact else (", ", ": ")

    def dumps(value: Any) -> str:
        return json.dumps(value, separators=separators)

    marker = len(dumps(TRUNCATED))
    # Largest first; ties keep attribute order (sort is stable).
    candidates = sorted(
        (
            (len(dumps(value)), key)
            for key, value in attrs.items()
            if key not in CORE_ATTRIBUTES and key != DEGRADED_KEY
        ),
        key=lambda item: -item[0],
    )
    # What adding `, "audit.degraded": N` costs (N has at most a few digits).
    overhead = len(separators[0]) + len(dumps(DEGRADED_KEY)) + len(separators[1])
    estimate = len(line)
    dropped: list[str] = []
    for size, key in candidates:
        if size <= marker:
            break  # sorted: nothing left that would shrink the line
        attrs[key] = TRUNCATED
        dropped.append(key)
        estimate -= size - marker
        if estimate + overhead + len(str(len(dropped))) <= limit:
            attrs[DEGRADED_KEY] = len(dropped)
            shrunk = dumps(record)
            if len(shrunk) <= limit:
                return shrunk, dropped
    return None
