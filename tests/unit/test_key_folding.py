"""Key folding (issue 8): every spelling of a configured key matches it, on both engines."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sec_audit.core.engine.python.keys import CONFUSABLES, normalise_key

Make = Callable[..., Any]
KEYS_RS = Path(__file__).resolve().parents[2] / "rust" / "sec-audit-engine" / "src" / "keys.rs"

SPELLINGS = [
    "pässword",  # combining mark after decomposition
    "pa\u0308ssword",  # the same, decomposed
    "ｐａｓｓｗｏｒｄ",  # fullwidth
    "ſecret",  # long s
    "pаssword",  # Cyrillic a
    "ΡΑSSWORD",  # Greek capital rho, alpha
    "раss_wоrd",  # Cyrillic r, a, o
    "pass\u200bword",  # zero-width space
    "pass\u00adword",  # soft hyphen
    "Pass\u3000Word",  # ideographic space
    "\u212aey_tоkеn",  # Kelvin sign + Cyrillic o, e
    "İd_secret",
]


@pytest.mark.parametrize("key", SPELLINGS)
def test_spelling_is_redacted(make_engine: Make, key: str) -> None:
    engine = make_engine()
    assert engine.project({key: "v"}, compact=True) == f'{{"{key}":"[REDACTED]"}}'.replace(
        key, engine.project(key)[1:-1]
    )


def test_ordinary_non_ascii_keys_stay_visible(make_engine: Make) -> None:
    engine = make_engine()
    for key in ("имя", "名前", "café", "naïve_count", "Ωmega"):
        assert "[REDACTED]" not in engine.project({key: "v"}), key


def test_allowlist_and_extra_entries_fold_too(make_engine: Make) -> None:
    engine = make_engine(
        core={
            "sensitive_keys": ["ｗｉｄｇｅｔ", "password"],
            "sensitive_key_allowlist": ["pаsswоrd"],
        }
    )
    assert "[REDACTED]" in engine.project({"widget_id": 1})
    assert "[REDACTED]" not in engine.project({"PASSWORD": "v"})
    assert "[REDACTED]" in engine.project({"password2": "v"})


def test_normalise_key() -> None:
    assert normalise_key("X-Api_Key\u212a\u0130é1") == "xapikeykie1"
    assert normalise_key("Straße") == "strasse"
    assert normalise_key("a\ud800b") == "ab"  # a lone surrogate is dropped
    assert normalise_key("ΚΟΚΟ") == "koko"


def test_confusables_table_is_the_rust_one() -> None:
    text = KEYS_RS.read_text(encoding="utf-8")
    body = text[text.index("pub const CONFUSABLES") : text.index("fn confusable(")]
    rust = dict(re.findall(r"\('(.)', \"([a-z]+)\"\)", body))
    assert rust == CONFUSABLES
