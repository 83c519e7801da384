"""The projection walk: key redaction, string rule, limits and JSON writing in one pass.

Iterative (an explicit stack of open containers), so depth costs no Python recursion;
containers are iterated lazily and abandoned at their cap, so a million-item list
costs `max_sequence_length` steps. Output goes straight into a list of str chunks.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import ipaddress
import pathlib
import sys
import types
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from ...events import PROTECTED_KEYS
from ..detectors import DetectorSet
from ..fragment import BodyFragment
from .json_writer import compact_json, encode_float, encode_int, encode_str
from .keys import KeyMatcher
from .strings import REDACTED, TRUNCATED, StringRule

__all__ = ["KEY_EXEMPT", "VALUE_EXEMPT", "Projector", "Walk", "verbatim_projector"]

# Fix B1: our own top-level attributes are never key-redacted...
KEY_EXEMPT = frozenset(
    {
        "event_type",
        "schema_version",
        "request_id",
        "session.id",
        "source.address",
        "url.full",
        "url.path",
        "http.request.method",
        "action.method",
    }
)
# ...and the identity attributes (core/events.py) are not scanned either.
VALUE_EXEMPT = PROTECTED_KEYS

Q_REDACTED = encode_str(REDACTED)
Q_TRUNCATED = encode_str(TRUNCATED)
OVERFLOW_KEY = "_truncated"
_STRINGIFIED = (
    uuid.UUID,
    decimal.Decimal,
    pathlib.PurePath,
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
)
_END = object()


def unserializable(value: object) -> str:
    cls = type(value)
    return f"<unserializable:{cls.__module__}.{cls.__name__}>"


class _Frame:
    """An open mapping or sequence: where its walk stands."""

    __slots__ = (
        "cap",
        "depth",
        "entries",
        "index",
        "is_map",
        "oid",
        "pending",
        "redact",
        "scan",
        "slots",
        "top",
    )

    def __init__(
        self,
        is_map: bool,
        entries: Iterator[Any],
        cap: int,
        depth: int,
        oid: int,
        scan: bool,
        redact: bool,
        top: bool,
    ) -> None:
        self.is_map = is_map
        self.entries = entries
        self.cap = cap
        self.depth = depth
        self.oid = oid
        self.scan = scan
        self.redact = redact
        self.top = top
        self.index = 0
        # Mapping only: output key -> chunk range of its value (dict semantics for
        # colliding output keys), and the entry being written: (key, start, old range).
        self.slots: dict[str, tuple[int, int]] = {}
        self.pending: tuple[str, int, tuple[int, int] | None] | None = None


class Projector:
    """Compiled-once rules; `walk(compact)` starts one output."""

    def __init__(self, limits: Any, keys: KeyMatcher, strings: StringRule) -> None:
        self.max_depth: int = limits.max_depth
        self.max_entries: int = limits.max_mapping_entries
        self.max_items: int = limits.max_sequence_length
        self.max_attributes: int = limits.max_attributes
        self.keys = keys
        self.strings = strings

    def walk(self, compact: bool, out: list[str] | None = None) -> Walk:
        """A new output (or one more value appended to `out`, the chunks of another)."""
        return Walk(self, compact, out)


def verbatim_projector() -> Projector:
    """The rules for the envelope's own members (docs/engine.md, clarification 1): the
    same walk with every limit infinite, no value scanning and no key redaction, so
    cycles, enum chains and the type rules (markers) still hold but nothing is cut."""
    unbounded = sys.maxsize
    limits = types.SimpleNamespace(
        max_depth=unbounded,
        max_mapping_entries=unbounded,
        max_sequence_length=unbounded,
        max_attributes=unbounded,
    )
    strings = StringRule((), DetectorSet(()), "value", unbounded)
    return Projector(limits, KeyMatcher((), ()), strings)


class Walk:
    """One output under construction: `out` chunks, the current path, the open frames."""

    def __init__(self, rules: Projector, compact: bool, out: list[str] | None = None) -> None:
        self.rules = rules
        self.compact = compact
        self.item_sep = "," if compact else ", "
        self.key_sep = ":" if compact else ": "
        self.out: list[str] = [] if out is None else out
        self._path: set[int] = set()
        self._stack: list[_Frame] = []

    def text(self) -> str:
        return "".join(self.out)

    # --- entry points ---------------------------------------------------------------

    def attributes(self, attributes: Mapping[Any, Any]) -> None:
        """The attribute walk: depth 0, cap max_attributes, top-level exemptions."""
        self._open(attributes, True, self.rules.max_attributes, 0, True, True, top=True)
        self._run()

    def value(self, value: Any, depth: int, scan: bool, redact: bool) -> None:
        """Project one value at `depth`; `scan`/`redact` hold for its whole subtree."""
        self._emit(value, depth, scan, redact)
        self._run()

    def fragment(self, fragment: BodyFragment) -> None:
        self.out.append(compact_json(fragment.json) if self.compact else fragment.json)

    # --- one value ------------------------------------------------------------------

    def _emit(self, value: Any, depth: int, scan: bool, redact: bool) -> None:
        """Write a scalar, or open a container frame (its items follow in `_run`)."""
        rules = self.rules
        out = self.out
        if depth >= rules.max_depth:
            out.append(Q_TRUNCATED)
            return
        # Fast paths for the common exact types (same result as the ordered rules below).
        kind = type(value)
        if kind is str:
            out.append(encode_str(rules.strings.apply(value, scan)))
            return
        if kind is dict:
            self._open(value, True, rules.max_entries, depth, scan, redact)
            return
        enums_seen: set[int] | None = None
        while True:
            if value is None:
                out.append("null")
            elif value is True:
                out.append("true")
            elif value is False:
                out.append("false")
            elif isinstance(value, int):
                out.append(encode_int(value))
            elif isinstance(value, float):
                out.append(encode_float(value))
            elif isinstance(value, str):
                text = value if type(value) is str else str.__str__(value)
                out.append(encode_str(rules.strings.apply(text, scan)))
            elif isinstance(value, (bytes, bytearray)):
                out.append(Q_REDACTED)
            elif isinstance(value, datetime.date):
                out.append(encode_str(rules.strings.apply(value.isoformat(), scan)))
            elif isinstance(value, _STRINGIFIED):
                out.append(encode_str(rules.strings.apply(str(value), scan)))
            elif isinstance(value, enum.Enum):
                # Fix B7: the member's value stays at this depth, on this path. A chain
                # of members that comes back to itself is a cycle.
                enums_seen = enums_seen or set()
                if id(value) in enums_seen:
                    out.append(Q_REDACTED)
                    return
                enums_seen.add(id(value))
                value = value.value
                continue
            elif isinstance(value, Mapping):
                self._open(value, True, rules.max_entries, depth, scan, redact)
            elif isinstance(value, (set, frozenset)):
                out.append(encode_str(unserializable(value)))
            elif isinstance(value, (list, tuple)):
                self._open(value, False, rules.max_items, depth, scan, redact)
            else:
                out.append(encode_str(unserializable(value)))
            return

    def _open(
        self,
        container: Any,
        is_map: bool,
        cap: int,
        depth: int,
        scan: bool,
        redact: bool,
        top: bool = False,
    ) -> None:
        oid = id(container)
        if oid in self._path:
            # A cycle: the container is already open above us (golden G13, tests/unit/test_golden.py).
            self.out.append(Q_REDACTED)
            return
        self._path.add(oid)
        entries = iter(container.items()) if is_map else iter(container)
        self._stack.append(_Frame(is_map, entries, cap, depth, oid, scan, redact, top))
        self.out.append("{" if is_map else "[")

    # --- the loop over open containers -------------------------------------------------

    def _run(self) -> None:
        stack = self._stack
        while stack:
            frame = stack[-1]
            height = len(stack)
            if frame.is_map:
                advanced = self._map_step(frame)
            else:
                advanced = self._seq_step(frame)
            if not advanced:
                self._close(frame)
            elif frame.is_map and len(stack) == height:
                # The value was a scalar (no frame opened): the entry is complete.
                self._finish_entry(frame)

    def _close(self, frame: _Frame) -> None:
        self.out.append("}" if frame.is_map else "]")
        self._path.discard(frame.oid)
        self._stack.pop()
        if self._stack and self._stack[-1].is_map:
            self._finish_entry(self._stack[-1])

    def _seq_step(self, frame: _Frame) -> bool:
        """Write the next item; False when the sequence is finished."""
        item = next(frame.entries, _END)
        if item is _END:
            return False
        if frame.index == frame.cap:
            # There is at least one item past the cap; the rest are never visited.
            self.out.append(self.item_sep + Q_TRUNCATED)
            return False
        if frame.index:
            self.out.append(self.item_sep)
        frame.index += 1
        self._emit(item, frame.depth + 1, frame.scan, frame.redact)
        return True

    def _map_step(self, frame: _Frame) -> bool:
        """Start the next entry; False when the mapping is finished."""
        entry: Any = next(frame.entries, _END)
        if entry is _END:
            return False
        if frame.index == frame.cap:
            self._set_literal(frame, OVERFLOW_KEY, Q_TRUNCATED)
            return False
        frame.index += 1
        key, value = entry
        key_text = (
            key if type(key) is str else (str.__str__(key) if isinstance(key, str) else str(key))
        )
        self._begin_entry(frame, self.rules.strings.truncate(key_text))
        depth = frame.depth + 1
        top = frame.top
        if (
            frame.redact
            and not (top and key_text in KEY_EXEMPT)
            and self.rules.keys.is_sensitive(key_text)
        ):
            # The marker only meets the depth bound; it is never scanned or cut.
            self.out.append(Q_TRUNCATED if depth >= self.rules.max_depth else Q_REDACTED)
        elif top and isinstance(value, BodyFragment):
            self.fragment(value)
        else:
            scan = frame.scan and not (top and key_text in VALUE_EXEMPT)
            self._emit(value, depth, scan, frame.redact)
        return True

    # --- output keys with dict semantics ----------------------------------------------

    def _begin_entry(self, frame: _Frame, out_key: str) -> None:
        old = frame.slots.get(out_key)
        if old is None:
            if frame.slots:
                self.out.append(self.item_sep)
            self.out.append(encode_str(out_key))
            self.out.append(self.key_sep)
        frame.pending = (out_key, len(self.out), old)

    def _finish_entry(self, frame: _Frame) -> None:
        assert frame.pending is not None
        out_key, start, old = frame.pending
        frame.pending = None
        if old is None:
            frame.slots[out_key] = (start, len(self.out))
            return
        # A repeated output key keeps its first position and takes the last value.
        value_text = "".join(self.out[start:])
        del self.out[start:]
        self._replace(old, value_text)

    def _replace(self, slot: tuple[int, int], text: str) -> None:
        first, stop = slot
        self.out[first] = text
        for i in range(first + 1, stop):
            self.out[i] = ""

    def _set_literal(self, frame: _Frame, out_key: str, json_text: str) -> None:
        old = frame.slots.get(out_key)
        if old is not None:
            self._replace(old, json_text)  # golden G12: overwritten in place
            return
        self._begin_entry(frame, out_key)
        self.out.append(json_text)
        self._finish_entry(frame)
