"""Print a pytest-benchmark JSON run as ratio tables (one per benchmark group).

Usage: python benches/report.py .benchmarks/latest.json

Within a group, each row's median is divided by the group's reference row: the first
benchmark whose name contains one of REFERENCE_MARKERS (the floor it is measured
against: no middleware, orjson.dumps, json.loads+orjson.dumps).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict

REFERENCE_MARKERS = ("baseline", "floor", "no_middleware", "orjson")


def main(path: str) -> None:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    groups: dict[str, list[dict]] = defaultdict(list)
    for bench in data["benchmarks"]:
        groups[bench.get("group") or "ungrouped"].append(bench)
    for group, benches in sorted(groups.items()):
        ref = next((b for b in benches if any(m in b["name"] for m in REFERENCE_MARKERS)), None)
        print(f"\n## {group}")
        print(f"| benchmark | median (us) | ratio to {ref['name'] if ref else '-'} |")
        print("|---|---:|---:|")
        for b in sorted(benches, key=lambda b: b["stats"]["median"]):
            median = b["stats"]["median"]
            ratio = f"{median / ref['stats']['median']:.2f}x" if ref else "-"
            print(f"| {b['name']} | {median * 1e6:.1f} | {ratio} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".benchmarks/latest.json")
