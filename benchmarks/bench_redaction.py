"""Redaction measured: what it catches, what it spares, how fast.

* coverage against a maintained rule set: with ``--gitleaks gitleaks.toml`` (gitleaks' default
  configuration, MIT licensed; not shipped here, pass your own copy), every rule's regex is
  sampled (``--samples`` secrets each) and each sample is written as logs carry it: for a rule
  anchored on a service's name, ``name=secret``, ``NAME_API_KEY: secret``, ``"name_token":
  "secret"`` and ``name secret key = secret``; for a token shape, the token alone in a log line.
  A rule is covered when no sample's secret survives redaction (in whole, or a run of 12 of its
  characters);
* what it spares: the share of lines of real output (the output tails and stacks of every
  cell in ``reports/raw/``) that redaction changes at all, and a sample of them;
* speed: MB/s over those lines, and the seconds 100,000 cells' tails (8 KiB each, the
  plugin's tail) would take.

Run by hand or by ``nox -s bench``:
python benchmarks/bench_redaction.py [--gitleaks gitleaks.toml] --json benchmarks/redaction.json
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from pytest_mpcompat.redact import Redactor  # noqa: E402

try:  # the regular expression parser of the running Python
    import re._constants as _c  # type: ignore[import-not-found]
    import re._parser as _p  # type: ignore[import-not-found]
except ImportError:  # Python 3.10
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _p  # type: ignore[no-redef]

_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_CATEGORY = {
    _c.CATEGORY_DIGIT: "0123456789",
    _c.CATEGORY_WORD: _ALNUM + "_",
    _c.CATEGORY_SPACE: " ",
    _c.CATEGORY_NOT_SPACE: _ALNUM,
    _c.CATEGORY_NOT_DIGIT: "abcdefXYZ",
    _c.CATEGORY_NOT_WORD: " ",
}


def to_python(regex: str) -> tuple[str, int]:
    """A gitleaks (Go RE2) pattern as Python reads it, and its flags."""
    flags = 0
    regex = regex.replace("[[:alnum:]]", "[A-Za-z0-9]").replace(r"\z", r"\Z")
    if "(?i)" in regex:
        regex, flags = regex.replace("(?i)", ""), re.I
    return regex, flags


class Sampler:
    """Random text that a parsed pattern matches (repeats kept short)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def chars(self, items: list[Any]) -> str:
        allowed: list[str] = []
        negate = False
        for op, av in items:
            if op is _c.NEGATE:
                negate = True
            elif op is _c.LITERAL:
                allowed.append(chr(av))
            elif op is _c.RANGE:
                allowed += [chr(i) for i in range(av[0], av[1] + 1)]
            elif op is _c.CATEGORY:
                allowed += list(_CATEGORY.get(av, _ALNUM))
        if negate:
            allowed = [c for c in _ALNUM if c not in allowed]
        return self.rng.choice(allowed or list(_ALNUM))

    def text(self, tree: Any, minimal: bool = False) -> str:
        out = []
        for op, av in tree:
            if op is _c.LITERAL:
                out.append(chr(av))
            elif op is _c.NOT_LITERAL:
                out.append(self.rng.choice([c for c in _ALNUM if ord(c) != av]))
            elif op is _c.ANY:  # mostly a dot its author did not escape (hooks.slack.com)
                out.append(".")
            elif op is _c.IN:
                out.append(self.chars(av))
            elif op is _c.BRANCH:
                out.append(self.text(self.rng.choice(av[1]), minimal))
            elif op is _c.SUBPATTERN:
                out.append(self.text(av[-1], minimal))
            elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
                low, high, sub = av
                high = low + 8 if high == _c.MAXREPEAT else high
                count = low if minimal else self.rng.randint(low, min(high, low + 8))
                count = max(count, low)
                if not minimal and low >= 8:  # a fixed-length secret: keep its length
                    count = self.rng.randint(low, min(high, low + 2))
                out.append("".join(self.text(sub, minimal) for _ in range(count)))
        return "".join(out)


def _group(tree: Any, number: int) -> Any:
    for op, av in tree:
        if op is _c.SUBPATTERN and av[0] == number:
            return av[-1]
        children = []
        if op is _c.SUBPATTERN:
            children = [av[-1]]
        elif op is _c.BRANCH:
            children = av[1]
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
            children = [av[2]]
        for child in children:
            found = _group(child, number)
            if found is not None:
                return found
    return None


def _service(rule: dict[str, Any]) -> str:
    """The service a name-anchored rule looks for: the first word of its name group."""
    found = re.search(r"\{0,50\}\?\(\?:(.*?)\)\(\?:", rule["regex"])
    first = found.group(1).split("|")[0] if found else rule["keywords"][0]
    return re.sub(r"\(\?-?i:|\[(.)[^]]*\]|[()?\\]", lambda m: m.group(1) or "", first)


def _forms(keyword: str, secret: str) -> list[str]:
    word = re.sub(r"[^a-z0-9]+", "_", keyword.lower()).strip("_")
    return [
        f"{word}={secret}",
        f"{word.upper()}_API_KEY: {secret}",
        f'config {{"{word}_token": "{secret}"}}',
        f"{word} secret key = {secret}",
    ]


def leaked(secret: str, done: str) -> bool:
    if secret in done:
        return True
    run = 12
    return len(secret) > run and any(
        secret[i : i + run] in done for i in range(0, len(secret) - run + 1)
    )


def coverage(rules_file: Path, samples: int, seed: int) -> dict[str, Any]:
    import tomllib

    rules = tomllib.loads(rules_file.read_text(encoding="utf-8"))["rules"]
    rng = random.Random(seed)
    sampler = Sampler(rng)
    redact = Redactor({})
    missed: dict[str, list[str]] = {}
    measured = 0
    for rule in rules:
        if not rule.get("regex"):
            continue  # a rule on file names only
        regex, flags = to_python(rule["regex"])
        try:
            compiled = re.compile(regex, flags)
            tree = _p.parse(regex, flags)
        except re.error:
            missed.setdefault(rule["id"], []).append("(pattern not readable here)")
            continue
        measured += 1
        semi = "{0,50}?" in rule["regex"] and rule.get("keywords")
        number = rule.get("secretGroup") or (1 if compiled.groups else 0)
        part = _group(tree, number) if number else tree
        for _ in range(samples):
            for _try in range(50):
                secret = sampler.text(part if semi else tree)
                if semi:
                    secret = secret.strip("\"'")
                    lines = _forms(_service(rule), secret)
                    break
                found = compiled.search(secret)
                if found is not None:
                    secret = (found.group(number) if number else None) or found.group(0)
                    lines = [f"2026-12-04 INFO serving: loaded {found.group(0)} for requests"]
                    break
            else:
                continue
            for line in lines:
                done = redact(line)
                if leaked(secret, done):
                    missed.setdefault(rule["id"], []).append(line[:160])
    return {
        "rules_file": rules_file.name,
        "rules": measured,
        "samples_per_rule": samples,
        "covered": measured - len(missed),
        "missed": {k: v[:2] for k, v in sorted(missed.items())},
    }


def real_lines(raw: Path) -> list[str]:
    lines: list[str] = []
    for path in sorted(raw.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for cell in data.get("cells") or []:
            texts = [cell.get("stdout_tail") or "", cell.get("stderr_tail") or ""]
            texts += [s.get("stack") or "" for s in cell.get("stacks") or []]
            for text in texts:
                lines += [line for line in text.splitlines() if line.strip()]
    return lines


def spared(lines: list[str]) -> dict[str, Any]:
    redact = Redactor({})
    changed = [line for line in lines if redact(line) != line]
    distinct = sorted(set(changed))
    return {
        "lines": len(lines),
        "changed": len(changed),
        "changed_pct": round(100 * len(changed) / max(len(lines), 1), 3),
        "changed_distinct": len(distinct),
        "sample": [redact(line)[:200] for line in distinct[:25]],
    }


def speed(lines: list[str]) -> dict[str, Any]:
    text = "\n".join(lines)
    chunk = 8192
    tails = [text[i : i + chunk] for i in range(0, len(text), chunk)]
    redact = Redactor({})
    start = time.perf_counter()
    for tail in tails:
        redact(tail)
    seconds = time.perf_counter() - start
    per_tail = seconds / max(len(tails), 1)
    return {
        "mb": round(len(text) / 1e6, 2),
        "mb_per_s": round(len(text) / 1e6 / seconds, 1),
        "tails_8kib": len(tails),
        "s_per_100000_cells_two_tails": round(per_tail * 200_000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gitleaks", type=Path, help="gitleaks' default gitleaks.toml")
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--seed", type=int, default=25)
    parser.add_argument("--raw", type=Path, default=HERE.parent / "reports" / "raw")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    lines = real_lines(args.raw)
    result: dict[str, Any] = {"spared": spared(lines), "speed": speed(lines)}
    if args.gitleaks:
        result["coverage"] = coverage(args.gitleaks, args.samples, args.seed)
    elif args.json and args.json.exists():  # the last measured coverage stays, marked as such
        kept = json.loads(args.json.read_text(encoding="utf-8")).get("coverage")
        if kept:
            result["coverage"] = {**kept, "kept_from_an_earlier_run": True}
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
