"""JSON text of scalars exactly as CPython's `json.dumps(ensure_ascii=True)` writes them."""

from __future__ import annotations

import re
from json.encoder import encode_basestring_ascii

__all__ = [
    "COMPACT_SEPARATORS",
    "DEFAULT_SEPARATORS",
    "compact_json",
    "encode_float",
    "encode_int",
    "encode_str",
]

DEFAULT_SEPARATORS = (", ", ": ")
COMPACT_SEPARATORS = (",", ":")

# CPython's own escaper (C accelerated when available): `\"`, `\\`, named controls,
# `\u00XX` for the rest below 0x20 and for 0x7F and above, surrogate pairs for astral
# code points, and a lone surrogate as its own escape.
encode_str = encode_basestring_ascii


def encode_int(value: int) -> str:
    # int.__repr__: the digits even for IntEnum or a subclass with a custom __str__;
    # raises ValueError beyond sys.get_int_max_str_digits(), as documented.
    return int.__repr__(value)


_INF = float("inf")


def encode_float(value: float) -> str:
    """`float.__repr__` when finite; NaN and infinities as the strings "nan"/"inf"/"-inf"."""
    if value != value:
        return '"nan"'
    if value == _INF:
        return '"inf"'
    if value == -_INF:
        return '"-inf"'
    return float.__repr__(value)


# Strings of the fragment are skipped whole; a separator's space is outside any string.
_STRING_OR_SEPARATOR = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|([,:]) ')


def compact_json(text: str) -> str:
    """Default-separator JSON -> compact: drop the one space after `,`/`:` outside strings."""
    return _STRING_OR_SEPARATOR.sub(lambda m: m.group(1) or m.group(0), text)
