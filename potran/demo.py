"""A short tour of scoring: rank five synthetic "models" for one task, with and without PED.

Each model's features are the same classes seen through a different amount of class overlap,
so the right ranking is known: less overlap = better model. Run with ``python -m potran.demo``.
"""
from __future__ import annotations

import numpy as np

import potran
from potran.evaluation import weighted_tau

METRICS = ("logme", "sfda", "gbc", "hscore", "transrate", "norm")


def synthetic_zoo(n_models: int = 5, n_classes: int = 8, per_class: int = 60, dim: int = 32, seed: int = 0):
    """Features of ``n_models`` models on one task, quality decreasing with the model index."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_classes), per_class)
    centres = rng.normal(0, 1, (n_classes, dim))
    zoo = {}
    for m in range(n_models):
        spread = 1.5 + 0.5 * m
        mix = np.eye(dim) + 0.2 * rng.normal(size=(dim, dim))
        zoo[f"model-{m}"] = ((centres[y] + spread * rng.normal(size=(len(y), dim))) @ mix,
                             rng.normal(0, spread, (300, dim)) @ mix)
    accuracy = {name: 1.0 - 0.05 * i for i, name in enumerate(zoo)}   # known ground truth
    return zoo, y, accuracy


def main() -> None:
    zoo, y, accuracy = synthetic_zoo()
    models = list(zoo)
    print(f"{len(models)} models, {len(y)} samples, {len(np.unique(y))} classes; ground truth: {accuracy}")
    print(f"{'metric':10s} {'PED':>4s}  " + "  ".join(f"{m:>9s}" for m in models) + "   tau_w")
    for metric in METRICS:
        for ped in (False, True):
            scores = [potran.score(X, y, metric, ped=ped, general=G if ped else None)
                      for X, G in zoo.values()]
            tau = weighted_tau(scores, [accuracy[m] for m in models])
            print(f"{metric:10s} {'yes' if ped else 'no':>4s}  " + "  ".join(f"{s:9.4f}" for s in scores)
                  + f"   {tau:6.3f}")
    X, G = zoo[models[0]]
    trace = potran.simulate(X, y, G).trace
    print(f"\nPED on {models[0]}: {trace.steps} steps, potential energy "
          + " -> ".join(f"{e:.1f}" for e in trace.energies))


if __name__ == "__main__":
    main()
