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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path, shared_dir: Path, monkeypatch):
    papermill = need("papermill")
    notebook = read_notebook(path)
    parameters = small_parameters(path.stem, declared_parameters(notebook), tmp_path, shared_dir)
    monkeypatch.setenv("TQDM_DISABLE", "1")
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    try:
        papermill.execute_notebook(notebook, str(tmp_path / f"{path.stem}.ipynb"), parameters=parameters,
                                   kernel_name="python3", cwd=str(path.parent), progress_bar=False)
    except papermill.PapermillExecutionError as err:
        pytest.fail(f"{path.name} failed in cell {err.exec_count} with parameters {parameters}:\n"
                    f"{err.ename}: {err.evalue}\n{''.join(err.traceback)}", pytrace=False)
