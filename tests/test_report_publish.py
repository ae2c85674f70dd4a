"""The published report: merge raw results from different environments, render, compare."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pytest_mpcompat.cli import main
from pytest_mpcompat.matrix.locks import PLATFORMS, platform_target
from pytest_mpcompat.matrix.sets import MatrixFileError, load_matrix
from pytest_mpcompat.model import CellResult, SkipKind, Verdict
from pytest_mpcompat.model.catalog import BUILTIN, decide
from pytest_mpcompat.model.rawfile import build_report, write_atomic
from pytest_mpcompat.publish.html import details_files, render_html
from pytest_mpcompat.publish.merge import merge_files

INJECTED = '</script><script>window.PWNED = 1</script><img src=x onerror="window.PWNED=2">'


def cell(
    scenario: str, method: str, verdict: str, kserve: str, python: str = "3.11.7", **kw
) -> CellResult:  # type: ignore[no-untyped-def]
    """A cell as a run records it: its outcome decided by the catalog that judged it."""
    env = {"os": "Linux", "python": python, "gpu": None, "packages": {"kserve": kserve}}
    made = CellResult(scenario=scenario, method=method, verdict=Verdict(verdict), env=env, **kw)
    return decide(made, BUILTIN)


def raw(
    tmp_path: Path,
    name: str,
    cells: list[CellResult],
    complete: bool = True,
    gap: str | None = None,
) -> Path:
    path = tmp_path / "raw" / f"{name}.json"
    write_atomic(path, build_report(cells, {} if complete else {"x.py::fork": "did not run"},
                                    started="2026-11-21T10:00:00+00:00", complete=complete,
                                    gap=gap))  # fmt: skip
    return path


def three_runs(tmp_path: Path) -> list[Path]:
    conflict = "scenarios/kserve_start_method_conflict.py"
    return [
        raw(tmp_path, "full-kserve-0.13.1-3.11", [
            cell(conflict, m, "crash", "0.13.1", signatures=["start-method-already-set"]) for m in ("fork", "spawn")
        ]),
        raw(tmp_path, "full-kserve-0.14.0-3.11", [cell(conflict, m, "pass", "0.14.0") for m in ("fork", "spawn")]),
        raw(tmp_path, "full-kserve-0.21.0-3.11", [
            cell(conflict, "fork", "pass", "0.21.0", stdout_tail=INJECTED),
            cell(conflict, "spawn", "hang", "0.21.0", stderr_tail="stuck"),
        ], complete=False),
    ]  # fmt: skip


def test_merge_keeps_every_cell_with_its_axes(tmp_path: Path) -> None:
    gap = raw(tmp_path, "full-kserve-0.14.0-3.13", [], gap="torch==2.13.0: download failed")
    merged = merge_files(
        [*three_runs(tmp_path), gap],
        expected_runs=dict.fromkeys(["full-kserve-0.13.1-3.11", "full-kserve-0.13.1-3.12"], ""),
    )
    data = merged.to_json()
    assert len(data["cells"]) == 6
    assert data["axes"] == ["os", "python", "gpu", "kserve", "method"]
    assert {c["axes"]["kserve"] for c in data["cells"]} == {"0.13.1", "0.14.0", "0.21.0"}
    # Neither kind of missing run is a cell: one has no raw result, one could not be built.
    assert data["missing_runs"] == [
        {"run": "full-kserve-0.13.1-3.12",
         "reason": "not run: neither a result nor a record of why is here"},
        {"run": "full-kserve-0.14.0-3.13", "reason": "environment gap: torch==2.13.0: download failed"},
    ]  # fmt: skip
    assert [s["complete"] for s in data["sources"]] == [True, True, True, False]
    summaries = {(i["method"], i["summary"]) for i in data["insights"]}
    assert ("fork", "kserve: crash at 0.13.1, pass from 0.14.0") in summaries
    assert ("spawn", "kserve: crash at 0.13.1, pass at 0.14.0, hang from 0.21.0") in summaries


def test_cli_renders_all_three_files_and_the_regression_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = three_runs(tmp_path)
    assert main(["merge", *map(str, paths[:2]), "--out", str(tmp_path / "base")]) == 0
    assert main(["merge", str(tmp_path / "raw"), "--out", str(tmp_path / "new")]) == 0
    md = (tmp_path / "new" / "COMPATIBILITY.md").read_text()
    assert "kserve: crash at 0.13.1, pass at 0.14.0, hang from 0.21.0" in md
    assert "`start-method-already-set`" in md and "| kserve | 3 | 0 | 0 | 0 | 0 | 2 | 1 |" in md
    assert "**Incomplete run** `full-kserve-0.21.0-3.11`" in md
    # Same cells in both: nothing got worse.
    assert (
        main(
            [
                "check",
                "--baseline",
                str(tmp_path / "new" / "matrix.json"),
                str(tmp_path / "new" / "matrix.json"),
            ]
        )
        == 0
    )
    # A pass that becomes a hang fails the gate and is named.
    base = json.loads((tmp_path / "new" / "matrix.json").read_text())
    for c in base["cells"]:
        if c["axes"]["kserve"] == "0.21.0":
            c["verdict"] = c["outcome"] = "pass"
    (tmp_path / "old.json").write_text(json.dumps(base))
    capsys.readouterr()
    assert (
        main(
            [
                "check",
                "--baseline",
                str(tmp_path / "old.json"),
                str(tmp_path / "new" / "matrix.json"),
            ]
        )
        == 1
    )
    out = capsys.readouterr().out
    assert "worse: scenarios/kserve_start_method_conflict.py" in out and "pass -> hang" in out
    assert "1 cell(s) got worse" in out


def test_html_is_self_contained_and_escapes_output(tmp_path: Path) -> None:
    merged = merge_files(three_runs(tmp_path))
    page = render_html(merged)
    assert "http://" not in page and "https://" not in page, "no network needed to view it"
    assert INJECTED not in page
    assert "</script><script>window.PWNED" not in page
    # The output lives in the details files, a script that hands JSON (a string literal here)
    # to the page: the injected markup is inside a JSON string, never markup.
    details = "".join(text for _, text in details_files(merged))
    assert json.dumps(INJECTED, ensure_ascii=False) in details
    data = page.split('<script type="application/json" id="data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data
    assert "innerHTML" not in page


def test_secrets_are_scrubbed_when_merging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_API_KEY", "sekrit-value-123")
    path = raw(
        tmp_path,
        "r",
        [
            cell(
                "s.py",
                "fork",
                "pass",
                "1",
                stdout_tail="key=sekrit-value-123 ghp_abcdefghijklmnopqrstuvwxyz",
            )
        ],
    )
    text = json.dumps(merge_files([path]).to_json())
    assert "sekrit-value-123" not in text and "ghp_abc" not in text


def test_every_string_field_is_scrubbed_in_every_output(tmp_path: Path) -> None:
    from pytest_mpcompat.model import ProcessStack

    token = "hf_" + "a1B2c3D4e5F6g7H8i9J0k1L2"
    hostile = cell(
        f"scenarios/{token}.py", "fork", "crash", "1",
        reason="AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENG in the environment",
        stdout_tail="connecting to postgres://app:hunter2pass@db.internal:5432/models",
        stderr_tail="Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
        stacks=[ProcessStack(pid=1, ppid=0, cmdline=f"python x.py --token {token}", stack="",
                             tool="faulthandler")],
        leaked=["7 python -c 'DB_PASSWORD=topsecretvalue run'"],
    )  # fmt: skip
    hostile.env["labels"] = {"note": f"uses {token}"}
    path = raw(tmp_path, "r", [hostile], gap=None)
    out = tmp_path / "out"
    assert main(["merge", str(path), "--out", str(out)]) == 0
    for name in ("matrix.json", "COMPATIBILITY.md", "index.html", "details/0000.js"):
        text = (out / name).read_text()
        for secret in (token, "wJalrXUtnFEMIK7MDENG", "hunter2pass", "eyJhbGciOiJIUzI1NiJ9",
                       "topsecretvalue"):  # fmt: skip
            assert secret not in text, (name, secret)
    data = json.loads((out / "matrix.json").read_text())
    (c,) = data["cells"]
    assert c["verdict"] == "crash"  # the model's values are left alone
    assert "AWS_SECRET_ACCESS_KEY=[redacted]" in c["reason"]
    details = (out / "details" / "0000.js").read_text()
    assert details.startswith("mpcompatDetails(0, [") and details.endswith("]);\n")
    (full,) = json.loads(details[len("mpcompatDetails(0, ") : -len(");\n")])
    assert "postgres://app:[redacted]@db.internal" in full["stdout_tail"]
    assert "Bearer [redacted]" in full["stderr_tail"]


def test_merge_rejects_a_file_that_is_not_a_report(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert main(["merge", str(bad), "--out", str(tmp_path / "o")]) == 2


def test_matrix_files_of_the_project_load() -> None:
    root = Path(__file__).parent.parent / "matrices"
    full = load_matrix(root / "full.toml")
    assert "full-kserve-0.12.1-transitions-3.12" in full.session_names()
    gpu = load_matrix(root / "gpu.toml").session_names()
    assert gpu[0] == "gpu-cuda"
    assert "gpu-sglang-0.5.23-cuda-3.12" in gpu


def test_a_set_like_another_installs_the_same_from_the_same_lock(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(
        '[[set]]\nname = "k-1"\npython = ["3.12"]\nscenarios = ["k_*.py"]\n'
        'install = ["k==1"]\noverrides = ["t==2"]\nlabels = { k = "1" }\npytest_args = ["-n", "2"]\n'
        '[[set]]\nname = "k-1-older"\nlike = "k-1"\npython = ["3.10"]\nscenarios = ["k_a.py"]\n'
        '[[set]]\nname = "k-1-oldest"\nlike = "k-1-older"\npython = ["3.9"]\nscenarios = ["k_b.py"]\n'
    )
    full, older, oldest = load_matrix(path).sets
    assert (older.install, older.overrides, older.labels) == (("k==1",), ("t==2",), {"k": "1"})
    assert (older.python, older.scenarios, older.pytest_args) == (
        ("3.10",),
        ("k_a.py",),
        ("-n", "2"),
    )
    assert (full.lock_name, older.lock_name, oldest.lock_name) == ("k-1", "k-1", "k-1")
    assert oldest.install == ("k==1",)


def test_a_set_can_lock_for_a_newer_glibc(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(
        '[[set]]\nname = "s"\npython = ["3.12"]\nscenarios = ["s_*.py"]\nmanylinux = "2_34"\n'
        '[[set]]\nname = "s-more"\nlike = "s"\nscenarios = ["s_b.py"]\n'
        '[[set]]\nname = "k"\nscenarios = ["k_*.py"]\n'
    )
    s, more, k = load_matrix(path).sets
    assert (s.manylinux, more.manylinux, k.manylinux) == ("2_34", "2_34", "")
    assert platform_target("linux", s.manylinux) == "x86_64-manylinux_2_34"
    assert platform_target("linux", k.manylinux) == PLATFORMS["linux"]
    assert platform_target("macos", s.manylinux) == PLATFORMS["macos"]  # Linux only


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[set]]\nname = "a"\nscenarios = ["x.py"]\npythn = ["3.11"]\n',
            ":4: unknown key 'pythn' in a [[set]]",
        ),
        (
            '[[set]]\nname = "a"\nscenarios = ["x.py"]\n[[set]]\nname = "a"\nscenarios = ["y.py"]\n',
            ":5: each [[set]] needs a unique",
        ),
        ('description = "x"\n[[set]\n', ":2: invalid TOML"),
        (
            'missing_interpreters = "ignore"\n[[set]]\nname = "a"\nscenarios = ["x.py"]\n',
            ":1: missing_interpreters must be",
        ),
        (
            '[[set]]\nname = "a"\nscenarios = ["x.py"]\n[[set]]\nname = "b"\nlike = "c"\n',
            ":6: like = 'c': no earlier [[set]] of that name",
        ),
        (
            '[[set]]\nname = "a"\nscenarios = ["x.py"]\n'
            '[[set]]\nname = "b"\nlike = "a"\nscenarios = ["y.py"]\ninstall = ["k==1"]\n',
            ":8: set 'b' is like 'a' and takes its 'install' from it",
        ),
        (
            '[[set]]\nname = "a"\nscenarios = ["x.py"]\nmanylinux = "glibc 2.34"\n',
            ":4: 'manylinux' in set 'a' must be a glibc tag such as \"2_34\"",
        ),
    ],
)
def test_matrix_file_errors_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "m.toml"
    path.write_text(text)
    with pytest.raises(MatrixFileError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_matrix(path)


def test_a_pass_with_an_error_signature_is_degraded_in_every_summary(tmp_path: Path) -> None:
    two = "scenarios/kserve_two_workers.py"
    paths = [
        raw(tmp_path, "a", [cell(two, "spawn", "crash", "0.13.1")]),
        raw(tmp_path, "b", [cell(two, "spawn", "pass", "0.14.0",
                                 signatures=["workers-missing", "unclean-shutdown"])]),
        raw(tmp_path, "c", [cell(two, "spawn", "pass", "0.21.0")]),
    ]  # fmt: skip
    merged = merge_files(paths)
    (insight,) = merged.to_json()["insights"]
    assert insight["summary"] == "kserve: crash at 0.13.1, degraded at 0.14.0, pass from 0.21.0"
    from pytest_mpcompat.publish.markdown import render_markdown

    text = render_markdown(merged)
    assert "| kserve | 1 | 1 | 0 | 0 | 0 | 1 | 0 |" in text
    # The answers read outcomes too: 0.14.0 is degraded, not clean, and its fixes are given.
    assert (
        "- ⚠️ kserve 0.14.0 (Python 3.11), 1 scenario under spawn: degraded: two\\_workers "
        "under spawn \\[unclean-shutdown, workers-missing\\]." in text
    )
    assert "- ✅ kserve 0.21.0 (Python 3.11): pass under spawn (1 scenario)." in text
    assert "  - `workers-missing`: Check how the server starts its workers" in text


def test_the_answers_come_first_and_say_what_each_release_line_does(tmp_path: Path) -> None:
    from pytest_mpcompat.publish.markdown import render_markdown

    text = render_markdown(merge_files(three_runs(tmp_path)))
    answers = text[text.index("## Answers") : text.index("## Summary")]
    assert text.index("## What to deploy") < text.index("## Not measured")
    assert text.index("**Coverage:**") < text.index("## Answers") < text.index("## Summary")
    assert (
        "**kserve\\_\\* scenarios, by kserve release: crash 0.13.1; pass 0.14.0; hang 0.21.0**"
        in answers
    )
    assert (
        "- 💥 kserve 0.13.1 (Python 3.11), 1 scenario under fork, spawn: crash: "
        "start\\_method\\_conflict under fork, spawn \\[start-method-already-set\\]." in answers
    )
    assert "- ✅ kserve 0.14.0 (Python 3.11): pass under fork, spawn (1 scenario)." in answers
    assert "- ⏳ kserve 0.21.0 (Python 3.11), 1 scenario under fork, spawn: hang: " in answers
    # The fix: from the signature's catalog entry, and for a hang with no signature from the
    # Fix: paragraph of the scenario's docstring.
    assert "  - `start-method-already-set`: Check multiprocessing.get\\_start\\_method" in answers
    assert "  - `start_method_conflict`: " in answers
    assert "- Tested: 6 cells measured." in answers


def test_the_gate_fails_on_every_worse_class_and_on_lost_cells(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two = "scenarios/kserve_two_workers.py"
    base = raw(tmp_path, "base", [
        cell(two, m, "pass", "0.21.0") for m in ("fork", "spawn", "forkserver")
    ] + [cell(two, "fork", "pass", "0.14.0")])  # fmt: skip
    new = raw(tmp_path, "new", [
        cell(two, "fork", "pass", "0.21.0", python="3.11.9"),  # a patch release: same cell
        cell(two, "spawn", "pass", "0.21.0", signatures=["unclean-shutdown"]),
        cell(two, "forkserver", "skip", "0.21.0", reason="needs linux"),
    ])  # fmt: skip
    assert main(["merge", str(base), "--out", str(tmp_path / "b")]) == 0
    assert main(["merge", str(new), "--out", str(tmp_path / "n")]) == 0
    capsys.readouterr()
    code = main(["check", "--baseline", str(tmp_path / "b" / "matrix.json"),
                 str(tmp_path / "n" / "matrix.json")])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1
    assert "method=spawn): pass -> degraded [unclean-shutdown]" in out
    assert "method=forkserver): pass -> skip" in out
    assert "kserve=0.14.0, method=fork): pass -> missing" in out
    assert "3 cell(s) got worse" in out


def test_versions_sort_as_versions(tmp_path: Path) -> None:
    two = "scenarios/kserve_two_workers.py"
    path = raw(tmp_path, "v", [
        cell(two, "fork", "pass", "0.10.0", python="3.10.13"),
        cell(two, "fork", "pass", "0.9.0", python="3.10.13"),
        cell(two, "fork", "pass", "0.9.0", python="3.9.18"),
    ])  # fmt: skip
    merged = merge_files([path])
    order = [(mc.axes["kserve"], mc.axes["python"]) for mc in merged.cells]
    assert order == [("0.9.0", "3.9.18"), ("0.9.0", "3.10.13"), ("0.10.0", "3.10.13")]
    from pytest_mpcompat.publish.markdown import render_markdown

    md = render_markdown(merged)
    rows = [ln for ln in md.splitlines() if ln.startswith("| 3.")]
    assert [r.split(" | ")[:2] for r in rows] == [
        ["| 3.9.18", "0.9.0"], ["| 3.10.13", "0.9.0"], ["| 3.10.13", "0.10.0"]
    ]  # fmt: skip


def test_the_page_orders_columns_as_the_markdown_does(tmp_path: Path) -> None:
    from pytest_mpcompat.publish.grid import family_grids
    from pytest_mpcompat.publish.markdown import render_markdown

    two = "scenarios/kserve_two_workers.py"
    versions = ["1.0", "0.10.0", "1.0rc1", "0.9.0"]
    merged = merge_files([raw(tmp_path, "v", [cell(two, "fork", "pass", v) for v in versions])])
    (grid,) = family_grids(merged)
    columns = [c["labels"][0] for c in grid.columns]
    assert columns == ["0.9.0", "0.10.0", "1.0rc1", "1.0"]
    md = render_markdown(merged)
    rows = [ln.split(" | ")[1] for ln in md.splitlines() if ln.startswith("| 3.11.7")]
    assert rows == columns


def test_markdown_from_hostile_names_keeps_its_structure(tmp_path: Path) -> None:
    import re

    from pytest_mpcompat.publish.markdown import render_markdown

    evil = "scenarios/a`b|c_` [x](javascript:alert(1)) <img src=x>.py"
    bad = cell(evil, "fork", "crash", "1.0|`x`\n# heading", signatures=["odd`sig|x"])
    merged = merge_files([raw(tmp_path, "r", [bad])])
    md = render_markdown(merged)
    # Outside code spans (where markup is shown as text) nothing is left to act on.
    prose = re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", md)
    assert "<img" not in prose and "](javascript" not in prose and "\n# heading" not in md
    table = [ln for ln in md.splitlines() if ln.startswith("| ") and "crash" in ln and "1.0" in ln]
    assert len(table) == 1
    # Cells are split only by unescaped pipes: one per column boundary.
    cells = re.split(r"(?<!\\)\|", table[0].strip().strip("|"))
    header = next(ln for ln in md.splitlines() if ln.startswith("| python"))
    assert len(cells) == header.count("|") - 1


def test_lengths_are_capped_at_merge(tmp_path: Path) -> None:
    huge = "L" * 1_000_000
    c = cell("s.py", "fork", "crash", "1", stdout_tail="x" * 100_000 + "the end", reason=huge)
    c.env["labels"] = {"note": huge}
    merged = merge_files([raw(tmp_path, "r", [c])])
    (got,) = [mc.cell for mc in merged.cells]
    assert len(got.reason) < 2100 and len(got.env["labels"]["note"]) < 400
    assert got.stdout_tail.endswith("the end") and len(got.stdout_tail) < 16_100
    assert len(render_html(merged)) < 200_000


def test_one_configuration_run_twice_is_flaky_not_last_wins(tmp_path: Path) -> None:
    from pytest_mpcompat.publish.markdown import render_markdown

    two = "scenarios/kserve_two_workers.py"
    paths = []
    for name, machine, verdict in (("a", "runner-a", "hang"), ("b", "runner-b", "pass")):
        path = raw(tmp_path, name, [cell(two, "fork", verdict, "0.13.1")])
        data = json.loads(path.read_text())
        data["machine"] = machine
        path.write_text(json.dumps(data))
        paths.append(path)
    md = render_markdown(merge_files(paths))
    assert "flaky: 1 hang (runner-a), 1 pass (runner-b)" in md
    same = render_markdown(
        merge_files([paths[1], raw(tmp_path, "c", [cell(two, "fork", "pass", "0.13.1")])])
    )
    assert "pass ×2" in same


def test_coverage_tells_the_kinds_of_not_run_apart(tmp_path: Path) -> None:
    from pytest_mpcompat.publish.markdown import render_markdown

    two = "scenarios/kserve_two_workers.py"
    paths = [
        raw(tmp_path, "a", [
            cell(two, "fork", "pass", "0.21.0"),
            cell(two, "spawn", "skip", "0.21.0", reason="not supported upstream: needs <3.13",
                 skip_kind=SkipKind.UPSTREAM),
            cell("scenarios/cuda_x.py", "fork", "skip", "-", reason="requires gpu: no GPU",
                 skip_kind=SkipKind.REQUIREMENT),
            cell("scenarios/cuda_y.py", "fork", "skip", "-",
                 reason="needs kserve>=0.12.1 (installed: kserve 0.11.2)",
                 skip_kind=SkipKind.ENVIRONMENT),
        ]),
        raw(tmp_path, "b", [], gap="torch==2.13.0: download failed"),
    ]  # fmt: skip
    md = render_markdown(merge_files(paths, expected_runs=dict.fromkeys("abc", "")))
    assert (
        "**Coverage:** 1 cells measured; 3 not run: 1 because upstream does not support that "
        "Python or platform, 1 because the runner's environment lacked a package the scenario "
        "needs, 1 for a scenario's other requirements (a GPU, an OS); "
        "2 runs with no result (listed below with their causes). Families with no measured cell: "
        "cuda."
    ) in md
    only_upstream = raw(tmp_path / "u", "u", [
        cell(two, "fork", "pass", "0.21.0"),
        cell(two, "spawn", "skip", "0.21.0", reason="not supported upstream: needs <3.13",
             skip_kind=SkipKind.UPSTREAM),
    ])  # fmt: skip
    said = render_markdown(merge_files([only_upstream]))
    assert "1 not run: 1 because upstream does not support that Python or platform;" in said
    assert "0 because" not in said and "0 for a scenario" not in said  # no cause with none


def test_the_markdown_stops_its_tables_at_its_budget_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_mpcompat.publish import markdown

    cells = [cell(f"scenarios/kserve_s{i:02d}.py", "fork", "pass", "0.21.0") for i in range(40)]
    merged = merge_files([raw(tmp_path, "many", cells)])
    whole = markdown.render_markdown(merged)
    tables = whole.count("### `")  # a scenario's table (the deploy tables head "### kserve:")
    assert tables == 40 and "more scenario tables" not in whole
    monkeypatch.setattr(markdown, "TABLES_BUDGET", len(whole.encode()) // 2)
    cut = markdown.render_markdown(merged)
    shown = cut.count("### `")
    assert 0 < shown < 40
    assert f"**{40 - shown} more scenario tables** are not in this file" in cut
    assert "## Signatures" not in whole or "## Signatures" in cut  # what follows is kept
    assert len(cut.encode()) < len(whole.encode())


def test_answers_follow_what_each_set_varies_on_purpose(tmp_path: Path) -> None:
    """Labels say what a set varies: KServe releases in one answer, torch releases (KServe held
    at 0.13.1) in another, with the KServe set's own 0.13.1 cells beside them."""
    from pytest_mpcompat.publish.markdown import render_markdown

    warm = "scenarios/kserve_fork_after_torch_warmup.py"

    def labelled(kserve: str, torch: str, verdict: str, vary_torch: bool = False) -> CellResult:
        c = cell(warm, "fork", verdict, kserve)
        c.env["packages"]["torch"] = torch  # installed with it, not varied on purpose...
        c.env["labels"] = {"kserve": kserve, **({"torch": torch} if vary_torch else {})}
        return c  # ... unless the set says so with a label

    merged = merge_files([
        raw(tmp_path, "full-kserve-0.13.1-3.11", [labelled("0.13.1", "2.13.0", "hang")]),
        raw(tmp_path, "full-kserve-0.21.0-3.11", [labelled("0.21.0", "2.13.0", "pass")]),
        raw(tmp_path, "full-torch-2.9.1-kserve-0.13.1-3.11",
            [labelled("0.13.1", "2.9.1", "hang", vary_torch=True)]),
    ])  # fmt: skip
    text = render_markdown(merged)
    assert "**kserve\\_\\* scenarios, by kserve release: hang 0.13.1; pass 0.21.0**" in text
    assert (
        "**kserve\\_\\* scenarios, by torch release (with kserve 0.13.1): the torch release "
        "does not matter here (hang with each of 2.9.1–2.13.0)**" in text
    )
    assert text.index("by kserve release") < text.index("by torch release")


def test_a_run_not_made_names_its_matrix_file(tmp_path: Path) -> None:
    """A run of a GPU matrix that no GPU machine made reads as such, not as a guess."""
    gpu = tmp_path / "gpu.toml"
    gpu.write_text('description = "GPU: CUDA scenarios"\nhardware = "gpu"\n\n[[set]]\n'
                   'name = "cuda"\nvenv = false\nscenarios = ["cuda_*.py"]\n')  # fmt: skip
    out = tmp_path / "out"
    runs = [str(p) for p in three_runs(tmp_path)]
    assert main(["merge", *runs, "--matrix", str(gpu), "--out", str(out)]) == 0
    (missing,) = json.loads((out / "matrix.json").read_text())["missing_runs"]
    assert missing["run"] == "gpu-cuda"
    assert missing["reason"] == (
        "not run: it needs a GPU runner, and no result from one is here (run `nox -t gpu` on a "
        f"machine with a GPU; {gpu})"
    )


def test_the_same_run_found_twice_is_merged_once(tmp_path: Path) -> None:
    """Two jobs (or a commit and a download) carrying one raw result: its cells count once,
    while another run of the same session (another machine) is still its own."""
    two = "scenarios/kserve_two_workers.py"
    first = raw(tmp_path, "full-kserve-0.21.0-3.11", [
        cell(two, m, "pass", "0.21.0") for m in ("fork", "spawn")
    ])  # fmt: skip
    copies = []
    for job in ("linux", "again"):
        copy = tmp_path / job / first.name
        copy.parent.mkdir()
        copy.write_bytes(first.read_bytes())
        copies.append(copy)
    other = tmp_path / "mac" / first.name
    other.parent.mkdir()
    data = json.loads(first.read_text())
    data["machine"] = "another-runner"
    other.write_text(json.dumps(data))
    merged = merge_files([first, *copies])
    assert len(merged.cells) == 2 and len(merged.sources) == 1
    assert len(merge_files([first, *copies, other]).cells) == 4
    # Of two copies of one run, the complete one is kept.
    partial = json.loads(first.read_text())
    partial["cells"], partial["complete"] = partial["cells"][:1], False
    copies[0].write_text(json.dumps(partial))
    kept = merge_files([copies[0], copies[1]])
    assert len(kept.cells) == 2 and kept.sources[0].complete is True


def test_a_partial_matrix_is_gated_on_the_cells_it_ran(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two = "scenarios/kserve_two_workers.py"
    base = raw(tmp_path, "base", [cell(two, m, "pass", "0.21.0") for m in ("fork", "spawn")])
    new = raw(tmp_path, "new", [cell(two, "fork", "pass", "0.21.0")])
    assert main(["merge", str(base), "--out", str(tmp_path / "b")]) == 0
    assert main(["merge", str(new), "--out", str(tmp_path / "n")]) == 0
    gate = ["check", "--baseline", str(tmp_path / "b" / "matrix.json"),
            str(tmp_path / "n" / "matrix.json")]  # fmt: skip
    assert main(gate) == 1  # the spawn cell is lost coverage
    assert main([*gate, "--partial"]) == 0
    worse = raw(tmp_path, "worse", [cell(two, "fork", "hang", "0.21.0")])
    assert main(["merge", str(worse), "--out", str(tmp_path / "w")]) == 0
    capsys.readouterr()
    assert main([*gate[:-1], str(tmp_path / "w" / "matrix.json"), "--partial"]) == 1
    assert "method=fork): pass -> hang" in capsys.readouterr().out


def test_the_gate_without_a_baseline_fails_on_contradictions_gaps_and_nothing_measured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two = "scenarios/kserve_two_workers.py"

    def check(name: str, *cells: CellResult, gap: str | None = None, partial: bool = True) -> int:
        paths = [raw(tmp_path / name, "ci-kserve-0.21.0-3.11", list(cells))]
        if gap:
            paths.append(raw(tmp_path / name, "ci-kserve-0.21.0-3.12", [], gap=gap))
        assert main(["merge", *map(str, paths), "--out", str(tmp_path / name / "out")]) == 0
        capsys.readouterr()
        return main(["check", *(["--partial"] if partial else []),
                     str(tmp_path / name / "out" / "matrix.json")])  # fmt: skip

    assert check("good", cell(two, "fork", "pass", "0.21.0")) == 0
    assert "no baseline: nothing is compared" in capsys.readouterr().out
    contradicted = cell(two, "spawn", "crash", "0.21.0", mismatch="expected pass, got crash")
    assert check("bad", cell(two, "fork", "pass", "0.21.0"), contradicted) == 1
    out = capsys.readouterr().out
    assert "contradicts its expectation: scenarios/kserve_two_workers.py (" in out
    assert "method=spawn): expected pass, got crash" in out
    assert "1 cell(s) contradict their scenario's expectation" in out
    # A run lost to an environment gap fails the gate even where the matrix is partial.
    assert check("gap", cell(two, "fork", "pass", "0.21.0"), gap="kserve: unsatisfiable") == 1
    out = capsys.readouterr().out
    assert "lost to an environment gap: ci-kserve-0.21.0-3.12: kserve: unsatisfiable" in out
    assert "counted with --partial too" in out
    assert check("none") == 1
    assert "the matrix has no cell: nothing was measured" in capsys.readouterr().out


def test_a_worse_cell_whose_tries_disagree_is_flaky_not_worse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two = "scenarios/kserve_two_workers.py"
    base = raw(tmp_path, "base", [cell(two, m, "pass", "0.21.0") for m in ("fork", "spawn")])
    new = raw(tmp_path, "new", [
        cell(two, "fork", "hang", "0.21.0", repeat=3, verdict_counts={"pass": 2, "hang": 1}),
        cell(two, "spawn", "hang", "0.21.0", repeat=3, verdict_counts={"hang": 3}),
    ])  # fmt: skip
    assert main(["merge", str(base), "--out", str(tmp_path / "b")]) == 0
    assert main(["merge", str(new), "--out", str(tmp_path / "n")]) == 0
    capsys.readouterr()
    code = main(["check", "--baseline", str(tmp_path / "b" / "matrix.json"),
                 str(tmp_path / "n" / "matrix.json")])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1  # the spawn cell hung in every try
    assert "flaky, not counted: " in out and "method=fork): hang x1, pass x2 in 3 tries" in out
    assert "method=spawn): pass -> hang (in each of 3 tries)" in out
    assert "1 cell(s) got worse than" in out and "1 flaky (their tries disagree)" in out


def test_the_report_says_when_each_cell_was_measured_and_which_were_reused(
    tmp_path: Path,
) -> None:
    conflict = "scenarios/kserve_start_method_conflict.py"
    cells = [
        cell(conflict, "fork", "pass", "0.14.0", measured_at="2026-11-02T09:00:00+00:00",
             reused=True),
        cell(conflict, "spawn", "pass", "0.14.0", measured_at="2026-11-21T10:00:05+00:00"),
    ]  # fmt: skip
    path = raw(tmp_path, "full-kserve-0.14.0-3.11", cells)
    assert main(["merge", str(path), "--out", str(tmp_path / "out")]) == 0
    md = (tmp_path / "out" / "COMPATIBILITY.md").read_text()
    assert "Measured on 2026-11-21 (1), 2026-11-02 (1)." in md
    assert "1 of them are earlier runs' results, reused because none of their inputs" in md
    assert "2 cells ran once each: whether they are flaky is not known" in md
    summary = json.loads((tmp_path / "out" / "matrix.json").read_text())["cells"]
    by_method = {c["method"]: c for c in summary}
    assert by_method["fork"]["measured_at"] == "2026-11-02T09:00:00+00:00"
    assert by_method["fork"]["reused"] is True and "reused" not in by_method["spawn"]
    details = "".join(text for _, text in details_files(merge_files([path])))
    assert '"measured_at":"2026-11-02T09:00:00+00:00","reused":true' in details.replace(" ", "")


def test_cli_says_its_version_and_helps_in_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == f"mpcompat-report {version('pytest-mpcompat')}"
    with pytest.raises(SystemExit):
        main(["--help"])
    shown = capsys.readouterr().out
    assert "mpcompat-report check [--baseline" in shown and "``" not in shown


def test_the_panel_is_worded_in_python_and_the_page_only_draws_it(tmp_path: Path) -> None:
    conflict = "scenarios/kserve_start_method_conflict.py"
    degraded = cell(conflict, "fork", "pass", "0.21.0", signatures=["worker-fatal-signal"],
                    stderr_tail="a\nworker died: SIGSEGV\nb", matches={"worker-fatal-signal": "worker died: SIGSEGV"})  # fmt: skip
    merged = merge_files([raw(tmp_path, "full-kserve-0.21.0-3.11", [degraded])])
    ((_, text),) = details_files(merged)
    (full,) = json.loads(text[len("mpcompatDetails(0, ") : -len(");\n")])
    panel = full["panel"]
    assert panel["title"].endswith("fork: degraded (passed, but its output shows a failure)")
    facts = dict(panel["facts"])
    assert facts["verdict"].startswith("pass (how its processes ended")
    label, pieces = panel["notes"][0]
    assert label == "worker-fatal-signal: " and " Fix: " in "".join(t for _, t in pieces)
    assert ["stderr (end)", ["stderr_tail"], "worker died: SIGSEGV"] in panel["sections"]
    page = json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>',
                                render_html(merged), re.S).group(1))  # fmt: skip
    assert page["files"] == ["details/0000.js"]
    degraded_kind = page["outcomes"].index("degraded")
    assert page["cells"] == {
        "config": [0],
        "scenario": [0],
        "outcome": [degraded_kind],
        "place": [0],
    }
    (fam,) = page["families"]
    assert (fam["first"], fam["count"]) == (0, 1) and "places" not in fam
    places = page["places"]
    assert places["opens"] == [0] and places["class"] == [degraded_kind]
    assert page["texts"][places["text"][0]] == "degraded"
    assert page["texts"][places["sigs"][0]] == "[worker-fatal-signal]"
    script = (Path(__file__).parent.parent / "pytest_mpcompat/publish/page/grid.js").read_text()
    for words in ("Fix", "verdict", "{chunk", "ran as", "reused"):
        assert words not in script, f"the page's script words {words!r} itself"


def test_what_to_deploy_names_releases_that_cannot_be_installed_and_methods_that_do_not_matter(
    tmp_path: Path,
) -> None:
    from pytest_mpcompat.publish.markdown import render_markdown

    conflict = "scenarios/kserve_start_method_conflict.py"
    upstream = cell(conflict, "fork", "skip", "0.13.1", python="3.12.1", skip_kind=SkipKind.UPSTREAM,
                    reason="not supported upstream: kserve 0.13.1 requires Python <3.12")  # fmt: skip
    merged = merge_files([
        raw(tmp_path, "full-kserve-0.13.1-3.11", [cell(conflict, "fork", "pass", "0.13.1")]),
        raw(tmp_path, "full-kserve-0.13.1-3.12", [upstream]),
        raw(tmp_path, "full-kserve-0.21.0-3.11", [cell(conflict, "fork", "pass", "0.21.0", methods_used={"spawn": 1})]),
    ])  # fmt: skip
    md = render_markdown(merged)
    assert (
        "kserve 0.13.1 cannot be installed on Python 3.12 (upstream does not support it there)"
        in md
    )
    assert "ran as spawn: the start method you pick does not matter" not in md  # 0.13.1 ran as fork
    only_new = merge_files([raw(tmp_path / "b", "full-kserve-0.21.0-3.11",
                                [cell(conflict, "fork", "pass", "0.21.0", methods_used={"spawn": 1})])])  # fmt: skip
    assert "ran as spawn: the start method you pick does not matter" in render_markdown(only_new)


def test_markdown_links_lead_somewhere_and_claims_name_unmeasured_releases(tmp_path: Path) -> None:
    from pytest_mpcompat.publish.markdown import render_markdown

    conflict = "scenarios/kserve_start_method_conflict.py"
    merged = merge_files([
        raw(tmp_path, "full-kserve-0.15.2-3.11", [cell(conflict, "fork", "pass", "0.15.2")]),
        raw(tmp_path, "full-kserve-0.16.0-3.12", [cell(conflict, "fork", "pass", "0.16.0", python="3.12.1")]),
        raw(tmp_path, "full-kserve-0.21.0-3.11", [cell(conflict, "fork", "pass", "0.21.0")]),
    ])  # fmt: skip
    md = render_markdown(merged)
    assert "0.15.2, 0.21.0; not measured on this Python: 0.16.0" in md
    assert "](#kserve)" in md and "](index.html" not in md
    linked = render_markdown(merged, "https://example.org/compat/index.html#x")
    assert (
        "](https://example.org/compat/index.html?python=3.11.7&method=fork#grid-kserve)" in linked
    )


def test_the_legend_names_the_outcomes_the_filter_offers(tmp_path: Path) -> None:
    from pytest_mpcompat.publish.grid import page_data

    merged = merge_files(three_runs(tmp_path))
    html = render_html(merged)
    legend = html.split('<p class="legend">', 1)[1].split("</p>", 1)[0]
    offered = [
        name
        for name, _ in {f["key"]: f for f in page_data(merged)["filters"]}["outcome"]["options"]
    ]
    assert re.findall(r'<span class="([a-z]+)">', legend) == offered
    assert "harness error" not in legend  # no cell of it here


def test_what_to_deploy_names_every_problem_of_a_release(tmp_path: Path) -> None:
    from pytest_mpcompat.publish.deploy import deploy_tables

    conflict = "scenarios/kserve_start_method_conflict.py"
    workers = "scenarios/kserve_two_workers.py"
    merged = merge_files([
        raw(tmp_path, "full-kserve-0.13.1-3.11", [
            cell(conflict, "fork", "crash", "0.13.1", signatures=["start-method-already-set"]),
            cell(workers, "fork", "hang", "0.13.1"),
        ]),
        raw(tmp_path, "full-kserve-0.21.0-3.11", [cell(s, "fork", "pass", "0.21.0") for s in (conflict, workers)]),
        raw(tmp_path, "full-kserve-0.21.0-3.12", [cell(conflict, "fork", "pass", "0.21.0", python="3.12.1")]),
    ])  # fmt: skip
    (table,) = deploy_tables(merged)
    (line,) = table.unsafe
    # Every problem, and the one Python of the two rows where it happened.
    assert line.startswith(
        "kserve 0.13.1 (Python 3.11): crash and hang [start-method-already-set]."
    )
    assert table.unsafe_outcomes == ["crash"]  # the icon: the worst of them
    assert [e.text for _, entries in table.rows for e in entries] == [
        "0.21.0 and newer (2 scenarios)",
        "0.21.0 (1 scenario; the one release measured)",
    ]
    import dataclasses

    assert dataclasses.replace(table, mistakes=1).mistakes_said == (
        "1 known mistake reproduced as documented"
    )


def test_a_release_line_names_the_pythons_of_each_release_it_covers(tmp_path: Path) -> None:
    from pytest_mpcompat.publish.deploy import deploy_tables
    from pytest_mpcompat.publish.markdown import render_markdown

    conflict = "scenarios/kserve_start_method_conflict.py"
    crash = {"signatures": ["start-method-already-set"]}
    merged = merge_files([
        raw(tmp_path, "full-kserve-0.12.1-3.10", [cell(conflict, "fork", "crash", "0.12.1", python="3.10.4", **crash)]),
        raw(tmp_path, "full-kserve-0.13.1-3.10", [cell(conflict, "fork", "crash", "0.13.1", python="3.10.4", **crash)]),
        raw(tmp_path, "full-kserve-0.13.1-3.11", [cell(conflict, "fork", "crash", "0.13.1", **crash)]),
        raw(tmp_path, "full-kserve-0.21.0-3.12", [cell(conflict, "fork", "pass", "0.21.0", python="3.12.1")]),
    ])  # fmt: skip
    # 0.12.1 ran on 3.10 only: the line does not claim it for 3.11.
    said = "Python 3.10 for 0.12.1; 3.10–3.11 for 0.13.1"
    (table,) = deploy_tables(merged)
    (line,) = table.unsafe
    assert line.startswith(f"kserve 0.12.1–0.13.1 ({said}): crash [start-method-already-set].")
    assert f"- 💥 kserve 0.12.1–0.13.1 ({said}), 1 scenario under fork: crash: " in (
        render_markdown(merged)
    )
    assert "- ✅ kserve 0.21.0 (Python 3.12): pass under fork (1 scenario)." in (
        render_markdown(merged)
    )


def test_machines_alike_but_for_their_os_release_are_named_once(tmp_path: Path) -> None:
    from pytest_mpcompat.publish.markdown import render_markdown

    two = "scenarios/kserve_two_workers.py"
    paths = [raw(tmp_path, n, [cell(two, "spawn", "pass", v)])
             for n, v in (("a", "0.14.0"), ("b", "0.15.2"), ("c", "0.21.0"))]  # fmt: skip
    for path, release, cpus in zip(
        paths, ("6.1.0-a", "6.1.0-b", "6.1.0-a"), (2, 2, 16), strict=True
    ):
        data = json.loads(path.read_text())
        data["machine"] = "ci-runner"
        data["host"] = {"system": "Linux", "release": release, "arch": "x86_64", "cpus": cpus,
                        "memory_gb": 8}  # fmt: skip
        path.write_text(json.dumps(data))
    merged = merge_files(paths)
    line = (
        "3 cells from 3 runs on 2 machines like ci-runner (Linux, x86\\_64, 2 CPUs, 8 GB, "
        "GPU none); ci-runner (Linux, x86\\_64, 16 CPUs, 8 GB, GPU none)."
    )
    assert render_markdown(merged).splitlines()[2].startswith(line)
    assert "6.1.0-b" not in render_html(merged)  # each run's own line stays in matrix.json
    assert {s["host"] for s in merged.to_json()["sources"]} >= {
        "ci-runner (Linux 6.1.0-b, x86_64, 2 CPUs, 8 GB, GPU none)"
    }
