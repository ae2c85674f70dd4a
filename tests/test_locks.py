"""Lock files: what they hold, how a bad one is reported, and that the committed ones cover the
matrices (a set added without `nox -s lock` would otherwise be a missing run on every runner)."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement

from pytest_mpcompat.matrix.locks import (
    PLATFORMS,
    lock_path,
    read_lock,
    render_lock,
    without_local_wheels,
)
from pytest_mpcompat.matrix.sets import load_matrix

ROOT = Path(__file__).parent.parent
LOCKS = ROOT / "matrices" / "locks"


def test_a_resolved_lock_round_trips(tmp_path: Path) -> None:
    text = render_lock("kserve-0.14.0", "3.12", "linux", ("torch==2.13.0", "kserve==0.14.0"),
                       ("torch==2.13.0",), "kserve==0.14.0\ntorch==2.13.0\n", None)  # fmt: skip
    path = tmp_path / "py3.12-linux.txt"
    path.write_text(text)
    lock = read_lock(path)
    assert lock is not None and lock.unsupported is None
    assert lock.pins == ("kserve==0.14.0", "torch==2.13.0")
    assert "# regenerate: nox -s lock -- kserve-0.14.0" in text
    assert "# overrides: torch==2.13.0" in text


def test_an_unsupported_lock_keeps_the_reason(tmp_path: Path) -> None:
    reason = "Because kserve==0.13.1 depends on Python>=3.8,<3.12 ...\n  (wrapped)"
    path = tmp_path / "py3.12-linux.txt"
    path.write_text(render_lock("kserve-0.13.1", "3.12", "linux", ("kserve==0.13.1",), (),
                                None, reason))  # fmt: skip
    lock = read_lock(path)
    assert lock is not None and lock.pins == ()
    assert lock.unsupported == "Because kserve==0.13.1 depends on Python>=3.8,<3.12 ... (wrapped)"


def test_missing_and_malformed_locks(tmp_path: Path) -> None:
    assert read_lock(tmp_path / "nope.txt") is None
    bad = tmp_path / "py3.12-linux.txt"
    bad.write_text("# header\nkserve>=0.14\n")
    with pytest.raises(ValueError, match=r"py3.12-linux.txt:2: a lock pins exact versions"):
        read_lock(bad)


def test_locks_are_resolved_from_the_index_alone() -> None:
    env = without_local_wheels({"UV_FIND_LINKS": "/opt/wheels", "PIP_FIND_LINKS": "/w", "A": "1"})
    assert env["A"] == "1" and "UV_FIND_LINKS" not in env and "PIP_FIND_LINKS" not in env
    assert env["MACOSX_DEPLOYMENT_TARGET"] == "14.0"


@pytest.mark.parametrize("matrix", sorted(p.name for p in (ROOT / "matrices").glob("*.toml")))
def test_every_set_has_a_lock_for_each_python_and_platform(matrix: str) -> None:
    missing = []
    for env in load_matrix(ROOT / "matrices" / matrix).sets:
        if not env.venv or not env.install:
            continue
        for python in env.python:
            for plat in PLATFORMS:
                lock = read_lock(lock_path(LOCKS, env.lock_name, python, plat))
                if lock is None:
                    missing.append(f"{env.name} py{python} {plat}")
                elif not lock.unsupported:
                    names = {pin.split("==")[0].lower() for pin in lock.pins}
                    wanted = {Requirement(req).name.lower() for req in env.install}
                    assert wanted <= names, f"{lock.path} does not pin {wanted - names}"
    assert not missing, f"run `nox -s lock`: no lock for {', '.join(missing)}"
