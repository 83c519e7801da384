"""Render the packaged templates: `{{ NAME | filter | ... }}` placeholders, one pass.

Substitution is a single `re.sub`, so a value that itself looks like a placeholder is
never expanded again. Each file type must end its chains with an escaper made for it;
JSON templates are parsed, substituted inside their strings and dumped again, so the
result is valid JSON whatever the values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from .escape import FILTERS

if TYPE_CHECKING:  # importlib.resources.abc is 3.11+; annotations only
    from importlib.resources.abc import Traversable

__all__ = ["TEMPLATE_SUFFIX", "TemplateError", "iter_templates", "render_template"]

TEMPLATE_SUFFIX = ".tmpl"
PLACEHOLDER = re.compile(r"\{\{ ([A-Z][A-Z0-9_]*)((?: \| [a-z]+)*) \}\}")
# The escaper a chain must end with, per output file type (JSON is structural).
FINAL_FILTERS: dict[str, frozenset[str]] = {
    ".yml": frozenset({"yaml"}),
    ".alloy": frozenset({"alloy"}),
    ".md": frozenset({"md", "logql"}),
    ".py": frozenset({"py"}),
}


class TemplateError(ValueError):
    """A packaged template is broken (a bug in this package, not user input)."""


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:] if dot >= 0 else ""


def _substitute(text: str, values: Mapping[str, str], final: frozenset[str] | None) -> str:
    def replace(match: re.Match[str]) -> str:
        name, chain = match.group(1), match.group(2)
        if name not in values:
            raise TemplateError(f"unknown placeholder {name!r}")
        filters = [part.strip() for part in chain.split("|")[1:]]
        if final is not None and (not filters or filters[-1] not in final):
            raise TemplateError(f"{name!r} must end with one of {sorted(final)}")
        value = values[name]
        for filter_name in filters:
            escape = FILTERS.get(filter_name)
            if escape is None:
                raise TemplateError(f"unknown filter {filter_name!r}")
            value = escape(value)
        return value

    return PLACEHOLDER.sub(replace, text)


def _substitute_json(node: Any, values: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return _substitute(node, values, None)
    if isinstance(node, list):
        return [_substitute_json(item, values) for item in node]
    if isinstance(node, dict):
        return {key: _substitute_json(item, values) for key, item in node.items()}
    return node


def render_template(name: str, text: str, values: Mapping[str, str]) -> str:
    """Render the template for output file `name`."""
    suffix = _suffix(name)
    if suffix == ".json":
        document = _substitute_json(json.loads(text), values)
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    final = FINAL_FILTERS.get(suffix)
    if final is None:
        raise TemplateError(f"no escaping rule for {suffix or 'extensionless'} files ({name})")
    return _substitute(text, values, final)


def _walk(node: Traversable, prefix: tuple[str, ...]) -> Iterator[tuple[str, Traversable]]:
    for child in sorted(node.iterdir(), key=lambda item: item.name):
        if child.is_dir():
            if child.name != "__pycache__":
                yield from _walk(child, (*prefix, child.name))
        elif child.name.endswith(TEMPLATE_SUFFIX):
            yield "/".join((*prefix, child.name[: -len(TEMPLATE_SUFFIX)])), child


def iter_templates() -> Iterator[tuple[str, str]]:
    """(relative output path with '/', template text), from package data.

    Works on any importlib resource reader (plain files, zip, wheel): only
    `iterdir`, `is_dir`, `name` and `read_text` of `Traversable` are used.
    """
    root = files(__package__ or "sec_audit.logging.loki").joinpath("templates")
    for relative, resource in _walk(root, ()):
        yield relative, resource.read_text(encoding="utf-8")
