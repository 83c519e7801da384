"""The "present" rule for optional attributes is one rule (issue 9.5): written unless
None or '' (0, False, empty containers and other falsy values are kept).

`sec_audit.django.events.present` is the definition; the HTTP event builder
(`http_events`) and `events.ordered` both use it.
"""

from __future__ import annotations

from typing import Any

import pytest

from sec_audit.django import http_events
from sec_audit.django.events import ordered, present


class Text(str):
    pass


VALUES: list[tuple[Any, bool]] = [
    (None, False),
    ("", False),
    (Text(""), False),
    (0, True),
    (0.0, True),
    (False, True),
    ([], True),
    ({}, True),
    (b"", True),
    ("x", True),
    (Text("x"), True),
]


@pytest.mark.parametrize(("value", "expected"), VALUES, ids=[repr(v) for v, _ in VALUES])
def test_present_rule(value: Any, expected: bool) -> None:
    assert present(value) is expected
    assert http_events.present is present
    # `ordered` applies it to the documented attributes and to unknown ones alike.
    assert ("user.id" in ordered({"user.id": value})) is expected
    assert ("custom" in ordered({"custom": value})) is expected
