"""GPU check of potran's torch code paths: parity, CPU agreement, speed-ups, benchmark cells.

    python benchmarks/gpu_check.py                  # on a CUDA device (about 3-6 minutes)
    python benchmarks/gpu_check.py --device cpu --quick   # smoke run of this script, small sizes

1. Parity on the device: the public parity cases computed from device tensors agree with the
   official numbers at the CPU tolerances (float64 on the device).
2. Device versus CPU: LogME, SFDA, GBC (spherical, float64), PED's moved features and every
   metric + PED on the same random inputs agree within 1e-6 relative.
3. Speed at N=50000, D=2048, C=100 (PED: also C=397 at N=20000): each of LogME, SFDA, GBC,
   PED and PED+LogME on the device and on the CPU in the same run, the speed-up, and the peak
   device memory of each call.
4. The offline benchmark on the device: feature extraction of every zoo model on one target
   (images per second, peak memory), and one timed fine-tuning cell (one seed) against the same
   cell on the CPU.

Exits 1 when a parity or agreement check fails, 2 without the device.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import potran  # noqa: E402
from potran.metrics import PED_METRICS, gbc, logme, sfda  # noqa: E402

PARITY = Path(__file__).resolve().parents[1] / "tests" / "parity"
AGREEMENT_RTOL = 1e-6


def sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reset_peak(device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_mb(device) -> float:
    return torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else float("nan")


def timed(fn, device, repeats: int = 1):
    """Fastest of ``repeats`` calls after one warm-up call; returns (seconds, peak MB, result)."""
    fn()
    best, out = float("inf"), None
    reset_peak(device)
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        out = fn()
        sync(device)
        best = min(best, time.perf_counter() - start)
    return best, peak_mb(device), out


def parity(device) -> bool:
    ok = True
    for k in (1, 2, 3):
        arrays = np.load(PARITY / f"case_{k}.npz")
        ref = json.loads((PARITY / f"case_{k}.json").read_text())
        X, y, G = (torch.as_tensor(arrays[n], device=device) for n in ("X", "y", "G"))
        checks = {
            "logme": (logme(X, y), ref["logme"], 1e-8),
            "sfda": (sfda(X, y), ref["sfda"], 1e-8),
            "gbc_spherical_raw_f64": (gbc(X, y, pca_dim=None), ref["gbc_spherical_raw_f64"], 1e-8),
            "gbc_diagonal_pca64": (gbc(X, y, gaussian="diagonal"), ref["gbc_diagonal_pca64"], 1e-5),
            "ped_logme": (potran.score(X, y, "logme", ped=True, general=G), ref["ped_logme"], 1e-8),
            "ped_sfda": (potran.score(X, y, "sfda", ped=True, general=G), ref["ped_sfda"], 1e-8),
        }
        moved = potran.simulate(X, y, G).features
        assert moved.device.type == device.type
        shift_err = float((moved.cpu() - torch.as_tensor(arrays["X_moved_ped"])).abs().max())
        print(f"parity case {k}: PED moved features max |diff| {shift_err:.2e} (tol 1e-12)")
        ok &= shift_err < 1e-12
        for name, (got, want, tol) in checks.items():
            err = abs(got - want) / abs(want)
            ok &= err < tol
            print(f"parity case {k}: {name:22s} {got:.12g} vs {want:.12g} rel {err:.1e} "
                  f"{'ok' if err < tol else 'FAIL'}")
    return ok


def problem(n: int, d: int, c: int, seed: int = 0, overlap: float = 1.65):
    """Float64 CPU tensors X (n x d), y, G (2000 x d): classes just inside contact distance,
    so PED's overlaps persist for several steps (as benchmarks/bench_core.py)."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(0, c, (n,), generator=gen)
    X = overlap * torch.randn(c, d, generator=gen, dtype=torch.float64)[y] + 2 * torch.randn(
        n, d, generator=gen, dtype=torch.float64)
    G = 2 * torch.randn(2000, d, generator=gen, dtype=torch.float64)
    return X, y, G


def with_ped(X, y, G, metric):
    return potran.score(X, y, metric, ped=True, general=G)


def agreement(device, n: int, d: int, c: int) -> bool:
    """Every torch path on ``device`` against the CPU, same inputs."""
    X, y, G = problem(n, d, c, seed=1)
    Xd, yd, Gd = X.to(device), y.to(device), G.to(device)
    calls = {
        "logme": lambda A, b, H: logme(A, b),
        "sfda": lambda A, b, H: sfda(A, b),
        "gbc (spherical, float64)": lambda A, b, H: gbc(A, b, pca_dim=None),
        **{f"{m} + PED": partial(with_ped, metric=m) for m in PED_METRICS},
    }
    ok = True
    for name, call in calls.items():
        cpu, dev = float(call(X, y, G)), float(call(Xd, yd, Gd))
        err = abs(dev - cpu) / max(abs(cpu), 1e-300)
        ok &= err < AGREEMENT_RTOL
        print(f"{device.type} vs cpu N={n} D={d} C={c}: {name:26s} {dev:.12g} vs {cpu:.12g} rel {err:.1e} "
              f"{'ok' if err < AGREEMENT_RTOL else 'FAIL'}")
    moved_cpu = potran.simulate(X, y, G).features
    moved_dev = potran.simulate(Xd, yd, Gd).features.cpu()
    err = float((moved_dev - moved_cpu).abs().max() / moved_cpu.abs().max())
    ok &= err < AGREEMENT_RTOL
    print(f"{device.type} vs cpu N={n} D={d} C={c}: PED moved features max rel diff {err:.1e} "
          f"{'ok' if err < AGREEMENT_RTOL else 'FAIL'}")
    return ok


def speed(device, sizes) -> None:
    """Each call on the device and on the CPU, same inputs, same run."""
    for n, d, c in sizes:
        X, y, G = problem(n, d, c)
        Xd, yd, Gd = X.to(device), y.to(device), G.to(device)
        calls = {
            "logme": lambda A, b, H: logme(A, b),
            "sfda": lambda A, b, H: sfda(A, b),
            "gbc": lambda A, b, H: gbc(A, b),
            "PED (6 steps)": lambda A, b, H: potran.simulate(A, b, H, exit_ratio=0.0),
            "logme + PED": lambda A, b, H: potran.score(A, b, "logme", ped=True, general=H),
        }
        for name, call in calls.items():
            on_device, memory, _ = timed(partial(call, Xd, yd, Gd), device)
            on_cpu, _, _ = timed(partial(call, X, y, G), torch.device("cpu"))
            print(f"speed N={n} D={d} C={c}: {name:14s} {device.type} {on_device:.3f} s, cpu {on_cpu:.3f} s, "
                  f"speed-up {on_cpu / on_device:.1f}x, peak {device.type} memory {memory:.0f} MB")


def benchmark_cells(device, quick: bool) -> None:
    """Feature extraction of the offline zoo and one fine-tuning cell, on the device and the CPU."""
    from potran.bench import datasets, zoo
    from potran.bench.features import extract_features
    from potran.bench.finetune import FinetuneConfig, finetune

    target = datasets.load_target("fonts")
    images = np.asarray(target.x_train)[: 64 if quick else None]
    for name in zoo.names()[:2] if quick else zoo.names():
        model = zoo.get(name)
        extract = partial(extract_features, model, images, device=device, progress=False)
        seconds, memory, feats = timed(extract, device)
        print(f"extraction {name:22s} {len(images)} fonts images on {device.type}: {seconds:.2f} s "
              f"({len(images) / seconds:.0f} images/s), {feats.shape[1]}-d, peak memory {memory:.0f} MB")
    config = replace(FinetuneConfig(), seeds=(0,),
                     **({"n_train": 64, "n_test": 64, "epochs": 1} if quick else {}))
    model = zoo.get("efficientnet_lite0")
    for where in (device, torch.device("cpu")) if device.type != "cpu" else (device,):
        reset_peak(where)
        start = time.perf_counter()
        record = finetune(model, target, config, device=str(where)).record
        seconds = time.perf_counter() - start
        print(f"fine-tuning cell efficientnet_lite0 / fonts, 1 seed, {config.epochs} epochs, "
              f"{record['n_train']} images on {where.type}: {seconds:.1f} s, test accuracy "
              f"{record['test_acc']:.3f}, peak memory {peak_mb(where):.0f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="torch device (default cuda)")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of the script")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("no CUDA device")
        return 2
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"torch {torch.__version__}, {name}, {torch.get_num_threads()} CPU threads")
    ok = parity(device)
    ok &= agreement(device, *((2000, 64, 10) if args.quick else (20000, 512, 50)))
    speed(device, ((2000, 128, 10),) if args.quick else ((50000, 2048, 100), (20000, 2048, 397)))
    benchmark_cells(device, args.quick)
    print("PARITY AND AGREEMENT OK" if ok else "PARITY OR AGREEMENT FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
