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
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from .model import START_METHODS, Verdict
from .requirements import validate_condition, validate_requirement
from .serving import RequestSpec, ServeSpec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["ExpectRule", "Scenario", "ScenarioError", "load_scenario"]

_OPEN = re.compile(r"^# /// (?P<type>[a-zA-Z0-9-]+)$")
_COMMENT = re.compile(r"^#(?: .*)?$")
_CLOSE = "# ///"
_TOML_POS = re.compile(r"\((?:at line (\d+), column \d+|at end of document)\)")

_KEYS = {
    "methods", "timeout", "requires", "env", "args", "expect", "serve", "memory_limit_mb",
    "max_processes",
}  # fmt: skip
_SERVE_KEYS = {"workers", "ready", "ready_timeout", "request_timeout", "stop_timeout", "requests"}
_REQUEST_KEYS = {"path", "method", "json", "body", "status", "contains", "count"}
_RULE_KEYS = {"methods", "when", "verdict", "signatures"}
_EXPECTABLE = (Verdict.PASS, Verdict.CRASH, Verdict.HANG)


class ScenarioError(Exception):
    """A scenario whose metadata cannot be used; ``str()`` reads ``path:line: message``."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


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


class _Block:
    """The TOML text of the metadata block and where each of its lines sits in the file."""

    def __init__(self, path: Path, first_line: int, lines: list[str]) -> None:
        self.path, self.first_line, self.lines = path, first_line, lines

    def error(self, message: str, key: str | None = None, near: int | None = None) -> ScenarioError:
        return ScenarioError(self.path, self.line_of(key, near), message)

    def line_of(self, key: str | None, near: int | None = None) -> int:
        """File line of ``key = ...`` (or its table header) in the block; the block's first line
        when the key cannot be found."""
        if key is not None:
            rx = re.compile(
                rf"^\s*(?:{re.escape(key)}\s*=|\[\[?\s*tool\.mpcompat\.{re.escape(key)}\s*\]\]?)"
            )
            start = 0 if near is None else max(0, near - self.first_line)
            for i in range(start, len(self.lines)):
                if rx.match(self.lines[i]):
                    return self.first_line + i
        return near if near is not None else self.first_line - 1


def _find_block(path: Path, text: str) -> _Block | None:
    lines = text.splitlines()
    block: _Block | None = None
    i = 0
    while i < len(lines):
        opened = _OPEN.match(lines[i])
        if not opened:
            i += 1
            continue
        j, close = i + 1, None
        while j < len(lines) and _COMMENT.match(lines[j]):
            if lines[j] == _CLOSE:
                close = j
            j += 1
        if close is None:
            raise ScenarioError(
                path, i + 1, f"'# /// {opened['type']}' block is never closed with '# ///'"
            )
        if opened["type"] == "script":
            if block is not None:
                raise ScenarioError(path, i + 1, "a second '# /// script' block (only one allowed)")
            content = [
                line[2:] if line.startswith("# ") else line[1:] for line in lines[i + 1 : close]
            ]
            block = _Block(path, i + 2, content)
        i = close + 1
    return block


def load_scenario(path: Path) -> Scenario:
    """Read a scenario's metadata; raises ScenarioError naming the file and line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(path, 0, f"cannot read the scenario: {exc.strerror or exc}") from None
    text = raw.decode("utf-8", errors="replace")
    block = _find_block(path, text)
    if block is None:
        return Scenario(path=path)
    try:
        data = tomllib.loads("\n".join(block.lines))
    except tomllib.TOMLDecodeError as exc:
        pos = _TOML_POS.search(str(exc))
        if pos and pos.group(1):
            line = block.first_line + int(pos.group(1)) - 1
        else:  # at the end: the last line that has anything on it
            filled = [i for i, text in enumerate(block.lines) if text.strip()] or [0]
            line = block.first_line + filled[-1]
        msg = _TOML_POS.sub("", str(exc)).strip()
        raise ScenarioError(
            path, line, f"invalid TOML in the '# /// script' block: {msg}"
        ) from None
    return _build(block, data)


def _build(block: _Block, data: dict[str, Any]) -> Scenario:
    deps = data.get("dependencies", [])
    if not _str_list(deps):
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

    tool = data.get("tool", {}).get("mpcompat", {})
    if not isinstance(tool, dict):
        raise block.error("[tool.mpcompat] must be a table", "tool.mpcompat")
    unknown = sorted(set(tool) - _KEYS)
    if unknown:
        raise block.error(
            f"unknown key {unknown[0]!r} in [tool.mpcompat] "
            f"(valid keys: {', '.join(sorted(_KEYS))})",
            unknown[0],
        )

    methods = tool.get("methods")
    if methods is not None:
        if not _str_list(methods) or not methods:
            raise block.error("'methods' must be a non-empty list of start methods", "methods")
        methods = tuple(_check_method(block, m, "methods") for m in methods)

    timeout = tool.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0
    ):
        raise block.error(
            f"'timeout' must be a positive number of seconds, not {timeout!r}", "timeout"
        )

    requires = tool.get("requires", [])
    if not _str_list(requires):
        raise block.error("'requires' must be a list of strings", "requires")
    for req in requires:
        problem = validate_requirement(req)
        if problem:
            raise block.error(problem, "requires")

    env = tool.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise block.error("'env' must be a table of string values", "env")

    args = tool.get("args", [])
    if not _str_list(args):
        raise block.error("'args' must be a list of strings", "args")

    return Scenario(
        path=block.path,
        methods=methods,
        timeout=float(timeout) if timeout is not None else None,
        requires=tuple(requires),
        dependencies=tuple(deps),
        requires_python=str(requires_python) if requires_python is not None else None,
        env=dict(env),
        args=tuple(args),
        expect=_expect_rules(block, tool.get("expect", [])),
        serve=_serve_spec(block, tool["serve"]) if "serve" in tool else None,
        memory_limit_mb=_limit(block, tool, "memory_limit_mb"),
        max_processes=_limit(block, tool, "max_processes"),
    )


def _limit(block: _Block, tool: dict[str, Any], key: str) -> int | None:
    value = tool.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise block.error(f"'{key}' must be a whole number >= 1, not {value!r}", key)
    return value


def _serve_spec(block: _Block, raw: Any) -> ServeSpec:
    if not isinstance(raw, dict):
        raise block.error("'serve' must be a table", "serve")
    _no_unknown(block, raw, _SERVE_KEYS, "[tool.mpcompat.serve]", "serve")
    workers = raw.get("workers", 2)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise block.error(f"'workers' must be a whole number >= 1, not {workers!r}", "workers")
    ready = raw.get("ready", "/")
    if not isinstance(ready, str) or not ready.startswith("/"):
        raise block.error(f"'ready' must be a URL path such as '/health', not {ready!r}", "ready")
    times = {}
    for key in ("ready_timeout", "request_timeout", "stop_timeout"):
        value = raw.get(key, getattr(ServeSpec, key))
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise block.error(f"'{key}' must be a positive number of seconds", key)
        times[key] = float(value)
    requests = raw.get("requests", [{}])
    if not isinstance(requests, list) or not all(isinstance(r, dict) for r in requests):
        raise block.error("'requests' must be an array of tables", "requests")
    specs = []
    for req in requests:
        _no_unknown(block, req, _REQUEST_KEYS, "a serve request", "requests")
        path = req.get("path", "/")
        status, count = req.get("status", 200), req.get("count", 1)
        if not isinstance(path, str) or not path.startswith("/"):
            raise block.error(f"request 'path' must start with '/', not {path!r}", "path")
        if not isinstance(status, int) or not isinstance(count, int) or count < 1:
            raise block.error("request 'status' and 'count' must be whole numbers", "requests")
        specs.append(
            RequestSpec(
                path=path,
                method=str(req.get("method", "")),
                json=req.get("json"),
                body=req.get("body"),
                status=status,
                contains=req.get("contains"),
                count=count,
            )
        )
    return ServeSpec(workers=workers, ready=ready, requests=tuple(specs), **times)


def _no_unknown(
    block: _Block, table: dict[str, Any], valid: set[str], where: str, key: str
) -> None:
    unknown = sorted(set(table) - valid)
    if unknown:
        raise block.error(
            f"unknown key {unknown[0]!r} in {where} (valid keys: {', '.join(sorted(valid))})",
            unknown[0] if block.line_of(unknown[0]) >= block.first_line else key,
        )


def _expect_rules(block: _Block, raw: Any) -> tuple[ExpectRule, ...]:
    if isinstance(raw, dict):  # {fork = "crash", spawn = {verdict = "pass"}}
        rules = []
        for method, spec in raw.items():
            line = block.line_of(method, block.line_of("expect"))
            _check_method(block, method, "expect", line)
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


def _rule(block: _Block, spec: dict[str, Any], line: int) -> ExpectRule:
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
    if not _str_list(sigs):
        raise ScenarioError(block.path, line, "'signatures' must be a list of signature ids")
    methods = spec.get("methods")
    if methods is not None:
        if not _str_list(methods) or not methods:
            raise ScenarioError(block.path, line, "'methods' must be a non-empty list")
        methods = tuple(_check_method(block, m, "expect", line) for m in methods)
    when = spec.get("when", [])
    if isinstance(when, str):
        when = [when]
    if not _str_list(when):
        raise ScenarioError(block.path, line, "'when' must be a string or a list of strings")
    for cond in when:
        problem = validate_condition(cond)
        if problem:
            raise ScenarioError(block.path, line, problem)
    return ExpectRule(Verdict(verdict), tuple(sigs), methods, tuple(when), line)


def _check_method(block: _Block, method: str, key: str, line: int | None = None) -> str:
    if method not in START_METHODS:
        message = f"unknown start method {method!r} (valid: {', '.join(START_METHODS)})"
        raise ScenarioError(block.path, line or block.line_of(key), message)
    return method


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
