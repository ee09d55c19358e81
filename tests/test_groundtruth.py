"""Ground-truth grid driver: resumable cells, atomic writes, tidy table."""
import json
import os

import numpy as np
import pandas as pd
import pytest

import potran.atomic
from fake_zoo import MODELS, TARGETS
from potran.finetune import FinetuneConfig
from potran.groundtruth import COLUMNS, cell_path, collect, run_grid

CFG = FinetuneConfig(lrs=(0.01,), wds=(0.0,), epochs=1, batch_size=8, n_train=24, n_test=12,
                     probe_size=4)


class Boom(RuntimeError):
    pass


def grid(out, calls, fail_at=None):
    def get_model(name):
        calls.append(name)
        if len(calls) == fail_at:
            raise Boom("killed")
        return MODELS[name]

    return run_grid(["fake-a", "fake-b"], ["t1", "t2"], out, CFG, get_model=get_model,
                    load_target=TARGETS.__getitem__, progress=False)


def test_resume_after_interruption_redoes_only_missing_cells(tmp_path):
    calls = []
    with pytest.raises(Boom):
        grid(tmp_path, calls, fail_at=2)  # dies while starting the second cell
    done = sorted(p.name for p in (tmp_path / "cells").glob("*.json"))
    assert done == ["fake-a__t1.json"]
    first = cell_path(tmp_path, "fake-a", "t1").read_text()

    calls.clear()
    table = grid(tmp_path, calls)
    assert calls == ["fake-b", "fake-a", "fake-b"]  # the finished cell is not redone
    assert cell_path(tmp_path, "fake-a", "t1").read_text() == first
    assert list(table.columns) == COLUMNS and len(table) == 4
    assert sorted(zip(table.model, table.target)) == [
        (m, t) for m in ("fake-a", "fake-b") for t in ("t1", "t2")]
    on_disk = pd.read_csv(tmp_path / "accuracy.csv")
    assert list(on_disk.columns) == COLUMNS
    np.testing.assert_allclose(on_disk.test_acc, table.test_acc)
    assert len(list((tmp_path / "snapshots").glob("*.npz"))) == 4

    calls.clear()
    grid(tmp_path, calls)
    assert calls == []  # nothing left to do


def test_cells_record_the_protocol(tmp_path):
    grid(tmp_path, [])
    rec = json.loads(cell_path(tmp_path, "fake-b", "t2").read_text())
    assert rec["config"] == CFG.to_dict() and rec["n_classes"] == 4
    assert rec["lr"] == 0.01 and rec["epochs"] == 1 and rec["seed"] == 0
    snap = np.load(tmp_path / "snapshots" / "fake-b__t2.npz")
    assert snap["features"].shape[1:] == (4, MODELS["fake-b"].feature_dim)


def test_other_configuration_is_refused(tmp_path):
    grid(tmp_path, [])
    with pytest.raises(ValueError, match="another configuration"):
        run_grid(["fake-a"], ["t1"], tmp_path, FinetuneConfig(epochs=2), get_model=MODELS.get,
                 load_target=TARGETS.get, progress=False)


def test_atomic_write_leaves_old_file_or_nothing(tmp_path, monkeypatch):
    path = tmp_path / "cells" / "x.json"
    potran.atomic.write_json(path, {"a": 1})

    def crash(src, dst):
        raise OSError("disk pulled")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        potran.atomic.write_json(path, {"a": 2})
    with pytest.raises(OSError):
        potran.atomic.write_npz(tmp_path / "cells" / "y.npz", a=np.zeros(3))
    assert json.loads(path.read_text()) == {"a": 1}
    assert sorted(p.name for p in path.parent.iterdir()) == ["x.json"]  # no temp left over
    with pytest.raises(ValueError):
        potran.atomic.write_json(path, {"a": float("nan")})


def test_collect_of_empty_folder_has_the_columns(tmp_path):
    (tmp_path / "cells").mkdir()
    assert list(collect(tmp_path).columns) == COLUMNS


#: The cheapest committed cell (80 fitting images, 32 px, 97k parameters: ~5 s on one core).
COMMITTED = "conv4_random__lfw"
#: Recomputation on the machine that made the table gives the same accuracy exactly; the
#: tolerance (2 of the 100 test images) leaves room for another CPU's floating-point rounding.
TOLERANCE = 0.02


def test_committed_cell_recomputes_within_tolerance():
    from pathlib import Path

    import torch

    from potran import datasets, zoo
    from potran.finetune import finetune

    root = Path(__file__).resolve().parents[1] / "data" / "groundtruth"
    rec = json.loads((root / "cells" / f"{COMMITTED}.json").read_text())
    row = pd.read_csv(root / "accuracy.csv").set_index(["model", "target"]).loc[
        (rec["model"], rec["target"])]
    assert row.test_acc == rec["test_acc"] and row.lr == rec["lr"]
    threads = torch.get_num_threads()
    torch.set_num_threads(rec["threads"])
    try:
        new = finetune(zoo.get(rec["model"]), datasets.load_target(rec["target"]),
                       FinetuneConfig.from_dict(rec["config"])).record
    finally:
        torch.set_num_threads(threads)
    assert abs(new["test_acc"] - rec["test_acc"]) <= TOLERANCE
    for old_run, new_run in zip(rec["runs"], new["runs"]):
        assert abs(new_run["val_acc"] - old_run["val_acc"]) <= TOLERANCE
    assert (new["n_fit"], new["n_val"], new["n_test"]) == (rec["n_fit"], rec["n_val"],
                                                          rec["n_test"])
