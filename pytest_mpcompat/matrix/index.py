"""What a package index says about a package's releases: each file, its Requires-Python and
whether it is yanked (the simple repository API, PEP 503 HTML or PEP 691 JSON).

Used by ``nox -s lock`` (uv's resolver ignores the upper bound of a Requires-Python, so a lock
alone would claim that KServe 0.14.0, which declares ``<3.13``, supports Python 3.13) and by
``nox -s bisect`` (the releases to search). Standard library only, plus packaging.
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

__all__ = ["DEFAULT_INDEX", "IndexFile", "files", "python_excluded", "version_of"]

DEFAULT_INDEX = (
    os.environ.get("UV_INDEX_URL") or os.environ.get("PIP_INDEX_URL") or "https://pypi.org/simple"
)
_JSON = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True)
class IndexFile:
    filename: str
    requires_python: str  # "" when the file declares none
    yanked: bool


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[IndexFile] = []
        self._attrs: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._attrs = dict(attrs)

    def handle_data(self, data: str) -> None:
        if self._attrs is not None and data.strip():
            a = self._attrs
            self.found.append(
                IndexFile(data.strip(), a.get("data-requires-python") or "", "data-yanked" in a)
            )
            self._attrs = None


def files(package: str, index: str = DEFAULT_INDEX) -> list[IndexFile]:
    """Every file of ``package`` on the index (JSON where the index offers it, else HTML)."""
    url = f"{index.rstrip('/')}/{canonicalize_name(package)}/"
    request = urllib.request.Request(url, headers={"Accept": f"{_JSON}, text/html;q=0.1"})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (an index URL)
        kind = response.headers.get("Content-Type", "")
        body = response.read().decode("utf-8", errors="replace")
    if "json" in kind:
        data = json.loads(body)
        return [
            IndexFile(f["filename"], f.get("requires-python") or "", bool(f.get("yanked")))
            for f in data.get("files", [])
        ]
    parser = _Links()
    parser.feed(body)
    return parser.found


def version_of(filename: str, package: str) -> Version | None:
    """The version in a wheel's or sdist's file name, if the file is ``package``'s."""
    stem = filename
    for suffix in (".whl", ".tar.gz", ".zip"):
        stem = stem.removesuffix(suffix)
    parts = stem.split("-")
    if len(parts) < 2 or canonicalize_name(parts[0]) != canonicalize_name(package):
        return None
    try:
        return Version(parts[1])
    except InvalidVersion:
        return None


def python_excluded(found: list[IndexFile], package: str, version: str, python: str) -> str:
    """Why no file of ``package==version`` admits Python ``python`` (its Requires-Python), or
    "" when one does (or the index has none of its files: the resolver will say so)."""
    wanted = Version(version)
    specs = []
    for f in found:
        if version_of(f.filename, package) != wanted or f.yanked:
            continue
        try:
            if SpecifierSet(f.requires_python).contains(python, prereleases=True):
                return ""
        except InvalidSpecifier:
            return ""
        specs.append(f.requires_python)
    if not specs:
        return ""
    return f"{package} {version} requires Python {specs[0]} (its Requires-Python)"
