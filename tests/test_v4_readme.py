"""benchmarks/v4_readme.py, the writer of benchmark v4's report: it refuses an incomplete grid and,
on a simulated benchmark with a planted effect, writes the registered decisions it should."""
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from potran.bench.finetune import pack_correctness
from potran.bench.v4 import design

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import v4_readme  # noqa: E402

MODELS = [f"ssl{i:02d}" for i in range(12)]
#: two targets of each of v3's 8 families
TARGETS = ("mnist5k", "mnist_rot", "fashion", "fashion_tops", "patches", "photo_scale", "letters", "fonts",
           "greek", "cyrillic", "hanzi", "kana", "emoji_id", "emoji_group", "wallpaper_id", "wallpaper_rot")


def test_an_incomplete_grid_is_refused(tmp_path, capsys):
    (tmp_path / "cells").mkdir()
    with pytest.raises(SystemExit) as stop:
        v4_readme.main(["--folder", str(tmp_path)])
    assert str(stop.value) == ("not computed: the fine-tuning grid has 0 of 336 cells; the registered "
                               "analysis runs on the complete grid only")
    assert not (tmp_path / "REPORT.md").exists()


def test_a_planted_effect_is_reported_as_resolved_and_a_null_one_is_not(tmp_path):
    """LogME with PED ranks the models by their true ability on every target (PED raises τ_w in all
    8 families: exact p 2/2^8, Holm over 3 gives 0.023); SFDA's PED scores equal its plain ones."""
    _simulate(tmp_path)
    text = v4_readme.render(tmp_path, n_sim=20, v3=False, models=MODELS)
    assert "{" not in text and "F = 8 source families" in text
    text, amendment = text.split("## Amendment 1")
    text, every = text.split("## Amendment 3")
    assert "all 16 targets from 8" in every and "Holm p 0.023: resolved, PED raises the weighted τ" in next(
        line for line in every.splitlines() if line.startswith("- **LogME**"))
    assert "16 of 16 complete targets reach 0.9, from F = 8" in amendment
    assert "resolved, PED raises the weighted τ within this zoo" in next(
        line for line in amendment.splitlines() if line.startswith("- **LogME**"))
    lines = {line.split("**")[1]: line for line in text.splitlines() if line.startswith("- **")}
    assert set(lines) == {v4_readme.NAMES[m] for m in design.METRICS}
    assert "Holm p 0.023: resolved, PED raises the weighted τ within this zoo" in lines["LogME"]
    assert lines["SFDA"].split("Against")[0].endswith("not resolved with this design. ")
    assert lines["NLEEP"].endswith("no test (scored with a defined τ_w on fewer than two families).")
    assert "16 of 16 targets reach 0.9" in text and "0 of 384 fine-tuning runs are flagged" in text


def test_a_benchmark_where_no_target_passes_the_rule_is_reported_without_a_test(tmp_path):
    """The 12 models equally able on every target: no target reaches 0.9, so the main table is
    empty, every target is in the second table, and no metric gets a test (none can be run)."""
    _simulate(tmp_path, equal=True)
    report = v4_readme.render(tmp_path, n_sim=20, v3=False, models=MODELS)
    text, every = report.split("## Amendment 1")[0].split("## Amendment 3")
    assert "{" not in text and "0 of 16 targets reach 0.9" in text and "F = 0 source families" in text
    # Amendment 3 tests every target whatever its reliability: 8 families, a test for each metric scored
    assert "all 16 targets from 8" in every and "| 8 |" in every
    assert "| sfda | H0 | (1) H0 | +0.000 [" in every
    assert "(no main-table target)" in text and "(no test: fewer than two families)" in text
    second = text.split("Second table")[1].split("## PED")[0]
    assert "| sfda | yes | 16 |" in second and "| logme | no | 16 |" in second
    lines = [line for line in text.splitlines() if line.startswith("- **")]
    reason = "no test (the main table has 0 source families, the test needs two)."
    assert len(lines) == len(design.METRICS) and all(line.endswith(reason) for line in lines)


def _simulate(tmp_path, equal=False):
    """A complete simulated benchmark in ``tmp_path``: 12 models on 16 targets, 300 test images
    and two seeds per cell; LogME+PED scores the models' true ability, SFDA+PED its plain score
    (``equal``: every model has the same ability 0.6)."""
    rng = np.random.default_rng(7)
    (tmp_path / "cells").mkdir()
    rows, probe = [], []
    for t in TARGETS:
        ability = np.full(len(MODELS), 0.6) if equal else rng.permutation(np.linspace(0.3, 0.9, len(MODELS)))
        for m, p in zip(MODELS, ability):
            c = rng.random((2, 300)) < p
            runs = [{"seed": k, "test_acc": float(c[k].mean()), "test_correct": pack_correctness(c[k]),
                     "not_trained": False, "levelled_off": True} for k in range(2)]
            (tmp_path / "cells" / f"{m}__{t}.json").write_text(json.dumps(
                {"model": m, "target": t, "n_test": 300, "test_acc": float(c.mean()), "runs": runs}))
            probe.append({"model": m, "target": t, "test_acc": float(c[0].mean()), "n_test": 300,
                          "test_correct": pack_correctness(c[0])})
            none = {"logme": p + rng.normal(0, 0.3), "sfda": p + rng.normal(0, 0.1)}
            for metric, score in none.items():
                rows.append({"model": m, "target": t, "metric": metric, "perturbation": "none",
                             "score": score})
                rows.append({"model": m, "target": t, "metric": metric, "perturbation": "ped",
                             "score": p if metric == "logme" else score})
    (tmp_path / "scores").mkdir()
    pd.DataFrame(rows).to_csv(tmp_path / "scores" / "scores.csv", index=False)
    pd.DataFrame(probe).to_csv(tmp_path / "linear_probe.csv", index=False)


@pytest.mark.slow
def test_the_committed_report_is_what_the_committed_cells_give():
    """data/bench_v4/REPORT.md is recomputed from the committed cells, scores and probe, character
    for character (about 30 s): the report is the data's, not an edited file."""
    folder = ROOT / "data" / "bench_v4"
    assert v4_readme.render(folder) == (folder / "REPORT.md").read_text()
