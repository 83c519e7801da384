"""The adversarial corpus (tests/data/parity_corpus.jsonl): one case per line.

`{"name", "kind": "render"|"project"|"body", "config": {config_key kwargs},
"compact": bool, "input": <tagged JSON> | "data": str (UTF-8, surrogatepass) |
"data_hex": str, "expect": <the line or value as written> | [status, fragment or null]}`.
`expect` is the reviewed answer from the spec (docs/engine.md), not from either engine:
change it only with the rule it pins. Tagged JSON spells the Python values JSON cannot: `{"$set": [...]}`,
`{"$tuple": [...]}`, `{"$bytes": hex}`, `{"$float": "nan"}`, `{"$dt": iso}`,
`{"$uuid": s}`, `{"$dec": s}`, `{"$obj": null}`, `{"$enum": name}`, `{"$intenum": 1}`,
`{"$weird": s}` (a str subclass with its own `__str__`), `{"$frag": json}`,
`{"$items": [[k, v], ...]}` (a dict with non-str keys), `"$self"` (the enclosing
container: a cycle).
"""

from __future__ import annotations

import datetime
import decimal
import json
import pathlib
import uuid
from typing import Any

from sec_audit.core.engine import BodyFragment

from . import strategies as S

CORPUS = pathlib.Path(__file__).resolve().parent.parent / "data" / "parity_corpus.jsonl"


def decode(value: Any, parent: Any = None) -> Any:
    if value == "$self":
        return parent
    if isinstance(value, list):
        out: list[Any] = []
        out.extend(decode(v, out) for v in value)
        return out
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((tag, arg),) = value.items()
        if tag == "$set":
            return {decode(v) for v in arg}
        if tag == "$tuple":
            return tuple(decode(v) for v in arg)
        if tag == "$bytes":
            return bytes.fromhex(arg)
        if tag == "$float":
            return float(arg)
        if tag == "$dt":
            return datetime.datetime.fromisoformat(arg)
        if tag == "$uuid":
            return uuid.UUID(arg)
        if tag == "$dec":
            return decimal.Decimal(arg)
        if tag == "$obj":
            return S.Opaque()
        if tag == "$enum":
            return S.Color[arg]
        if tag == "$intenum":
            return S.Level(arg)
        if tag == "$weird":
            return S.Weird(arg)
        if tag == "$frag":
            return BodyFragment(arg)
        if tag == "$items":
            d: dict[Any, Any] = {}
            for k, v in arg:
                d[decode(k)] = decode(v, d)
            return d
    d = {}
    for k, v in value.items():
        d[k] = decode(v, d)
    return d


def cases() -> list[dict[str, Any]]:
    with CORPUS.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def body_bytes(case: dict[str, Any]) -> bytes:
    if "data_hex" in case:
        return bytes.fromhex(case["data_hex"])
    return str(case["data"]).encode("utf-8", "surrogatepass")
