"""Sensitive-key matching: compacted lower-case substring denylist, exact allowlist."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["CONFUSABLES", "KeyMatcher", "normalise_key"]

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")

# The Latin look-alikes of Cyrillic and Greek letters (and the sharp s, which case
# folding spells `ss`): a small explicit subset of Unicode TR39 confusables, the same
# table as `CONFUSABLES` in rust/sec-audit-engine/src/keys.rs.
CONFUSABLES: dict[str, str] = {
    "ß": "ss",
    "ẞ": "ss",
    **dict(zip("авекмнорстухѕіјԁһӏԛԝ", "abekmhopctyxsijdhlqw", strict=True)),
    **dict(zip("АВЕКМНОРСТУХЅІЈӀ", "abekmhopctyxsijl", strict=True)),
    **dict(zip("αικνορυχγ", "aikvopuxy", strict=True)),
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "abezhikmnoptyx", strict=True)),
}


def normalise_key(key: str) -> str:
    """ASCII letters and digits lower-cased, everything else dropped; non-ASCII text is
    first NFKD-decomposed (fullwidth forms, `ſ`, the Kelvin sign, `İ`, accented letters
    come apart into an ASCII letter and marks) and the `CONFUSABLES` are kept as their
    Latin letters. Combining marks, invisible and separator characters vanish.

    ASCII keys take the fast path (the result is the same either way).
    """
    if key.isascii():
        return _NOT_ALNUM.sub("", key.lower())
    out: list[str] = []
    for char in unicodedata.normalize("NFKD", key):
        if char < "\x80":
            if char.isalnum():
                out.append(char.lower())
        else:
            mapped = CONFUSABLES.get(char)
            if mapped is not None:
                out.append(mapped)
    return "".join(out)


class KeyMatcher:
    """`is_sensitive(key_text)` for one configuration, memoised per key text."""

    def __init__(self, sensitive: Iterable[str], allowlist: Iterable[str]) -> None:
        # Entries arrive normalised (EngineConfig); normalising again is a no-op.
        self._sensitive = tuple(n for n in map(normalise_key, sensitive) if n)
        self._allow = frozenset(n for n in map(normalise_key, allowlist) if n)
        self.is_sensitive = lru_cache(maxsize=4096)(self._check)

    def _check(self, key: str) -> bool:
        norm = normalise_key(key)
        if not norm or norm in self._allow:
            return False
        return any(entry in norm for entry in self._sensitive)
