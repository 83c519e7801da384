"""Tamper evidence: every line of a process sealed into one HMAC chain.

`IntegrityChain.seal(line)` appends, as the last envelope key,

    "integrity": {"stream": S, "seq": N, "key_id": K, "prev": P, "hmac": H}

where S is a random id per process (16 hex), N counts from 1, P is the previous
line's H ("" for N = 1) and H = HMAC-SHA256(key, mac_input(body, S, N, K, P)); `body`
is the finished line without the integrity member, byte for byte. Because each H
covers the previous one, deleting, reordering or editing a line breaks the chain;
`sec_audit.verify` checks it. Sealing works on the finished text (no re-parse), so
it costs one HMAC per line and does not depend on the engine.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass

from sec_audit.core.config import INTEGRITY_KEY_ID_RE, IntegrityConfig

__all__ = [
    "MEMBER_KEY",
    "IntegrityChain",
    "Seal",
    "mac_input",
    "render_member",
    "split_sealed",
]

MEMBER_KEY = "integrity"
FIELDS = ("stream", "seq", "key_id", "prev", "hmac")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_STREAM = re.compile(r"[0-9a-f]{16}")
# The two separator styles of the formatter: json.dumps defaults and compact=True.
_DEFAULT = (", ", ": ")
# seq never reaches 20 digits (a million lines a second for 300,000 years).
_MAX_SEQ = 10**19
# Lines remembered for re-sealing: enough for the handlers of one record.
_RECENT = 16
_COMPACT = (",", ":")


@dataclass(frozen=True, slots=True)
class Seal:
    """The fields of one integrity member."""

    stream: str
    seq: int
    key_id: str
    prev: str
    hmac: str


def mac_input(body: str, stream: str, seq: int, key_id: str, prev: str) -> bytes:
    """What the HMAC covers: the line without its member, then the chain position.

    The trailer's fields are hex, digits and a restricted key id, so the encoding is
    unambiguous; covering stream, seq and key id (not only prev) means a line cannot
    be renumbered or moved to another stream without breaking its own HMAC.
    """
    return body.encode("utf-8", "surrogatepass") + f"\n{stream} {seq} {key_id} {prev}".encode()


def compute_hmac(key: bytes, body: str, stream: str, seq: int, key_id: str, prev: str) -> str:
    return hmac.new(key, mac_input(body, stream, seq, key_id, prev), hashlib.sha256).hexdigest()


def _separators(line: str) -> tuple[str, str]:
    """Which style a finished line uses, read from its first key: `{"k": ` or `{"k":`."""
    if line == "{}":
        return _DEFAULT  # nothing to tell by; the formatter never writes an empty line
    if not line.startswith('{"'):
        raise ValueError("not a JSON object line")
    i = 2
    while True:
        i = line.find('"', i)
        if i < 0:
            raise ValueError("not a JSON object line")
        backslashes = 0
        while line[i - 1 - backslashes] == "\\":
            backslashes += 1
        if backslashes % 2 == 0:
            break
        i += 1
    after = line[i + 1 : i + 3]
    if after == ": ":
        return _DEFAULT
    if after[:1] == ":":
        return _COMPACT
    raise ValueError("not a JSON object line")


def render_member(seal: Seal, separators: tuple[str, str]) -> str:
    """`"integrity": {...}` in the line's own style (without the leading item separator)."""
    item, colon = separators
    values = (
        json.dumps(seal.stream),
        str(seal.seq),
        json.dumps(seal.key_id),
        json.dumps(seal.prev),
        json.dumps(seal.hmac),
    )
    inner = item.join(f'"{name}"{colon}{value}' for name, value in zip(FIELDS, values, strict=True))
    return f'"{MEMBER_KEY}"{colon}{{{inner}}}'


def _insert(body: str, member: str, separators: tuple[str, str]) -> str:
    # body is a JSON object text ending in "}"; "{}" takes the member without a separator.
    head = body[:-1]
    return f"{head}{separators[0] if head != '{' else ''}{member}}}"


def split_sealed(line: str) -> tuple[str, Seal]:
    """(body, seal) of a sealed line; ValueError when it carries no well-formed member.

    The member must be the last key and in the exact form `seal` writes, so a line has
    one canonical sealed text.
    """
    for separators in (_DEFAULT, _COMPACT):
        item, colon = separators
        key = f'"{MEMBER_KEY}"{colon}{{'
        start = line.rfind(key)
        if start < 0 or not line.endswith("}}"):
            continue
        try:
            data = json.loads(line[start + len(key) - 1 : -1])
        except ValueError:
            continue
        seal = _seal_from(data)
        if seal is None:
            continue
        if line.startswith(key, 1) and start == 1:
            body = "{}"
        elif line[start - len(item) : start] == item:
            body = line[: start - len(item)] + "}"
        else:
            continue
        if _insert(body, render_member(seal, separators), separators) == line:
            return body, seal
    raise ValueError("no well-formed integrity member at the end of the line")


def _seal_from(data: object) -> Seal | None:
    if not isinstance(data, dict) or tuple(data) != FIELDS:
        return None
    stream, seq, key_id, prev, mac = (data[name] for name in FIELDS)
    if not (
        isinstance(stream, str)
        and _STREAM.fullmatch(stream)
        and type(seq) is int
        and seq >= 1
        and isinstance(key_id, str)
        and INTEGRITY_KEY_ID_RE.fullmatch(key_id)
        and isinstance(prev, str)
        and (prev == "" or _HEX64.fullmatch(prev))
        and isinstance(mac, str)
        and _HEX64.fullmatch(mac)
    ):
        return None
    return Seal(stream, seq, key_id, prev, mac)


class IntegrityChain:
    """One HMAC chain per process: `seal(line)` numbers and links every line.

    Thread-safe; the lock covers numbering and linking only. A forked child starts a
    new stream (new id, seq 1): parent and child must never share a chain.

    The same line sealed again soon after (one formatter shared by two handlers
    formats each record twice) gets the same seal back, so every output carries the
    whole chain instead of every other line.
    """

    def __init__(self, key: bytes | str, key_id: str = "k1") -> None:
        config = IntegrityConfig(key=key, key_id=key_id)  # the settings' own validation
        self.key_id = config.key_id
        self._key = config.secret
        self._lock = threading.Lock()
        self._recent: OrderedDict[str, str] = OrderedDict()
        self._restart()
        _chains.add(self)

    @classmethod
    def from_config(cls, config: IntegrityConfig) -> IntegrityChain:
        """The chain for `SEC_AUDIT['logging']['integrity']` (already validated)."""
        return cls(config.secret, config.key_id)

    def __repr__(self) -> str:  # never the key
        return f"IntegrityChain(key_id={self.key_id!r}, stream={self.stream!r})"

    @property
    def stream(self) -> str:
        return self._stream

    def member_bytes(self, compact: bool) -> int:
        """The most bytes `seal` adds to a line (for the formatter's size bound)."""
        separators = _COMPACT if compact else _DEFAULT
        widest = Seal(self._stream, _MAX_SEQ, self.key_id, "0" * 64, "0" * 64)
        return len(separators[0]) + len(render_member(widest, separators))

    def _restart(self) -> None:
        self._pid = os.getpid()
        self._stream = secrets.token_hex(8)
        self._seq = 0
        self._prev = ""
        self._recent.clear()

    def _after_fork(self) -> None:
        self._lock = threading.Lock()  # may have been held by another parent thread
        self._restart()

    def seal(self, line: str) -> str:
        """`line` (a finished JSON object line, either separator style) + its member.

        Raises ValueError for text that is not a JSON object line.
        """
        separators = _separators(line)
        if not line.endswith("}"):
            raise ValueError("not a JSON object line")
        with self._lock:
            if self._pid != os.getpid():  # a fork Python did not see (os.register_at_fork)
                self._restart()
            sealed = self._recent.get(line)
            if sealed is not None:
                return sealed
            self._seq += 1
            seq, prev = self._seq, self._prev
            mac = compute_hmac(self._key, line, self._stream, seq, self.key_id, prev)
            self._prev = mac
            member = render_member(Seal(self._stream, seq, self.key_id, prev, mac), separators)
            sealed = _insert(line, member, separators)
            self._recent[line] = sealed
            if len(self._recent) > _RECENT:
                self._recent.popitem(last=False)
        return sealed


_chains: weakref.WeakSet[IntegrityChain] = weakref.WeakSet()


def _reset_chains_after_fork() -> None:
    for chain in list(_chains):
        chain._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_chains_after_fork)
