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

from ..model.cell import START_METHODS, Verdict, seconds_problem
from .requirements import validate_condition, validate_requirement
from .serve import DEFAULT_STOP_SIGNALS, MAX_CONCURRENCY, RequestSpec, ServeSpec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["ExpectRule", "Scenario", "ScenarioError", "load_scenario"]

_OPEN = re.compile(r"^# /// (?P<type>[a-zA-Z0-9-]+)$")
_COMMENT = re.compile(r"^#(?: .*)?$")
_CLOSE = "# ///"
_TOML_POS = re.compile(r"\((?:at line (\d+), column \d+|at end of document)\)")

_TOP_KEYS = {"requires-python", "dependencies", "tool"}  # PEP 723 defines no others
_KEYS = {
    "methods", "timeout", "requires", "env", "args", "expect", "serve", "memory_limit_mb",
    "max_processes", "exit_grace", "cwd",
}  # fmt: skip
#: Where a cell runs: the folder pytest was started from (the default: a script that puts a
#: relative path on sys.path, or keeps state in a file, behaves as when its user runs it), the
#: script's folder, or a fresh empty folder of its own (what a server writes there, .metrics/ or
#: .envs/, stays out of the user's tree), removed after the cell.
CWD_CHOICES = ("invocation", "script", "scratch")
_SERVE_KEYS = {
    "workers", "ready", "ready_timeout", "request_timeout", "stop_timeout", "stop_signals",
    "crash_loop", "requests",
}  # fmt: skip
_REQUEST_KEYS = {
    "path", "method", "json", "body", "status", "contains", "count", "port", "concurrency",
    "pid_header",
}  # fmt: skip
_STOP_SIGNALS = ("SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2")
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
            k = re.escape(key)
            rx = re.compile(rf"^\s*(?:{k}\s*=|\[\[?\s*(?:tool\.mpcompat\.)?{k}\s*\]\]?)")
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
            line = block.first_line + _open_value_line(block.lines, int(pos.group(1))) - 1
        else:  # at the end: the last line that has anything on it
            filled = [i for i, text in enumerate(block.lines) if text.strip()] or [0]
            line = block.first_line + filled[-1]
        msg = _TOML_POS.sub("", str(exc)).strip()
        raise ScenarioError(
            path, line, f"invalid TOML in the '# /// script' block: {msg}"
        ) from None
    return _build(block, data)


def _open_value_line(lines: list[str], reported: int) -> int:
    """The block line to blame for a TOML error tomllib places on line ``reported``.

    An array or inline table left open (``args = ["a",``) is reported where the next key
    starts, one line or more after the mistake; blame the line that opened it instead.
    """
    depth, opened = 0, reported
    for number, line in enumerate(lines[: reported - 1], start=1):
        text = re.sub(r"'[^']*'|\"(?:\\.|[^\"\\])*\"|#.*", "", line)  # strings, comments
        if depth == 0 and re.match(r"\s*\[", text):
            continue  # a table header, not a value
        for char in text:
            if char in "[{":
                if depth == 0:
                    opened = number
                depth += 1
            elif char in "]}" and depth:
                depth -= 1
    return opened if depth else reported


def _near(name: str, choices: set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _build(block: _Block, data: dict[str, Any]) -> Scenario:
    for key in data:
        if key not in _TOP_KEYS:
            raise block.error(
                f"unknown top-level key {key!r} in the '# /// script' block{_near(key, _TOP_KEYS)}"
                f"; PEP 723 allows {', '.join(sorted(_TOP_KEYS))}",
                key,
            )
    tools = data.get("tool", {})
    if not isinstance(tools, dict):
        raise block.error("'tool' must be a table", "tool")
    for name in tools:
        if name != "mpcompat" and _near(name, {"mpcompat"}):
            raise block.error(
                f"[tool.{name}] looks like a misspelt [tool.mpcompat] and would be ignored",
                f"tool.{name}",
            )
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

    timeout = _seconds(block, tool, "timeout")
    exit_grace = _seconds(block, tool, "exit_grace", zero_ok=True)

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

    cwd = tool.get("cwd", "invocation")
    if cwd not in CWD_CHOICES:
        raise block.error(f"'cwd' must be one of {', '.join(CWD_CHOICES)}, not {cwd!r}", "cwd")

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
        exit_grace=exit_grace,
        cwd=cwd,
    )


def _seconds(block: _Block, table: dict[str, Any], key: str, zero_ok: bool = False) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    problem = seconds_problem(value, zero_ok)
    if problem:
        raise block.error(f"{key!r} {problem}, not {value!r}", key)
    return float(value)


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
        value = _seconds(block, raw, key)
        times[key] = value if value is not None else getattr(ServeSpec, key)
    stop_signals = raw.get("stop_signals", list(DEFAULT_STOP_SIGNALS))
    if not _str_list(stop_signals) or not stop_signals:
        raise block.error("'stop_signals' must be a non-empty list of signal names", "stop_signals")
    for name in stop_signals:
        if name not in _STOP_SIGNALS:
            raise block.error(
                f"unknown stop signal {name!r} (valid: {', '.join(_STOP_SIGNALS)}; "
                "SIGKILL always follows the last one)",
                "stop_signals",
            )
    crash_loop = raw.get("crash_loop", ServeSpec.crash_loop)
    if isinstance(crash_loop, bool) or not isinstance(crash_loop, int) or crash_loop < 1:
        raise block.error(
            f"'crash_loop' must be a whole number >= 1, not {crash_loop!r}", "crash_loop"
        )
    requests = raw.get("requests", [{}])
    if not isinstance(requests, list) or not all(isinstance(r, dict) for r in requests):
        raise block.error("'requests' must be an array of tables", "requests")
    specs = []
    for req in requests:
        _no_unknown(block, req, _REQUEST_KEYS, "a serve request", "requests")
        path = req.get("path", "/")
        status, count, port = req.get("status", 200), req.get("count", 1), req.get("port", 1)
        if isinstance(port, bool) or not isinstance(port, int) or port < 1:
            raise block.error("request 'port' must be 1 ({port}), 2 ({port2}), ...", "port")
        if not isinstance(path, str) or not path.startswith("/"):
            raise block.error(f"request 'path' must start with '/', not {path!r}", "path")
        if not isinstance(status, int) or not isinstance(count, int) or count < 1:
            raise block.error("request 'status' and 'count' must be whole numbers", "requests")
        concurrency = req.get("concurrency", 1)
        if (
            isinstance(concurrency, bool)
            or not isinstance(concurrency, int)
            or not (1 <= concurrency <= MAX_CONCURRENCY)
        ):
            raise block.error(f"request 'concurrency' must be a whole number from 1 to "
                              f"{MAX_CONCURRENCY}, not {concurrency!r}", "concurrency")  # fmt: skip
        pid_header = req.get("pid_header")
        if pid_header is not None and (not isinstance(pid_header, str) or not pid_header):
            raise block.error("request 'pid_header' must name a response header", "pid_header")
        specs.append(
            RequestSpec(
                path=path,
                method=str(req.get("method", "")),
                json=req.get("json"),
                body=req.get("body"),
                status=status,
                contains=req.get("contains"),
                count=count,
                port=port,
                concurrency=concurrency,
                pid_header=pid_header,
            )
        )
    return ServeSpec(
        workers=workers,
        ready=ready,
        requests=tuple(specs),
        stop_signals=tuple(stop_signals),
        crash_loop=crash_loop,
        **times,
    )


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
