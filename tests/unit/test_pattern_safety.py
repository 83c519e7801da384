"""Value patterns that can backtrack catastrophically are refused at configuration time."""

from __future__ import annotations

import re

import pytest

from sec_audit.core.config import SecAuditSettings
from sec_audit.core.errors import AuditConfigurationError
from sec_audit.core.pattern_safety import unbounded_construct

REFUSED = [
    r"(a+)+$",
    r"^(?=a)(a+)+$",
    r"(\w+)+\1$",
    r"(a*)*b",
    r"(?:a|ab+)+",
    r"(x+x+)+y",
    r"(a)(?:\1)+",
    r"(?:[a-z]+\.)+com",
    r"(?:(?:a+))+",
]
ACCEPTED = [
    r"\d{16}",
    r"(?i)secret-\d+",
    r"\b[A-Za-z0-9-_=]{40,}\b",
    r"(\d{1,3}\.){3}\d+",
    r"(?<=x)y",
    r"hunter\d",
    r"x*",
    r"(ab)+",
    r"(a)\1",
]
if hasattr(re, "NOFLAG"):  # Python >= 3.11: atomic groups and possessive quantifiers
    ACCEPTED += [r"(?>a+)+$", r"(a++)+$", r"(?:[a-z]++\.)+com"]


@pytest.mark.parametrize("pattern", REFUSED)
def test_refused_at_start_up_naming_the_setting(pattern: str) -> None:
    assert unbounded_construct(pattern) is not None
    with pytest.raises(AuditConfigurationError) as info:
        SecAuditSettings.from_value({"core": {"sensitive_value_patterns": [pattern]}})
    message = str(info.value)
    assert "SEC_AUDIT['core']['sensitive_value_patterns']" in message
    assert "atomic group" in message and "possessive" in message


def test_compiled_pattern_is_checked_too() -> None:
    with pytest.raises(AuditConfigurationError):
        SecAuditSettings.from_value({"core": {"sensitive_value_patterns": [re.compile("(a+)+$")]}})


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_linear_patterns_are_accepted(pattern: str) -> None:
    assert unbounded_construct(pattern) is None
    core = SecAuditSettings.from_value({"core": {"sensitive_value_patterns": [pattern]}}).core
    assert [p.pattern for p in core.sensitive_value_patterns] == [pattern]


def test_other_regex_settings_are_not_restricted() -> None:
    core = SecAuditSettings.from_value({"core": {"ignore_paths": ["^/(a+)+$"]}}).core
    assert core.ignore_paths[0].pattern == "^/(a+)+$"
