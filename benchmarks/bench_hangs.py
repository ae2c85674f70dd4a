"""How much of a matrix run is spent waiting on timeouts, and how each bound compares with
what the cells measured, from the raw results of a real run.

    python benchmarks/bench_hangs.py [reports/raw] [--json benchmarks/hang_cost.json]

For each scenario that hung somewhere: the seconds its hang cells cost, the bound they ran into
(the cell's timeout, the readiness timeout, the request timeout or the stop grace period), and
the slowest time the same scenario (or its fixed twin) needed where it did not hang. A bound far
above that slowest time costs time on every hang and buys nothing; one close to it risks
calling a slow run a hang. The bundled scenarios keep each bound at two times or more the
slowest measured need.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from pytest_mpcompat.model.rawfile import read_report
from pytest_mpcompat.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def _bound(cell: dict[str, Any]) -> str:
    reason = cell.get("reason") or ""
    if reason.startswith("still running after"):
        return "timeout"
    if "did not exit within" in reason:
        return "stop_timeout"
    if "timed out" in reason or "requests answered correctly" in reason:
        return "request_timeout"  # (older results do not say "timed out")
    if reason.startswith("not ready after"):
        return "ready_timeout"
    return "other"


def _need(cell: dict[str, Any], bound: str) -> float | None:
    """What a cell that did not hang needed of ``bound``, in seconds."""
    serving = cell.get("serving") or {}
    if bound == "timeout":
        return float(cell["duration_s"])
    if bound == "ready_timeout" and serving.get("ready"):
        return float(serving.get("ready_s") or 0)
    if bound == "stop_timeout" and serving.get("shutdown_s") is not None:
        return float(serving["shutdown_s"])
    if bound == "request_timeout":
        found = [(s.get("latency_ms") or {}).get("max") for s in serving.get("request_stats") or []]
        found = [f for f in found if f]
        return max(found) / 1000 if found else None
    return None


def _setting(scenario: str, bound: str) -> float | None:
    try:
        sc = load_scenario(ROOT / scenario)
    except Exception:  # noqa: BLE001 - a scenario renamed since the run: no setting to show
        return None
    if bound == "timeout":
        return sc.timeout
    return getattr(sc.serve, bound, None) if sc.serve else None


def _twin(scenario: str) -> str | None:
    """A mistake's fixed twin, from its scenario file (older results do not record it)."""
    try:
        twin = load_scenario(ROOT / scenario).twin
    except Exception:  # noqa: BLE001 - as in _setting
        return None
    return str(Path(scenario).parent / twin) if twin else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("raw", nargs="?", type=Path, default=ROOT / "reports" / "raw")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    cells = [c.to_dict() for p in sorted(args.raw.glob("*.json")) for c in read_report(p)["cells"]]
    ran = [c for c in cells if c["verdict"] != "skip"]
    total = sum(c["duration_s"] for c in ran)
    hung = [c for c in ran if c["verdict"] == "hang"]
    by: dict[tuple[str, str], list[float]] = defaultdict(list)
    for cell in hung:
        by[cell["scenario"], _bound(cell)].append(cell["duration_s"])
    rows = []
    for (scenario, bound), durations in sorted(by.items(), key=lambda kv: -sum(kv[1])):
        twin = next((c.get("twin") for c in ran if c["scenario"] == scenario and c.get("twin")),
                    None) or _twin(scenario)  # fmt: skip
        needs = [
            n
            for c in ran
            if c["scenario"] in (scenario, twin) and c["verdict"] != "hang"
            for n in [_need(c, bound)]
            if n is not None
        ]
        rows.append({
            "scenario": scenario, "bound": bound, "setting_s": _setting(scenario, bound),
            "hang_cells": len(durations), "hang_s": round(sum(durations), 1),
            "slowest_need_s": round(max(needs), 2) if needs else None,
        })  # fmt: skip
    result = {
        "raw": str(args.raw),
        "cells_run": len(ran),
        "cell_s": round(total, 1),
        "hang_cells": len(hung),
        "hang_s": round(sum(c["duration_s"] for c in hung), 1),
        "hang_share": round(sum(c["duration_s"] for c in hung) / total, 3) if total else 0,
        "by_scenario": rows,
    }
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
