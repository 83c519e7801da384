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
    "ssn_valid",
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


def ssn_valid(match: str) -> bool:
    """`AAA-GG-SSSS` outside the never-issued ranges: area 000, 666, 9xx; group 00;
    serial 0000."""
    area, group, serial = match[:3], match[4:6], match[7:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


@dataclass(frozen=True, slots=True)
class Detector:
    name: str
    regex: str
    validator: Callable[[str], bool] | None = None
    # With a capture group, only group 1 is the secret (masked in 'match' mode); the
    # boundaries and the validator apply to the whole match.
    group: int = 0
    # A candidate the validator rejects is cut back at its separators (cards only:
    # the Rust engine's `card` flag).
    cut_back: bool = False


CATALOGUE: tuple[Detector, ...] = (
    Detector("aws_access_key_id", r"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}"),
    Detector("github_token", r"(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})"),
    Detector("gitlab_token", r"glpat-[A-Za-z0-9_-]{20}"),
    Detector("slack_token", r"xox[abposr]-[0-9A-Za-z-]{10,250}"),
    Detector("stripe_key", r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,247}"),
    Detector("google_api_key", r"AIza[0-9A-Za-z_-]{35}"),
    Detector("jwt", r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}"),
    # The header, then the block: through its END line when there is one, else the
    # base64 body that follows (real or escaped newlines), so 'match' mode masks it all.
    Detector(
        "private_key_block",
        r"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----"
        r"(?:[A-Za-z0-9+/= \t\r\n\\:,.-]*?-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----"
        r"|[A-Za-z0-9+/= \t\r\n\\]*)",
    ),
    Detector("http_credentials", r"(?:[Bb]earer|[Bb]asic) [A-Za-z0-9._~+/-]{16,}=*"),
    Detector("payment_card", r"[0-9](?:[ -]?[0-9]){12,18}", payment_card_valid, cut_back=True),
    Detector(
        "aws_secret_access_key",
        r"(?:aws|AWS|Aws)_?(?:secret|SECRET|Secret)_?(?:access_?|ACCESS_?|Access_?)?(?:key|KEY|Key)"
        r"[\x22\x27]?[ \t]*[:=]>?[ \t]*[\x22\x27]?([A-Za-z0-9/+]{40})",
        group=1,
    ),
    Detector(
        "url_password",
        r"[A-Za-z][A-Za-z0-9+.-]{1,30}://[A-Za-z0-9._~%!$&*+,;=-]*:([A-Za-z0-9._~%!$&*+,;=-]+)@"
        r"[A-Za-z0-9\[][A-Za-z0-9.-]*",
        group=1,
    ),
    Detector(
        "slack_webhook",
        r"hooks\.slack\.com/(?:services/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24}"
        r"|workflows/T[A-Z0-9]{8,12}/A[A-Z0-9]{8,12}/[0-9]{17,20}/[A-Za-z0-9]{24})",
    ),
    Detector("us_ssn", r"[0-9]{3}-[0-9]{2}-[0-9]{4}", ssn_valid),
    Detector("twilio_key", r"(?:SK|AC)[0-9a-f]{32}"),
    Detector("sendgrid_key", r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"),
    Detector("mailgun_key", r"key-[0-9a-f]{32}"),
    Detector("npm_token", r"npm_[A-Za-z0-9]{36}"),
    Detector("pypi_token", r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,1000}"),
    Detector("docker_hub_token", r"dckr_pat_[A-Za-z0-9_-]{27,60}"),
    Detector(
        "openai_key",
        r"sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,300}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})",
    ),
    Detector("anthropic_key", r"sk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_-]{80,120}"),
    Detector("azure_storage_key", r"AccountKey=([A-Za-z0-9+/]{86}==)", group=1),
    Detector(
        "discord_webhook",
        r"discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,68}",
    ),
    Detector("shopify_token", r"shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}"),
    Detector("square_token", r"(?:sq0(?:atp|csp)-[A-Za-z0-9_-]{22,43}|EAAA[A-Za-z0-9_-]{60})"),
    Detector("heroku_key", r"HRKU-[A-Za-z0-9_-]{60}"),
    Detector("vault_token", r"hv[sbr]\.[A-Za-z0-9_-]{24,255}"),
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
    group: int = 0,
    cut_back: bool = False,
) -> list[tuple[int, int]]:
    """Spans of `regex` in `text` with alphanumeric boundaries on both sides (in `text`).

    A rejected candidate retries one character further, so a longer run that fails the
    boundary never hides a valid shorter one starting later.
    """
    hits: list[tuple[int, int]] = []
    pos = 0
    while True:
        m = regex.search(text, pos)
        if m is None:
            return hits
        start = m.start()
        stop = _hit_end(validator, cut_back, text, start, m.end())
        if stop is not None:
            hits.append(m.span(group) if group else (start, stop))
            if first_only:
                return hits
            pos = stop
        else:
            pos = start + 1


def _hit_end(
    validator: Callable[[str], bool] | None, cut_back: bool, text: str, start: int, stop: int
) -> int | None:
    """Where the hit of candidate `text[start:stop]` ends, or None for no hit.

    A card candidate that fails is cut back at its separators, longest piece first:
    `4111111111111111 42` is one 18-digit run to the regex, but holds a valid card.
    """
    if start > 0 and _is_alnum(text[start - 1]):
        return None
    right = stop == len(text) or not _is_alnum(text[stop])
    if validator is None or (right and validator(text[start:stop])):
        return stop if right else None
    if cut_back:
        for cut in range(stop - 1, start, -1):
            if text[cut] in " -" and validator(text[start:cut]):
                return cut
    return None


class DetectorSet:
    """The configured detectors, compiled once."""

    __slots__ = ("_any", "_compiled")

    def __init__(self, names: Sequence[str]) -> None:
        chosen = [_BY_NAME[name] for name in names]
        self._compiled = tuple(
            (re.compile(d.regex), d.validator, d.group, d.cut_back) for d in chosen
        )
        # Every hit is a match of its own regex, so no match of the union = no hit.
        self._any = re.compile("|".join(f"(?:{d.regex})" for d in chosen)) if chosen else None

    def __bool__(self) -> bool:
        return self._any is not None

    def any_hit(self, text: str) -> bool:
        if self._any is None or self._any.search(text) is None:
            return False
        return any(
            find_hits(rx, val, text, first_only=True, group=g, cut_back=c)
            for rx, val, g, c in self._compiled
        )

    def hits(self, text: str) -> list[tuple[int, int]]:
        if self._any is None or self._any.search(text) is None:
            return []
        spans: list[tuple[int, int]] = []
        for rx, val, g, c in self._compiled:
            spans.extend(find_hits(rx, val, text, group=g, cut_back=c))
        return spans
