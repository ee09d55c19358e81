"""Pretrain our own conv4 CNNs on the pretraining source (crops of non-target photographs).

Four objectives from one seeded initialisation (itself kept as the random-init control):
``supervised`` (which photograph the crop comes from, cross-entropy); ``simclr`` (NT-Xent between
two augmented views, Chen et al., 2020); ``rotation`` (which of 4, Gidaris et al., 2018);
``denoising`` (the clean crop from a noisy, partly masked one, Vincent et al., 2008).
``potran pretrain --out data/zoo`` writes ``conv4_<objective>.pt`` (trunk state dict),
checkpoints ``conv4_<objective>_p<percent>.pt`` (`CHECKPOINTS`: the trajectory stopped early,
graded-quality models of equal width) and ``MANIFEST.json`` (sha256, settings, versions, losses,
times).
"""

from __future__ import annotations

import json
import math
import platform
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ..datasets import SOURCE_PHOTOS, load_pretrain_source
from ..store import write_json
from . import OWN
from .conv4 import WIDTHS, conv4
from .weights import sha256_of

__all__ = ["OBJECTIVES", "EPOCHS", "CHECKPOINTS", "checkpoint_name", "pretrain",
           "write_weights"]

SEED = 0
BATCH = 256
LR = 2e-3
OBJECTIVES = ("random", "supervised", "simclr", "rotation", "denoising")
EPOCHS = {"random": 0, "supervised": 3, "simclr": 1, "rotation": 3, "denoising": 1}
#: share of each objective's optimiser steps after which the trunk is also saved
CHECKPOINTS = {"supervised": (0.1, 1 / 3), "simclr": (0.5,), "rotation": (1 / 3, 2 / 3),
               "denoising": (0.5,)}


def _augment(x: torch.Tensor, gen: torch.Generator, strong: bool) -> torch.Tensor:
    """Random resized crop and horizontal flip; ``strong`` adds colour jitter and greyscale."""
    n = x.shape[0]
    u = torch.rand(n, 6, generator=gen)
    scale = (0.5 + 0.5 * u[:, 0]) if strong else (0.75 + 0.25 * u[:, 0])  # side fraction kept
    flip = torch.where(u[:, 1] < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 1, 1] = scale * flip, scale
    theta[:, 0, 2], theta[:, 1, 2] = (1 - scale) * (2 * u[:, 2] - 1), (1 - scale) * (2 * u[:, 3] - 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    if strong:
        v = torch.rand(n, 4, generator=gen)
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        x = (x - mean) * (0.6 + 0.8 * v[:, 0, None, None, None]) + mean  # contrast
        x = x * (0.6 + 0.8 * v[:, 1, None, None, None])  # brightness
        grey = x.mean(dim=1, keepdim=True).expand_as(x)
        x = torch.where(v[:, 2, None, None, None] < 0.2, grey, x).clamp(0, 1)
    return x


def _decoder(c: int) -> nn.Sequential:
    """(B, c, 2, 2) -> (B, 3, 32, 32) transposed convolutions."""
    chans = (c, 64, 32, 16)
    layers = []
    for a, b in zip(chans[:-1], chans[1:]):
        layers += [nn.ConvTranspose2d(a, b, 4, 2, 1), nn.BatchNorm2d(b), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers, nn.ConvTranspose2d(chans[-1], 3, 4, 2, 1))


def _nt_xent(z1: torch.Tensor, z2: torch.Tensor, tau: float = 0.2) -> torch.Tensor:
    """SimCLR's normalised-temperature cross-entropy over the 2B views of a batch."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.T / tau
    sim.fill_diagonal_(-math.inf)
    b = z1.shape[0]
    positives = torch.cat([torch.arange(b, 2 * b), torch.arange(b)])
    return F.cross_entropy(sim, positives)


def _loss_fn(objective: str, trunk: nn.Sequential, n_photos: int):
    """Return (extra modules to train, loss(x01, y, gen))."""
    dim = WIDTHS[-1]
    if objective == "supervised":
        head = nn.Linear(dim, n_photos)
        return head, lambda x, y, g: F.cross_entropy(head(trunk(OWN(_augment(x, g, False)))), y)
    if objective == "rotation":
        head = nn.Linear(dim, 4)

        def rotation(x, y, g):
            k = torch.randint(4, (x.shape[0],), generator=g)
            x = _augment(x, g, False)
            x = torch.stack([torch.rot90(xi, int(ki), dims=(1, 2)) for xi, ki in zip(x, k)])
            return F.cross_entropy(head(trunk(OWN(x))), k)

        return head, rotation
    if objective == "simclr":
        head = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(inplace=True), nn.Linear(dim, 64))

        def simclr(x, y, g):
            views = torch.cat([_augment(x, g, True), _augment(x, g, True)])
            z = head(trunk(OWN(views)))
            return _nt_xent(*z.chunk(2))

        return head, simclr
    if objective == "denoising":
        decoder, encoder = _decoder(dim), trunk[:-1]  # without the global pooling

        def denoising(x, y, g):
            x = _augment(x, g, False)
            keep = (torch.rand(x.shape[0], 1, 8, 8, generator=g) > 0.25).float()
            keep = F.interpolate(keep, size=x.shape[-2:], mode="nearest")
            noisy = (x + 0.2 * torch.randn(x.shape, generator=g)) * keep
            return F.mse_loss(decoder(encoder(OWN(noisy))), OWN(x))

        return decoder, denoising
    raise ValueError(f"Unknown objective {objective!r}; known: {', '.join(OBJECTIVES)}.")


def checkpoint_name(objective: str, fraction: float) -> str:
    """Zoo name of the checkpoint of ``objective`` after ``fraction`` of its steps."""
    return f"conv4_{objective}_p{round(100 * fraction)}"


def pretrain(objective: str, images: np.ndarray, labels: np.ndarray, *, epochs: int,
             seed: int = SEED, checkpoints: tuple[float, ...] = (), stop_early: bool = False,
             progress: bool = True) -> tuple[nn.Sequential, list[float], dict]:
    """Train a conv4 trunk with ``objective`` from the shared ``torch.manual_seed(seed)`` start.

    ``checkpoints``: shares of the optimiser steps after which the trunk's state is copied;
    ``stop_early``: stop after the last one (schedule still the whole run's). Returns the trunk
    (eval mode), the mean loss of each complete epoch and {fraction: state dict}.
    """
    torch.manual_seed(seed)
    trunk = conv4()
    if objective == "random":
        return trunk.eval(), [], {}
    extra, loss_fn = _loss_fn(objective, trunk, int(labels.max()) + 1)
    params = list(trunk.parameters()) + list(extra.parameters())
    per_epoch = len(images) // BATCH
    steps = epochs * per_epoch
    save_at = {round(f * steps): f for f in checkpoints}
    last = max(save_at) if stop_early and save_at else steps
    opt = torch.optim.Adam(params, lr=LR, weight_decay=1e-5)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=steps)
    x_all = torch.from_numpy(images).permute(0, 3, 1, 2)
    y_all = torch.from_numpy(labels)
    gen = torch.Generator().manual_seed(seed)
    trunk.train(), extra.train()
    losses, saved, step = [], {}, 0
    for _ in tqdm(range(epochs), desc=objective, disable=not progress):
        order = torch.randperm(len(images), generator=gen)
        total, n_batches = 0.0, min(per_epoch, last - step)
        for i in range(n_batches):
            idx = order[i * BATCH:(i + 1) * BATCH]
            loss = loss_fn(x_all[idx].float() / 255, y_all[idx], gen)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
            step += 1
            if step in save_at:
                saved[save_at[step]] = {k: v.detach().clone() for k, v in trunk.state_dict().items()}
        if n_batches < per_epoch:  # stopped early: no complete epoch
            break
        losses.append(total / per_epoch)
    return trunk.eval(), losses, saved


def write_weights(out_dir, objectives=OBJECTIVES, *, checkpoints_only: bool = False,
                  progress: bool = True) -> dict:
    """Pretrain ``objectives`` and write their weights, checkpoints and ``MANIFEST.json`` (returned).

    ``checkpoints_only`` (``--checkpoints-only``) stops at the last checkpoint, final weights untouched.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    images, labels = load_pretrain_source(return_labels=True)
    manifest_path = out / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest["settings"] = {
        "seed": SEED, "batch": BATCH, "lr": LR, "epochs": EPOCHS, "checkpoints": CHECKPOINTS,
        "widths": WIDTHS,
        "normalisation": [OWN.mean[0], OWN.std[0]], "source": f"{len(images)} crops of {len(SOURCE_PHOTOS)} "
        "photographs (potran.bench.datasets.load_pretrain_source)",
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "numpy": np.__version__}, "threads": torch.get_num_threads()}
    files = manifest.setdefault("files", {})
    for objective in objectives:
        start = time.perf_counter()
        trunk, losses, saved = pretrain(objective, images, labels, epochs=EPOCHS[objective],
                                        checkpoints=CHECKPOINTS.get(objective, ()),
                                        stop_early=checkpoints_only, progress=progress)
        outputs = [(checkpoint_name(objective, f), state, None) for f, state in saved.items()]
        if not checkpoints_only:
            outputs.append((f"conv4_{objective}", trunk.state_dict(), losses))
        for name, state, run_losses in outputs:
            path = out / f"{name}.pt"
            torch.save(state, path)
            files[path.name] = {"sha256": sha256_of(path),
                                "seconds": round(time.perf_counter() - start, 1)}
            if run_losses is not None:
                files[path.name]["losses"] = run_losses
            print(f"{path.name}: {files[path.name]}", flush=True)
        write_json(manifest_path, manifest)
    return manifest
