"""Benchmark v4's fine-tuning pilot (data/bench_v4/README.md, "Fine-tuning pilot"): resumable,
one run per file, committed as runs land.

    OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/v4_finetune_pilot.py [--no-commit]
    .venv/bin/python benchmarks/v4_finetune_pilot.py --table      # the pilot's tables (Markdown)

Every run (`potran.bench.v4.finetune.finetune_run`) trains on 80 % of a target's training images
(stratified, seeded: `validation_split`) and records per epoch the training loss and accuracy and
the validation loss and accuracy, then scores the test split. Files:
``data/bench_v4/pilot/<target>/<model>_lr<lr>.json``. A run whose file exists is skipped.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from git_commit import commit  # the scripts' shared path-limited commit

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "bench_v4" / "pilot"

TARGETS = ("fashion", "hanzi", "wallpaper_id")
#: the controls, and the best, median and worst of the 7 self-supervised models pretrained when
#: the pilot started (linear probe: moco 0.764, deepcluster 0.758, jigsaw 0.688)
MODELS = ("random", "supervised", "moco", "deepcluster", "jigsaw")
LRS = (1e-3, 3e-3, 1e-2, 3e-4)  # the middle values first, so that a partial pilot informs
WD = 1e-2
EPOCHS = 40


def path(target: str, model: str, lr: float) -> Path:
    return OUT / target / f"{model}_lr{lr:g}.json"


def selected(runs) -> dict:
    """(target, model) -> the run the grid's rule selects: the highest final validation
    accuracy, ties to the smaller rate."""
    chosen = {}
    for r in runs:
        key = (r["target"], r["model"])
        if key not in chosen or (r["val_acc"][-1], -r["lr"]) > (chosen[key]["val_acc"][-1], -chosen[key]["lr"]):
            chosen[key] = r
    return chosen


def lowest_rate_needed() -> bool:
    """The pre-registered cost rule: 3e-4 runs only if, once the three other rates have run on
    every pair, 1e-3 is selected by some pair."""
    runs = [r for r in load() if r["lr"] in LRS[:3]]
    if len(runs) < 3 * len(TARGETS) * len(MODELS):
        return False
    return any(r["lr"] == LRS[0] for r in selected(runs).values())


def run_all(do_commit: bool) -> None:
    import torch

    from potran.bench.targets_v3 import load_target
    from potran.bench.v4.finetune import finetune_run, load_encoder, validation_split

    torch.set_num_threads(1)
    rates = LRS[:3] + (LRS[3:] if lowest_rate_needed() else ())
    todo = [(lr, t, m) for lr in rates for t in TARGETS for m in MODELS if not path(t, m, lr).exists()]
    print(f"{len(todo)} pilot runs to do (rates {', '.join(f'{r:g}' for r in rates)})", flush=True)
    targets, landed = {}, []
    for i, (lr, t, m) in enumerate(todo, 1):
        if t not in targets:
            targets[t] = load_target(t)
        target = targets[t]
        fit, val = validation_split(target.y_train)
        t0 = time.perf_counter()
        record, _ = finetune_run(load_encoder(m), target, lr=lr, wd=WD, epochs=EPOCHS, seed=0,
                                 fit=fit, val=val)
        record["model"] = m
        record["command"] = "python benchmarks/v4_finetune_pilot.py"
        out = path(t, m, lr)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(record, indent=1) + "\n")
        landed.append(out)
        print(f"[{i}/{len(todo)}] {t} {m} lr {lr:g}: loss {record['train_loss'][0]:.3f} -> "
              f"{record['train_loss'][-1]:.4f}, val {max(record['val_acc']):.3f}, "
              f"test {record['test_acc']:.3f} ({time.perf_counter() - t0:.0f} s)", flush=True)
        if do_commit and (i == len(todo) or m == MODELS[-1]):
            commit(f"Benchmark v4 fine-tuning pilot: {len(landed)} runs ({t}, lr {lr:g})", landed)
            landed = []
    if rates == LRS[:3] and lowest_rate_needed():
        run_all(do_commit)  # the rule asks for 3e-4 now that the other rates have run


def load() -> list[dict]:
    """Every pilot run on disk."""
    return [json.loads(p.read_text()) for p in sorted(OUT.glob("*/*.json"))]


#: candidate numbers of epochs for the grid: the smallest at which the rule holds is chosen
CANDIDATE_EPOCHS = (10, 15, 20, 25, 30, 40)


def tables() -> str:
    """The pilot's tables: every run; the rate each (target, model) selects; the epochs rule.

    A run's curve at epoch E of the 40-epoch schedule is read as a conservative stand-in for a run
    of E epochs: at epoch E the 40-epoch schedule's rate is still high, while an E-epoch schedule
    has decayed to zero by then, so a curve levelled by E here would be levelled there too.
    """
    import numpy as np

    from potran.bench.v4.finetune import levelled_off, not_trained

    runs = load()
    if not runs:
        return "no pilot runs yet"
    lines = ["| target | model | lr | training loss: first → final | last-epoch change | "
             "levelled off by epoch | final validation accuracy | test accuracy | not trained |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(runs, key=lambda r: (r["target"], MODELS.index(r["model"]), r["lr"])):
        loss = r["train_loss"]
        by = next((e for e in range(6, len(loss) + 1) if levelled_off(loss[:e])), None)
        flag = not_trained(loss[-1], r["train_acc"][-1], r["n_classes"])
        lines.append(f"| {r['target']} | {r['model']} | {r['lr']:g} | {loss[0]:.3f} → {loss[-1]:.4f} "
                     f"| {(loss[-1] - loss[-2]) / loss[-2]:+.1%} | {by or '—'} | {r['val_acc'][-1]:.3f} "
                     f"| {r['test_acc']:.3f} | {'yes' if flag else ''} |")
    # the selection the grid would make, on the pairs with every rate the pilot ran
    ran = sorted({r["lr"] for r in runs})
    complete = {k: v for k, v in selected(runs).items()
                if sum(r["target"] == k[0] and r["model"] == k[1] for r in runs) == len(ran)}
    lines += ["", f"Selected rate per (target, model) with all {len(ran)} rates run "
              f"({len(complete)} of {len(TARGETS) * len(MODELS)}):", "",
              "| target | " + " | ".join(MODELS) + " |", "|---|" + "---|" * len(MODELS)]
    for t in TARGETS:
        lines.append(f"| {t} | " + " | ".join(f"{complete[(t, m)]['lr']:g}" if (t, m) in complete
                                               else "" for m in MODELS) + " |")
    sel = list(complete.values())
    if sel:
        lines += ["", "Share of the selected runs whose training loss has levelled off by epoch E:", "",
                  "| E | " + " | ".join(map(str, CANDIDATE_EPOCHS)) + " |",
                  "|---|" + "---|" * len(CANDIDATE_EPOCHS),
                  "| levelled off | " + " | ".join(
                      f"{np.mean([levelled_off(r['train_loss'][:e]) for r in sel]):.2f}"
                      for e in CANDIDATE_EPOCHS) + " |",
                  "| validation accuracy at E − final | " + " | ".join(
                      f"{np.mean([r['val_acc'][e - 1] - r['val_acc'][-1] for r in sel]):+.3f}"
                      for e in CANDIDATE_EPOCHS) + " |"]
    return "\n".join(lines)


LADDER = (3e-4, 1e-3, 3e-3, 1e-2, 3e-2)  # the rates the grid's search may take


def decide() -> dict:
    """The grid's protocol from the pilot, by the pre-registered rules (data/bench_v4/README.md,
    "What it fixes"): three consecutive rates of `LADDER` centred on the rate selected most
    often (ties: the larger), and the smallest candidate E at which >= 90 % of the selected runs
    have levelled off (else 40)."""
    from collections import Counter

    import numpy as np

    from potran.bench.v4.finetune import BATCH, levelled_off

    runs = load()
    if len(runs) < 3 * len(TARGETS) * len(MODELS) or (lowest_rate_needed() and len(runs) < len(LRS) * len(TARGETS) * len(MODELS)):
        raise SystemExit("the pilot is not complete")
    chosen = list(selected(runs).values())
    counts = Counter(r["lr"] for r in chosen)
    mode = max(counts, key=lambda lr: (counts[lr], lr))
    i = min(max(LADDER.index(mode), 1), len(LADDER) - 2)
    share = {e: float(np.mean([levelled_off(r["train_loss"][:e]) for r in chosen]))
             for e in CANDIDATE_EPOCHS}
    epochs = next((e for e in CANDIDATE_EPOCHS if share[e] >= 0.9), EPOCHS)
    return {"lrs": list(LADDER[i - 1:i + 2]), "wd": WD, "epochs": epochs, "batch": BATCH,
            "validation_share": 0.2, "seeds": [0, 1], "augmentation": "none",
            "snapshot_fractions": [0.25, 0.5, 1.0], "snapshot_images": 200,
            "selection": "highest final validation accuracy on seed 0, ties to the smaller rate",
            "pilot": {"selected": {f"{r['target']}/{r['model']}": r["lr"] for r in chosen},
                      "levelled_off_share": {str(e): round(v, 3) for e, v in share.items()}}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-commit", action="store_true")
    parser.add_argument("--table", action="store_true", help="print the pilot's tables")
    parser.add_argument("--decide", action="store_true",
                        help="print the grid's protocol the pre-registered rules give")
    args = parser.parse_args(argv)
    if args.table:
        print(tables())
        return 0
    if args.decide:
        print(json.dumps(decide(), indent=1))
        return 0
    run_all(not args.no_commit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
