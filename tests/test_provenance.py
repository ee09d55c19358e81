"""The reproducibility page's records (potran.bench.provenance): from files, never typed by hand."""
import hashlib
import json
import subprocess

import pandas as pd
import pytest

from potran.bench import provenance as prov


def test_shown_is_relative_to_the_checkout_or_the_bare_name(tmp_path):
    assert prov.shown(tmp_path / "a" / "b.csv", tmp_path) == "a/b.csv"
    assert prov.shown("/elsewhere/c.csv", tmp_path) == "c.csv"


def test_source_counts_the_uncommitted_files(tmp_path):
    if subprocess.run(["git", "--version"], capture_output=True).returncode:
        pytest.skip("no git")
    assert prov.source(tmp_path).loc["commit", "value"] == "not a git checkout"
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(tmp_path)]
    subprocess.run([*git[:5], "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "f.txt").write_text("1")
    subprocess.run([*git, "add", "f.txt"], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    table = prov.source(tmp_path)["value"]
    assert len(table["commit"]) == 40 and table["uncommitted changes"] == "0 files (a clean checkout)"
    (tmp_path / "f.txt").write_text("2")
    assert prov.source(tmp_path).loc["uncommitted changes", "value"] == "1 file(s)"


def test_versions_list_python_first_and_missing_packages():
    table = prov.versions(["numpy", "no-such-distribution"])
    assert list(table.index) == ["python", "numpy", "no-such-distribution"]
    assert table.loc["no-such-distribution", "version"] == "not installed"
    assert any(line.startswith("numpy==") for line in prov.installed())


def test_toc_pages_in_order(tmp_path):
    toc = tmp_path / "_toc.yml"
    toc.write_text(
        "root: index\nparts:\n- chapters:\n  - file: a\n    sections:\n    - file: b\n  - file: c\n"
    )
    assert prov.toc_pages(toc) == ["index", "a", "b", "c"]
    assert prov.make_dry_run(tmp_path, "book") == "(no make or no Makefile here)"
    assert prov.execution_times(tmp_path / "no-cache", ["index"]) is None


def test_sha256_of_a_folder_covers_names_and_contents(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x").write_bytes(b"abc")
    assert prov.sha256(tmp_path / "d" / "x") == hashlib.sha256(b"abc").hexdigest()
    before = prov.sha256(tmp_path / "d")
    (tmp_path / "d" / "x").rename(tmp_path / "d" / "y")  # same bytes, another name
    assert prov.sha256(tmp_path / "d") != before


def test_data_reads_keep_the_latest_build_of_each_page(tmp_path):
    data = tmp_path / "data"
    (data / "a").mkdir(parents=True)
    (data / "a" / "f.csv").write_text("1")
    (data / "b.csv").write_text("2")
    log = tmp_path / "reads.jsonl"
    reads = [
        {"page": "p", "build": "1", "path": str(data / "b.csv")},  # an older build of p
        {"page": "p", "build": "2", "path": str(data / "a")},
        {"page": "p", "build": "2", "path": str(data / "missing.csv")},  # optional, not found
        {"page": "p", "build": "2", "path": str(data)},  # data/ itself
        {"page": "q", "build": "1", "path": str(data / "b.csv")},
    ]
    log.write_text("\n".join(json.dumps(r) for r in reads) + "\n")
    table = prov.data_reads(log, data)
    assert list(table.index) == [("p", "data/a"), ("q", "data/b.csv")]
    assert table.loc[("q", "data/b.csv"), "sha256"] == hashlib.sha256(b"2").hexdigest()[:16]
    assert prov.data_reads(tmp_path / "none.jsonl", data) is None


def test_papermill_runs_read_each_outputs_record(tmp_path):
    meta = {"metadata": {"papermill": {"duration": 3.5, "start_time": "t0", "parameters": {"seed": 1}}}}
    (tmp_path / "page.ipynb").write_text(json.dumps(meta))
    runs = prov.papermill_runs(tmp_path, tmp_path)
    assert runs.to_dict("index") == {
        "page.ipynb": {"seconds": 3.5, "started": "t0", "parameters": '{"seed": 1}'}
    }
    assert prov.papermill_runs(tmp_path / "empty", tmp_path) is None
    assert isinstance(runs, pd.DataFrame)
