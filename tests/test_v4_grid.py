"""Benchmark v4's committed fine-tuning grid (benchmarks/v4_grid.py): every cell obeys the frozen
protocol's selection rule and adds up to accuracy.csv, and a seeded cell's second-seed run is
recomputed bit for bit from the committed weights."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from potran.bench.v4.finetune import levelled_off, not_trained

ROOT = Path(__file__).resolve().parents[1]
GRID = ROOT / "data" / "bench_v4"

CELLS = sorted((GRID / "cells").glob("*.json"))
PROTOCOL = json.loads((GRID / "protocol.json").read_text())


def test_every_cell_follows_the_frozen_protocol():
    """Each cell: the protocol's search (one seed-0 run per learning rate), the chosen rate the one
    with the highest final validation accuracy (ties: the smaller), two test runs at that rate,
    the accuracy their mean, the flags those of the registered rules."""
    assert len(CELLS) >= 14 * 9          # 9 complete targets when this test was written
    for path in CELLS:
        cell = json.loads(path.read_text())
        assert path.name == f"{cell['model']}__{cell['target']}.json"
        assert cell["protocol"] == PROTOCOL and cell["epochs"] == PROTOCOL["epochs"]
        search = cell["search"]
        assert [r["lr"] for r in search] == PROTOCOL["lrs"] and {r["seed"] for r in search} == {0}
        best = max(search, key=lambda r: (r["val_acc"][-1], -r["lr"]))
        assert cell["lr"] == best["lr"], path.name
        runs = cell["runs"]
        assert [r["seed"] for r in runs] == [0, 1] and {r["lr"] for r in runs} == {cell["lr"]}
        assert runs[0]["train_loss"] == best["train_loss"], path.name   # the chosen search run
        assert cell["test_acc"] == pytest.approx(np.mean([r["test_acc"] for r in runs]), abs=1e-12)
        for r in runs:
            assert r["levelled_off"] == levelled_off(r["train_loss"])
            assert r["not_trained"] == not_trained(r["train_loss"][-1], r["train_acc"][-1], cell["n_classes"])


def test_accuracy_csv_is_the_cells():
    table = pd.read_csv(GRID / "accuracy.csv").set_index(["model", "target"]).test_acc
    paths = sorted((GRID / "cells").glob("*.json"))   # after the table: a running grid writes the cell first
    cells = {(c["model"], c["target"]): c["test_acc"] for c in (json.loads(p.read_text()) for p in paths)}
    assert set(table.index) <= set(cells)
    assert all(table[k] == pytest.approx(v, abs=1e-12) for k, v in table.items() if k in cells)


@pytest.mark.slow  # one fine-tuning run (40 epochs) of a v4 model, about 30 s on one thread
def test_a_seeded_cell_second_seed_is_recomputed_exactly():
    import torch

    from potran.bench.targets_v3 import load_target
    from potran.bench.v4.finetune import finetune_run, load_encoder, validation_split

    path = CELLS[np.random.default_rng(4).integers(len(CELLS))]
    cell = json.loads(path.read_text())
    target = load_target(cell["target"])
    fit, val = validation_split(target.y_train, share=PROTOCOL["validation_share"], seed=0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)                             # as the grid ran: one thread per process
    try:
        record, _ = finetune_run(load_encoder(cell["model"]), target, lr=cell["lr"], seed=1,
                                 wd=PROTOCOL["wd"], epochs=PROTOCOL["epochs"], fit=fit, val=val)
    finally:
        torch.set_num_threads(threads)
    committed = cell["runs"][1]
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "test_acc", "n_test", "test_correct"):
        assert record[key] == committed[key], f"{path.name}: {key}"
