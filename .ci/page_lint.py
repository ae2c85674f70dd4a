"""Lint the published page's files with their npm linters, run by node: ESLint for the script
(.ci/eslint.config.mjs), stylelint's recommended rules for the style, html-validate for the
template and for the committed report's index.html. Exit 1 on any finding, 2 if node or npm is
missing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from npm_tools import npm_install  # beside this script

# The newest releases that still run on Node 20 (html-validate 10 and stylelint 17 need 22).
PACKAGES = ("eslint@10.15.0", "@eslint/js@10.0.1", "globals@17.14.0", "stylelint@16.26.1",
            "stylelint-config-recommended@16.0.0", "html-validate@9.7.1")  # fmt: skip
ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".nox" / ".page-lint"
PAGE = ROOT / "pytest_mpcompat" / "publish" / "page"


def main() -> int:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        print("page lint: needs node and npm on PATH", file=sys.stderr)  # noqa: T201
        return 2
    modules = npm_install(npm, CACHE, PACKAGES)
    # The configurations import their packages from beside themselves: they live in the cache.
    shutil.copyfile(ROOT / ".ci" / "eslint.config.mjs", CACHE / "eslint.config.mjs")
    stylelintrc = CACHE / "stylelintrc.json"
    stylelintrc.write_text(json.dumps({"extends": ["stylelint-config-recommended"]}))
    pages = [PAGE / "index.html", *[p for p in [ROOT / "reports" / "index.html"] if p.is_file()]]
    runs = {
        "eslint": [node, str(modules / "eslint" / "bin" / "eslint.js"), "--config",
                   str(CACHE / "eslint.config.mjs"), "--max-warnings", "0",
                   *map(str, sorted(PAGE.glob("*.js")))],
        "stylelint": [node, str(modules / "stylelint" / "bin" / "stylelint.mjs"), "--config",
                      str(stylelintrc), "--config-basedir", str(CACHE),
                      *map(str, sorted(PAGE.glob("*.css")))],
        "html-validate": [node, str(modules / "html-validate" / "bin" / "html-validate.mjs"),
                          *map(str, pages)],
    }  # fmt: skip
    failed = [name for name, argv in runs.items() if subprocess.run(argv, cwd=ROOT).returncode]
    print(f"page lint: {', '.join(runs)}: " + (f"findings from {', '.join(failed)}"  # noqa: T201
                                             if failed else "clean"))  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
