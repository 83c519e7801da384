"""SEC_AUDIT['logging']['integrity']: every key, its default, valid values and errors."""

from __future__ import annotations

import dataclasses

import pytest

from sec_audit.core.config import IntegrityConfig, LoggingAuditConfig, SecAuditSettings
from sec_audit.core.errors import AuditConfigurationError

KEY = "0123456789abcdef"  # exactly the 16-byte minimum
PATH = "SEC_AUDIT['logging']['integrity']"


def parse(value: object) -> IntegrityConfig | None:
    return SecAuditSettings.from_value({"logging": {"integrity": value}}).logging.integrity


def parse_error(value: object) -> str:
    with pytest.raises(AuditConfigurationError) as info:
        parse(value)
    return str(info.value)


def test_off_by_default() -> None:
    assert SecAuditSettings.from_value(None).logging.integrity is None
    assert parse(None) is None
    assert LoggingAuditConfig().integrity is None


def test_key_str_is_utf8_bytes_and_key_id_defaults_to_k1() -> None:
    config = parse({"key": "ключ-" + KEY})
    assert config is not None
    assert config.secret == ("ключ-" + KEY).encode()
    assert config.key == config.secret
    assert config.key_id == "k1"
    assert config.key_env is None


@pytest.mark.parametrize("key", [KEY.encode(), bytearray(KEY.encode())])
def test_key_bytes(key: bytes) -> None:
    config = parse({"key": key, "key_id": "2024-06.a_B"})
    assert config is not None
    assert config.secret == KEY.encode()
    assert type(config.secret) is bytes
    assert config.key_id == "2024-06.a_B"


def test_key_env_is_read_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIT_HMAC_KEY", "s" * 40)
    config = parse({"key_env": "AUDIT_HMAC_KEY"})
    assert config is not None
    assert config.secret == b"s" * 40
    assert config.key is None
    assert config.key_env == "AUDIT_HMAC_KEY"
    monkeypatch.setenv("AUDIT_HMAC_KEY", "changed later" * 4)
    assert config.secret == b"s" * 40  # resolved once


def test_instance_passes_through() -> None:
    config = IntegrityConfig(key=KEY, key_id="k9")
    assert parse(config) is config
    assert config.secret == KEY.encode()


def test_key_never_in_repr_or_messages() -> None:
    secret = "do-not-print-me-" * 2
    assert secret not in repr(parse({"key": secret}))
    assert secret not in repr(
        SecAuditSettings.from_value({"logging": {"integrity": {"key": secret}}})
    )
    message = parse_error({"key": secret[:15]})
    assert secret[:15] not in message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "key",
            f"{PATH} must be None, an IntegrityConfig or a mapping (got str 'key').",
        ),
        (True, f"{PATH} must be None, an IntegrityConfig or a mapping (got bool True)."),
        ({}, f"{PATH} needs exactly one of 'key' and 'key_env'."),
        ({"key": None, "key_env": None}, f"{PATH} needs exactly one of 'key' and 'key_env'."),
        ({"key_id": "k2"}, f"{PATH} needs exactly one of 'key' and 'key_env'."),
        (
            {"key": KEY, "key_env": "AUDIT_HMAC_KEY"},
            f"{PATH} needs exactly one of 'key' and 'key_env'.",
        ),
        ({"kye": KEY}, f"{PATH} has unknown key(s): kye."),
        (
            {"key": KEY, "keyid": "k2"},
            f"{PATH} has unknown key(s): keyid. {PATH}['keyid']: did you mean 'key_id'?",
        ),
        # key
        ({"key": "short"}, f"{PATH}['key'] must be at least 16 bytes (got 5 bytes)."),
        ({"key": KEY[:15]}, f"{PATH}['key'] must be at least 16 bytes (got 15 bytes)."),
        ({"key": b""}, f"{PATH}['key'] must be at least 16 bytes (got 0 bytes)."),
        ({"key": 12345678901234567890}, f"{PATH}['key'] must be a str, bytes or None (got int)."),
        ({"key": [KEY]}, f"{PATH}['key'] must be a str, bytes or None (got list)."),
        # key_env
        (
            {"key_env": 5},
            f"{PATH}['key_env'] must be an environment variable name (str) or None (got int 5).",
        ),
        (
            {"key_env": "NOT A NAME"},
            f"{PATH}['key_env'] must be an environment variable name (got 'NOT A NAME').",
        ),
        (
            {"key_env": "SEC_AUDIT_TEST_UNSET_VAR"},
            f"{PATH}['key_env'] names environment variable 'SEC_AUDIT_TEST_UNSET_VAR', "
            "which is not set.",
        ),
        # key_id
        ({"key": KEY, "key_id": ""}, f"{PATH}['key_id'] must be 1-32 characters"),
        ({"key": KEY, "key_id": "a" * 33}, f"{PATH}['key_id'] must be 1-32 characters"),
        ({"key": KEY, "key_id": 'k"1'}, f"{PATH}['key_id'] must be 1-32 characters"),
        ({"key": KEY, "key_id": "k 1"}, f"{PATH}['key_id'] must be 1-32 characters"),
        ({"key": KEY, "key_id": 1}, f"{PATH}['key_id'] must be a str (got int 1)."),
        ({"key": KEY, "key_id": None}, f"{PATH}['key_id'] must be a str (got NoneType None)."),
    ],
)
def test_invalid(value: object, message: str) -> None:
    assert parse_error(value).startswith(message)


def test_key_env_too_short_or_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIT_HMAC_KEY", "")
    assert parse_error({"key_env": "AUDIT_HMAC_KEY"}) == (
        f"{PATH}['key_env']: environment variable 'AUDIT_HMAC_KEY' must hold at least "
        "16 bytes (got 0 bytes)."
    )


def test_direct_construction_uses_the_same_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AuditConfigurationError, match=r"^key must be at least 16 bytes"):
        IntegrityConfig(key="short")
    with pytest.raises(AuditConfigurationError, match=r"^integrity needs exactly one of"):
        IntegrityConfig()
    monkeypatch.delenv("SEC_AUDIT_TEST_UNSET_VAR", raising=False)
    with pytest.raises(AuditConfigurationError, match=r"^key_env names environment variable"):
        IntegrityConfig(key_env="SEC_AUDIT_TEST_UNSET_VAR")
    with pytest.raises(AuditConfigurationError, match=r"^key_id must be 1-32"):
        IntegrityConfig(key=KEY, key_id="")


def test_every_integrity_field_is_covered() -> None:
    names = {f.name for f in dataclasses.fields(IntegrityConfig) if f.init}
    assert names == {"key", "key_env", "key_id"}


def test_logging_section_accepts_integrity_beside_other_keys() -> None:
    settings = SecAuditSettings.from_value(
        {"logging": {"schema_version": "2", "integrity": {"key": KEY, "key_id": "k7"}}}
    )
    assert settings.logging.schema_version == "2"
    assert settings.logging.integrity == IntegrityConfig(key=KEY, key_id="k7")
