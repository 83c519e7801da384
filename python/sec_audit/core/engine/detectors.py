"""Secret detectors: high-precision regexes for well-known credential formats.

Shared by both engines: the Rust engine compiles the same `regex` texts (they use only
ASCII literals, ASCII classes and counted repetition, so Python `re` and Rust `regex`
agree on every input) and ports `find_hits` and the validators line for line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..config import DETECTOR_NAMES as _SETTINGS_NAMES

__all__ = [
    "CATALOGUE",
    "DETECTOR_NAMES",
    "RECOMMENDED",
    "Detector",
    "DetectorSet",
    "find_hits",
    "luhn_valid",
    "payment_card_valid",
]

RECOMMENDED = "recommended"


def luhn_valid(digits: str) -> bool:
    """Luhn checksum of a string of ASCII digits."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _issuer_valid(digits: str) -> bool:
    n = len(digits)
    if digits[0] == "4":
        return n in (13, 16, 19)
    if n == 16 and ("51" <= digits[:2] <= "55" or "2221" <= digits[:4] <= "2720"):
        return True
    if n == 15 and digits[:2] in ("34", "37"):
        return True
    return 16 <= n <= 19 and (digits.startswith("6011") or digits.startswith("65"))


def payment_card_valid(match: str) -> bool:
    """One separator kind at most, 13-19 digits, a known issuer prefix and Luhn."""
    separators = {c for c in match if c in " -"}
    if len(separators) > 1:
        return False
    digits = match.replace(" ", "").replace("-", "")
    return 13 <= len(digits) <= 19 and _issuer_valid(digits) and luhn_valid(digits)


@dataclass(frozen=True, slots=True)
class Detector:
    name: str
    regex: str
    validator: Callable[[str], bool] | None = None


CATALOGUE: tuple[Detector, ...] = (
    Detector("aws_access_key_id", r"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}"),
    Detector("github_token", r"(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})"),
    Detector("gitlab_token", r"glpat-[A-Za-z0-9_-]{20}"),
    Detector("slack_token", r"xox[abposr]-[0-9A-Za-z-]{10,250}"),
    Detector("stripe_key", r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,247}"),
    Detector("google_api_key", r"AIza[0-9A-Za-z_-]{35}"),
    Detector("jwt", r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}"),
    Detector("private_key_block", r"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----"),
    Detector("http_credentials", r"(?:[Bb]earer|[Bb]asic) [A-Za-z0-9._~+/-]{16,}=*"),
    Detector("payment_card", r"[0-9](?:[ -]?[0-9]){12,18}", payment_card_valid),
)
# The settings parser validates names against this list (tests keep it equal to CATALOGUE).
DETECTOR_NAMES: tuple[str, ...] = _SETTINGS_NAMES

_BY_NAME = {d.name: d for d in CATALOGUE}


def _is_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


def find_hits(
    regex: re.Pattern[str],
    validator: Callable[[str], bool] | None,
    text: str,
    first_only: bool = False,
) -> list[tuple[int, int]]:
    """Spans of `regex` in `text` with alphanumeric boundaries on both sides (in `text`).

    A rejected candidate retries one character further, so a longer run that fails the
    boundary never hides a valid shorter one starting later.
    """
    hits: list[tuple[int, int]] = []
    pos = 0
    end = len(text)
    while True:
        m = regex.search(text, pos)
        if m is None:
            return hits
        start, stop = m.span()
        if (
            (start == 0 or not _is_alnum(text[start - 1]))
            and (stop == end or not _is_alnum(text[stop]))
            and (validator is None or validator(m.group()))
        ):
            hits.append((start, stop))
            if first_only:
                return hits
            pos = stop
        else:
            pos = start + 1


class DetectorSet:
    """The configured detectors, compiled once."""

    __slots__ = ("_any", "_compiled")

    def __init__(self, names: Sequence[str]) -> None:
        chosen = [_BY_NAME[name] for name in names]
        self._compiled = tuple((re.compile(d.regex), d.validator) for d in chosen)
        # Every hit is a match of its own regex, so no match of the union = no hit.
        self._any = re.compile("|".join(f"(?:{d.regex})" for d in chosen)) if chosen else None

    def __bool__(self) -> bool:
        return self._any is not None

    def any_hit(self, text: str) -> bool:
        if self._any is None or self._any.search(text) is None:
            return False
        return any(find_hits(rx, val, text, first_only=True) for rx, val in self._compiled)

    def hits(self, text: str) -> list[tuple[int, int]]:
        if self._any is None or self._any.search(text) is None:
            return []
        spans: list[tuple[int, int]] = []
        for rx, val in self._compiled:
            spans.extend(find_hits(rx, val, text))
        return spans
