"""Write N synthetic cells as 20 raw reports (as 20 runs would), for the merge benchmark."""

import sys
from pathlib import Path

from pytest_mpcompat.model import CellResult, Verdict
from pytest_mpcompat.model.catalog import BUILTIN, decide
from pytest_mpcompat.model.rawfile import build_report, write_atomic

VERDICTS = [Verdict.PASS, Verdict.CRASH, Verdict.HANG, Verdict.SKIP]
METHODS = ("fork", "spawn", "forkserver")


def cell(i: int, run: int) -> CellResult:
    # Decided as a run decides it: a raw file whose outcome contradicts its verdict is refused.
    return decide(
        CellResult(
            scenario=f"scenarios/s{i % 400}.py",
            method=METHODS[i % 3],
            verdict=VERDICTS[i % 4],
            signatures=["leaked-processes"] if i % 7 == 0 else [],
            stdout_tail="x" * 200,
            stderr_tail="Traceback: line\n" * 10,
            duration_s=0.1,
            env={
                "os": "Linux",
                "python": f"3.1{run % 4}.0",
                "gpu": None,
                "packages": {"kserve": f"0.{run % 5 + 12}.0"},
            },
        ),
        BUILTIN,
    )


def main(total: int, out: Path) -> None:
    for run in range(20):
        rows = [cell(i, run) for i in range(total // 20)]
        report = build_report(rows, {}, started="2026-01-01T00:00:00+00:00", complete=True)
        write_atomic(out / f"run{run}.json", report)


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
