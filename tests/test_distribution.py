"""The product as a new user gets it: a wheel built from a clean copy of this checkout, installed
into a fresh virtual environment, used from a folder outside the checkout; the sdist that can run
the test suite; and the README's "Your own matrix" project, run with nox from that install."""

from __future__ import annotations

import email.parser
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="builds and runs nox in venvs: Linux only here"
)


def _uv() -> str:
    found = shutil.which("uv")
    if found:
        return found
    from uv import find_uv_bin  # the uv package of the [test] extra

    return str(find_uv_bin())


def _source_files() -> list[Path]:
    """What a clean clone has: tracked files and untracked ones git does not ignore (in an
    sdist, which has no .git, every file but build output)."""
    if (ROOT / ".git").exists():
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], cwd=ROOT, capture_output=True,
                             check=True).stdout  # fmt: skip
        names = [n for n in out.decode().split("\0") if n]
    else:
        skip = {".nox", "build", "dist", ".pytest_cache", "__pycache__"}
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                 if p.is_file() and not skip & set(p.relative_to(ROOT).parts)]  # fmt: skip
    return [Path(n) for n in names if (ROOT / n).is_file() and not n.startswith("reports/")]


@dataclass(frozen=True)
class Built:
    wheel: Path
    sdist: Path
    python: Path  # of a fresh venv with the wheel and its [nox] extra

    @property
    def bin(self) -> Path:
        return self.python.parent


def _build(where: Path) -> Built:
    copy = where / "clone"
    for name in _source_files():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copy / name)
    uv = _uv()
    subprocess.run([uv, "build", "--quiet", "--out-dir", str(where / "dist"), str(copy)],
                   check=True, stdin=subprocess.DEVNULL)  # fmt: skip
    (wheel,) = (where / "dist").glob("*.whl")
    (sdist,) = (where / "dist").glob("*.tar.gz")
    venv = where / "venv"
    subprocess.run([uv, "venv", "--quiet", "-p", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([uv, "pip", "install", "--quiet", "--python", str(python),
                    f"{wheel}[nox]"], check=True)  # fmt: skip
    return Built(wheel, sdist, python)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """Built once per test run, shared by xdist's workers (a lock file next to their temp
    folders)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    where = shared / "distribution"
    with open(shared / "distribution.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = where / "built.json"
        if not done.exists():
            shutil.rmtree(where, ignore_errors=True)
            where.mkdir()
            b = _build(where)
            done.write_text(json.dumps([str(b.wheel), str(b.sdist), str(b.python)]))
        wheel, sdist, python = json.loads(done.read_text())
    yield Built(Path(wheel), Path(sdist), Path(python))


def _clean_env(built: Built) -> dict[str, str]:
    """The environment of a user's shell with the fresh venv first on PATH, without what the
    test run itself was started with (its own venv, its nox session)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "NOX_CURRENT_SESSION", "MPCOMPAT_PLUGIN")
           and not k.startswith("PYTEST_")}  # fmt: skip
    env["PATH"] = os.pathsep.join([str(built.bin), env.get("PATH", "")])
    return env


def _run(
    built: Built, *args: str, cwd: Path, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(built.python), *args], cwd=cwd, env=_clean_env(built),
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)  # fmt: skip


def test_wheel_holds_every_part_and_its_metadata(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as whl:
        names = set(whl.namelist())
        (meta,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = email.parser.Parser().parsestr(whl.read(meta).decode())
    # Every file of the package's source is in the wheel: modules, the child side, the raw
    # result's schema, the page's files.
    package = {p.as_posix() for p in _source_files() if p.parts[0] == "pytest_mpcompat"}
    assert package - names == set()
    assert "pytest-mpcompat.pth" in names  # at the top of site-packages, see setup.py
    for part in ("_child/bootstrap.py", "py.typed", "model/schema/raw-result.schema.json",
                 "publish/page/grid.js"):  # fmt: skip
        assert f"pytest_mpcompat/{part}" in names, part
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert metadata["License-Expression"] == "MIT"
    requires = metadata.get_all("Requires-Dist") or []
    assert any(r.startswith("psutil") and 'sys_platform != "linux"' in r for r in requires)
    classifiers = metadata.get_all("Classifier") or []
    assert "Programming Language :: Python :: 3.14" in classifiers
    assert "Typing :: Typed" in classifiers
    assert metadata.get_all("Project-URL")


def test_sdist_runs_the_test_suite(built: Built, tmp_path: Path) -> None:
    with tarfile.open(built.sdist) as sdist:
        sdist.extractall(tmp_path, filter="data")
    (top,) = tmp_path.iterdir()
    for part in ("tests/conftest.py", "scenarios/stdlib_main_guard_fixed.py", "matrices/ci.toml",
                 "matrices/locks", "noxfile.py", "LICENSE", "README.md"):  # fmt: skip
        assert (top / part).exists(), part
    # Its tests run against the installed wheel (not the sources beside them).
    done = _run(built, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--import-mode=append",
                "tests/test_metadata.py", cwd=top)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\d+ passed", done.stdout)


def test_plain_pytest_run_outside_the_checkout(built: Built, tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    assert 1 + 1 == 2\n")
    done = _run(built, "-m", "pytest", "-q", "test_plain.py", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "INTERNALERROR" not in done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_mp_matrix_outside_the_checkout(built: Built, tmp_path: Path) -> None:
    shutil.copy(ROOT / "scenarios" / "stdlib_main_guard_missing.py", tmp_path / "engine.py")
    done = _run(built, "-m", "pytest", "--mp-matrix", "engine.py", "--mp-report", "out.json",
                cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    cells = {c["method"]: c for c in json.loads((tmp_path / "out.json").read_text())["cells"]}
    assert cells["fork"]["verdict"] == "pass"
    assert "spawn-main-guard-missing" in cells["spawn"]["signatures"]


def test_the_installed_wheel_reaches_the_interpreters_a_cell_starts(
    built: Built, tmp_path: Path
) -> None:
    shutil.copy(ROOT / "tests" / "scripts" / "exec_worker.py", tmp_path / "exec_worker.py")
    done = _run(built, "-m", "pytest", "--mp-matrix", "exec_worker.py", "--mp-methods", "spawn",
                "--mp-report", "out.json", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    (cell,) = json.loads((tmp_path / "out.json").read_text())["cells"]
    assert cell["methods_used"] == {"spawn": 1}, cell
    assert "worker default: spawn\n" in cell["stdout_tail"]


def _readme_project(folder: Path) -> list[str]:
    """Write the files of the README's "Your own matrix" section; their names."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Your own matrix", 1)[1].split("\n## ", 1)[0]
    written = []
    for block in re.findall(r"```(?:python|toml)\n(.*?)```", section, re.S):
        first = block.splitlines()[0]
        name = first.removeprefix("# ").strip()
        if not re.fullmatch(r"[\w/.]+\.(py|toml)", name):
            continue
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(block)
        written.append(name)
    return written


def test_readme_own_matrix_runs_from_the_installed_package(built: Built, tmp_path: Path) -> None:
    written = _readme_project(tmp_path)
    assert {"noxfile.py", "matrices/ci.toml"} <= set(written)
    listed = _run(built, "-m", "nox", "-l", cwd=tmp_path)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    for name in (f"ci-stdlib-{PY}", "lock", "bisect", "report"):
        assert f"* {name}" in listed.stdout or f"- {name}" in listed.stdout, listed.stdout
    session = f"ci-stdlib-{PY}"
    raw = tmp_path / "reports" / "raw" / f"{session}.json"

    def verdicts() -> dict[str, str]:
        return {c["method"]: c["verdict"] for c in json.loads(raw.read_text())["cells"]}

    ran = _run(built, "-m", "nox", "-s", session, cwd=tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert verdicts() == {"fork": "pass", "spawn": "crash", "forkserver": "crash"}
    # -R: the environment is reused and nothing installed, as nox users expect.
    raw.unlink()
    again = _run(built, "-m", "nox", "-R", "-s", session, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert verdicts()["spawn"] == "crash"
    # --no-venv: the environment nox runs in, which has the plugin, under the same names; the
    # sessions of the other Pythons are skipped (they would measure this one), writing nothing.
    raw.unlink()
    here = _run(built, "-m", "nox", "--no-venv", "-s", session, cwd=tmp_path)
    assert here.returncode == 0, here.stdout + here.stderr
    assert verdicts()["fork"] == "pass"
    other = "3.13" if PY != "3.13" else "3.12"
    elsewhere = _run(built, "-m", "nox", "--no-venv", "-s", f"ci-stdlib-{other}", cwd=tmp_path)
    assert elsewhere.returncode == 0, elsewhere.stdout + elsewhere.stderr
    assert f"measures Python {other}; the environment found (--no-venv) runs Python {PY}" in (
        elsewhere.stdout + elsewhere.stderr
    )
    assert sorted(p.name for p in raw.parent.iterdir()) == [raw.name]
    # -t NAME-SET selects every Python of a set, as the old unsuffixed name did.
    tagged = _run(built, "-m", "nox", "-l", "-t", "ci-stdlib", cwd=tmp_path)
    assert f"* ci-stdlib-{PY}" in tagged.stdout and "* lock" not in tagged.stdout, tagged.stdout
    report = _run(built, "-m", "nox", "-s", "report", cwd=tmp_path)
    assert report.returncode == 0, report.stdout + report.stderr
    assert (tmp_path / "reports" / "index.html").is_file()
    merged = json.loads((tmp_path / "reports" / "matrix.json").read_text())
    assert len(merged["cells"]) == 3


def test_no_venv_names_what_the_found_environment_lacks(built: Built, tmp_path: Path) -> None:
    """The found environment lacks the set's install: the session fails naming it, and a
    measured result already there is kept, the new one left beside it."""
    _readme_project(tmp_path)
    raw = tmp_path / "reports" / "raw" / f"ci-stdlib-{PY}.json"
    measured = _run(built, "-m", "nox", "--no-venv", "-s", f"ci-stdlib-{PY}", cwd=tmp_path)
    assert measured.returncode == 0, measured.stdout + measured.stderr
    before = raw.read_text()
    matrix = tmp_path / "matrices" / "ci.toml"
    matrix.write_text(matrix.read_text().replace(
        "# install = [", 'install = ["packaging<1"]\n# ['))  # fmt: skip
    done = _run(built, "-m", "nox", "--no-venv", "-s", f"ci-stdlib-{PY}", cwd=tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "no cell measured" in out and "MPCOMPAT_ALLOW_UNMEASURED=1" in out, out
    assert (
        f"reports/raw/{raw.name} kept: it holds 3 measured cells and this run measured none" in out
    )
    assert raw.read_text() == before
    rejected = json.loads(raw.with_name(raw.name + ".rejected").read_text())
    assert rejected["cells"] == []
    assert "lacks packaging<1 (found" in rejected["environment_gap"]
    # Allowed: it passes, saying so, and still keeps the measured result.
    env = {**_clean_env(built), "MPCOMPAT_ALLOW_UNMEASURED": "1"}
    allowed = subprocess.run([str(built.python), "-m", "nox", "--no-venv", "-s",
                              f"ci-stdlib-{PY}"], cwd=tmp_path, env=env, capture_output=True,
                             text=True, stdin=subprocess.DEVNULL)  # fmt: skip
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert "passes: MPCOMPAT_ALLOW_UNMEASURED is set" in allowed.stderr + allowed.stdout
    assert raw.read_text() == before


def test_a_missing_or_stale_lock_fails_the_session_with_the_relock_command(
    built: Built, tmp_path: Path
) -> None:
    from pytest_mpcompat.matrix.locks import current_platform, lock_path, render_lock

    _readme_project(tmp_path)
    matrix = tmp_path / "matrices" / "ci.toml"
    matrix.write_text(matrix.read_text().replace(
        "# install = [", 'install = ["iniconfig==2.1.0"]\n# ['))  # fmt: skip
    session = f"ci-stdlib-{PY}"
    raw = tmp_path / "reports" / "raw" / f"{session}.json"
    missing = _run(built, "-m", "nox", "-s", session, cwd=tmp_path)
    out = missing.stdout + missing.stderr
    assert missing.returncode == 1, out
    assert f"no lock for Python {PY}" in out and "run `nox -s lock -- stdlib`" in out, out
    assert json.loads(raw.read_text())["environment_gap"]  # recorded: the report says why
    plat = current_platform()
    assert plat is not None
    lock = lock_path(tmp_path / "matrices" / "locks", "stdlib", PY, plat)
    lock.parent.mkdir(parents=True)
    lock.write_text(render_lock("stdlib", PY, plat, ("iniconfig==2.1.0",), (),
                                "iniconfig==2.1.0\n", None))  # fmt: skip
    good = _run(built, "-m", "nox", "-s", session, cwd=tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr
    before = raw.read_text()
    assert len(json.loads(before)["cells"]) == 3
    # The set's install changes and the lock is not made again.
    matrix.write_text(matrix.read_text().replace('"iniconfig==2.1.0"', '"iniconfig==2.0.0"'))
    stale = _run(built, "-m", "nox", "-s", session, cwd=tmp_path)
    out = stale.stdout + stale.stderr
    assert stale.returncode == 1, out
    assert "the lock is stale" in out and "'iniconfig==2.1.0'" in out, out
    assert "the set now installs 'iniconfig==2.0.0'" in out, out
    assert "run `nox -s lock -- stdlib`" in out, out
    assert raw.read_text() == before  # the measured result is kept


def test_a_set_environment_is_kept_while_its_install_is_unchanged(
    built: Built, tmp_path: Path
) -> None:
    """A set that installs something keeps its environment between runs while its lock and
    requirements are unchanged (nothing installed), and makes it anew when they change."""
    from pytest_mpcompat.matrix.locks import current_platform, lock_path, render_lock

    _readme_project(tmp_path)
    matrix = tmp_path / "matrices" / "ci.toml"
    matrix.write_text(matrix.read_text().replace(
        "# install = [", 'install = ["iniconfig==2.1.0"]\n# ['))  # fmt: skip
    plat = current_platform()
    assert plat is not None
    lock = lock_path(tmp_path / "matrices" / "locks", "stdlib", PY, plat)
    lock.parent.mkdir(parents=True)
    lock.write_text(render_lock("stdlib", PY, plat, ("iniconfig==2.1.0",), (),
                                "iniconfig==2.1.0\n", None))  # fmt: skip
    session = f"ci-stdlib-{PY}"
    store = {**os.environ, "MPCOMPAT_BYTECODE_STORE": str(tmp_path / "store")}

    def run() -> str:
        done = subprocess.run([str(built.bin / "nox"), "-s", session], cwd=tmp_path, env=store,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    first = run()
    assert "holds set stdlib" not in first and "bytecode:" in first
    assert "holds set stdlib as py" in run()  # kept: nothing of the set installed again
    lock.write_text(lock.read_text() + "# regenerated\n")  # any change to the lock
    third = run()
    assert "holds another install: making it anew" in third, third
    assert "holds set stdlib" in run()
    # Every file's bytecode came from the store once the first environment had compiled it.
    assert re.search(r"bytecode: [1-9]\d* files from the store, [0-9]{1,2} compiled", third)
