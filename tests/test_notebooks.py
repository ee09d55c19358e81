"""Every page notebook (notebooks/*.py) runs to the end with papermill on a small setting.

A notebook is read with jupytext (percent format), executed by papermill with the notebook's
folder as working directory (as the book build does), and given small parameters: three of our
conv4 models and one target, result and cache folders under pytest's temporary folder, few
bootstrap replicates. Only the parameters that the notebook's ``parameters`` cell assigns are
passed, so a page with other parameters is run with its defaults for the rest. An exception in any
cell fails the test with the cell's traceback.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))

#: the small setting, for notebooks whose ``models``/``targets`` name the offline benchmark's
SMALL = {
    "models": ["conv4_random", "conv4_supervised", "conv4_simclr"],
    "targets": ["fonts"],
    "device": "cpu",
    "n_boot": 50,
    "n_boot_models": 50,
    "n_null": 100,
    "n_draws": 100,
}
#: pages whose ``models``/``targets`` name the paper's checkpoints and datasets (potran.paper):
#: they only read published numbers, so they run on their defaults (every model and dataset)
PAPER_PAGES = {"paper_numbers"}
#: pages that can run on the paper's setting (they take ``paper_checkpoints``); the test runs them on
#: tests/fake_paper.py's stand-ins: random-weight ResNet-50s at 32 px, two tiny targets
PAPER_SETTING_PAGES = [p for p in NOTEBOOKS if "\npaper_checkpoints = " in p.read_text(encoding="utf-8")]
PAPER_MODELS = ("byol", "swav", "simclr-v1")
PAPER_TARGETS = ("dtd", "sun397")
#: folder parameters: a fresh folder per notebook, except the feature cache, shared by the session
OUT_DIRS = ("out_dir",)
SHARED_DIRS = ("cache_dir",)


def need(module: str):
    """Import a module of the book extras; fail (not skip) without it: CI must run the pages."""
    try:
        return __import__(module)
    except ImportError:
        pytest.fail(f"{module} is not installed: install the book extras (make test does)", pytrace=False)


def read_notebook(path: Path):
    jupytext = need("jupytext")
    return jupytext.reads(path.read_text(encoding="utf-8"), fmt="py:percent")


def declared_parameters(notebook) -> set[str]:
    """Names assigned at the top level of the cell tagged ``parameters`` (empty if none)."""
    names: set[str] = set()
    for cell in notebook.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            lines = cell.source.splitlines()
            source = "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))
            for node in ast.parse(source).body:
                targets = node.targets if isinstance(node, ast.Assign) else (
                    [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else [])
                for target in targets:
                    for leaf in ast.walk(target):
                        if isinstance(leaf, ast.Name):
                            names.add(leaf.id)
    return names


def small_parameters(name: str, declared: set[str], out: Path, shared: Path) -> dict:
    wanted = dict(SMALL)
    if name in PAPER_PAGES:
        del wanted["models"], wanted["targets"]
    wanted.update({key: str(out / key) for key in OUT_DIRS})
    wanted.update({key: str(shared / key) for key in SHARED_DIRS})
    return {key: value for key, value in wanted.items() if key in declared}


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("shared")


def test_every_notebook_is_found():
    assert NOTEBOOKS, "no notebooks/*.py"


def test_parameters_cell_is_read():
    nb = read_notebook(ROOT / "notebooks" / "reproducibility.py")
    assert {"cache_dir", "generated_dir"} <= declared_parameters(nb)


def execute(path: Path, notebook, parameters: dict, tmp_path: Path, monkeypatch):
    """Run ``notebook`` with papermill (from its folder); a failing cell fails the test."""
    papermill = need("papermill")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    try:
        papermill.execute_notebook(notebook, str(tmp_path / f"{path.stem}.ipynb"), parameters=parameters,
                                   kernel_name="python3", cwd=str(path.parent), progress_bar=False)
    except papermill.PapermillExecutionError as err:
        pytest.fail(f"{path.name} failed in cell {err.exec_count} with parameters {parameters}:\n"
                    f"{err.ename}: {err.evalue}\n{''.join(err.traceback)}", pytrace=False)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path, shared_dir: Path, monkeypatch):
    notebook = read_notebook(path)
    parameters = small_parameters(path.stem, declared_parameters(notebook), tmp_path, shared_dir)
    execute(path, notebook, parameters, tmp_path, monkeypatch)


@pytest.fixture(scope="session")
def paper_files(tmp_path_factory) -> dict:
    need("torchvision")
    from fake_paper import write_paper_files

    return write_paper_files(tmp_path_factory.mktemp("paper"), PAPER_MODELS)


def test_pages_that_score_models_take_the_paper_setting():
    assert {p.stem for p in PAPER_SETTING_PAGES} >= {"main_table"}


@pytest.mark.slow
@pytest.mark.parametrize("path", PAPER_SETTING_PAGES, ids=[p.stem for p in PAPER_SETTING_PAGES])
def test_notebook_runs_on_the_paper_setting(path: Path, tmp_path: Path, paper_files: dict, monkeypatch):
    """The page's own parameters point it at the paper's checkpoints and folders: it scores the
    paper's models (at 32 px) and ranks them against the paper's published accuracies."""
    notebook = read_notebook(path)
    declared = declared_parameters(notebook)
    assert {"paper_checkpoints", "paper_data", "paper_imagenet_val", "paper_options"} <= declared
    parameters = {"setting": "paper",
                  "paper_checkpoints": str(paper_files["ckpt"]), "paper_data": str(paper_files["data"]),
                  "paper_imagenet_val": str(paper_files["imagenet"]),
                  "paper_options": {"image_size": 32, "batch_size": 8},
                  "models": list(PAPER_MODELS), "targets": list(PAPER_TARGETS),
                  "cache_dir": str(paper_files["cache"]), "out_dir": str(tmp_path / "out"),
                  **{k: v for k, v in SMALL.items() if k not in ("models", "targets")}}
    execute(path, notebook, {k: v for k, v in parameters.items() if k in declared}, tmp_path, monkeypatch)
    printed = "".join(output.get("text", "") for cell in need("nbformat").read(
        tmp_path / f"{path.stem}.ipynb", as_version=4).cells for output in cell.get("outputs", []))
    assert "the paper's setting" in printed or any(f"{m} on " in printed for m in PAPER_MODELS), printed
    for table in (pd.read_csv(f) for f in (tmp_path / "out").rglob("scores.csv")):
        assert set(table.model) == set(PAPER_MODELS) and set(table.target) == set(PAPER_TARGETS)
    for path_tau in (tmp_path / "out").rglob("tau.csv"):  # ranked against the published accuracies
        tau = pd.read_csv(path_tau)
        ranked = tau[tau.target != "mean"].groupby("target").n_models.max()
        assert set(ranked.index) == set(PAPER_TARGETS) and (ranked == len(PAPER_MODELS)).all(), path_tau
