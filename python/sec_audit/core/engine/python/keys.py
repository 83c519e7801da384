"""Sensitive-key matching: compacted lower-case substring denylist, exact allowlist."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["KeyMatcher", "normalise_key"]

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def normalise_key(key: str) -> str:
    """Full Unicode lower-casing, then keep only ASCII letters and digits.

    Lower-casing first is what makes the Kelvin sign count as `k` and `İ` as `i`.
    """
    return _NOT_ALNUM.sub("", key.lower())


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
