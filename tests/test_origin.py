"""How a matrix session or bisection probe installs the plugin that drives it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_mpcompat.matrix import origin


def direct(url: str, **info: object) -> str:
    return json.dumps({"url": url, **info})


def test_each_pep_610_record_gives_the_same_install(tmp_path: Path) -> None:
    wheel = tmp_path / "pytest_mpcompat-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    checkout = tmp_path / "src"
    assert origin._from_direct_url(
        direct(checkout.as_uri(), dir_info={"editable": True}), "0.1.0"
    ) == ["-e", str(checkout)]
    assert origin._from_direct_url(direct(checkout.as_uri(), dir_info={}), "0.1.0") == [
        str(checkout)
    ]
    assert origin._from_direct_url(direct(wheel.as_uri(), archive_info={}), "0.1.0") == [str(wheel)]
    vcs = direct("https://example.invalid/p.git", vcs_info={"vcs": "git", "commit_id": "abc"})
    assert origin._from_direct_url(vcs, "0.1.0") == [
        "pytest-mpcompat @ git+https://example.invalid/p.git@abc"
    ]
    # Installed from the index (no record), or from a wheel that is gone: the release.
    assert origin._from_direct_url(None, "0.1.0") == ["pytest-mpcompat==0.1.0"]
    gone = direct((tmp_path / "gone.whl").as_uri(), archive_info={})
    assert origin._from_direct_url(gone, "0.1.0") == ["pytest-mpcompat==0.1.0"]


def test_the_environment_variable_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPCOMPAT_PLUGIN", "-e '/a path/with spaces'")
    assert origin.plugin_install_args() == ["-e", "/a path/with spaces"]


def test_this_checkout_installs_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MPCOMPAT_PLUGIN", raising=False)
    args = origin.plugin_install_args()
    root = Path(origin.__file__).resolve().parent.parent.parent
    if (root / "pyproject.toml").is_file():  # run from a checkout (editable or on sys.path)
        assert args == ["-e", str(root)]
    else:  # run against an installed wheel
        assert args[0].endswith(".whl") or args[0].startswith("pytest-mpcompat")
