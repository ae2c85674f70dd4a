"""The package's shape, checked in the lint session: no import cycle between its modules, no
module over 400 lines and no function over 60 (declarative tables, such as the signature
catalog, are data, not functions, and are not counted), and the layers of ``NEVER``. Exit 1 with
each finding."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pytest_mpcompat"
MODULE_LINES, FUNCTION_LINES = 400, 60
#: Parts that must not import others: the child side runs on the standard library alone, the
#: model is read by every part and reads none, and the report never reads matrix files, runs
#: cells or loads the plugin.
_P = "pytest_mpcompat."
NEVER = {
    _P + "_child": (_P,),
    _P + "model": tuple(
        _P + p for p in ("plugin", "runner", "publish", "matrix", "nox", "scenario")
    ),
    _P + "publish": tuple(_P + p for p in ("plugin", "runner", "matrix", "nox", "cli")),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, name: str) -> set[str]:
    """The package's modules that ``path`` imports, at run time or for type checking alike."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import cycle once, as the modules around it."""
    found, done = [], set()
    for start in sorted(graph):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(graph.get(node, ())):
                if nxt == start and len(path) > 1:
                    ring = frozenset(path)
                    if ring not in done:
                        done.add(ring)
                        found.append([*path, start])
                elif nxt not in path and nxt > start:
                    stack.append((nxt, [*path, nxt]))
    return found


def main() -> int:
    files = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
    graph = {}
    for name, path in files.items():
        graph[name] = {m for m in imports(path, name) if m in files and m != name}
    problems = [f"import cycle: {' -> '.join(ring)}" for ring in cycles(graph)]
    for name, targets in sorted(graph.items()):
        for part, banned in NEVER.items():
            # (``python -m`` entry points only start the command: ``publish.__main__``.)
            if (name == part or name.startswith(part + ".")) and not name.endswith("__main__"):
                bad = sorted(t for t in targets if t.startswith(banned) and not t.startswith(part))
                problems += [f"{files[name].relative_to(ROOT)}: imports {t} ({part} never does)"
                             for t in bad]  # fmt: skip
    for path in files.values():
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        if lines > MODULE_LINES:
            problems.append(f"{path.relative_to(ROOT)}: {lines} lines (at most {MODULE_LINES})")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > FUNCTION_LINES:
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.name}() is "
                                    f"{length} lines (at most {FUNCTION_LINES})")  # fmt: skip
    for problem in problems:
        print(problem)  # noqa: T201
    print(f"shape: {len(files)} modules, {len(problems)} findings")  # noqa: T201
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
