"""What the plugin costs a pytest run that does not use it, as a user installed it: from a wheel.

    python benchmarks/bench_unused.py [--runs N] [--json out.json] [--python PATH]

Builds the wheel from this checkout, installs it into a fresh virtual environment (with
pytest-xdist, which many users have beside it), and times ``pytest -q test_plain.py`` (one
trivial test, outside the checkout) with the plugin loaded and with ``-p no:mpcompat``,
interleaved, alternating which goes first, once with Python's bytecode cache and once with
PYTHONDONTWRITEBYTECODE=1 (many containers and CI images set it; pytest then re-reads every
plugin module it would rewrite). ``--python`` times an environment that already has the plugin
instead. Prints and writes the medians and their difference; the target is 3 ms.
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
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _fresh_env(where: Path) -> Path:
    """A venv with the wheel built from this checkout and pytest-xdist; its python."""
    dist = where / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
                   check=True, capture_output=True)  # fmt: skip
    (wheel,) = dist.glob("*.whl")
    venv.create(where / "venv", with_pip=True)
    python = where / "venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    str(wheel), "pytest-xdist"], check=True, capture_output=True)  # fmt: skip
    return python


def _once(python: Path, folder: Path, env: dict[str, str], *extra: str) -> float:
    command = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra,
               "test_plain.py"]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, cwd=folder, check=True, stdout=subprocess.DEVNULL,
                   stdin=subprocess.DEVNULL, env=env)  # fmt: skip
    return time.perf_counter() - start


def measure(python: Path, runs: int, bytecode: bool) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if not bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "test_plain.py").write_text("def test_plain():\n    assert 1 + 1 == 2\n")
        off_args = ("-p", "no:mpcompat")
        _once(python, folder, env), _once(python, folder, env, *off_args)  # warm the caches
        on: list[float] = []
        off: list[float] = []
        for i in range(runs):
            first, second = (on, ()), (off, off_args)
            for times, extra in (first, second) if i % 2 else (second, first):
                times.append(_once(python, folder, env, *extra))
    return {
        "with_plugin_s": statistics.median(on),
        "without_plugin_s": statistics.median(off),
        "cost_ms": (statistics.median(on) - statistics.median(off)) * 1000,
        "runs": runs,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--python", type=Path, help="an interpreter whose env has the plugin")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        python = args.python or _fresh_env(Path(tmp))
        result: dict[str, object] = {
            "bytecode_cache": measure(python, args.runs, bytecode=True),
            "PYTHONDONTWRITEBYTECODE=1": measure(python, args.runs, bytecode=False),
        }
    result["machine"] = (
        f"{os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )
    result["installed_from"] = "an existing environment" if args.python else "the built wheel"
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
