"""Benchmarks of the harness, each measured side by side with its baseline in one run.

    python benchmarks/bench_harness.py [--runs N] [--json out.json]

1. Per-cell overhead against running the same script directly (`python script.py`, same default
   start method, same session/stdin/file setup): a trivial script and one that imports torch.
2. A 24-cell matrix with `pytest -n 2` against `-n 0`.
3. Hang handling: from the timeout to the verdict, with stacks taken and no process left.
4. Merge and render of a 100,000-cell report (JSON to Markdown and HTML): time and peak memory.
Medians of --runs runs; the machine is printed with the results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from pytest_mpcompat.model.catalog import BUILTIN_SIGNATURES
from pytest_mpcompat.runner.process import run_cell
from pytest_mpcompat.runner.request import CellSpec

HERE = Path(__file__).parent
SCENARIOS = HERE / "scenarios"
DEFAULT_METHOD = __import__("multiprocessing").get_all_start_methods()[0]


def direct(script: Path) -> float:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        subprocess.run([sys.executable, str(script)], stdin=subprocess.DEVNULL, stdout=out,
                       stderr=err, start_new_session=True, check=True)  # fmt: skip
        return time.perf_counter() - start


def harness(
    script: Path, method: str = DEFAULT_METHOD, timeout: float = 120
) -> tuple[float, object]:
    start = time.perf_counter()
    result = run_cell(CellSpec(script, method, timeout), BUILTIN_SIGNATURES)
    return time.perf_counter() - start, result


def overhead(script: Path, runs: int) -> dict[str, float]:
    direct(script), harness(script)  # warm the page cache for both
    d, h = [], []
    for i in range(runs):  # interleaved, alternating which goes first: drift hits both alike
        if i % 2:
            d.append(direct(script))
            h.append(harness(script)[0])
        else:
            h.append(harness(script)[0])
            d.append(direct(script))
    md, mh = statistics.median(d), statistics.median(h)
    return {"direct_s": md, "harness_s": mh, "overhead_ms": (mh - md) * 1000, "ratio": mh / md}


def xdist_speedup(runs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        # 8 scenarios x 3 methods = 24 cells, each ~1 s of work in a worker, like a short real cell
        for i in range(8):
            Path(tmp, f"work_{i}.py").write_text(
                textwrap.dedent("""\
                import multiprocessing
                def work(n):
                    return sum(i * i for i in range(n))
                if __name__ == "__main__":
                    with multiprocessing.Pool(1) as pool:
                        print(pool.apply(work, (20_000_000,)))
            """)
            )

        def once(n: str) -> float:
            start = time.perf_counter()
            cmd = [sys.executable, "-m", "pytest", "--mp-matrix", tmp, "-n", n, "-q"]
            subprocess.run(
                [*cmd, "-p", "no:cacheprovider"], check=True, capture_output=True, cwd=tmp
            )
            return time.perf_counter() - start

        serial, parallel = [], []
        for _ in range(runs):
            serial.append(once("0"))
            parallel.append(once("2"))
    s, p = statistics.median(serial), statistics.median(parallel)
    return {"n0_s": s, "n2_s": p, "speedup": s / p}


def hang_handling(runs: int, tool: str) -> dict[str, float]:
    timeout = 1.0
    spent = []
    for _ in range(runs):
        spec = CellSpec(SCENARIOS / "hung_tree.py", "spawn", timeout, stacks=tool)
        start = time.perf_counter()
        result = run_cell(spec, BUILTIN_SIGNATURES)
        total = time.perf_counter() - start
        assert result.verdict.value == "hang" and len(result.stacks) >= 3, result
        spent.append(total - timeout)
    return {"after_timeout_s": statistics.median(spent), "processes": 4}


def merge_render(cells: int) -> dict[str, float]:
    """Merge + Markdown + HTML of ``cells`` cells from 20 raw files, in a process of its own so
    that its peak memory is only that (the raw files are written by another process first)."""
    code = textwrap.dedent("""\
        import json, resource, sys, time
        from pathlib import Path
        from pytest_mpcompat.model.rawfile import write_atomic
        from pytest_mpcompat.publish.html import render_html
        from pytest_mpcompat.publish.markdown import render_markdown
        from pytest_mpcompat.publish.merge import merge_files
        raw = Path(sys.argv[1])
        start = time.perf_counter()
        matrix = merge_files(sorted(raw.glob("*.json")))
        write_atomic(raw / "out" / "matrix.json", matrix.to_json(), durable=False)
        (raw / "out" / "COMPATIBILITY.md").write_text(render_markdown(matrix))
        (raw / "out" / "index.html").write_text(render_html(matrix))
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"cells": len(matrix.cells), "seconds": seconds, "peak_mb": peak}))
    """)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, str(HERE / "_synthetic.py"), str(cells), tmp], check=True)
        out = subprocess.run(
            [sys.executable, "-c", code, tmp], check=True, capture_output=True, text=True
        )
        sizes = {p.name: p.stat().st_size / 1e6 for p in Path(tmp, "out").iterdir()}
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["output_mb"] = sizes
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--skip", action="append", default=[], help="overhead, xdist, hang, merge")
    args = parser.parse_args()
    results: dict[str, object] = {
        "machine": f"{platform.node()}: {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}",  # fmt: skip
        "default_method": DEFAULT_METHOD,
    }
    if "overhead" not in args.skip:
        results["trivial"] = overhead(SCENARIOS / "trivial.py", args.runs * 3)
        try:
            import torch  # noqa: F401  (only to know whether the torch benchmark can run)
        except ImportError:
            results["torch"] = "skipped: torch is not installed"
        else:
            results["torch"] = overhead(SCENARIOS / "imports_torch.py", max(16, args.runs * 2))
    if "hang" not in args.skip:
        results["hang_faulthandler"] = hang_handling(args.runs, "faulthandler")
        from pytest_mpcompat.runner._stacks import find_pyspy

        if find_pyspy():
            results["hang_pyspy"] = hang_handling(args.runs, "py-spy")
    if "xdist" not in args.skip:
        results["xdist"] = xdist_speedup(max(3, args.runs // 2))
    if "merge" not in args.skip:
        results["merge_100k"] = merge_render(100_000)
    text = json.dumps(results, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
