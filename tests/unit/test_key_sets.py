"""core.sensitive_key_sets (issue 8): credential keys matched as whole tokens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sec_audit.core.config import KEY_SETS, SecAuditSettings
from sec_audit.core.engine.python.keys import key_tokens
from sec_audit.core.errors import AuditConfigurationError

Make = Callable[..., Any]

SENSITIVE = [
    "pin",
    "card_pin",
    "pinCode",
    "PIN_CODE",
    "PINCode",
    "otp",
    "totp_code",
    "mfaToken",
    "2fa",
    "cvv",
    "cvv2",
    "card-cvc",
    "pass",
    "user.pass",
    "auth",
    "X-Auth",
    "oauth_state",
    "iban",
    "sentry_dsn",
    "private_key",
    "privateKey",
    "PRIVATE-KEY",
    "privatekey",
    "passphrase",
    "card_number",
    "cardNumber",
    "security_answer",
    "mnemonic",
    "seed_phrase",
    "aws_access_key",
    "sessionKey",
    "DATABASE_URL",
    "connectionString",
    "credentials",
    "request_signature",
    "ｐｉｎ",
    "pаss",  # Cyrillic a
]
VISIBLE = [
    "shipping",
    "opinion",
    "typing",
    "spinner",
    "pinned",
    "author",
    "authority",
    "authored_at",
    "compass",
    "passenger",
    "bypass_cache",
    "passive",
    "footprint",
    "hotpot",
    "topic",
    "description",
    "design",
    "signal",
    "assignment",
    "mfa_enabled_at_x",  # contains mfa: a token, so this one IS sensitive (see below)
]
VISIBLE.remove("mfa_enabled_at_x")
ORDINARY = [
    "id",
    "name",
    "email",
    "created_at",
    "updated_at",
    "order_id",
    "status",
    "quantity",
    "price",
    "currency",
    "country",
    "city",
    "zip",
    "phone",
    "user_agent",
    "path",
    "method",
    "count",
    "items",
    "title",
    "url",
    "lang",
    "timezone",
    "page",
    "per_page",
    "sort",
    "version",
    "options",
    "compassHeading",
    "opinionScore",
    "passengerCount",
    "authorName",
]


@pytest.mark.parametrize("key", SENSITIVE)
def test_recommended_set_redacts(make_engine_settings: Make, key: str) -> None:
    assert "[REDACTED]" in make_engine_settings().project({key: "v"}), key


@pytest.mark.parametrize("key", VISIBLE + ORDINARY)
def test_ordinary_words_stay_visible(make_engine_settings: Make, key: str) -> None:
    assert "[REDACTED]" not in make_engine_settings().project({key: "v"}), key


def test_opt_out(make_engine_settings: Make) -> None:
    for value in (None, ()):
        engine = make_engine_settings(sensitive_key_sets=value)
        assert "[REDACTED]" not in engine.project({"card_pin": "1234"})
    # The documented sensitive_keys keep substring semantics.
    engine = make_engine_settings(sensitive_key_sets=None, sensitive_keys=["pin"])
    assert "[REDACTED]" in engine.project({"shipping": "x"})


def test_allowlist_wins(make_engine_settings: Make) -> None:
    engine = make_engine_settings(sensitive_key_allowlist=["card_pin"])
    assert "[REDACTED]" not in engine.project({"cardPin": "1"})
    assert "[REDACTED]" in engine.project({"pin": "1"})


def test_settings_validation() -> None:
    core = SecAuditSettings.from_value({}).core
    assert core.sensitive_key_sets == ("recommended",)
    for bad, fragment in (
        ("all", "must be 'recommended', None or a sequence of key-set names"),
        (["nope"], "has unknown key set(s): nope"),
        (5, "'recommended', None or a sequence of key-set names"),
    ):
        with pytest.raises(AuditConfigurationError) as info:
            SecAuditSettings.from_value({"core": {"sensitive_key_sets": bad}})
        message = str(info.value)
        assert message.startswith("SEC_AUDIT['core']['sensitive_key_sets'] "), message
        assert fragment in message, message
    assert "recommended" in KEY_SETS


def test_tokens() -> None:
    assert key_tokens("PINCode") == ["pin", "code"]
    assert key_tokens("x-Auth_token2") == ["x", "auth", "token", "2"]
    assert key_tokens("pa\u0308ss\u200bword") == ["password"]
    assert key_tokens("ｐａｓｓ ｗｏｒｄ") == ["pass", "word"]


@pytest.fixture
def make_engine_settings(make_engine: Make) -> Make:
    def build(**core: Any) -> Any:
        return make_engine(core=core)

    return build


def test_info_lists_key_sets_and_detectors() -> None:
    import io

    from sec_audit.cli import main

    out = io.StringIO()
    code = main(["info"], stdin=io.BytesIO(b""), stdout=out, stderr=io.StringIO())
    lines = out.getvalue().splitlines()
    assert code == 0
    assert "sensitive_key_sets: recommended" in lines
    assert any(line.startswith("secret_detectors: ") and "url_password" in line for line in lines)
