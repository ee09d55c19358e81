"""Advice from evidence (potran.evidence): benchmark v3's committed results decide the default
metrics of a ranking, computed from the files, not pasted."""
import base64
import json

import numpy as np
import pandas as pd
import pytest

from potran import evidence, selection
from potran.evaluation import weighted_tau


@pytest.fixture
def fresh():
    evidence.metric_evidence.cache_clear()
    evidence.main_table_targets.cache_clear()
    yield
    evidence.metric_evidence.cache_clear()
    evidence.main_table_targets.cache_clear()


def _fake_benchmark(folder, n_models=6, targets=("t1", "t2", "t3", "t4"), n_test=3000, seed=0):
    """Cells with per-image correctness (accuracy rising with the model's index, 2 runs), the
    accuracy table, and scores: 'good' (the accuracy), 'bad' (its reverse), the baselines."""
    rng = np.random.default_rng(seed)
    (folder / "cells").mkdir(parents=True)
    (folder / "scores").mkdir()
    acc, scores = [], []
    for t in targets:
        for i in range(n_models):
            p = 0.5 + 0.07 * i
            runs = [np.packbits(rng.random(n_test) < p) for _ in range(2)]
            record = {"model": f"m{i}", "target": t, "n_test": n_test,
                      "runs": [{"seed": s, "test_correct": base64.b64encode(r.tobytes()).decode()}
                               for s, r in enumerate(runs)]}
            (folder / "cells" / f"m{i}__{t}.json").write_text(json.dumps(record))
            acc.append({"model": f"m{i}", "target": t, "test_acc": p})
            values = {"good": p, "bad": -p, "dim": 64.0 * (1 + (i * 7) % 3), "norm": rng.random(),
                      "random": rng.random()}
            scores += [{"model": f"m{i}", "target": t, "metric": m, "perturbation": "none", "score": v}
                       for m, v in values.items()]
            scores.append({"model": f"m{i}", "target": t, "metric": "good", "perturbation": "ped",
                           "score": p + rng.normal(0, 0.2)})
    pd.DataFrame(acc).to_csv(folder / "accuracy.csv", index=False)
    pd.DataFrame(scores).to_csv(folder / "scores" / "scores.csv", index=False)


def test_the_defaults_follow_the_files(tmp_path, monkeypatch, fresh):
    _fake_benchmark(tmp_path)
    monkeypatch.setattr(evidence, "_folder", lambda: tmp_path)
    table = evidence.metric_evidence().set_index(["metric", "perturbation"])
    assert evidence.main_table_targets() == ("t1", "t2", "t3", "t4")
    assert table.loc[("good", "none"), "mean_tau"] == pytest.approx(1.0)
    assert table.loc[("bad", "none"), "mean_tau"] == pytest.approx(-1.0)
    assert table.loc[("good", "none"), "beats_chance"] and not table.loc[("bad", "none"), "beats_chance"]
    dim = table.loc[("dim", "none"), "mean_tau"]
    assert table.loc[("good", "none"), "minus_dim"] == pytest.approx(1 - dim)
    assert not table.loc[("good", "none"), "beats_baselines"]   # 4 targets: the sign-flip's p >= 0.125
    assert evidence.default_metrics(["good", "bad"]) == ("good",)
    assert evidence.default_metrics(["bad"]) == evidence.FALLBACK


def test_unreliable_targets_are_left_out(tmp_path, monkeypatch, fresh):
    """A target whose runs are coin flips has a reliability near 0: not in the main table."""
    _fake_benchmark(tmp_path)
    rng = np.random.default_rng(1)
    for path in (tmp_path / "cells").glob("*__t4.json"):
        record = json.loads(path.read_text())
        for run in record["runs"]:
            run["test_correct"] = base64.b64encode(np.packbits(rng.random(3000) < 0.5).tobytes()).decode()
        path.write_text(json.dumps(record))
    monkeypatch.setattr(evidence, "_folder", lambda: tmp_path)
    assert evidence.main_table_targets() == ("t1", "t2", "t3")


def test_without_the_files_the_defaults_fall_back(tmp_path, monkeypatch, fresh):
    monkeypatch.setattr(evidence, "_folder", lambda: tmp_path / "absent")
    assert evidence.default_metrics(["logme"]) == evidence.FALLBACK


def test_the_committed_evidence(fresh):
    """On the committed files: the 12 main-table targets of the fine-tuning, each mean tau_w the
    mean of potran.evaluation.weighted_tau per target, and the defaults of potran.rank_models."""
    table = evidence.metric_evidence()
    targets = table.attrs["targets"]
    assert len(targets) == 12 and "patches" in targets and "mnist5k" not in targets
    folder = evidence._folder()
    scores = pd.read_csv(folder / "scores" / "scores.csv")
    acc = pd.read_csv(folder / "accuracy.csv")
    s = scores[(scores.metric == "logme") & (scores.perturbation == "none")]
    taus = [weighted_tau(s[s.target == t].set_index("model").score,
                         acc[acc.target == t].set_index("model").test_acc, tie_rtol=1e-9) for t in targets]
    row = table[(table.metric == "logme") & (table.perturbation == "none")].iloc[0]
    assert row.mean_tau == pytest.approx(np.mean(taus), abs=1e-12)
    assert not table.beats_baselines.any()                      # the evidence singles out no metric
    assert selection.default_metrics() == evidence.default_metrics(selection.METRICS)
    assert set(selection.default_metrics()) <= set(selection.METRICS)
