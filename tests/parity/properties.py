"""Properties every engine output must have, whatever the other engine says (issue 9.3).

The differential suite compares the two engines; these checks catch a bug both share:
each output parses as JSON and stays within every configured bound (docs/engine.md).
Bounds, for a value projected at depth 1 (`project`, an attribute value, a body):
- nesting: at most `max_depth - 1` containers deep (a value at `max_depth` is a marker);
  the attribute mapping itself adds one level;
- a mapping has at most `max_mapping_entries` entries plus the `_truncated` overflow
  entry (`max_attributes` for the attribute mapping), a list at most
  `max_sequence_length` items plus one `[TRUNCATED]` marker;
- a string or key, markers taken out, has at most `max_string_length` code points
  (in 'match' mode each redacted span becomes one marker, so only markers are added).
  `<unserializable:module.Type>` names a type and `nan`/`inf`/`-inf` are what a
  non-finite float becomes: neither is cut (projection.py, json_writer.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sec_audit.core.config import ProjectionLimits

MARKERS = ("[REDACTED]", "[TRUNCATED]")
UNSERIALIZABLE = "<unserializable:"
NON_FINITE = ("nan", "inf", "-inf")


def parse(text: str) -> Any:
    """The output as JSON (`NaN`/`Infinity` are accepted, as `json.loads` does)."""
    try:
        return json.loads(text)
    except ValueError as exc:  # pragma: no cover - the failure message is the point
        raise AssertionError(f"output is not JSON ({exc}): {text[:200]!r}") from None


def _string_ok(text: str, limit: int) -> bool:
    if text.startswith(UNSERIALIZABLE) or text in NON_FINITE:
        return True
    bare = text
    for marker in MARKERS:
        bare = bare.replace(marker, "")
    return len(bare) <= limit


def check_tree(
    value: Any, limits: ProjectionLimits, levels: int | None = None, top_cap: int | None = None
) -> None:
    """`value` (parsed) respects the bounds; `levels` = containers allowed (default
    `max_depth - 1`), `top_cap` = the outermost mapping's cap (default the mapping cap)."""
    allowed = limits.max_depth - 1 if levels is None else levels
    stack: list[tuple[Any, int, bool]] = [(value, 0, True)]
    while stack:
        item, depth, outer = stack.pop()
        if isinstance(item, str):
            assert _string_ok(item, limits.max_string_length), (item, limits)
            continue
        if not isinstance(item, (dict, list)):
            continue
        depth += 1
        assert depth <= allowed, f"{depth} levels deep, bound {allowed}: {value!r:.300}"
        if isinstance(item, dict):
            cap = top_cap if (outer and top_cap is not None) else limits.max_mapping_entries
            assert len(item) <= cap + 1, (len(item), cap)
            if len(item) == cap + 1:
                assert item.get("_truncated") == "[TRUNCATED]", item
            for key, child in item.items():
                if key != "_truncated":  # the overflow marker's own key is never cut
                    assert _string_ok(key, limits.max_string_length), (key, limits)
                stack.append((child, depth, False))
        else:
            assert len(item) <= limits.max_sequence_length + 1, len(item)
            if len(item) == limits.max_sequence_length + 1:
                assert item[-1] == "[TRUNCATED]", item
            stack.extend((child, depth, False) for child in item)


def check_projected(text: str, limits: ProjectionLimits) -> None:
    """`engine.project(value)` output."""
    check_tree(parse(text), limits)


def check_body(fragment_json: str, limits: ProjectionLimits) -> None:
    """A captured body's fragment (projected at depth 1, like an attribute value)."""
    check_tree(parse(fragment_json), limits)


def check_rendered(text: str, envelope: Any, limits: ProjectionLimits) -> None:
    """`engine.render(envelope)` output: one JSON object with the envelope's members in
    order; `attributes` and `body` bounded (the other members are ours, verbatim).
    Attribute values that are `BodyFragment`s are embedded as they are and not checked."""
    line = parse(text)
    assert isinstance(line, dict), text[:200]
    assert "\n" not in text
    if isinstance(envelope, dict):
        assert list(line) == [str(k) for k in dict.fromkeys(envelope)], (list(line), envelope)
    attributes = line.get("attributes")
    if isinstance(attributes, dict) and isinstance(envelope.get("attributes"), Mapping):
        check_tree(
            _without_fragments(attributes, envelope["attributes"], limits),
            limits,
            levels=limits.max_depth,
            top_cap=limits.max_attributes,
        )
    elif "attributes" in line:
        check_tree(attributes, limits)
    if "body" in line:
        check_tree(line["body"], limits)


def _without_fragments(
    attributes: dict[str, Any], source: Mapping[Any, Any], limits: ProjectionLimits
) -> dict[str, Any]:
    from sec_audit.core.engine import BodyFragment

    if not any(isinstance(v, BodyFragment) for v in source.values()):
        return attributes
    # A fragment's output key is its (possibly truncated) key; those entries are
    # verbatim JSON the body capture bounded already.
    cut = limits.max_string_length
    fragment_keys = {
        (str(k)[:cut] + "[TRUNCATED]" if len(str(k)) > cut else str(k))
        for k, v in source.items()
        if isinstance(v, BodyFragment)
    }
    return {k: ("" if k in fragment_keys else v) for k, v in attributes.items()}
