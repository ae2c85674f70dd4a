"""Where a matrix run's time goes, session by session, from nox's output with a time on each line.

    nox -s SESSION... 2>&1 | python -c "<stamp each line with the seconds since start>" > PASS.log
    python benchmarks/matrix_phases.py PASS.log [PASS.log ...]

Each session splits into its environment (from "Running session" to the pytest command: the
virtual environment, the installs, the bytecode) and its cells (the pytest command to the end of
the session). Prints one JSON object per log, named after the file.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

_LINE = re.compile(r"^\s*(\d+\.\d+) (.*)$")


def phases(log: Path) -> dict[str, Any]:
    sessions: dict[str, dict[str, float]] = {}
    current, start, cells_from, last = "", 0.0, None, 0.0
    for raw in log.read_text(errors="replace").splitlines():
        m = _LINE.match(raw)
        if not m:
            continue
        at, text = float(m.group(1)), m.group(2)
        last = at
        if text.startswith("nox > Running session "):
            current, start, cells_from = (
                text.removeprefix("nox > Running session ").strip(),
                at,
                None,
            )
        elif current and cells_from is None and re.match(r"nox > python -m pytest\b", text):
            cells_from = at
        elif current and re.match(r"nox > Session \S+ (was successful|failed|skipped)", text):
            env_s = (cells_from if cells_from is not None else at) - start
            sessions[current] = {
                "environment_s": round(env_s, 1),
                "cells_s": round(at - cells_from, 1) if cells_from else 0.0,
            }
            current = ""
    env = sum(s["environment_s"] for s in sessions.values())
    cells = sum(s["cells_s"] for s in sessions.values())
    return {"wall_s": round(last, 1), "environments_s": round(env, 1), "cells_s": round(cells, 1),
            "nox_s": round(last - env - cells, 1), "sessions": sessions}  # fmt: skip


def main() -> None:
    print(json.dumps({Path(p).stem: phases(Path(p)) for p in sys.argv[1:]}, indent=1))


if __name__ == "__main__":
    main()
