"""The pages' parameters: every page notebook (notebooks/*.py) has a ``parameters`` cell, and the
pages that score models run to the end with papermill on the paper's setting's stand-ins.

Each page runs once in CI, in the site build (``tests/test_site.py`` builds the book with
``raise_on_error``: a failing cell fails the build); running every page a second time here on a
small setting doubled CI's page time. What only papermill checks stays here: the pages that take
the paper's checkpoints and datasets (``paper_checkpoints``, ...) are run on tests/fake_paper.py's
stand-ins (random-weight ResNet-50s at 32 px, two tiny targets), a code path the default build
never takes. A notebook is read with jupytext (percent format) and executed by papermill with the
notebook's folder as working directory (as the book build does). An exception in any cell fails
the test with the cell's traceback.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))

#: the small setting of the paper-setting runs (their models and targets are the stand-ins')
SMALL = {
    "device": "cpu",
    "n_boot": 50,
    "n_boot_models": 50,
    "n_null": 100,
    "n_draws": 100,
}
#: pages that can run on the paper's setting (they take ``paper_checkpoints``); the test runs them on
#: tests/fake_paper.py's stand-ins: random-weight ResNet-50s at 32 px, two tiny targets
PAPER_SETTING_PAGES = [p for p in NOTEBOOKS if "\npaper_checkpoints = " in p.read_text(encoding="utf-8")]
PAPER_MODELS = ("byol", "swav", "simclr-v1")
PAPER_TARGETS = ("dtd", "sun397")
#: the mime type of a value a page glues into its Markdown (myst-nb glue, as papermill records it)
GLUED = "application/papermill.record/text/plain"


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


def test_every_page_has_a_parameters_cell():
    """papermill can set a page's parameters only through a cell tagged ``parameters``."""
    missing = [p.stem for p in NOTEBOOKS if not declared_parameters(read_notebook(p))]
    assert not missing, f"pages without a cell tagged 'parameters': {missing}"


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
                  **SMALL}
    execute(path, notebook, {k: v for k, v in parameters.items() if k in declared}, tmp_path, monkeypatch)
    printed = "".join(  # what the page printed, and the values it glued into its Markdown
        output.get("text", "") + str(output.get("data", {}).get(GLUED, ""))
        for cell in need("nbformat").read(tmp_path / f"{path.stem}.ipynb", as_version=4).cells
        for output in cell.get("outputs", []))
    assert "the paper's setting" in printed or any(f"{m} on " in printed for m in PAPER_MODELS), printed
    for table in (pd.read_csv(f) for f in (tmp_path / "out").rglob("scores.csv")):
        assert set(table.model) == set(PAPER_MODELS) and set(table.target) == set(PAPER_TARGETS)
    for path_tau in (tmp_path / "out").rglob("tau.csv"):  # ranked against the published accuracies
        tau = pd.read_csv(path_tau)
        ranked = tau[tau.target != "mean"].groupby("target").n_models.max()
        assert set(ranked.index) == set(PAPER_TARGETS) and (ranked == len(PAPER_MODELS)).all(), path_tau
