"""GPU check of the torch code paths (LogME, SFDA, GBC, PED) on a CUDA device.

    python benchmarks/gpu_check.py

1. Parity on CUDA: the public parity cases computed from CUDA tensors agree with the official
   numbers at the CPU tolerances (float64 on the GPU).
2. Speed at the issue-2 sizes on the GPU, as ratios to ``X^T X + eigh`` on the GPU in the same run.
Exits non-zero when a parity check fails.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import potran  # noqa: E402
from potran.metrics import gbc, logme, sfda  # noqa: E402

PARITY = Path(__file__).resolve().parents[1] / "tests" / "parity"


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
        print(f"case {k}: PED moved features max |diff| {shift_err:.2e} (tol 1e-12)")
        ok &= shift_err < 1e-12
        for name, (got, want, tol) in checks.items():
            err = abs(got - want) / abs(want)
            ok &= err < tol
            print(f"case {k}: {name:22s} {got:.12g} vs {want:.12g} rel {err:.1e} {'ok' if err < tol else 'FAIL'}")
    return ok


def timed(fn, device):
    torch.cuda.synchronize(device)
    start = time.perf_counter()
    out = fn()
    torch.cuda.synchronize(device)
    return time.perf_counter() - start, out


def speed(device) -> None:
    gen = torch.Generator(device=device).manual_seed(0)
    for (n, d, c) in ((50000, 2048, 100),):
        y = torch.randint(0, c, (n,), device=device, generator=gen)
        X = torch.randn(c, d, device=device, generator=gen, dtype=torch.float64)[y] + 2 * torch.randn(
            n, d, device=device, generator=gen, dtype=torch.float64)
        for _ in range(2):  # warm-up then measure
            base, _ = timed(lambda: torch.linalg.eigh(X.T @ X), device)
        print(f"GPU baseline X^T X + eigh N={n} D={d}: {base:.3f} s")
        for name, fn in (("logme", logme), ("sfda", sfda), ("gbc", gbc)):
            fn(X[:5000], y[:5000])
            seconds, value = timed(lambda: fn(X, y), device)
            print(f"GPU {name:6s} N={n} D={d} C={c}: {seconds:.3f} s = {seconds / base:.2f} x baseline (score {value:.5g})")
    n, d, c = 20000, 2048, 397
    y = torch.randint(0, c, (n,), device=device, generator=gen)
    # centres just inside contact distance (as benchmarks/bench_core.py): overlaps persist for six steps
    X = 1.65 * torch.randn(c, d, device=device, generator=gen)[y] + 2 * torch.randn(n, d, device=device, generator=gen)
    G = 2 * torch.randn(2000, d, device=device, generator=gen)
    potran.simulate(X, y, G, exit_ratio=0.0)  # warm-up
    torch.cuda.reset_peak_memory_stats(device)
    seconds, result = timed(lambda: potran.simulate(X, y, G, exit_ratio=0.0), device)  # all 6 steps
    print(f"GPU PED N={n} D={d} C={c}: {result.trace.steps} steps in {seconds:.3f} s, "
          f"peak GPU memory {torch.cuda.max_memory_allocated(device) / 2**20:.0f} MB (input float32 {X.nbytes / 2**20:.0f} MB)")


def main() -> int:
    if not torch.cuda.is_available():
        print("no CUDA device")
        return 2
    device = torch.device("cuda")
    print(torch.__version__, torch.cuda.get_device_name(device))
    ok = parity(device)
    speed(device)
    print("PARITY OK" if ok else "PARITY FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
