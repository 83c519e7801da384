"""Native vs reference vs Python `re` on every construct the linear engine cannot run.

The native engine runs these through fancy-regex (bounded backtracking) and the
reference through the `regex` module (timeout); both must give `re`'s own answer on
text that finishes well inside the bounds: the whole value redacted in value mode, the
`re.finditer` spans spliced in match mode. Bodies go through `capture_body` too.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sec_audit.core.engine.python.strings import REDACTED, merge_spans
from unit.test_pattern_translations import CONSTRUCTS  # tests/ is on sys.path

from .engines import body_view, config_key, engines

_ALPHABET = "abcfoxyzkKsiI019_=!,'\"<>é\u212a\u017f\u0131 \n"
texts = st.text(alphabet=st.sampled_from(_ALPHABET), max_size=24) | st.text(max_size=12)


def expected(pattern: re.Pattern[str], value: str, mode: str) -> str:
    """The string rule with `re` itself (values far below max_string_length)."""
    if mode == "value":
        return REDACTED if pattern.search(value) else value
    spans = merge_spans([m.span() for m in pattern.finditer(value) if m.end() > m.start()])
    out, pos = [], 0
    for start, stop in spans:
        out.append(value[pos:start] + REDACTED)
        pos = stop
    return "".join(out) + value[pos:]


@settings(max_examples=40, deadline=None)
@given(value=texts)
@pytest.mark.parametrize("mode", ["value", "match"])
@pytest.mark.parametrize("pattern", CONSTRUCTS)
def test_backtracking_constructs_answer_as_re(pattern: str, mode: str, value: str) -> None:
    key = config_key(patterns=(pattern,), detectors=False, mode=mode)
    native, python = engines(key)
    want = json.dumps(expected(re.compile(pattern), value, mode))
    assert native.project(value) == python.project(value) == want
    body = json.dumps({"v": value}).encode()
    assert body_view(native.capture_body(body)) == body_view(python.capture_body(body))
