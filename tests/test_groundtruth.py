"""Ground-truth grid (potran.bench.groundtruth): resumable cells, tidy table, README, determinism."""
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from potran.bench.finetune import FinetuneConfig
from potran.bench.groundtruth import COLUMNS, collect, run_grid, write_readme
from potran.bench.store import CellStore

from fake_zoo import MODELS, SOURCES, TARGETS

CFG = FinetuneConfig(epochs=1, seeds=(0, 1), n_train=24, n_test=12, probe_size=8, batch_size=8)
GRID = (["fake-a", "fake-b"], ["t1", "t2"])


class Boom(RuntimeError):
    pass


def grid(out, calls, fail_at=None, **kw):
    def get_model(name):
        calls.append(name)
        if len(calls) == fail_at:
            raise Boom("killed")
        return MODELS[name]

    return run_grid(*GRID, out, CFG, sources=replace(SOURCES, get_model=get_model), progress=False,
                    **kw)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A complete 2 x 2 grid (computed once for the tests that only read it)."""
    out = tmp_path_factory.mktemp("gt")
    tables = []
    table = grid(out, [], after_cell=tables.append)
    return out, table, tables


def test_resume_after_interruption_redoes_only_missing_cells(tmp_path):
    calls = []
    with pytest.raises(Boom):
        grid(tmp_path, calls, fail_at=2)  # dies while starting the second cell
    store = CellStore(tmp_path)
    assert sorted(p.name for p in (tmp_path / "cells").glob("*.json")) == ["fake-a__t1.json"]
    assert sorted(p.name for p in (tmp_path / "snapshots").glob("*")) == ["fake-a__t1.npz"]
    first = store.path("fake-a", "t1").read_text()

    calls.clear()
    table = grid(tmp_path, calls)
    assert calls == ["fake-b", "fake-a", "fake-b"]  # the finished cell is not redone
    assert store.path("fake-a", "t1").read_text() == first
    assert len(table) == 4 and len(list((tmp_path / "snapshots").glob("*.npz"))) == 4

    calls.clear()
    grid(tmp_path, calls)
    assert calls == []  # nothing left to do


def test_table_is_the_cells_sorted_by_target_then_model(finished):
    out, table, _ = finished
    assert list(table.columns) == COLUMNS
    assert list(zip(table.target, table.model)) == [("t1", "fake-a"), ("t1", "fake-b"),
                                                    ("t2", "fake-a"), ("t2", "fake-b")]
    on_disk = pd.read_csv(out / "accuracy.csv")
    assert list(on_disk.columns) == COLUMNS
    pd.testing.assert_frame_equal(on_disk, table, check_dtype=False)
    store = CellStore(out)
    for row in table.itertuples():
        rec = store.load(row.model, row.target)
        assert row.test_acc == rec["test_acc"] == np.mean([r["test_acc"] for r in rec["runs"]])
        assert row.test_acc_sd == rec["test_acc_sd"] and row.n_seeds == 2
        assert (row.n_train, row.n_test, row.epochs, row.lr) == (24, 12, 1, CFG.lr)


def test_after_cell_sees_the_table_grow(finished):
    _, table, tables = finished
    assert [len(t) for t in tables] == [1, 2, 3, 4]
    pd.testing.assert_frame_equal(tables[-1], table)


def test_cells_record_the_protocol_and_snapshots(finished):
    out, _, _ = finished
    rec = CellStore(out).load("fake-b", "t2")
    assert rec["config"] == CFG.to_dict() and rec["n_classes"] == 4
    assert [r["seed"] for r in rec["runs"]] == [0, 1]
    with np.load(out / "snapshots" / "fake-b__t2.npz") as snap:
        assert snap["features"].shape == (len(rec["snapshot_steps"]), 8, MODELS["fake-b"].feature_dim)
        assert snap["steps"].tolist() == rec["snapshot_steps"]


def test_cell_finished_meanwhile_by_another_process_is_kept(tmp_path, finished):
    """Two processes share a folder: a cell written by the other one after this run listed its
    work is neither recomputed nor overwritten."""
    other = CellStore(finished[0]).load("fake-b", "t2")
    other["marker"] = "other process"
    store, calls = CellStore(tmp_path), []

    def load_target(name):  # the other process finishes fake-b/t2 while this one starts t2
        if name == "t2":
            store.save("fake-b", "t2", other)
        return TARGETS[name]

    run_grid(*GRID, tmp_path, CFG, progress=False,
             sources=replace(SOURCES, get_model=lambda m: calls.append(m) or MODELS[m],
                             load_target=load_target))
    assert calls == ["fake-a", "fake-b", "fake-a"]
    assert store.load("fake-b", "t2")["marker"] == "other process"


def test_other_configuration_is_refused(finished):
    out, _, _ = finished
    with pytest.raises(ValueError, match="fake-a__t1.json was made with another configuration"):
        run_grid(["fake-a"], ["t1"], out, FinetuneConfig(epochs=2), sources=SOURCES, progress=False)


def test_collect_of_empty_folder_has_the_columns(tmp_path):
    (tmp_path / "cells").mkdir()
    table = collect(tmp_path)
    assert list(table.columns) == COLUMNS and len(table) == 0
    assert list(pd.read_csv(tmp_path / "accuracy.csv").columns) == COLUMNS


def test_readme_states_command_configuration_and_progress(tmp_path, finished):
    out, table, _ = finished
    command = "potran groundtruth --epochs 1 --out x"
    models, targets = ["fake-a", "fake-b", "fake-c"], ["t1", "t2"]
    path = write_readme(out, command, CFG, models, targets)
    text = path.read_text()
    assert path == out / "README.md"
    assert command in text and json.dumps(CFG.to_dict()) in text
    assert "Cells: 4 of 6 done" in text and "Missing: fake-c/t1, fake-c/t2." in text
    prose = " ".join(text.split())
    assert "one run per seed [0, 1]" in prose and "1 epochs over all training images" in prose
    pivot = table.pivot(index="model", columns="target", values="test_acc").round(3).to_string()
    assert pivot in text
    (tmp_path / "cells").mkdir()
    empty = write_readme(tmp_path, command, CFG, models, targets).read_text()
    assert "Cells: 0 of 6 done" in empty and "(none yet)" in empty


@pytest.mark.slow  # fine-tunes a real zoo model on a real target
def test_real_conv4_cell_is_deterministic():
    """The protocol on a real zoo model and target, on a reduced configuration: the same
    configuration twice gives the same record, timing aside (the committed cells of the current
    protocol are too costly to recompute in a test)."""
    from potran.bench import datasets, zoo
    from potran.bench.finetune import finetune

    target = datasets.load_target("patches")
    model = zoo.get("conv4_supervised_p10")
    cfg = FinetuneConfig(epochs=1, seeds=(0, 1), n_train=48, n_test=40, probe_size=16,
                         batch_size=16)
    first, second = (finetune(model, target, cfg) for _ in range(2))

    def strip(rec):
        rec = {k: v for k, v in rec.items() if k != "wall_s"}
        rec["runs"] = [{k: v for k, v in r.items() if k != "seconds"} for r in rec["runs"]]
        return rec

    assert strip(first.record) == strip(second.record)
    for key in first.snapshots:
        np.testing.assert_array_equal(first.snapshots[key], second.snapshots[key])
    rec = first.record
    assert (rec["n_train"], rec["n_test"], rec["n_classes"], rec["image_size"]) == (48, 40, 10, 32)
    assert all((r["test_acc"] * 40) % 1 == 0 for r in rec["runs"])
    assert first.snapshots["features"].shape == (len(rec["snapshot_steps"]), 16, 128)
