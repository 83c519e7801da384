r"""Escapers: a user value made safe for one syntactic context of one file type (B8).

Templates name the chain explicitly, innermost first, e.g.
`{{ GRAFANA_ADMIN_PASSWORD | compose | yaml }}` inside a YAML double-quoted scalar.
The string escapes (`yaml`, `alloy`, `logql`, `py`) only ever produce `\\`, `\"`, `\n`, `\r`,
`\t` and `\uXXXX`, which all four languages (and JSON) read back identically.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["FILTERS", "quoted_content"]

_NAMED = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _needs_code_escape(code: int) -> bool:
    # C0/C1 controls, DEL, line/paragraph separators (YAML 1.1 line breaks), BOM and
    # non-characters: written as \u escapes so no parser sees a raw one.
    return (
        code < 0x20
        or 0x7F <= code <= 0x9F
        or code in (0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF)
        or 0xD800 <= code <= 0xDFFF
    )


def quoted_content(value: str) -> str:
    """The inside of a double-quoted YAML / Alloy / LogQL (Go) / JSON string."""
    out: list[str] = []
    for char in value:
        named = _NAMED.get(char)
        if named is not None:
            out.append(named)
        elif _needs_code_escape(ord(char)):
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)


def compose_literal(value: str) -> str:
    """docker compose interpolates `$VAR`/`${VAR}`; `$$` is a literal dollar."""
    return value.replace("$", "$$")


_RE2_META = frozenset("\\.+*?()|[]{}^$")


def re2_literal(value: str) -> str:
    """A Go RE2 pattern that matches exactly `value`."""
    out: list[str] = []
    for char in value:
        code = ord(char)
        if char in _RE2_META:
            out.append("\\" + char)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{{{code:02x}}}")
        else:
            out.append(char)
    return "".join(out)


_GLOB_META = frozenset("\\*?[]{}")


def glob_literal(value: str) -> str:
    """A doublestar glob (Alloy local.file_match) that matches exactly `value`."""
    return "".join("\\" + c if c in _GLOB_META else c for c in value)


# CommonMark lets any ASCII punctuation be backslash-escaped.
_MD_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def markdown_inline(value: str) -> str:
    """Inline Markdown text: punctuation escaped, line breaks and controls as spaces."""
    out: list[str] = []
    for char in value:
        if char in _MD_PUNCTUATION:
            out.append("\\" + char)
        elif _needs_code_escape(ord(char)):
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


FILTERS: dict[str, Callable[[str], str]] = {
    "yaml": quoted_content,
    "alloy": quoted_content,
    "logql": quoted_content,
    "compose": compose_literal,
    "regex": re2_literal,
    "glob": glob_literal,
    "md": markdown_inline,
    # A Python double-quoted string reads the same escapes back identically.
    "py": quoted_content,
}
