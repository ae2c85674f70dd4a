"""Merge raw reports into one matrix: every cell with its axes, its run and its machine."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..model.axes import MACHINE
from ..model.axes import axes_of as configuration
from ..model.catalog import Signature
from ..model.cell import START_METHODS, CellResult
from ..model.matrix import Matrix, MergedCell, Source, clip, version_key
from ..model.rawfile import ReportError, read_report
from ..model.untrusted import UntrustedJSONError, load_json
from ..redact import Redactor, scrub
from .insight import version_changes

__all__ = ["MergeError", "axes_of", "merge_files"]


#: The reason given for an expected run that left neither a result nor a record of why.
NO_RECORD = "not run: neither a result nor a record of why is here"


class MergeError(ValueError):
    """A raw file that cannot be merged (named in the message)."""


def axes_of(cell: CellResult) -> dict[str, str]:
    """The configuration a cell ran in (``model.axes``)."""
    return configuration(cell.env or {}, cell.method)


#: Longest text kept from a raw file, by kind: a name or label, a reason, an output tail or stack
#: (its end is kept: that is where an error shows). A 1 MB label must not make a page 16 million
#: pixels wide, nor a hostile file a 1 GB report.
NAME_CHARS, REASON_CHARS, OUTPUT_CHARS = 300, 2000, 16_000


def _cap(cell: CellResult) -> None:
    cell.scenario = clip(cell.scenario, NAME_CHARS)
    cell.method = clip(cell.method, NAME_CHARS)
    cell.reason, cell.mismatch = (
        clip(cell.reason, REASON_CHARS),
        clip(cell.mismatch, REASON_CHARS),
    )
    cell.stdout_tail = clip(cell.stdout_tail, OUTPUT_CHARS, keep_end=True)
    cell.stderr_tail = clip(cell.stderr_tail, OUTPUT_CHARS, keep_end=True)
    cell.signatures = [clip(s, NAME_CHARS) for s in cell.signatures[:100]]
    cell.leaked = [clip(line, REASON_CHARS) for line in cell.leaked[:100]]
    cell.stacks = [
        dataclasses.replace(s, cmdline=clip(s.cmdline, REASON_CHARS),
                            stack=clip(s.stack, OUTPUT_CHARS, keep_end=True))
        for s in cell.stacks[:100]
    ]  # fmt: skip
    env = cell.env or {}
    for key in ("labels", "packages"):
        if isinstance(env.get(key), dict):
            env[key] = {
                clip(str(k), NAME_CHARS): clip(str(v), NAME_CHARS) if v is not None else None
                for k, v in list(env[key].items())[:50]
            }
    for key in (*(a.name for a in MACHINE), "os_release", "machine"):
        if isinstance(env.get(key), str):
            env[key] = clip(env[key], NAME_CHARS)


@functools.lru_cache(maxsize=1024)
def role_of(scenario: str) -> tuple[str, str | None]:
    """(role, twin) of a scenario from its file where the report is merged; ("use", None)
    when the file is not there or says nothing."""
    from ..scenario import ScenarioError, load_scenario

    path = Path(scenario)
    if not path.is_file():
        return "use", None
    try:
        found = load_scenario(path)
    except ScenarioError:
        return "use", None
    twin = (path.parent / found.twin).as_posix() if found.twin else None
    return found.role, twin


def read_json(path: Path) -> Any:
    """A JSON file's data, read as untrusted input (``model/untrusted.py``); a file that cannot
    be read or parsed, or breaks a limit, raises MergeError naming it."""
    try:
        return load_json(path)
    except UntrustedJSONError as exc:
        raise MergeError(str(exc)) from None


def read_bisection(path: Path) -> dict[str, Any]:
    """A result of ``nox -s bisect``; anything else raises MergeError naming the file."""
    data = read_json(path)
    if not isinstance(data, dict) or data.get("kind") != "pytest-mpcompat bisection":
        raise MergeError(f"{path}: not a bisection result (nox -s bisect writes them)")
    from ..model.bisection import Bisection

    try:  # said again in the report's words (outcomes), whatever release wrote it
        data["summary"] = Bisection.from_dict(data).summary()
    except (TypeError, KeyError, ValueError) as exc:
        raise MergeError(f"{path}: not a bisection result this release reads: {exc}") from None
    return data


def merge_files(
    paths: Iterable[Path],
    expected_runs: Mapping[str, str] | None = None,
    bisections: Iterable[Path] = (),
) -> Matrix:
    """Read every raw report; a file that is not one raises MergeError naming it."""
    merged: list[tuple[CellResult, dict[str, str], int]] = []
    sources: list[Source] = []
    catalog: dict[str, Signature] = {}
    redact = Redactor()
    for path, data in _distinct_runs(paths):
        source = _source(path, data, redact)
        for sid, entry in scrub(data.get("signatures") or {}, redact).items():
            catalog.setdefault(sid, Signature.from_dict(sid, entry))
        for cell in data["cells"]:
            scrub(cell, redact)  # every string: names, labels, reasons, stacks, output
            _cap(cell)
            if cell.role is None:  # not recorded by the run: as the scenario file says
                cell.role, cell.twin = role_of(cell.scenario)
            merged.append((cell, axes_of(cell), len(sources)))
        sources.append(source)
    merged.sort(
        key=lambda m: (
            m[0].scenario,
            _method_rank(m[0].method),
            [(k, version_key(v)) for k, v in m[1].items()],
        )
    )
    cells = [MergedCell(c, axes, sources[i], i) for c, axes, i in merged]
    have = {s.session for s in sources}
    # Each expected run says why it would have no result (its matrix file knows), or "".
    missing = {r: why or NO_RECORD for r, why in (expected_runs or {}).items() if r not in have}
    missing.update(
        (s.session, f"environment gap: {s.environment_gap}") for s in sources if s.environment_gap
    )
    missing.update((s.session, f"not run: {s.not_made}") for s in sources if s.not_made)
    shown = {sid for mc in cells for sid in mc.cell.signatures}
    return Matrix(
        cells=cells,
        sources=sources,
        catalog={sid: sig for sid, sig in sorted(catalog.items()) if sid in shown},
        missing=missing,
        insights=version_changes(cells),
        bisections=[read_bisection(p) for p in sorted(bisections)],
        generated=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    )


def _source(path: Path, data: dict[str, Any], redact: Redactor) -> Source:
    source = Source(
        file=path.name,
        session=path.stem,
        machine=str(data.get("machine") or ""),
        started=str(data.get("started") or ""),
        complete=bool(data.get("complete", False)),
        unfinished=tuple((u["nodeid"], u.get("reason", "")) for u in data.get("unfinished") or []),
        host=describe_host(data),
        hardware=describe_host(data, release=False),
        environment_gap=data.get("environment_gap") or None,
        not_made=data.get("not_made") or None,
    )
    scrubbed: Source = scrub(source, redact)
    return scrubbed


def _distinct_runs(paths: Iterable[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """Every raw report once per run: the same run (session, machine and start time) found
    twice, say uploaded by two jobs or committed and downloaded again, is merged once, from
    its most complete copy."""
    kept: dict[tuple[str, str, str], tuple[Path, dict[str, Any]]] = {}
    order: list[tuple[str, str, str]] = []
    for path in sorted(paths):
        try:
            data = read_report(path)
        except ReportError as exc:
            raise MergeError(str(exc)) from None
        started = str(data.get("started") or "")
        run = (path.stem, str(data.get("machine") or ""), started or f"file {path}")
        if run not in kept:
            order.append(run)
        else:
            _same_outcomes(kept[run], (path, data))
            if _completeness(kept[run][1]) >= _completeness(data):
                continue
        kept[run] = (path, data)
    return [kept[run] for run in order]


def _same_outcomes(one: tuple[Path, dict[str, Any]], other: tuple[Path, dict[str, Any]]) -> None:
    """Two copies of one run agree on every cell both hold, or raise MergeError naming the
    cell: one of them was altered, and neither may be published in place of the other."""
    first = {(c.nodeid, c.scenario, c.method): c.outcome for c in one[1]["cells"]}
    for cell in other[1]["cells"]:
        said = first.get((cell.nodeid, cell.scenario, cell.method))
        if said is not None and said is not cell.outcome:
            raise MergeError(
                f"{one[0]} and {other[0]} hold the same run (session, machine and start time) "
                f"but disagree on {cell.nodeid or cell.scenario} ({cell.method}): "
                f"{said.value} in one, {cell.outcome.value} in the other; keep the true copy only"
            )


def _completeness(data: dict[str, Any]) -> tuple[bool, int]:
    return bool(data.get("complete")), len(data.get("cells") or [])


def describe_host(data: dict[str, Any], release: bool = True) -> str:
    """One line about the machine a raw report came from (older reports: from its cells);
    ``release``: with the OS release (the kernel's, on Linux)."""
    host = data.get("host") or {}
    env = data["cells"][0].env if data["cells"] else {}
    system = host.get("system") or env.get("os", "?")
    os_release = (host.get("release") or env.get("os_release", "")) if release else ""
    parts = [
        f"{system} {os_release}".strip(),
        host.get("arch") or env.get("machine") or "",
        f"{host['cpus']} CPUs" if host.get("cpus") else "",
        f"{host['memory_gb']:g} GB" if host.get("memory_gb") else "",
        f"GPU {env.get('gpu') or 'none'}",
    ]
    return f"{data.get('machine') or '?'} ({', '.join(p for p in parts if p)})"


def _method_rank(method: str) -> int:
    return START_METHODS.index(method) if method in START_METHODS else len(START_METHODS)
