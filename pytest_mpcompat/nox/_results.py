"""Where a session's raw result goes, and when a session that measured nothing fails.

A run writes its result beside the target first. It replaces the target unless that would put a
result with less in it over a measured one: an environment gap or a run that measured no cell
never replaces one that did, nor does a run in an environment nox found (``--no-venv``, ``-R``)
that measured fewer cells. What is kept instead is said, and the new result is left beside it
as ``<session>.json.rejected``.

A session whose environment could not be made, or that measured no cell, fails, unless
``MPCOMPAT_ALLOW_UNMEASURED=1`` asks it to pass (its result still says why).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import nox

__all__ = ["Measured", "allow_unmeasured", "check_measured", "place", "staged"]


def allow_unmeasured() -> bool:
    return os.environ.get("MPCOMPAT_ALLOW_UNMEASURED", "").strip().lower() in ("1", "true", "yes")


def staged(report: Path) -> Path:
    """Where a run writes before its result is placed: hidden beside it, matched by no glob
    of raw results (``*.json``)."""
    return report.with_name(f".{report.name}.new")


@dataclass(frozen=True)
class Measured:
    """What a raw result holds, as far as placing it goes."""

    cells: int
    gap: str | None  # why no cell could run (an environment gap or a run not made here)

    @classmethod
    def read(cls, path: Path) -> Measured | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return cls(0, f"{path} cannot be read")
        if not isinstance(data, dict):
            return cls(0, f"{path} is no raw result")
        cells = data.get("cells")
        gap = data.get("environment_gap") or data.get("not_made") or None
        return cls(len(cells) if isinstance(cells, list) else 0, gap)


def place(session: nox.Session, new: Path, report: Path, *, found_environment: bool) -> Measured:
    """Move the result at ``new`` to ``report`` unless it holds less than the measured one
    there (see the module's doc); returns what ``new`` holds."""
    got = Measured.read(new) or Measured(0, "the run wrote no result")
    old = Measured.read(report)
    worse = (
        old is not None
        and old.cells > 0
        and (got.gap is not None or got.cells == 0 or (found_environment and got.cells < old.cells))
    )
    if not new.exists():
        return got
    if worse:
        assert old is not None
        rejected = report.with_name(report.name + ".rejected")
        os.replace(new, rejected)
        session.warn(
            f"{report} kept: it holds {old.cells} measured cells and this run "
            + ("measured none" if got.gap or not got.cells else f"measured {got.cells}")
            + f"; this run's result is in {rejected}"
        )
    else:
        os.replace(new, report)
    return got


def check_measured(session: nox.Session, name: str, got: Measured) -> None:
    """Fail the session that measured nothing, unless that is allowed."""
    if got.gap is None and got.cells:
        return
    why = f"{name}: no cell measured: {got.gap or 'the run collected no cell'}"
    if allow_unmeasured():
        session.warn(f"{why} (passes: MPCOMPAT_ALLOW_UNMEASURED is set)")
        return
    session.error(f"{why}. Set MPCOMPAT_ALLOW_UNMEASURED=1 to let such a session pass.")
