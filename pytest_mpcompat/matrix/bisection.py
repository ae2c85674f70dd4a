"""The first release of a package where a scenario's cell changes: a binary search over the
package index's releases, each probed in an environment of its own.

Run as ``nox -s bisect -- SCENARIO PACKAGE [--method M] [--python X] [--old V] [--new V]``.
PACKAGE may name extras (``xinference[transformers]``): each probe installs them with the release.
The releases between ``--old`` and ``--new`` (default: the oldest and newest final releases
whose Requires-Python admits the Python) are listed from the index. Both ends are probed; if
their results differ, the search narrows on the first release whose result is no longer the
old end's. A result is the cell's verdict with its error-level signatures, so "pass" and
"pass [workers-missing]" are different results. A release that cannot be installed is recorded
and left out of the search.

Each probe is a real run: a uv environment with the plugin that runs the bisection (see
``origin``), ``PACKAGE==V`` and the scenario's other dependencies, then ``pytest --mp-matrix
SCENARIO --mp-methods M`` in it, from the current folder (the repository whose scenario it is).
The outcome is written to ``reports/bisect/<scenario>-<package>-<method>-py<X>.json`` there and
merged into the published report.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from ..model.bisection import Bisection, Probe
from ..model.catalog import Signature, failing_signatures
from ..model.rawfile import ReportError, read_report, write_atomic
from ..scenario.load import load_scenario
from .index import DEFAULT_INDEX, files, version_of
from .origin import plugin_install_args

__all__ = ["Bisection", "Probe", "main", "releases", "search"]


def releases(package: str, python: str, index: str) -> list[str]:
    """Final, non-yanked releases of ``package`` with a file whose Requires-Python admits
    ``python``, oldest first."""
    found: set[Version] = set()
    for file in files(package, index):
        version = version_of(file.filename, package)
        if file.yanked or version is None or version.is_prerelease or version.is_devrelease:
            continue
        try:
            spec = SpecifierSet(file.requires_python)
        except InvalidSpecifier:
            continue
        if spec.contains(python, prereleases=True):
            found.add(version)
    return [str(v) for v in sorted(found)]


def search(candidates: Sequence[str], probe: Callable[[str], Probe]) -> tuple[
    list[Probe], str | None, str | None
]:  # fmt: skip
    """Probe both ends, then halve the span between the last release with the old end's result
    and the first without it. Returns (probes in order, first changed, last before)."""
    probes: list[Probe] = []
    alive = list(candidates)

    def run(version: str) -> Probe | None:
        result = probe(version)
        probes.append(result)
        if result.verdict == "not installable":
            alive.remove(version)
            return None
        return result

    old = new = None
    while alive and old is None:
        old = run(alive[0])
    while len(alive) > 1 and new is None:
        new = run(alive[-1])
    if old is None or new is None or old.result == new.result:
        return probes, None, None
    lo, hi = alive.index(old.version), alive.index(new.version)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        version = alive[mid]
        got = run(version)
        if got is None:  # removed from alive: indices past it shift by one
            hi -= 1
            continue
        if got.result == old.result:
            lo = mid
        else:
            hi = mid
    return probes, alive[hi], alive[lo]


class Prober:
    """Probes one release: its own uv environment, then one real cell."""

    def __init__(self, args: argparse.Namespace, extra: list[str], workdir: Path) -> None:
        self.args, self.extra, self.workdir = args, extra, workdir
        self.name = Requirement(args.package).name  # without its [extras]
        self.plugin = plugin_install_args()
        uv = shutil.which("uv")
        if uv is None:
            raise SystemExit("bisect: uv is not on PATH (pip install uv)")
        self.uv = uv

    def __call__(self, version: str) -> Probe:
        a, name = self.args, self.name
        venv = self.workdir / f"{canonicalize_name(name)}-{version}-py{a.python}"
        python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        _say(f"bisect: probing {name}=={version} on Python {a.python}")
        if not python.exists():
            made = self._run([self.uv, "venv", "-q", "-p", a.python, str(venv)])
            if made.returncode:
                return Probe(version, "not installable", reason=_last_line(made.stderr))
        with tempfile.TemporaryDirectory() as tmp:
            install = [self.uv, "pip", "install", "-q", "--python", str(python), *self.plugin,
                       f"{a.package}=={version}", *self.extra]  # fmt: skip
            if a.override:
                Path(tmp, "overrides.txt").write_text("\n".join(a.override) + "\n")
                install.append(f"--override={Path(tmp, 'overrides.txt')}")
            install += [f"--constraint={c}" for c in a.constraint]
            done = self._run(install)
            if done.returncode:
                return Probe(version, "not installable", reason=_last_line(done.stderr))
            if a.uninstall:  # as a set's `uninstall`: a package that breaks the others
                self._run([self.uv, "pip", "uninstall", "-q", "--python", str(python),
                           *a.uninstall])  # fmt: skip
            report = Path(tmp, "cell.json")
            self._run([str(python), "-m", "pytest", "--mp-matrix", a.scenario, "--mp-methods",
                       a.method, "--mp-report", str(report), "-p", "no:cacheprovider", "-q",
                       f"--mp-label={name}={version}"])  # fmt: skip
            try:
                data = read_report(report)
                (cell,) = data["cells"]
            except (ReportError, ValueError) as exc:
                return Probe(version, "error", reason=f"no cell was recorded: {exc}")
        # Error-level as the probe's own run described its signatures (a user's included).
        known = {k: Signature.from_dict(k, v) for k, v in data["signatures"].items()}
        _say(f"bisect: {name}=={version}: {cell.verdict.value} {cell.signatures}")
        return Probe(
            version,
            cell.verdict.value,
            failing_signatures(cell.signatures, known),
            cell.outcome.value,
            cell.ran_as,
            cell.reason or _error_line(cell.stderr_tail),
        )

    @staticmethod
    def _run(command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, capture_output=True, text=True, cwd=cwd)


def _say(line: str, err: bool = False) -> None:
    """Progress and results go to the terminal of whoever runs the session."""
    print(line, file=sys.stderr if err else sys.stdout, flush=True)  # noqa: T201


_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit)\b.*")


def _error_line(stderr: str) -> str:
    """The last exception line of a cell's stderr (what a crash without a reason died of). A
    message that starts on the next line ("ImportError:" and then the text) is joined to it."""
    lines = [ln.strip() for ln in stderr.splitlines()]
    found = [i for i, ln in enumerate(lines) if _EXCEPTION.match(ln)]
    if not found:
        return ""
    at = found[-1]
    line = lines[at]
    if line.endswith(":"):
        rest = next((ln for ln in lines[at + 1 :] if ln), "")
        line = f"{line} {rest}".strip()
    return line[:300]


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "failed"


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="nox -s bisect --",
        description="Find the first release of PACKAGE where SCENARIO's cell changes.",
    )
    parser.add_argument("scenario", help="scenario script, e.g. scenarios/kserve_two_workers.py")
    parser.add_argument("package", help="the package whose releases are searched, e.g. kserve")
    parser.add_argument("--method", help="start method (default: the Python's own default)")
    parser.add_argument("--python", default=f"{sys.version_info[0]}.{sys.version_info[1]}")
    parser.add_argument("--old", help="oldest release to consider (default: the oldest)")
    parser.add_argument("--new", help="newest release to consider (default: the newest)")
    parser.add_argument("--override", action="append", default=[], metavar="REQ",
                        help="replace what the packages ask for, e.g. torch==2.13.0")  # fmt: skip
    parser.add_argument("--constraint", action="append", default=[], metavar="FILE",
                        help="a constraints file for every probe, e.g. "
                        "matrices/constraints/xinference-1.2.txt")  # fmt: skip
    parser.add_argument("--uninstall", action="append", default=[], metavar="NAME",
                        help="remove a package after each install, as a set's `uninstall` "
                        "does, e.g. torchvision beside a CPU torch")  # fmt: skip
    parser.add_argument("--out", help="result file (default: reports/bisect/<name>.json)")
    parser.add_argument("--index", default=DEFAULT_INDEX)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    scenario = load_scenario(Path(args.scenario))  # a bad header stops here, with path:line
    try:
        package = Requirement(args.package)
    except ValueError as exc:
        _say(f"bisect: PACKAGE {args.package!r} is not a package name (with optional "
             f"[extras]): {exc}", err=True)  # fmt: skip
        return 2
    if package.specifier or package.marker or package.url:
        _say(f"bisect: PACKAGE {args.package!r} names releases itself; give only the name "
             "(and [extras]), and the span with --old and --new", err=True)  # fmt: skip
        return 2
    for path in args.constraint:
        if not Path(path).is_file():
            _say(f"bisect: --constraint {path}: no such file", err=True)
            return 2
    name = canonicalize_name(package.name)
    extra = [d for d in scenario.dependencies if canonicalize_name(Requirement(d).name) != name]
    if args.method is None:
        args.method = "forkserver" if Version(args.python) >= Version("3.14") else "fork"
        if sys.platform in ("darwin", "win32"):
            args.method = "spawn"
    candidates = releases(package.name, args.python, args.index)
    lo = Version(args.old) if args.old else None
    hi = Version(args.new) if args.new else None
    candidates = [v for v in candidates if (lo is None or Version(v) >= lo)
                  and (hi is None or Version(v) <= hi)]  # fmt: skip
    if len(candidates) < 2:
        _say(f"bisect: fewer than two releases of {args.package} for Python {args.python} "
             f"between {args.old or 'the oldest'} and {args.new or 'the newest'}: {candidates}",
             err=True)  # fmt: skip
        return 2
    workdir = Path(".nox", "bisect-probes").resolve()  # (.nox/bisect is the session's own venv)
    workdir.mkdir(parents=True, exist_ok=True)
    result = Bisection(str(args.scenario), package.name, args.method, args.python, candidates,
                       install=[f"{args.package}==<release>", *extra], overrides=args.override,
                       constraints=args.constraint, uninstalled=args.uninstall)  # fmt: skip
    result.probes, result.first_changed, result.last_before = search(
        candidates, Prober(args, extra, workdir)
    )
    out = Path(args.out) if args.out else (
        Path("reports", "bisect")
        / f"{Path(args.scenario).stem}-{name}-{args.method}-py{args.python}.json"
    )  # fmt: skip
    write_atomic(out, result.to_dict(), durable=True)
    _say(f"bisect: {result.summary()}\nbisect: written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
