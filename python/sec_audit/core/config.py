"""The `SEC_AUDIT` settings model.

One parser validates every section (`core`, `logging`, `django`) with no framework
import, so the Django layer, the logging formatter and the CLI all read the same
frozen objects. Each key has one converter `(value, path) -> parsed value`; the
settings path passes `SEC_AUDIT['section']['key']` as `path`, and the dataclasses
run the same converters in `__post_init__` with the bare field name, so direct
construction is validated (and normalised) by the very same rules.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Any, Literal

from .errors import AuditConfigurationError
from .imports import is_dotted_path
from .pattern_safety import unbounded_construct

__all__ = [
    "DEFAULT_BODY_METHODS",
    "DEFAULT_SENSITIVE_KEYS",
    "DETECTOR_NAMES",
    "INTEGRITY_KEY_ID_RE",
    "KEY_SETS",
    "MIN_INTEGRITY_KEY_BYTES",
    "MIN_RECORD_BYTES",
    "SECTIONS",
    "VALUE_SCRUB_MODES",
    "CoreAuditConfig",
    "DjangoAuditConfig",
    "IntegrityConfig",
    "LoggingAuditConfig",
    "ProjectionLimits",
    "SecAuditSettings",
    "key_set_words",
]

DEFAULT_SENSITIVE_KEYS: tuple[str, ...] = (
    "password",
    "passwd",
    "pwd",
    "passcode",
    "secret",
    "token",
    "apikey",
    "authorization",
    "bearer",
    "jwt",
    "cookie",
    "sessionid",
    "csrf",
    "creditcard",
    "ssn",
)

# The secret-detector catalogue of docs/engine.md, in catalogue order; the engine
# package imports it, so this is the one list of valid names.
DETECTOR_NAMES: tuple[str, ...] = (
    "aws_access_key_id",
    "github_token",
    "gitlab_token",
    "slack_token",
    "stripe_key",
    "google_api_key",
    "jwt",
    "private_key_block",
    "http_credentials",
    "payment_card",
    "aws_secret_access_key",
    "url_password",
    "slack_webhook",
    "us_ssn",
    "twilio_key",
    "sendgrid_key",
    "mailgun_key",
    "npm_token",
    "pypi_token",
    "docker_hub_token",
    "openai_key",
    "anthropic_key",
    "azure_storage_key",
    "discord_webhook",
    "shopify_token",
    "square_token",
    "heroku_key",
    "vault_token",
)
RECOMMENDED_DETECTORS = "recommended"
# Extra credential keys matched as whole tokens of the key (split on separators, case
# changes and letter/digit changes), never as substrings: `pin` hits `card_pin` and
# `pinCode`, not `shipping`. Multi-word entries match as a run of tokens
# (`private_key` hits `privateKey`, `PRIVATE-KEY` and `privatekey`).
KEY_SETS: dict[str, tuple[str, ...]] = {
    "recommended": (
        "pin",
        "otp",
        "totp",
        "hotp",
        "mfa",
        "2fa",
        "cvv",
        "cvv2",
        "cvc",
        "cvc2",
        "pass",
        "auth",
        "oauth",
        "iban",
        "dsn",
        "private_key",
        "passphrase",
        "card_number",
        "security_answer",
        "security_code",
        "mnemonic",
        "seed_phrase",
        "access_key",
        "secret_key",
        "session_key",
        "database_url",
        "connection_string",
        "credential",
        "credentials",
        "signature",
    ),
}
RECOMMENDED_KEY_SETS = "recommended"
VALUE_SCRUB_MODES: tuple[str, ...] = ("value", "match")
DEFAULT_BODY_METHODS: frozenset[str] = frozenset({"POST", "PUT", "PATCH"})
MIN_RECORD_BYTES = 1024
MAX_SOURCE_LENGTH = 256
SECTIONS: tuple[str, ...] = ("core", "logging", "django")

ValueScrubMode = Literal["value", "match"]
Network = IPv4Network | IPv6Network
Converter = Callable[[Any, str], Any]

_BODY_METHOD_RE = re.compile(r"[A-Za-z0-9-]+")
# HMAC-SHA256 keys shorter than this are guessable; 32 random bytes is the advice.
MIN_INTEGRITY_KEY_BYTES = 16
# A key id travels in every line and in the HMAC input: a short token that needs no
# JSON escaping and cannot contain the text of the integrity member itself.
INTEGRITY_KEY_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,32}")
_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# --- message helpers -------------------------------------------------------------


def _shown(value: object) -> str:
    """A bounded repr: a hostile or huge value must not flood the error message."""
    try:
        text = repr(value)
    except Exception:  # e.g. an int beyond the str-digits limit, or a hostile __repr__
        return f"<{type(value).__name__} object>"
    return text if len(text) <= 80 else text[:77] + "..."


def _type_error(path: str, expected: str, value: object) -> AuditConfigurationError:
    return AuditConfigurationError(
        f"{path} must be {expected} (got {type(value).__name__} {_shown(value)})."
    )


def _item_error(path: str, expected: str, item: object) -> AuditConfigurationError:
    return AuditConfigurationError(
        f"{path} must contain only {expected} (got {type(item).__name__} {_shown(item)})."
    )


def _value_error(path: str, rule: str, value: object) -> AuditConfigurationError:
    return AuditConfigurationError(f"{path} {rule} (got {_shown(value)}).")


def _key_path(prefix: str, key: str) -> str:
    return f"{prefix}['{key}']" if prefix else key


def _unknown_keys_message(
    head: str, unknown: Iterable[object], known: Iterable[str], path: str, expected: str = ""
) -> str:
    """The original's sorted list, then each near miss named by its full path."""
    names = sorted(str(key) for key in unknown)
    message = f"{head}: {', '.join(names)}.{expected}"
    candidates = list(known)
    for name in names:
        if close := difflib.get_close_matches(name, candidates, n=1, cutoff=0.75):
            message += f" {_key_path(path, name)}: did you mean '{close[0]}'?"
    return message


def _reject_unknown(
    mapping: Mapping[Any, Any], known: Mapping[str, Any], head: str, path: str
) -> None:
    unknown = [key for key in mapping if key not in known]
    if unknown:
        raise AuditConfigurationError(_unknown_keys_message(head, unknown, known, path))


# --- scalar converters -----------------------------------------------------------


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _type_error(path, "a bool (True or False)", value)
    return value


def _optional_bool(value: Any, path: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise _type_error(path, "None (auto), True or False", value)
    return value


def _int(value: Any, path: str) -> int:
    # bool is an int subclass; True as a size is always a mistake.
    if not isinstance(value, int) or isinstance(value, bool):
        raise _type_error(path, "an int", value)
    return int(value)


def _positive_int(value: Any, path: str) -> int:
    number = _int(value, path)
    if number <= 0:
        raise _value_error(path, "must be a positive int", number)
    return number


def _record_bytes(value: Any, path: str) -> int:
    number = _int(value, path)
    if number < MIN_RECORD_BYTES:
        raise _value_error(path, f"must be at least {MIN_RECORD_BYTES}", number)
    return number


def _sample_rate(value: Any, path: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise _type_error(path, "a number between 0 and 1", value)
    if isinstance(value, int) and not 0 <= value <= 1:
        raise _value_error(path, "must be between 0 and 1", value)  # float() could overflow
    rate = float(value)
    if not math.isfinite(rate):
        raise _value_error(path, "must be a finite number", value)
    if not 0.0 <= rate <= 1.0:
        raise _value_error(path, "must be between 0 and 1", value)
    return rate


def _non_empty_str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise _type_error(path, "a non-empty str", value)
    if not value:
        raise _value_error(path, "must be a non-empty str", value)
    return value


def _source(value: Any, path: str) -> str:
    text = _non_empty_str(value, path)
    if len(text) > MAX_SOURCE_LENGTH:
        raise _value_error(path, f"must be at most {MAX_SOURCE_LENGTH} characters", text)
    return text


def _scrub_mode(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise _type_error(path, "'value' or 'match'", value)
    if value not in VALUE_SCRUB_MODES:
        raise _value_error(path, "must be 'value' or 'match'", value)
    return value


def _optional_count(value: Any, path: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _type_error(path, "an int >= 1 or None", value)
    if value < 1:
        raise _value_error(path, "must be an int >= 1 or None", value)
    return int(value)


# --- sequence converters ---------------------------------------------------------


def _items(value: Any, path: str) -> tuple[Any, ...]:
    """Any iterable except text and mappings (a str would silently iterate characters)."""
    if isinstance(value, (str, bytes, bytearray, Mapping)) or not isinstance(value, Iterable):
        raise _type_error(path, "a sequence (list or tuple)", value)
    return tuple(value)


def _str_tuple(value: Any, path: str) -> tuple[str, ...]:
    items = _items(value, path)
    for item in items:
        if not isinstance(item, str):
            raise _item_error(path, "strings", item)
    return items


def _lower_str_tuple(value: Any, path: str) -> tuple[str, ...]:
    return tuple(item.lower() for item in _str_tuple(value, path))


def _regex_tuple(value: Any, path: str) -> tuple[re.Pattern[str], ...]:
    compiled: list[re.Pattern[str]] = []
    for item in _items(value, path):
        if isinstance(item, re.Pattern):
            if not isinstance(item.pattern, str):
                raise _item_error(path, "str regexes, not bytes patterns", item)
            compiled.append(item)
        elif isinstance(item, str):
            try:
                compiled.append(re.compile(item))
            except re.error as exc:
                raise AuditConfigurationError(
                    f"{path} contains malformed regex {_shown(item)}: {exc}."
                ) from exc
        else:
            raise _item_error(path, "regexes (str or compiled)", item)
    return tuple(compiled)


def _value_pattern_tuple(value: Any, path: str) -> tuple[re.Pattern[str], ...]:
    """`_regex_tuple`, refusing patterns that can backtrack catastrophically."""
    compiled = _regex_tuple(value, path)
    for rx in compiled:
        construct = unbounded_construct(rx.pattern, rx.flags)
        if construct is not None:
            raise AuditConfigurationError(
                f"{path} contains {_shown(rx.pattern)}, which has {construct}: it can "
                "backtrack for ever on a crafted value and pin a worker. Rewrite it with an "
                "atomic group (?>...) or a possessive quantifier (a++, a*+), or without the "
                "nesting."
            )
    return compiled


def _status_codes(value: Any, path: str) -> frozenset[int]:
    codes: set[int] = set()
    for item in _items(value, path):
        if not isinstance(item, int) or isinstance(item, bool):
            raise _item_error(path, "int HTTP status codes", item)
        if not 100 <= item <= 599:
            raise _value_error(path, "must contain only HTTP status codes (100-599)", item)
        codes.add(int(item))
    return frozenset(codes)


def _body_methods(value: Any, path: str) -> frozenset[str]:
    methods: set[str] = set()
    for item in _str_tuple(value, path):
        if not _BODY_METHOD_RE.fullmatch(item):
            raise _value_error(
                path, "must contain HTTP method tokens (ASCII letters, digits, '-')", item
            )
        methods.add(item.upper())
    return frozenset(methods)


def _catalogue_names(
    value: Any, path: str, names: Sequence[str], noun: str, accepted: str
) -> tuple[str, ...]:
    """A sequence of names from a catalogue, in catalogue order, without duplicates."""
    if isinstance(value, (bytes, bytearray, Mapping)) or not isinstance(value, Iterable):
        raise _type_error(path, accepted, value)
    chosen = set(_str_tuple(value, path))
    unknown = sorted(chosen.difference(names))
    if unknown:
        raise AuditConfigurationError(
            f"{path} has unknown {noun}(s): {', '.join(unknown)}. Valid: {', '.join(names)}."
        )
    # Canonical form: catalogue order, no duplicates (what the engine runs).
    return tuple(name for name in names if name in chosen)


def _detectors(value: Any, path: str) -> tuple[str, ...]:
    if isinstance(value, str):
        if value == RECOMMENDED_DETECTORS:
            return DETECTOR_NAMES
        raise _value_error(path, "must be 'recommended' or a sequence of detector names", value)
    return _catalogue_names(
        value, path, DETECTOR_NAMES, "detector", "'recommended' or a sequence of detector names"
    )


def _key_sets(value: Any, path: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        if value == RECOMMENDED_KEY_SETS:
            return (RECOMMENDED_KEY_SETS,)
        raise _value_error(
            path, "must be 'recommended', None or a sequence of key-set names", value
        )
    return _catalogue_names(
        value,
        path,
        tuple(KEY_SETS),
        "key set",
        "'recommended', None or a sequence of key-set names",
    )


def key_set_words(names: Iterable[str]) -> tuple[str, ...]:
    """The entries of the named key sets, in order, without duplicates."""
    return tuple(dict.fromkeys(word for name in names for word in KEY_SETS[name]))


def _cidrs(value: Any, path: str) -> tuple[str, ...]:
    entries = _str_tuple(value, path)
    _networks(entries, path)
    return entries


def _networks(entries: Iterable[str], path: str) -> tuple[Network, ...]:
    networks: list[Network] = []
    for entry in entries:
        try:
            # Non-strict: host bits allowed ('10.0.0.1/8'), as the original.
            networks.append(ip_network(entry, strict=False))
        except ValueError as exc:
            raise AuditConfigurationError(
                f"{path} contains invalid CIDR {_shown(entry)}: {exc}."
            ) from exc
    return tuple(networks)


def _extensions(method: str) -> Converter:
    """Filters/enrichers: dotted `module.attr` strings (imported later) or objects."""

    def convert(value: Any, path: str) -> tuple[object, ...]:
        items = _items(value, path)
        for item in items:
            if isinstance(item, str):
                if not is_dotted_path(item):
                    raise _value_error(
                        path, "must contain dotted paths of the form 'module.attr'", item
                    )
            elif not callable(item) and not callable(getattr(item, method, None)):
                raise _item_error(
                    path, f"dotted paths, callables or objects with .{method}()", item
                )
        return items

    return convert


def _limits(value: Any, path: str) -> ProjectionLimits:
    if isinstance(value, ProjectionLimits):
        return value
    if not isinstance(value, Mapping):
        raise _type_error(path, "a ProjectionLimits or a mapping", value)
    _reject_unknown(value, _LIMIT_CONVERTERS, f"{path} has unknown key(s)", path)
    return ProjectionLimits(
        **{key: _LIMIT_CONVERTERS[key](item, f"{path}['{key}']") for key, item in value.items()}
    )


def _apply(obj: object, converters: Mapping[str, Converter], prefix: str = "") -> None:
    """Run each field's converter on a frozen dataclass, storing the normalised value."""
    for name, convert in converters.items():
        object.__setattr__(obj, name, convert(getattr(obj, name), _key_path(prefix, name)))


# --- integrity (tamper evidence) -------------------------------------------------
# The key is never shown in a message or repr: only its type and length.


def _integrity_key(value: Any, path: str) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.encode("utf-8")
    elif isinstance(value, bytearray):
        value = bytes(value)
    elif not isinstance(value, bytes):
        raise AuditConfigurationError(
            f"{path} must be a str, bytes or None (got {type(value).__name__})."
        )
    if len(value) < MIN_INTEGRITY_KEY_BYTES:
        raise AuditConfigurationError(
            f"{path} must be at least {MIN_INTEGRITY_KEY_BYTES} bytes (got {len(value)} bytes)."
        )
    return value


def _env_name(value: Any, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _type_error(path, "an environment variable name (str) or None", value)
    if not _ENV_NAME_RE.fullmatch(value):
        raise _value_error(path, "must be an environment variable name", value)
    return value


def _key_id(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise _type_error(path, "a str", value)
    if not INTEGRITY_KEY_ID_RE.fullmatch(value):
        raise _value_error(path, "must be 1-32 characters of A-Z, a-z, 0-9, '.', '_', '-'", value)
    return value


def _integrity_secret(key: bytes | str | None, key_env: str | None, prefix: str) -> bytes:
    """The HMAC key: `key` itself, or the value of `key_env` read now (start-up)."""
    if (key is None) == (key_env is None):
        where = prefix or "integrity"
        raise AuditConfigurationError(f"{where} needs exactly one of 'key' and 'key_env'.")
    if key is not None:
        return key.encode() if isinstance(key, str) else key
    assert key_env is not None
    env_path = _key_path(prefix, "key_env")
    raw = os.environ.get(key_env)
    if raw is None:
        raise AuditConfigurationError(
            f"{env_path} names environment variable {key_env!r}, which is not set."
        )
    secret = raw.encode("utf-8", "surrogateescape")  # os.environ's own decoding, reversed
    if len(secret) < MIN_INTEGRITY_KEY_BYTES:
        raise AuditConfigurationError(
            f"{env_path}: environment variable {key_env!r} must hold at least "
            f"{MIN_INTEGRITY_KEY_BYTES} bytes (got {len(secret)} bytes)."
        )
    return secret


@dataclass(frozen=True, slots=True)
class IntegrityConfig:
    """`SEC_AUDIT['logging']['integrity']`: the HMAC chain's key and key id.

    `secret` is the resolved key (from `key`, or from the environment variable
    `key_env` read once at start-up); it is left out of repr and comparisons.
    """

    # A str key is accepted and stored as its UTF-8 bytes by the converter.
    key: bytes | str | None = field(default=None, repr=False)
    key_env: str | None = None
    key_id: str = "k1"
    secret: bytes = field(init=False, default=b"", repr=False, compare=False)

    def __post_init__(self) -> None:
        _apply(self, _INTEGRITY_CONVERTERS)
        object.__setattr__(self, "secret", _integrity_secret(self.key, self.key_env, ""))


_INTEGRITY_CONVERTERS: dict[str, Converter] = {
    "key": _integrity_key,
    "key_env": _env_name,
    "key_id": _key_id,
}


def _integrity(value: Any, path: str) -> IntegrityConfig | None:
    if value is None or isinstance(value, IntegrityConfig):
        return value
    if not isinstance(value, Mapping):
        raise _type_error(path, "None, an IntegrityConfig or a mapping", value)
    _reject_unknown(value, _INTEGRITY_CONVERTERS, f"{path} has unknown key(s)", path)
    kwargs = {
        key: _INTEGRITY_CONVERTERS[key](item, f"{path}['{key}']") for key, item in value.items()
    }
    # Cross-key rule and the environment read, with the full settings path.
    _integrity_secret(kwargs.get("key"), kwargs.get("key_env"), path)
    return IntegrityConfig(**kwargs)


# --- the sections ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProjectionLimits:
    """Bounds of the projection walk and of one emitted line."""

    max_depth: int = 8
    max_mapping_entries: int = 100
    max_sequence_length: int = 100
    max_string_length: int = 4096
    max_attributes: int = 128
    max_bytes: int = 64
    max_record_bytes: int = 262144

    def __post_init__(self) -> None:
        _apply(self, _LIMIT_CONVERTERS)


_LIMIT_CONVERTERS: dict[str, Converter] = {
    "max_depth": _positive_int,
    "max_mapping_entries": _positive_int,
    "max_sequence_length": _positive_int,
    "max_string_length": _positive_int,
    "max_attributes": _positive_int,
    "max_bytes": _positive_int,
    "max_record_bytes": _record_bytes,
}


@dataclass(frozen=True, slots=True)
class CoreAuditConfig:
    """`SEC_AUDIT['core']`: what is logged and how it is scrubbed."""

    source: str = "sec-audit"
    ignore_paths: tuple[re.Pattern[str], ...] = ()
    ignore_status_codes: frozenset[int] = frozenset()
    sample_rate: float = 1.0
    log_ok_responses: bool = False
    log_request_bodies: bool = False
    log_body_paths: tuple[re.Pattern[str], ...] = ()
    body_methods: frozenset[str] = DEFAULT_BODY_METHODS
    max_body_bytes: int = 4096
    # D1: empty = capture the whole JSON object; non-empty narrows to these top-level keys.
    body_field_allowlist: tuple[str, ...] = ()
    sensitive_keys: tuple[str, ...] = DEFAULT_SENSITIVE_KEYS
    sensitive_key_allowlist: tuple[str, ...] = ()
    sensitive_value_patterns: tuple[re.Pattern[str], ...] = ()
    secret_detectors: tuple[str, ...] = DETECTOR_NAMES
    sensitive_key_sets: tuple[str, ...] = (RECOMMENDED_KEY_SETS,)
    value_scrub_mode: ValueScrubMode = "value"
    log_url_query: bool = False

    def __post_init__(self) -> None:
        _apply(self, _CORE_CONVERTERS)


_CORE_CONVERTERS: dict[str, Converter] = {
    "source": _source,
    "ignore_paths": _regex_tuple,
    "ignore_status_codes": _status_codes,
    "sample_rate": _sample_rate,
    "log_ok_responses": _bool,
    "log_request_bodies": _bool,
    "log_body_paths": _regex_tuple,
    "body_methods": _body_methods,
    "max_body_bytes": _positive_int,
    "body_field_allowlist": _str_tuple,
    "sensitive_keys": _lower_str_tuple,
    "sensitive_key_allowlist": _lower_str_tuple,
    "sensitive_value_patterns": _value_pattern_tuple,
    "secret_detectors": _detectors,
    "sensitive_key_sets": _key_sets,
    "value_scrub_mode": _scrub_mode,
    "log_url_query": _bool,
}


@dataclass(frozen=True, slots=True)
class LoggingAuditConfig:
    """`SEC_AUDIT['logging']`: the line schema, its bounds and tamper evidence."""

    schema_version: str = "1.0"
    projection_limits: ProjectionLimits = field(default_factory=ProjectionLimits)
    # None = off; otherwise every line is sealed into a per-process HMAC chain.
    integrity: IntegrityConfig | None = None

    def __post_init__(self) -> None:
        _apply(self, _LOGGING_CONVERTERS)


_LOGGING_CONVERTERS: dict[str, Converter] = {
    "schema_version": _non_empty_str,
    "projection_limits": _limits,
    "integrity": _integrity,
}


@dataclass(frozen=True, slots=True)
class DjangoAuditConfig:
    """`SEC_AUDIT['django']`: request-side options (plain data; no Django import)."""

    include_usernames: bool = False
    emit_session_id: bool = False
    # D2/D3: None = on when the package is installed, True = required, False = off.
    drf_enabled: bool | None = None
    model_events_enabled: bool | None = None
    trusted_proxy_cidrs: tuple[str, ...] = ()
    # D5: cidrs without a count is valid (walk X-Forwarded-For past trusted hops).
    trusted_proxy_count: int | None = None
    filters: tuple[object, ...] = ()
    enrichers: tuple[object, ...] = ()
    trusted_proxy_networks: tuple[Network, ...] = field(init=False, default=(), compare=False)

    def __post_init__(self) -> None:
        _apply(self, _DJANGO_CONVERTERS)
        _check_proxy_pair(self.trusted_proxy_cidrs, self.trusted_proxy_count, "")
        networks = _networks(self.trusted_proxy_cidrs, "trusted_proxy_cidrs")
        object.__setattr__(self, "trusted_proxy_networks", networks)


_DJANGO_CONVERTERS: dict[str, Converter] = {
    "include_usernames": _bool,
    "emit_session_id": _bool,
    "drf_enabled": _optional_bool,
    "model_events_enabled": _optional_bool,
    "trusted_proxy_cidrs": _cidrs,
    "trusted_proxy_count": _optional_count,
    "filters": _extensions("filter"),
    "enrichers": _extensions("enrich"),
}


def _check_proxy_pair(cidrs: tuple[str, ...], count: int | None, prefix: str) -> None:
    if count is not None and not cidrs:
        raise _value_error(
            _key_path(prefix, "trusted_proxy_count"),
            "has no effect without trusted_proxy_cidrs",
            count,
        )


_SECTION_TYPES: dict[str, tuple[type, Mapping[str, Converter]]] = {
    "core": (CoreAuditConfig, _CORE_CONVERTERS),
    "logging": (LoggingAuditConfig, _LOGGING_CONVERTERS),
    "django": (DjangoAuditConfig, _DJANGO_CONVERTERS),
}


def _parse_section(name: str, raw: object) -> Any:
    cls, converters = _SECTION_TYPES[name]
    path = f"SEC_AUDIT['{name}']"
    if raw is None:
        return cls()
    if isinstance(raw, cls):
        return raw
    if not isinstance(raw, Mapping):
        raise _type_error(path, f"a mapping or {cls.__name__} instance", raw)
    _reject_unknown(raw, converters, f"Unknown {path} setting(s)", path)
    kwargs = {key: converters[key](value, f"{path}['{key}']") for key, value in raw.items()}
    if cls is DjangoAuditConfig:
        _check_proxy_pair(
            kwargs.get("trusted_proxy_cidrs", ()), kwargs.get("trusted_proxy_count"), path
        )
    return cls(**kwargs)


@dataclass(frozen=True, slots=True)
class SecAuditSettings:
    """The whole parsed `SEC_AUDIT` setting."""

    core: CoreAuditConfig = field(default_factory=CoreAuditConfig)
    logging: LoggingAuditConfig = field(default_factory=LoggingAuditConfig)
    django: DjangoAuditConfig = field(default_factory=DjangoAuditConfig)

    def __post_init__(self) -> None:
        for name, (cls, _) in _SECTION_TYPES.items():
            value = getattr(self, name)
            if not isinstance(value, cls):
                raise _type_error(name, f"a {cls.__name__}", value)

    @classmethod
    def from_value(cls, value: object) -> SecAuditSettings:
        """Parse `settings.SEC_AUDIT`: None (all defaults), a mapping, or an instance."""
        if value is None:
            return cls()
        if isinstance(value, SecAuditSettings):
            return value
        if not isinstance(value, Mapping):
            raise AuditConfigurationError(
                "SEC_AUDIT must be a mapping or SecAuditSettings instance "
                f"(got {type(value).__name__})."
            )
        unknown = [key for key in value if key not in _SECTION_TYPES]
        if unknown:
            raise AuditConfigurationError(
                _unknown_keys_message(
                    "Unknown SEC_AUDIT section(s)",
                    unknown,
                    SECTIONS,
                    "SEC_AUDIT",
                    f" Expected: {', '.join(SECTIONS)}.",
                )
            )
        return cls(**{name: _parse_section(name, value.get(name)) for name in SECTIONS})
