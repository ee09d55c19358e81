"""Pretrain the v4 zoo: one encoder (`resnet`), one seeded initialisation, one objective per model.

Every model starts from the same initialisation (``torch.manual_seed(SEED)`` then `resnet()`),
which is itself kept as the ``random`` control. A run trains the encoder and the objective's own
heads with AdamW (`LR`, `WD`; linear warm-up over `WARMUP` of the steps, then cosine decay to
zero) on batches of `BATCH` pool images (the pool's training part, a seeded order per epoch),
views from one seeded `Augment`, for `EPOCHS` passes, on one torch thread by default.

At the end of every epoch the whole state (objective with its queues and banks, optimiser,
schedule, every random generator, losses, seconds) goes to ``<checkpoint_dir>/<name>.ckpt``; a
run started again continues from there and ends with the same weights as a run never stopped.
When it is done it writes into ``out_dir`` (``data/bench_v4``):

- ``weights/<name>.pt``, the encoder's state dict (the normalisation buffers included);
- ``logs/<name>.csv``, the mean loss and the seconds of every epoch;
- its entry in ``MANIFEST.json``: sha256, settings, versions, threads, seconds, the final loss,
  and the linear probe of the frozen encoder (`probe`) beside the random-init encoder's.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import math
import platform
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from . import ARCH, SEED
from .augment import Augment
from .resnet import n_parameters, resnet

__all__ = ["BATCH", "LR", "WD", "WARMUP", "EPOCHS", "PROBE_TRAIN", "PROBE_C", "init_encoder",
           "pretrain", "probe", "probe_table", "write_model", "main"]

BATCH = 256
LR = 2e-3
WD = 1e-4
WARMUP = 0.05  # share of the steps with a linear warm-up
#: passes over the pool's training part (the cost pilot of data/bench_v4/README.md chose it)
EPOCHS = 4
PROBE_TRAIN = 4000  # training-part images the linear probe is fitted on (stratified, seeded)
PROBE_C = (0.01, 0.1, 1.0, 10.0)  # the probe's inverse L2 strengths (chosen on a validation split)
CHECKPOINT_DIR = ".cache/v4_pretrain"


def init_encoder(seed: int = SEED, arch: dict | None = None) -> torch.nn.Module:
    """The zoo's one initialisation (the ``random`` control's weights)."""
    arch = arch or ARCH
    torch.manual_seed(seed)
    return resnet(arch["widths"], arch["blocks"])


def _generators(module: torch.nn.Module) -> dict[str, torch.Generator]:
    """Every torch.Generator an objective keeps as an attribute (their states are resumed too)."""
    out = {}
    for prefix, m in module.named_modules():
        for key, value in vars(m).items():
            if isinstance(value, torch.Generator):
                out[f"{prefix}.{key}"] = value
    return out


def _lr_at(step: int, total: int) -> float:
    warm = max(1, round(WARMUP * total))
    if step < warm:
        return (step + 1) / warm
    return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))


def pretrain(name: str, images: np.ndarray, labels: np.ndarray, *, epochs: int = EPOCHS,
             seed: int = SEED, arch: dict | None = None, batch: int = BATCH,
             checkpoint: str | Path | None = None, stop_after: int | None = None,
             progress: bool = True) -> tuple[torch.nn.Module, list[float], list[float]]:
    """Train the encoder with objective ``name`` (a key of `OBJECTIVES`, or ``"random"``).

    Parameters
    ----------
    images : ndarray (N, S, S, 3) uint8
        The pool's training part; ``labels`` (N,) its coarse labels (only ``supervised`` uses them).
    checkpoint : path or None
        File of the end-of-epoch state; a run resumes from it when it exists.
    stop_after : int or None
        Stop after this many epochs (counted from the start of the run, not of this call),
        leaving the checkpoint to resume from; for tests.

    Returns
    -------
    encoder (eval mode), mean loss of every epoch, seconds of every epoch
    """
    from .objectives import OBJECTIVES

    encoder = init_encoder(seed, arch)
    if name == "random":
        return encoder.eval(), [], []
    if name not in OBJECTIVES:
        raise ValueError(f"Unknown objective {name!r}; known: random, {', '.join(OBJECTIVES)}.")
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"images must be (N, S, S, 3) uint8, got {images.shape} {images.dtype}")
    if len(images) != len(labels) or len(images) < batch:
        raise ValueError(f"images and labels must have one length >= batch {batch}, got "
                         f"{len(images)} and {len(labels)}")
    objective = OBJECTIVES[name](encoder, encoder.feat_dim, len(images),
                                 n_classes=int(labels.max()) + 1, seed=seed)
    params = [p for p in objective.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=LR, weight_decay=WD)
    per_epoch = len(images) // batch
    total = epochs * per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _lr_at(s, total))
    augment = Augment(seed)
    order_gen = torch.Generator().manual_seed(seed + 1)
    losses, seconds, start_epoch = [], [], 0
    checkpoint = Path(checkpoint) if checkpoint is not None else None
    if checkpoint is not None and checkpoint.exists():
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        if state["name"] != name or state["epochs"] != epochs or state["n_images"] != len(images):
            raise ValueError(f"checkpoint {checkpoint} is of another run ({state['name']}, "
                             f"{state['epochs']} epochs, {state['n_images']} images); remove it")
        objective.load_state_dict(state["objective"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        augment.load_state_dict(state["augment"])
        order_gen.set_state(state["order"])
        torch.set_rng_state(state["torch_rng"])
        for key, gen in _generators(objective).items():
            gen.set_state(state["generators"][key])
        losses, seconds, start_epoch = state["losses"], state["seconds"], state["epoch"]
    x_all = torch.from_numpy(images).permute(0, 3, 1, 2)
    y_all = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    objective.train()
    bar = tqdm(total=total, initial=start_epoch * per_epoch, desc=name, disable=not progress,
               mininterval=5)
    for epoch in range(start_epoch, epochs):
        if stop_after is not None and epoch >= stop_after:
            break
        tic = time.perf_counter()
        objective.before_epoch(epoch)
        order = torch.randperm(len(images), generator=order_gen)
        total_loss = 0.0
        for i in range(per_epoch):
            idx = order[i * batch:(i + 1) * batch]
            loss = objective(x_all[idx].float() / 255, idx, augment, y_all[idx])
            if not torch.isfinite(loss):
                raise FloatingPointError(f"{name}: the loss is {loss.item()} at epoch {epoch + 1}, "
                                         f"step {i + 1}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            objective.after_step()
            total_loss += loss.item()
            bar.update()
            bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
        losses.append(total_loss / per_epoch)
        seconds.append(time.perf_counter() - tic)
        if checkpoint is not None:
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            state = {"name": name, "epochs": epochs, "n_images": len(images), "epoch": epoch + 1,
                     "objective": objective.state_dict(), "opt": opt.state_dict(),
                     "sched": sched.state_dict(), "augment": augment.state_dict(),
                     "order": order_gen.get_state(), "torch_rng": torch.get_rng_state(),
                     "generators": {k: g.get_state() for k, g in _generators(objective).items()},
                     "losses": losses, "seconds": seconds}
            tmp = checkpoint.with_suffix(".tmp")
            torch.save(state, tmp)
            tmp.replace(checkpoint)
    bar.close()
    return encoder.eval(), losses, seconds


@torch.no_grad()
def _features(encoder: torch.nn.Module, images: np.ndarray, batch: int = 500) -> np.ndarray:
    encoder.eval()
    out = [encoder(torch.from_numpy(images[i:i + batch]).permute(0, 3, 1, 2).float() / 255)
           for i in range(0, len(images), batch)]
    return torch.cat(out).numpy()


def probe(encoder: torch.nn.Module, pool) -> dict:
    """Linear probe of the frozen encoder: fitted on `PROBE_TRAIN` images of the pool's
    training part (stratified, seeded), scored on the held-out part, both with the coarse
    labels. Returns test accuracy, C, val accuracy and sizes."""
    from sklearn.model_selection import train_test_split

    from ..linear_probe import linear_probe

    x_train, y_train = pool.train
    pick, _ = train_test_split(np.arange(len(y_train)), train_size=PROBE_TRAIN, random_state=0,
                               stratify=y_train)
    x_test, y_test = pool.general
    result = linear_probe(_features(encoder, x_train[pick]), y_train[pick],
                          _features(encoder, x_test), y_test, c_grid=PROBE_C)
    result.pop("test_correct")
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in result.items()}


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_model(name: str, out_dir: str | Path = "data/bench_v4", *, epochs: int = EPOCHS,
                checkpoint_dir: str | Path | None = CHECKPOINT_DIR, pool=None,
                progress: bool = True, command: str | None = None) -> dict:
    """Pretrain ``name`` on the pool and write its weights, loss log and MANIFEST entry (and the
    random control's probe when the manifest lacks it). Returns the entry."""
    from .pool import load_pool

    torch.set_flush_denormal(True)
    out = Path(out_dir)
    pool = pool if pool is not None else load_pool(progress=progress)
    images, labels = pool.train
    ckpt = None if checkpoint_dir is None else Path(checkpoint_dir) / f"{name}.ckpt"
    tic = time.perf_counter()
    encoder, losses, seconds = pretrain(name, images, labels, epochs=epochs, arch=ARCH,
                                        batch=BATCH, checkpoint=ckpt, progress=progress)
    if name != "random" and len(losses) < epochs:
        raise RuntimeError(f"{name}: stopped after {len(losses)} of {epochs} epochs")
    manifest_path = out / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest["settings"] = {
        "arch": {k: list(v) for k, v in ARCH.items()}, "params": n_parameters(encoder),
        "feat_dim": encoder.feat_dim, "seed": SEED, "batch": BATCH, "lr": LR, "wd": WD,
        "warmup": WARMUP, "optimizer": "AdamW, linear warm-up then cosine decay",
        "pool": {"train": int(len(labels)), "held_out": int(pool.held_out.sum()),
                 "classes": len(pool.classes), "kinds": pool.counts()},
        "probe": {"train": PROBE_TRAIN, "C": list(PROBE_C)}}
    models = manifest.setdefault("models", {})
    if name != "random" and "random" not in models:
        models["random"] = {"family": "control", "epochs": 0, "probe": probe(init_encoder(), pool)}
    weights = out / "weights" / f"{name}.pt"
    weights.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    torch.save(encoder.state_dict(), buf)
    tmp = weights.with_suffix(".tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(weights)
    if losses:
        log = out / "logs" / f"{name}.csv"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["epoch", "loss", "seconds"])
            w.writerows([e + 1, f"{loss:.6g}", f"{sec:.1f}"] for e, (loss, sec) in
                        enumerate(zip(losses, seconds)))
    from .objectives import OBJECTIVES

    entry = {"file": f"weights/{name}.pt", "sha256": _sha256(weights),
             "family": "control" if name == "random" else OBJECTIVES[name].family,
             "epochs": epochs if name != "random" else 0,
             "final_loss": round(losses[-1], 5) if losses else None,
             "first_loss": round(losses[0], 5) if losses else None,
             "train_seconds": round(sum(seconds), 1),
             "seconds": round(time.perf_counter() - tic, 1),
             "probe": probe(encoder, pool),
             "threads": torch.get_num_threads(),
             "versions": {"python": platform.python_version(), "torch": torch.__version__,
                          "numpy": np.__version__},
             "command": command or f"python benchmarks/v4_pretrain.py {name}"}
    models[name] = entry
    from ..store import write_json

    write_json(manifest_path, manifest)
    if ckpt is not None and ckpt.exists():
        ckpt.unlink()
    return entry


def probe_table(manifest: dict) -> str:
    """The README's table of the pretrained models (Markdown), from a ``MANIFEST.json``: epochs,
    first and final loss, probe accuracy and its difference from the random-init encoder's,
    seconds of pretraining."""
    models = manifest.get("models", {})
    base = models.get("random", {}).get("probe", {}).get("test_acc")
    rows = ["| model | family | epochs | first → final loss | probe accuracy | − random | "
            "minutes |", "|---|---|---|---|---|---|---|"]
    for name, e in models.items():
        acc = e["probe"]["test_acc"]
        loss = (f"{e['first_loss']:.3f} → {e['final_loss']:.3f}"
                if e.get("final_loss") is not None else "")
        diff = f"{acc - base:+.3f}" if base is not None and name != "random" else ""
        minutes = f"{e['train_seconds'] / 60:.1f}" if e.get("train_seconds") else ""
        rows.append(f"| {name} | {e.get('family', '')} | {e.get('epochs', '')} | {loss} | "
                    f"{acc:.3f} | {diff} | {minutes} |")
    return "\n".join(rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Pretrain v4 models (one torch thread).")
    parser.add_argument("names", nargs="*", help="objective names, or 'random'")
    parser.add_argument("--out", default="data/bench_v4")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--table", action="store_true",
                        help="print the table of the pretrained models (from MANIFEST.json)")
    args = parser.parse_args(argv)
    if args.table:
        print(probe_table(json.loads((Path(args.out) / "MANIFEST.json").read_text())))
        return
    torch.set_num_threads(args.threads)
    for name in args.names:
        entry = write_model(name, args.out, epochs=args.epochs)
        print(json.dumps({name: entry}), flush=True)


if __name__ == "__main__":
    main()
