"""The constant tables that exist on both sides of the engine boundary are equal."""

from __future__ import annotations

import pytest

from sec_audit.core.engine import native_available
from sec_audit.core.engine.python.projection import KEY_EXEMPT, VALUE_EXEMPT
from sec_audit.logging.pipeline import PROTECTED_KEYS


def test_value_exempt_is_the_protected_keys() -> None:
    """The attributes extensions may not change are the ones value scanning skips."""
    assert VALUE_EXEMPT == PROTECTED_KEYS
    assert VALUE_EXEMPT <= KEY_EXEMPT


@pytest.mark.skipif(not native_available(), reason="native engine not built")
def test_native_exemption_tables_equal_the_reference() -> None:
    from sec_audit import _native

    assert _native.KEY_EXEMPT == KEY_EXEMPT
    assert _native.VALUE_EXEMPT == VALUE_EXEMPT
