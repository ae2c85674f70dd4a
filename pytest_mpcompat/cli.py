"""``mpcompat-report``: merge raw results into the published report, or gate on regressions.
It joins the publishing (``publish/``) to the matrix files (``matrix/``), which ``publish/``
itself never reads.

mpcompat-report merge reports/raw/*.json --matrix matrices/full.toml --out reports
mpcompat-report check [--baseline reports/matrix.json] [--partial] new/matrix.json
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .matrix.expected import expected_runs
from .matrix.sets import MatrixFileError
from .publish.merge import MergeError, merge_files, read_json
from .publish.regress import check_matrix, gate
from .publish.site import write_site

__all__ = ["main"]


def _merge(args: argparse.Namespace) -> int:
    raw: list[Path] = []
    for item in args.raw:
        path = Path(item)
        if path.is_dir():
            found = sorted(path.glob("*.json"))
            if not found:
                folder = f"mpcompat-report: {path}: no raw results (*.json) in this folder"
                print(folder, file=sys.stderr)  # noqa: T201
                return 2
            raw.extend(found)
        elif path.exists():  # a file; one that is not a regular file is refused when read
            raw.append(path)
        else:
            print(f"mpcompat-report: {path}: no such file or directory", file=sys.stderr)  # noqa: T201
            return 2
    expected = expected_runs(args.matrix)
    merged = merge_files(raw, expected, [Path(b) for b in args.bisection])
    out = Path(args.out)
    write_site(merged, out, args.page_url)
    print(f"{len(merged.cells)} cells from {len(raw)} raw results -> {out}/")  # noqa: T201
    return 0


def _load_matrix(name: str) -> dict[str, Any]:
    """A merged matrix.json; errors name the file and what it is instead."""
    path = Path(name)
    if path.is_dir():
        raise MergeError(f"{path}: is a folder; give the matrix.json that merge wrote in it")
    data = read_json(path)
    problem = check_matrix(path, data)
    if problem is not None:
        raise MergeError(f"{path}: {problem}")
    result: dict[str, Any] = data
    return result


def _check(args: argparse.Namespace) -> int:
    baseline = _load_matrix(args.baseline) if args.baseline else None
    new = _load_matrix(args.new)
    found = gate(new, baseline, partial=args.partial)
    for title, lines in (("contradicts its expectation", found.contradicted),
                         ("lost to an environment gap", found.lost), ("worse", found.worse),
                         ("flaky, not counted", found.flaky)):  # fmt: skip
        for line in lines:
            print(f"{title}: {line}")  # noqa: T201
    said = [
        f"{len(found.contradicted)} cell(s) contradict their scenario's expectation",
        f"{len(found.lost)} run(s) lost to an environment gap (their cells are missing; "
        "counted with --partial too)",
    ]
    if baseline is not None:
        said.append(f"{len(found.worse)} cell(s) got worse than {args.baseline}, "
                    f"{len(found.flaky)} flaky (their tries disagree)")  # fmt: skip
    else:
        said.append("no baseline: nothing is compared")
    if found.empty:
        said.append("the matrix has no cell: nothing was measured")
    print("; ".join(said))  # noqa: T201
    return 1 if found.failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mpcompat-report",
        description=__doc__.replace("``", ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    merge = sub.add_parser("merge", help="merge raw results into the published report")
    merge.add_argument("raw", nargs="+", help="raw result files, or folders of them")
    merge.add_argument("--out", default="reports", help="output folder (default: reports)")
    merge.add_argument(
        "--page-url",
        default=os.environ.get("MPCOMPAT_PAGE_URL", ""),
        help="where index.html is published (e.g. https://owner.github.io/repo/), for the "
        "Markdown's links into its grid; default $MPCOMPAT_PAGE_URL, else they lead to the "
        "Markdown's own tables",
    )
    merge.add_argument(
        "--matrix",
        action="append",
        default=[],
        help="matrix file whose runs are expected (missing ones are listed)",
    )
    merge.add_argument(
        "--bisection",
        action="append",
        default=[],
        help="a result of nox -s bisect to publish with the matrix (repeatable)",
    )
    check = sub.add_parser(
        "check",
        help="exit 1 if a cell contradicts its expectation, a run was lost to an environment "
        "gap, nothing was measured, or a cell got worse than in the baseline",
    )
    check.add_argument(
        "--baseline", help="the committed matrix.json to compare with (none: no comparison)"
    )
    check.add_argument("new", help="the new matrix.json")
    check.add_argument(
        "--partial",
        action="store_true",
        help="the new matrix runs part of the baseline's (a CI matrix against the published "
        "one): baseline cells it has not are not counted as lost",
    )
    args = parser.parse_args(argv)
    try:
        return _merge(args) if args.command == "merge" else _check(args)
    except (MergeError, MatrixFileError, OSError) as exc:
        print(f"mpcompat-report: {exc}", file=sys.stderr)  # noqa: T201
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
