"""Sensitive-key matching: compacted lower-case substring denylist, exact allowlist."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["CONFUSABLES", "KeyMatcher", "key_tokens", "normalise_key"]

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


_LOWER, _UPPER, _DIGIT = 0, 1, 2


def key_tokens(key: str) -> list[str]:
    """The key's tokens: the folded characters of `normalise_key`, split at every other
    ASCII character (`_`, `-`, ` `, `.`...), before an upper-case letter that follows a
    lower-case letter or digit (`pinCode`), before the last upper-case letter of a run
    followed by a lower-case one (`PINCode` -> `pin`, `code`), and between letters and
    digits. Characters that fold to nothing (marks, invisibles) neither count nor split.
    The same algorithm as `key_tokens` in rust/sec-audit-engine/src/keys.rs.
    """
    chars: list[tuple[str, int]] = []
    tokens: list[str] = []
    stream = key if key.isascii() else unicodedata.normalize("NFKD", key)
    for char in stream:
        if char < "\x80":
            if "a" <= char <= "z":
                chars.append((char, _LOWER))
            elif "A" <= char <= "Z":
                chars.append((char.lower(), _UPPER))
            elif "0" <= char <= "9":
                chars.append((char, _DIGIT))
            else:
                chars.append(("", -1))
        else:
            for mapped in CONFUSABLES.get(char, ""):
                chars.append((mapped, _LOWER))
    current = ""
    for i, (char, kind) in enumerate(chars):
        if kind < 0:
            if current:
                tokens.append(current)
            current = ""
            continue
        if current:
            prev = chars[i - 1][1]
            split = (
                (kind == _UPPER and prev != _UPPER)
                or (
                    kind == _UPPER
                    and prev == _UPPER
                    and i + 1 < len(chars)
                    and chars[i + 1][1] == _LOWER
                )
                or ((kind == _DIGIT) != (prev == _DIGIT))
            )
            if split:
                tokens.append(current)
                current = ""
        current += char
    if current:
        tokens.append(current)
    return tokens


def tokens_match(tokens: list[str], entries: frozenset[str], longest: int) -> bool:
    """Does a run of consecutive tokens, joined, equal one of `entries`?"""
    for i in range(len(tokens)):
        joined = ""
        for token in tokens[i:]:
            joined += token
            if len(joined) > longest:
                break
            if joined in entries:
                return True
    return False


class KeyMatcher:
    """`is_sensitive(key_text)` for one configuration, memoised per key text."""

    def __init__(
        self, sensitive: Iterable[str], allowlist: Iterable[str], tokens: Iterable[str] = ()
    ) -> None:
        # Entries arrive normalised (EngineConfig); normalising again is a no-op.
        self._sensitive = tuple(n for n in map(normalise_key, sensitive) if n)
        self._allow = frozenset(n for n in map(normalise_key, allowlist) if n)
        self._tokens = frozenset(n for n in map(normalise_key, tokens) if n)
        self._longest = max(map(len, self._tokens), default=0)
        self.is_sensitive = lru_cache(maxsize=4096)(self._check)

    def _check(self, key: str) -> bool:
        norm = normalise_key(key)
        if not norm or norm in self._allow:
            return False
        if any(entry in norm for entry in self._sensitive):
            return True
        return bool(self._tokens) and tokens_match(key_tokens(key), self._tokens, self._longest)
