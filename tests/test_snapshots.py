"""potran.bench.snapshots: reading the ground truth's snapshots and costs, ranking by snapshot, the
rebuilt 0 % snapshot, and the timings, on a small fake grid."""
import numpy as np
import pandas as pd
import pytest

from potran.bench.runner import Benchmark
from potran.bench.snapshots import (
    available_cells,
    cell_costs,
    extraction_seconds,
    load_snapshot,
    score_pretrained,
    snapshot_scores,
    snapshot_tau,
)

from fake_zoo import GENERAL, GRID_MODELS, MODELS, SNAPSHOT_CONFIG, SOURCES, TARGETS, snapshot_grid

CFG, MODEL_NAMES = SNAPSHOT_CONFIG, GRID_MODELS


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    return snapshot_grid(tmp_path_factory.mktemp("gt"))


def test_available_cells_need_record_and_snapshot(grid, tmp_path):
    assert available_cells(grid) == [(m, "t1") for m in sorted(MODEL_NAMES)]
    assert available_cells(grid, models=["fake-b", "nope"]) == [("fake-b", "t1")]
    assert available_cells(grid, targets=["t2"]) == []
    (grid / "snapshots" / "fake-c__t1.npz").rename(tmp_path / "moved.npz")   # a cell still being written
    try:
        assert ("fake-c", "t1") not in available_cells(grid)
    finally:
        (tmp_path / "moved.npz").rename(grid / "snapshots" / "fake-c__t1.npz")
    assert available_cells(tmp_path) == []                                     # no grid at all
    # with an accuracy table, only the cells it has a row for
    accuracy = pd.DataFrame({"model": ["fake-c", "fake-a", "fake-z"], "target": "t1"})
    assert available_cells(grid, accuracy=accuracy) == [("fake-a", "t1"), ("fake-c", "t1")]
    assert available_cells(grid, models=["fake-c"], accuracy=accuracy) == [("fake-c", "t1")]
    assert available_cells(grid, accuracy=accuracy.iloc[:0]) == []


def test_load_snapshot_and_costs(grid):
    snap = load_snapshot(grid, "fake-a", "t1")
    iterations = CFG.epochs * (CFG.n_train // CFG.batch_size)
    np.testing.assert_array_equal(snap.fractions, [0, 0.25, 0.5, 1.0])            # the nominal shares
    np.testing.assert_allclose(snap.steps / iterations, snap.fractions, atol=1 / iterations)
    assert snap.features.shape[:2] == (4, CFG.probe_size) and snap.features.dtype == np.float64
    assert len(snap.labels) == len(snap.indices) == CFG.probe_size
    costs = cell_costs(grid, available_cells(grid))
    assert list(costs.model) == sorted(MODEL_NAMES)
    assert (costs.wall_s >= costs.runs_s).all() and (costs.runs_s > 0).all()
    assert (costs.n_runs == 1).all() and (costs.iterations == iterations).all()


def test_snapshot_scores_and_tau(grid):
    snaps = [load_snapshot(grid, m, "t1") for m in MODEL_NAMES]
    scores = snapshot_scores(snaps, ["logme", "gbc"])
    assert len(scores) == 3 * 4 * 2 and np.isfinite(scores.score).all()
    accuracy = pd.DataFrame({"model": MODEL_NAMES, "target": "t1", "test_acc": [0.9, 0.5, 0.7]})
    tau = snapshot_tau(scores, accuracy)
    assert len(tau) == 2 * 4 and (tau.n_models == 3).all()
    assert tau.weighted_tau.between(-1, 1).all()
    # a perfect score (the accuracy itself) gives tau 1; too few models give no row
    exact = scores.assign(score=scores.model.map(dict(zip(accuracy.model, accuracy.test_acc))))
    np.testing.assert_allclose(snapshot_tau(exact, accuracy).weighted_tau, 1.0)
    assert snapshot_tau(scores, accuracy, min_models=4).empty
    # constant scores: tau undefined, NaN rather than an error
    assert snapshot_tau(scores.assign(score=1.0), accuracy).weighted_tau.isna().all()


def test_score_pretrained_rebuilds_the_first_snapshot(grid, tmp_path):
    snaps = {(m, "t1"): load_snapshot(grid, m, "t1") for m in MODEL_NAMES}
    bench = Benchmark(models=tuple(MODEL_NAMES), targets=("t1",), finetune=CFG, sources=SOURCES)
    scores, times = score_pretrained(bench, snaps, ["logme", "sfda"], cache_dir=tmp_path, repeats=1,
                                     min_time=0)
    assert len(scores) == 3 * 2 and (scores.perturbation == "ped").all() and np.isfinite(scores.score).all()
    # the fake features are <= 128 wide, so the rebuilt snapshot is the raw one: float16 rounding only
    assert (scores.rebuild_error <= 1e-3).all()
    assert len(times) == 3 * 2 * 2 and (times.seconds > 0).all()
    assert set(times.n_images) == {CFG.n_train} and set(times.n_general) == {len(GENERAL)}


def test_extraction_seconds():
    images = TARGETS["t1"].x_train[:10]
    per_image = extraction_seconds(MODELS["fake-a"], images, repeats=1)
    assert 0 < per_image < 1
    with pytest.raises(ValueError, match="at least one image"):
        extraction_seconds(MODELS["fake-a"], images[:0])


def test_benchmark_v4_cells_store_raw_snapshots_and_the_pretrained_one_is_recomputed():
    """v4's grid keeps the raw features at 25, 50 and 100 % of seed 0's run at the chosen rate; the
    0 % snapshot is the pretrained encoder's features of the same probe images (eval mode)."""
    import torch

    from potran.bench.snapshots import probe_features, with_pretrained
    from potran.bench.targets_v3 import load_target
    from potran.bench.v4.finetune import load_encoder, to_tensor
    from potran.resources import data_path

    root = data_path("bench_v4")
    model, target = available_cells(root, targets=["mnist5k"])[0]
    snap = load_snapshot(root, model, target)
    assert not snap.reduced and list(snap.fractions) == [0.25, 0.5, 1.0]
    assert list(snap.steps) == [60, 120, 240] and snap.features.shape == (3, 200, 64)
    task = load_target(target)
    np.testing.assert_array_equal(snap.labels, np.asarray(task.y_train)[snap.indices])
    with torch.no_grad():
        X = load_encoder(model).eval()(to_tensor(task.x_train)).numpy()
    general = np.zeros((5, 64))
    X0, G0 = probe_features({"X": X, "G": general}, snap, np.arange(len(X)))
    np.testing.assert_array_equal(X0, X[snap.indices]) and np.testing.assert_array_equal(G0, general)
    full = with_pretrained(snap, X0)
    assert list(full.fractions) == [0, 0.25, 0.5, 1.0] and list(full.steps) == [0, 60, 120, 240]
    np.testing.assert_array_equal(full.features[0], X0)
    assert with_pretrained(full, X0 + 1) is full                      # a stored 0 % is kept
    # fine-tuning moved the features: the last snapshot is far from the pretrained ones
    assert np.abs(full.features[-1] - X0).mean() > 0.1 * np.abs(X0).mean()
    costs = cell_costs(root, [(model, target)]).iloc[0]
    assert costs.n_runs == 4 and costs.n_seeds == 2 and costs.iterations == 240   # 3 rates + seed 1
    assert costs.wall_s >= costs.runs_s > 0
