"""Secret detectors: the catalogue, the search algorithm, validators, and the corpora."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sec_audit.core.config import DETECTOR_NAMES
from sec_audit.core.engine.detectors import (
    CATALOGUE,
    DetectorSet,
    find_hits,
    luhn_valid,
    payment_card_valid,
)

Make = Callable[..., Any]
DATA = Path(__file__).resolve().parent.parent / "data" / "detectors"


def _lines(name: str) -> list[str]:
    text = (DATA / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


POSITIVES = [tuple(line.split("\t", 1)) for line in _lines("positives.txt")]
INNOCENTS = _lines("innocents.txt")


def test_catalogue_matches_the_settings_names() -> None:
    assert tuple(d.name for d in CATALOGUE) == DETECTOR_NAMES


def test_every_detector_has_a_positive() -> None:
    assert {name for name, _ in POSITIVES} == set(DETECTOR_NAMES)


@pytest.mark.parametrize(("name", "text"), POSITIVES)
def test_positive_is_found_by_its_detector(name: str, text: str) -> None:
    assert DetectorSet([name]).any_hit(text), (name, text)


@pytest.mark.parametrize("text", INNOCENTS)
def test_innocent_look_alike_is_never_hit(text: str) -> None:
    assert DetectorSet(DETECTOR_NAMES).hits(text) == []


@pytest.mark.parametrize(("name", "text"), POSITIVES[::4])
def test_engine_redacts_positives(make_engine: Make, name: str, text: str) -> None:
    assert make_engine(core={"secret_detectors": [name]}).project(text) == '"[REDACTED]"'


def test_engine_keeps_innocents(make_engine: Make) -> None:
    engine = make_engine()
    for text in INNOCENTS:
        assert "[REDACTED]" not in engine.project(text), text


def test_match_mode_spans(make_engine: Make) -> None:
    engine = make_engine(core={"value_scrub_mode": "match"})
    key = "AKIAIOSFODNN7EXAMPLE"
    assert (
        engine.project(f"id {key}, card 4111-1111-1111-1111.")
        == '"id [REDACTED], card [REDACTED]."'
    )


def test_match_mode_masks_the_whole_private_key_block(make_engine: Make) -> None:
    engine = make_engine(core={"value_scrub_mode": "match"})
    block = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7b+/x=\n-----END RSA PRIVATE KEY-----"
    assert engine.project(f"key: {block} (rotated)") == '"key: [REDACTED] (rotated)"'
    escaped = block.replace("\n", "\\n")  # a JSON blob logged as text
    assert engine.project(f'{{"private_key": "{escaped}\\n"}}') == (
        '"{\\"private_key\\": \\"[REDACTED]\\\\n\\"}"'  # the END line ends it
    )
    # No END line (cut off): the base64 body after the header goes too.
    assert engine.project("k=-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg") == '"k=[REDACTED]"'


def test_boundaries_and_retry_after_rejection() -> None:
    rx = re.compile(r"[0-9](?:[ -]?[0-9]){12,18}")
    text = "x4111111111111111 4111111111111111"
    assert find_hits(rx, payment_card_valid, text, cut_back=True) == [(18, 34)]
    # A 20-digit run: greedy 19 fails the right boundary, shorter retries fail the left.
    assert find_hits(rx, payment_card_valid, "4" + "1" * 19, cut_back=True) == []
    # Hits are non-overlapping and the search continues after a hit.
    aws = re.compile(r"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}")
    two = "AKIAIOSFODNN7EXAMPLE AKIAIOSFODNN7EXAMPLE"
    assert find_hits(aws, None, two) == [(0, 20), (21, 41)]
    assert find_hits(aws, None, two, first_only=True) == [(0, 20)]
    # Boundaries are ASCII alphanumerics only: punctuation and non-ASCII letters bound.
    assert find_hits(aws, None, "_AKIAIOSFODNN7EXAMPLE_") == [(1, 21)]
    assert find_hits(aws, None, "éAKIAIOSFODNN7EXAMPLEé") == [(1, 21)]


def test_slack_token_length_bound() -> None:
    rx = re.compile(CATALOGUE[3].regex)
    assert find_hits(rx, None, "xoxb-" + "a" * 250) == [(0, 255)]
    assert find_hits(rx, None, "xoxb-" + "a" * 251) == []


def _luhn_complete(prefix: str, length: int) -> str:
    body = prefix.ljust(length - 1, "0")
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


def test_luhn_and_issuers() -> None:
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    assert payment_card_valid("4111 1111 1111 1111")
    assert payment_card_valid("4111-1111-1111-1111")
    assert not payment_card_valid("4111 1111-1111 1111")  # mixed separators
    assert not payment_card_valid("4111111111111112")  # Luhn
    assert payment_card_valid("4000000000006")  # Visa 13
    assert not payment_card_valid("40000000000004")  # Visa 14 is not an issuer length
    assert payment_card_valid("340000000000009")
    assert not payment_card_valid("3530111333300000")  # JCB is not in the list
    assert payment_card_valid("2221000000000009") and payment_card_valid("2720000000000005")
    assert not payment_card_valid(_luhn_complete("2220", 16))  # just below the 2-series
    assert not payment_card_valid(_luhn_complete("2721", 16))
    assert not payment_card_valid(_luhn_complete("56", 16))
    assert not payment_card_valid(_luhn_complete("34", 16))  # Amex is 15 digits
    assert payment_card_valid("6500000000000000003")


@pytest.mark.parametrize(("name", "text"), POSITIVES)
def test_engine_redacts_every_positive_under_recommended(
    make_engine: Make, name: str, text: str
) -> None:
    # Both engines (the engine fixture follows SEC_AUDIT_ENGINE): recall 1.0 per format.
    assert make_engine().project(text) == '"[REDACTED]"', (name, text)
    assert make_engine(core={"secret_detectors": [name]}).project(text) == '"[REDACTED]"'


def test_recall_per_format_and_precision(make_engine: Make) -> None:
    engine = make_engine(core={"value_scrub_mode": "match"})
    for name in DETECTOR_NAMES:
        texts = [text for n, text in POSITIVES if n == name]
        assert texts, name
        found = sum("[REDACTED]" in engine.project(text) for text in texts)
        assert found == len(texts), name
    assert sum("[REDACTED]" in engine.project(text) for text in INNOCENTS) == 0


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("postgres://app:pw@db:5432/x", "postgres://app:[REDACTED]@db:5432/x"),
        ("redis://:pw@cache", "redis://:[REDACTED]@cache"),
        ("https://admin:s3cr3t@host/", "https://admin:[REDACTED]@host/"),
        (
            "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key=[REDACTED]",
        ),
        (
            'AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" ok',
            'AWS_SECRET_ACCESS_KEY: \\"[REDACTED]\\" ok',
        ),
        ("AccountName=a;AccountKey=" + "A" * 86 + "==;x", "AccountName=a;AccountKey=[REDACTED];x"),
        ("ssn 123-45-6789, not 000-12-3456", "ssn [REDACTED], not 000-12-3456"),
    ],
)
def test_match_mode_masks_only_the_secret(make_engine: Make, text: str, want: str) -> None:
    engine = make_engine(core={"value_scrub_mode": "match"})
    assert engine.project(text) == f'"{want}"'


def test_ssn_ranges() -> None:
    from sec_audit.core.engine.detectors import ssn_valid

    assert ssn_valid("123-45-6789") and ssn_valid("899-99-9999") and ssn_valid("001-01-0001")
    for bad in ("000-45-6789", "666-45-6789", "900-45-6789", "999-45-6789"):
        assert not ssn_valid(bad), bad
    assert not ssn_valid("123-00-6789") and not ssn_valid("123-45-0000")


def test_url_password_needs_a_password() -> None:
    det = DetectorSet(["url_password"])
    assert det.hits("https://user@example.com/ and alice@example.com") == []
    assert det.hits("https://host:8080/path") == []
    assert det.hits("x https://u:p@h") == [(12, 13)]


def test_only_cards_are_cut_back() -> None:
    """The reference's `cut_back` is the Rust catalogue's `card` flag: one detector."""
    from sec_audit.core.engine.detectors import CATALOGUE

    assert [d.name for d in CATALOGUE if d.cut_back] == ["payment_card"]
    # A card followed by more digits after a separator is cut back to the card.
    rx = re.compile(r"[0-9](?:[ -]?[0-9]){12,18}")
    assert find_hits(rx, payment_card_valid, "4111111111111111 42", cut_back=True) == [(0, 16)]
    assert find_hits(rx, payment_card_valid, "4111111111111111 42") == []
