"""Benchmark v4's fine-tuning grid (data/bench_v4/README.md, "Fine-tuning grid"): every model of
the zoo on every v3 target under the frozen protocol ``data/bench_v4/protocol.json``; resumable,
one cell per (model, target), committed target by target.

    OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/v4_grid.py [--workers N] [--device cuda]
        [--targets a,b] [--models a,b] [--minutes M] [--no-commit]
    .venv/bin/python benchmarks/v4_grid.py --status        # cells done / to do

A cell (`potran.bench.v4.finetune.finetune_run`): on seed 0, one run per learning rate of the
protocol, each trained on the fit part of the training images and read on the validation part;
the rate whose final validation accuracy is highest (ties: the smaller) is chosen; seed 1 is
trained at the chosen rate on the same fit part; both chosen runs score the test split image by
image. The cell's accuracy is the mean of the two seeds' test accuracies. The chosen seed-0 run
also records the encoder's features of `snapshot` training images at the protocol's fractions of
training. Files: ``data/bench_v4/cells/<model>__<target>.json`` (the format of
`potran.bench.store.CellStore`, read by `potran.bench.settings`), snapshots in
``data/bench_v4/snapshots/<model>__<target>.npz``, and ``data/bench_v4/accuracy.csv``.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from git_commit import commit  # the scripts' shared path-limited commit

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "bench_v4"
PROTOCOL = OUT / "protocol.json"


def protocol() -> dict:
    if not PROTOCOL.exists():
        sys.exit(f"{PROTOCOL.relative_to(ROOT)} is missing: the grid runs only under the frozen "
                 "protocol of the pre-registration (data/bench_v4/README.md)")
    return json.loads(PROTOCOL.read_text())


def models() -> list[str]:
    manifest = json.loads((OUT / "MANIFEST.json").read_text())["models"]
    return [m for m in manifest if (OUT / "weights" / f"{m}.pt").exists()]


def order(targets) -> list[str]:
    """One target of each family first, then the second of each, ...: a partial grid spans the
    families."""
    from potran.bench.targets_v3 import FAMILIES

    by_family: dict[str, list[str]] = {}
    for t in targets:
        by_family.setdefault(FAMILIES[t], []).append(t)
    rounds = max(map(len, by_family.values()))
    return [ts[i] for i in range(rounds) for ts in by_family.values() if i < len(ts)]


def cell_path(model: str, target: str) -> Path:
    return OUT / "cells" / f"{model}__{target}.json"


def snapshot_positions(labels, size: int):
    """A stratified, seeded choice of ``size`` training images (positions, sorted)."""
    import numpy as np

    from potran.bench.v4.finetune import validation_split

    if size >= len(labels):
        return np.arange(len(labels))
    _, chosen = validation_split(labels, share=size / len(labels), seed=1)
    return chosen


def run_cell(model: str, target_name: str, proto: dict, device: str = "cpu") -> dict:
    """Fine-tune ``model`` on ``target_name`` under ``proto``; writes and returns the cell."""
    import numpy as np
    import torch

    from potran.bench.store import write_json, write_npz
    from potran.bench.targets_v3 import load_target
    from potran.bench.v4.finetune import (finetune_run, levelled_off, load_encoder, not_trained,
                                          test_record, validation_split)

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    target = load_target(target_name)
    encoder = load_encoder(model)
    fit, val = validation_split(target.y_train, share=proto["validation_share"], seed=0)
    snap = snapshot_positions(target.y_train, proto["snapshot_images"])
    common = dict(wd=proto["wd"], epochs=proto["epochs"], fit=fit, val=val, device=device)

    def summary(rec):
        loss = rec["train_loss"]
        return {**{k: rec[k] for k in ("seed", "lr", "train_loss", "train_acc", "val_loss", "val_acc",
                                       "seconds")},
                "levelled_off": levelled_off(loss),
                "not_trained": not_trained(loss[-1], rec["train_acc"][-1], rec["n_classes"])}

    search, best = [], None
    for lr in proto["lrs"]:
        rec, snaps, net = finetune_run(encoder, target, lr=lr, seed=0, test=False, return_net=True,
                                       snapshot_fractions=proto["snapshot_fractions"],
                                       snapshot_images=snap, **common)
        search.append(summary(rec))
        if best is None or (rec["val_acc"][-1], -lr) > (best[0]["val_acc"][-1], -best[0]["lr"]):
            best = (rec, snaps, net)
    chosen, snaps, net = best
    run0 = {**summary(chosen), **test_record(net, target)}
    rec1, _ = finetune_run(encoder, target, lr=chosen["lr"], seed=1, **common)
    run1 = {**summary(rec1), **{k: rec1[k] for k in ("test_acc", "n_test", "test_correct")}}
    accs = np.array([run0["test_acc"], run1["test_acc"]])
    cell = {
        "model": model, "target": target_name, "test_acc": float(accs.mean()),
        "test_acc_sd": float(accs.std(ddof=1)), "lr": chosen["lr"], "wd": proto["wd"],
        "epochs": proto["epochs"], "n_seeds": 2, "runs": [run0, run1], "search": search,
        "n_train": len(fit), "n_val": len(val), "n_test": run0["n_test"],
        "n_classes": chosen["n_classes"], "snapshot_steps": sorted(int(s) for s in snaps),
        "wall_s": round(time.perf_counter() - t0, 1), "device": device,
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "python": platform.python_version(), "protocol": proto,
        "command": "python benchmarks/v4_grid.py",
    }
    write_json(cell_path(model, target_name), cell)
    if snaps:
        steps = sorted(snaps)
        write_npz(OUT / "snapshots" / f"{model}__{target_name}.npz",
                  features=np.stack([snaps[s] for s in steps]).astype(np.float16),
                  steps=np.array(steps), indices=snap, labels=np.asarray(target.y_train)[snap])
    return cell


def write_accuracy() -> Path:
    """``accuracy.csv`` (model, target, test_acc) from every cell on disk."""
    import pandas as pd

    rows = [json.loads(p.read_text()) for p in sorted((OUT / "cells").glob("*.json"))]
    frame = pd.DataFrame([{k: r[k] for k in ("model", "target", "test_acc")} for r in rows],
                         columns=["model", "target", "test_acc"])
    frame.to_csv(OUT / "accuracy.csv", index=False)
    return OUT / "accuracy.csv"


def _work(args):
    model, target, proto, device = args
    return run_cell(model, target, proto, device)


def main(argv=None) -> int:
    from potran.bench.settings import name_list
    from potran.bench.targets_v3 import NAMES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", help="comma-separated (default: all 24)")
    parser.add_argument("--models", help="comma-separated (default: every pretrained model)")
    parser.add_argument("--workers", type=int, default=1, help="processes, one torch thread each")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--minutes", type=float, help="start no new cell after this many minutes")
    parser.add_argument("--status", action="store_true")
    parser.add_argument("--no-commit", action="store_true")
    args = parser.parse_args(argv)
    proto = protocol()
    targets = order(name_list(args.targets, NAMES))
    zoo = name_list(args.models, models())
    todo = [(m, t) for t in targets for m in zoo if not cell_path(m, t).exists()]
    total = len(targets) * len(zoo)
    print(f"{total - len(todo)} of {total} cells done, {len(todo)} to do", flush=True)
    if args.status or not todo:
        return 0
    start = time.perf_counter()
    jobs = [(m, t, proto, args.device) for m, t in todo]
    if args.workers > 1:
        import multiprocessing as mp

        pool = mp.get_context("spawn").Pool(args.workers)
        results = pool.imap(_work, jobs)
    else:
        results = map(_work, jobs)
    landed: dict[str, list[Path]] = {}
    for i, ((m, t), cell) in enumerate(zip(todo, results), 1):
        files = [cell_path(m, t)] + [p for p in [OUT / "snapshots" / f"{m}__{t}.npz"] if p.exists()]
        landed.setdefault(t, []).extend(files)
        flags = sum(r["not_trained"] for r in cell["runs"])
        print(f"[{i}/{len(todo)}] {t} {m}: lr {cell['lr']:g}, test {cell['test_acc']:.3f} "
              f"(sd {cell['test_acc_sd']:.3f}){', NOT TRAINED' if flags else ''} "
              f"({cell['wall_s']:.0f} s)", flush=True)
        done_target = all(cell_path(mm, t).exists() for mm in zoo)
        if done_target or i == len(todo):
            accuracy = write_accuracy()
            if not args.no_commit:
                commit(f"Benchmark v4 grid: {len(landed[t])} files of {t} (benchmarks/v4_grid.py)",
                       landed.pop(t) + [accuracy])
        if args.minutes and time.perf_counter() - start > 60 * args.minutes:
            print("time is up: stopping (run again to resume)", flush=True)
            break
    if args.workers > 1:
        pool.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
