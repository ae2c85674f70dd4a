"""Where the running pytest-mpcompat came from, as installer arguments: every environment a matrix
session or a bisection probe builds gets the same plugin that drives it.

In order: ``MPCOMPAT_PLUGIN`` (installer arguments, e.g. ``-e ../pytest-mpcompat`` or a wheel's
path); the source checkout the package was imported from, installed or not (``-e`` that
folder); else the installed distribution's PEP 610 record (an editable folder, a local folder or
wheel, a VCS URL); else the release from the package index (``pytest-mpcompat==VERSION``).
"""

from __future__ import annotations

import json
import os
import shlex
import urllib.parse
import urllib.request
from importlib import metadata
from pathlib import Path

__all__ = ["DISTRIBUTION", "plugin_install_args"]

DISTRIBUTION = "pytest-mpcompat"
_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def plugin_install_args() -> list[str]:
    """Arguments for ``pip install`` / ``uv pip install`` that install this very plugin."""
    given = os.environ.get("MPCOMPAT_PLUGIN", "").strip()
    if given:
        return shlex.split(given)
    checkout = _PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file():  # imported from a source checkout
        return ["-e", str(checkout)]
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        from .. import __version__

        return [f"{DISTRIBUTION}=={__version__}"]
    return _from_direct_url(dist.read_text("direct_url.json"), dist.version)


def _direct_url(text: str | None) -> dict[str, object]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _local_path(url: str) -> Path | None:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme != "file":
        return None
    return Path(urllib.request.url2pathname(parsed.path)).resolve()


def _from_direct_url(text: str | None, version: str) -> list[str]:
    direct = _direct_url(text)
    url = str(direct.get("url", ""))
    local = _local_path(url)
    dir_info = direct.get("dir_info")
    if isinstance(dir_info, dict) and local is not None:
        return ["-e", str(local)] if dir_info.get("editable") else [str(local)]
    if local is not None and local.exists():  # a wheel or sdist file
        return [str(local)]
    vcs = direct.get("vcs_info")
    if isinstance(vcs, dict) and url:
        commit = vcs.get("commit_id")
        at = f"@{commit}" if commit else ""
        return [f"{DISTRIBUTION} @ {vcs.get('vcs', 'git')}+{url}{at}"]
    return [f"{DISTRIBUTION}=={version}"]
