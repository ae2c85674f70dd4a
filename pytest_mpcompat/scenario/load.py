"""Scenario scripts and their settings, read from a PEP 723 inline metadata block.

A scenario is any Python script. Its optional ``# /// script`` block may hold the standard
``requires-python`` and ``dependencies`` keys and a ``[tool.mpcompat]`` table; every mistake in
it is reported with the file and line, because a silently ignored expectation is worse than none.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from ..model.cell import Verdict
from ._block import Block, ScenarioError, find_block, open_value_line
from ._fields import check_method, near, no_unknown, seconds, str_list, whole
from .requirements import validate_condition, validate_requirement
from .serve import ServeSpec, serve_spec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["ROLES", "ExpectRule", "Scenario", "ScenarioError", "load_scenario"]

_TOML_POS = re.compile(r"\((?:at line (\d+), column \d+|at end of document)\)")

_TOP_KEYS = {"requires-python", "dependencies", "tool"}  # PEP 723 defines no others
_KEYS = {
    "methods", "timeout", "requires", "env", "args", "expect", "serve", "memory_limit_mb",
    "max_processes", "exit_grace", "cwd", "role", "twin",
}  # fmt: skip
#: What a scenario is for: the intended use of a library (does this release work when used
#: so?), or a known mistake in the user's code reproduced on purpose (does it fail as
#: documented?), with its fixed ``twin`` beside it. Reports judge a release by the first kind,
#: and by any result that contradicts an expectation.
ROLES = ("use", "mistake")
#: Where a cell runs: the folder pytest was started from (the default: a script that puts a
#: relative path on sys.path, or keeps state in a file, behaves as when its user runs it), the
#: script's folder, or a fresh empty folder of its own (what a server writes there, .metrics/ or
#: .envs/, stays out of the user's tree), removed after the cell.
CWD_CHOICES = ("invocation", "script", "scratch")
_RULE_KEYS = {"methods", "when", "verdict", "signatures"}
_EXPECTABLE = (Verdict.PASS, Verdict.CRASH, Verdict.HANG)


@dataclass(frozen=True)
class ExpectRule:
    """Expected verdict for the cells it applies to; the first rule that applies wins."""

    verdict: Verdict
    signatures: tuple[str, ...] = ()
    methods: tuple[str, ...] | None = None  # None: every method
    when: tuple[str, ...] = ()  # conditions that must all hold (see requirements.py)
    line: int = 0


@dataclass(frozen=True)
class Scenario:
    """A scenario script and the settings of its metadata block (defaults without one)."""

    path: Path
    methods: tuple[str, ...] | None = None  # None: every method this OS has
    timeout: float | None = None  # None: the run's default
    requires: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    requires_python: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    expect: tuple[ExpectRule, ...] = ()
    serve: ServeSpec | None = None  # run as a server and drive it (see serving.py)
    memory_limit_mb: int | None = None  # address-space limit of every process of the cell
    max_processes: int | None = None  # more live processes than this: the cell is killed
    exit_grace: float | None = None  # None: the run's default (see runner.DEFAULT_EXIT_GRACE_S)
    cwd: str = "invocation"  # one of CWD_CHOICES
    role: str = "use"  # one of ROLES
    twin: str | None = None  # a mistake's fixed twin: a scenario file beside it


def load_scenario(path: Path) -> Scenario:
    """Read a scenario's metadata; raises ScenarioError naming the file and line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(path, 0, f"cannot read the scenario: {exc.strerror or exc}") from None
    text = raw.decode("utf-8", errors="replace")
    block = find_block(path, text)
    if block is None:
        return Scenario(path=path)
    try:
        data = tomllib.loads("\n".join(block.lines))
    except tomllib.TOMLDecodeError as exc:
        pos = _TOML_POS.search(str(exc))
        if pos and pos.group(1):
            line = block.first_line + open_value_line(block.lines, int(pos.group(1))) - 1
        else:  # at the end: the last line that has anything on it
            filled = [i for i, text in enumerate(block.lines) if text.strip()] or [0]
            line = block.first_line + filled[-1]
        msg = _TOML_POS.sub("", str(exc)).strip()
        raise ScenarioError(
            path, line, f"invalid TOML in the '# /// script' block: {msg}"
        ) from None
    return _build(block, data)


def _top_level(block: Block, data: dict[str, Any]) -> dict[str, Any]:
    """The PEP 723 keys checked; the ``[tool.mpcompat]`` table."""
    for key in data:
        if key not in _TOP_KEYS:
            raise block.error(
                f"unknown top-level key {key!r} in the '# /// script' block{near(key, _TOP_KEYS)}"
                f"; PEP 723 allows {', '.join(sorted(_TOP_KEYS))}",
                key,
            )
    tools = data.get("tool", {})
    if not isinstance(tools, dict):
        raise block.error("'tool' must be a table", "tool")
    for name in tools:
        if name != "mpcompat" and near(name, {"mpcompat"}):
            raise block.error(
                f"[tool.{name}] looks like a misspelt [tool.mpcompat] and would be ignored",
                f"tool.{name}",
            )
    deps = data.get("dependencies", [])
    if not str_list(deps):
        raise block.error("'dependencies' must be a list of strings", "dependencies")
    for dep in deps:
        try:
            Requirement(dep)
        except InvalidRequirement as exc:
            raise block.error(f"invalid dependency {dep!r}: {exc}", "dependencies") from None
    requires_python = data.get("requires-python")
    if requires_python is not None:
        try:
            SpecifierSet(str(requires_python))
        except InvalidSpecifier:
            raise block.error(
                f"invalid requires-python {requires_python!r}", "requires-python"
            ) from None
    tool = tools.get("mpcompat", {})
    if not isinstance(tool, dict):
        raise block.error("[tool.mpcompat] must be a table", "tool.mpcompat")
    no_unknown(block, tool, _KEYS, "[tool.mpcompat]", "tool.mpcompat")
    return tool


def _strings(block: Block, tool: dict[str, Any], key: str) -> tuple[str, ...]:
    value = tool.get(key, [])
    if not str_list(value):
        raise block.error(f"'{key}' must be a list of strings", key)
    return tuple(value)


def _build(block: Block, data: dict[str, Any]) -> Scenario:
    tool = _top_level(block, data)
    methods = tool.get("methods")
    if methods is not None:
        if not str_list(methods) or not methods:
            raise block.error("'methods' must be a non-empty list of start methods", "methods")
        methods = tuple(check_method(block, m, "methods") for m in methods)
    requires = _strings(block, tool, "requires")
    for req in requires:
        problem = validate_requirement(req)
        if problem:
            raise block.error(problem, "requires")
    env = tool.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise block.error("'env' must be a table of string values", "env")
    cwd = tool.get("cwd", "invocation")
    if cwd not in CWD_CHOICES:
        raise block.error(f"'cwd' must be one of {', '.join(CWD_CHOICES)}, not {cwd!r}", "cwd")
    role, twin = _role(block, tool)
    requires_python = data.get("requires-python")
    return Scenario(
        path=block.path,
        methods=methods,
        timeout=seconds(block, tool, "timeout"),
        requires=requires,
        dependencies=tuple(data.get("dependencies", [])),
        requires_python=str(requires_python) if requires_python is not None else None,
        env=dict(env),
        args=_strings(block, tool, "args"),
        expect=_expect_rules(block, tool.get("expect", [])),
        serve=serve_spec(block, tool["serve"]) if "serve" in tool else None,
        memory_limit_mb=whole(block, tool, "memory_limit_mb"),
        max_processes=whole(block, tool, "max_processes"),
        exit_grace=seconds(block, tool, "exit_grace", zero_ok=True),
        cwd=cwd,
        role=role,
        twin=twin,
    )


def _role(block: Block, tool: dict[str, Any]) -> tuple[str, str | None]:
    role, twin = tool.get("role", "use"), tool.get("twin")
    if role not in ROLES:
        raise block.error(f"'role' must be one of {', '.join(ROLES)}, not {role!r}", "role")
    if twin is None:
        return role, None
    if role != "mistake":
        raise block.error("'twin' names the fixed twin of a mistake: set role = \"mistake\"",
                          "twin")  # fmt: skip
    # Named as a file beside this one; a report says it was not measured where it has no cells.
    if not isinstance(twin, str) or not twin.endswith(".py") or twin != PurePosixPath(twin).name:
        raise block.error(f"'twin' must name a scenario file beside this one, such as "
                          f"'server_fixed.py', not {twin!r}", "twin")  # fmt: skip
    return role, twin


def _expect_rules(block: Block, raw: Any) -> tuple[ExpectRule, ...]:
    if isinstance(raw, dict):  # {fork = "crash", spawn = {verdict = "pass"}}
        rules = []
        for method, spec in raw.items():
            line = block.line_of(method, block.line_of("expect"))
            check_method(block, method, "expect", line)
            if isinstance(spec, str):
                spec = {"verdict": spec}
            if not isinstance(spec, dict):
                raise ScenarioError(
                    block.path, line, f"expect.{method} must be a verdict or a table"
                )
            rules.append(_rule(block, {**spec, "methods": [method]}, line))
        return tuple(rules)
    if isinstance(raw, list) and all(isinstance(r, dict) for r in raw):  # [[tool.mpcompat.expect]]
        rules, near = [], None
        for spec in raw:
            near = block.line_of("expect", None if near is None else near + 1)
            rules.append(_rule(block, spec, near))
        return tuple(rules)
    raise block.error(
        "'expect' must be a table (method = verdict) or an array of [[tool.mpcompat.expect]] rules",
        "expect",
    )


def _rule(block: Block, spec: dict[str, Any], line: int) -> ExpectRule:
    unknown = sorted(set(spec) - _RULE_KEYS)
    if unknown:
        raise ScenarioError(
            block.path,
            line,
            f"unknown key {unknown[0]!r} in an expect rule "
            f"(valid keys: {', '.join(sorted(_RULE_KEYS))})",
        )
    verdict = spec.get("verdict")
    choices = ", ".join(v.value for v in _EXPECTABLE)
    if verdict not in {v.value for v in _EXPECTABLE}:
        raise ScenarioError(
            block.path, line, f"expected verdict must be one of {choices}, not {verdict!r}"
        )
    sigs = spec.get("signatures", [])
    if not str_list(sigs):
        raise ScenarioError(block.path, line, "'signatures' must be a list of signature ids")
    methods = spec.get("methods")
    if methods is not None:
        if not str_list(methods) or not methods:
            raise ScenarioError(block.path, line, "'methods' must be a non-empty list")
        methods = tuple(check_method(block, m, "expect", line) for m in methods)
    when = spec.get("when", [])
    if isinstance(when, str):
        when = [when]
    if not str_list(when):
        raise ScenarioError(block.path, line, "'when' must be a string or a list of strings")
    for cond in when:
        problem = validate_condition(cond)
        if problem:
            raise ScenarioError(block.path, line, problem)
    return ExpectRule(Verdict(verdict), tuple(sigs), methods, tuple(when), line)
