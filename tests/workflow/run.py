"""Run the reusable workflow end to end under act, called as another repository calls it.

    python tests/workflow/run.py OUT [--act PATH] [--python 3.11 --python 3.12]

A wheel is built from a clean copy of this checkout; a caller repository (the README's two-line
noxfile, a ``ci`` matrix of the stdlib set on two Pythons, the README's scenario, ``caller.yml``)
is made in ``OUT/caller``; act runs it in host mode with the stand-ins of ``actions/`` for
GitHub's services, three times:

1. a push with no baseline (a first run);
2. a pull request from a fork (no secrets, ``head.repo`` another repository);
3. a push after the first report was committed as the baseline, gated against it.

The second and third reuse every cell the first measured (act gives each run a new workspace, so
this also shows that a moved checkout keys its cells alike).

Each run must end with every matrix job's raw result merged and the gate passed; what each run
did is written to ``OUT/summary.json`` and the last report is left in ``OUT/report``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OWNER = "example-org/example-server"
STAND_INS = {
    "actions/setup-python@v5": "setup-python",
    "actions/cache@v4": "cache",  # also cache/restore and cache/save, by their folders
    "actions/upload-artifact@v4": "upload-artifact",
    "actions/download-artifact@v4": "download-artifact",
    "actions/upload-pages-artifact@v3": "upload-pages-artifact",
}


class WorkflowFailed(Exception):
    pass


def _source_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, capture_output=True, check=True).stdout  # fmt: skip
    return [n for n in out.decode().split("\0") if n and (ROOT / n).is_file()]


def _copy_source(to: Path) -> None:
    shutil.rmtree(to, ignore_errors=True)
    for name in _source_files():
        (to / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, to / name)


def _git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@example.invalid",
           "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@example.invalid"}  # fmt: skip
    subprocess.run(["git", *args], cwd=cwd, check=True, env=env, capture_output=True)


def _readme_block(name: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for block in re.findall(r"```(?:python|toml)\n(.*?)```", text, re.S):
        if block.startswith(f"# {name}\n"):
            return str(block)
    raise WorkflowFailed(f"README.md has no block for {name}")


def _caller(where: Path, pythons: list[str]) -> Path:
    repo = where / "caller"
    shutil.rmtree(repo, ignore_errors=True)
    files = {
        "noxfile.py": _readme_block("noxfile.py"),
        "scenarios/workers_share_model.py": _readme_block("scenarios/workers_share_model.py"),
        "matrices/ci.toml": (
            'description = "Two workers given the model built in the parent"\n\n[[set]]\n'
            f'name = "stdlib"\npython = {json.dumps(pythons)}\nscenarios = ["*.py"]\n'
        ),
        ".github/workflows/compatibility.yml": (HERE / "caller.yml").read_text(),
        ".gitignore": ".nox/\n.pytest_cache/\nreports/raw/\n",
    }
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "remote", "add", "origin", f"https://github.com/{OWNER}.git")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "matrix")
    return repo


def _pull_request_event(where: Path) -> Path:
    event = {
        "action": "opened",
        "number": 7,
        "repository": {"full_name": OWNER, "name": OWNER.split("/")[1],
                       "owner": {"login": OWNER.split("/")[0]}},
        "pull_request": {
            "number": 7,
            "head": {"ref": "feature", "sha": "0" * 40, "repo": {"full_name": "someone/fork"}},
            "base": {"ref": "main", "sha": "0" * 40, "repo": {"full_name": OWNER}},
        },
    }  # fmt: skip
    path = where / "pull_request.json"
    path.write_text(json.dumps(event))
    return path


def _act(act: str, repo: Path, store: Path, plugin: Path, install: str, event: str,
         event_file: Path | None, log: Path) -> float:  # fmt: skip
    """One act run of the caller; its seconds. The store's artifacts are this run's only."""
    shutil.rmtree(store / "artifacts", ignore_errors=True)
    (store / "outputs.txt").unlink(missing_ok=True)
    args = [act, event, "-W", ".github/workflows/compatibility.yml",
            "-P", "ubuntu-latest=-self-hosted", "--action-offline-mode",
            "--local-repository", f"pytest-mpcompat/pytest-mpcompat@main={plugin}",
            "--env", f"MPCOMPAT_ACT_STORE={store}", "--var", f"MPCOMPAT_INSTALL={install}",
            "--concurrent-jobs", "2"]  # fmt: skip
    for action, folder in STAND_INS.items():
        args += ["--local-repository", f"{action}={HERE / 'actions' / folder}"]
    if event_file is not None:
        args += ["-e", str(event_file)]
    started = time.monotonic()
    with log.open("w") as out:
        done = subprocess.run(args, cwd=repo, stdout=out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout=3600)  # fmt: skip
    took = time.monotonic() - started
    if done.returncode:
        tail = log.read_text(errors="replace")[-4000:]
        raise WorkflowFailed(f"act {event} exited {done.returncode} (log: {log}):\n{tail}")
    return took


def _check_run(store: Path, pythons: list[str], label: str, reuse: bool) -> dict[str, object]:
    """What one run left: a raw result per matrix job, the merged report and the gate; with
    ``reuse``, every cell reused from the cache an earlier run saved (nothing changed)."""
    artifacts = store / "artifacts"
    raws = {p.name: sorted(x.name for x in p.glob("*.json"))
            for p in sorted(artifacts.glob("raw-*"))}  # fmt: skip
    wanted = {f"raw-ubuntu-latest-{py}": [f"ci-stdlib-{py}.json"] for py in pythons}
    if raws != wanted:
        raise WorkflowFailed(f"{label}: matrix jobs uploaded {raws}, expected {wanted}")
    cells = []
    for name in wanted:
        for path in (artifacts / name).glob("*.json"):
            cells += json.loads(path.read_text())["cells"]
    matrix = json.loads((artifacts / "report" / "matrix.json").read_text())
    if len(matrix["cells"]) != len(cells) or not cells:
        raise WorkflowFailed(f"{label}: {len(cells)} cells measured, {len(matrix['cells'])} merged")
    reused = sum(1 for c in cells if c.get("reused"))
    if reused != (len(cells) if reuse else 0):
        raise WorkflowFailed(f"{label}: {reused} of {len(cells)} cells reused")
    outputs = (store / "outputs.txt").read_text().split()
    if outputs != ["gate=success"]:
        raise WorkflowFailed(f"{label}: the caller read {outputs}, not gate=success")
    return {"jobs": sorted(wanted) + ["report", "verdict"], "cells": len(cells),
            "reused": reused,
            "verdicts": sorted({f"{c['method']}={c['verdict']}" for c in cells})}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--act", default=shutil.which("act") or "act")
    parser.add_argument("--python", action="append", default=[])
    args = parser.parse_args(argv)
    pythons = args.python or ["3.11", "3.12"]
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    store = out / "store"
    shutil.rmtree(store, ignore_errors=True)
    store.mkdir()
    plugin = out / "plugin"
    _copy_source(plugin)
    dist = out / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    uv = shutil.which("uv") or "uv"
    subprocess.run([uv, "build", "--quiet", "--wheel", "--out-dir", str(dist), str(plugin)],
                   check=True, stdin=subprocess.DEVNULL)  # fmt: skip
    (wheel,) = dist.glob("*.whl")
    install = f"{wheel}[nox]"
    repo = _caller(out, pythons)
    summary: dict[str, object] = {}
    try:
        took = _act(args.act, repo, store, plugin, install, "push", None, out / "push.log")
        summary["push, no baseline"] = {
            "seconds": round(took),
            **_check_run(store, pythons, "push", False),
        }
        event = _pull_request_event(out)
        took = _act(args.act, repo, store, plugin, install, "pull_request", event, out / "pr.log")
        summary["pull request from a fork"] = {
            "seconds": round(took),
            **_check_run(store, pythons, "pull request", True),
        }
        # The first report committed as the baseline, as the README says; the next push reuses
        # the cells that nothing changed.
        (repo / "reports").mkdir(exist_ok=True)
        shutil.copy2(store / "artifacts" / "report" / "matrix.json", repo / "reports/matrix.json")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "baseline")
        took = _act(args.act, repo, store, plugin, install, "push", None, out / "again.log")
        summary["push with a baseline"] = {
            "seconds": round(took),
            **_check_run(store, pythons, "push again", True),
        }
    except WorkflowFailed as exc:
        print(f"workflow: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    finally:
        (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    shutil.rmtree(out / "report", ignore_errors=True)
    shutil.copytree(store / "artifacts" / "report", out / "report")
    print(json.dumps(summary, indent=2))  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
