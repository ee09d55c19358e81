"""PED beside its successors, SA and NCTI, on one benchmark, for the successors page.

SA is a value of the perturbation axis (:mod:`potran.perturbations`), as PED is; NCTI's final score
is relative to the pool of models scored on a target (:func:`potran.metrics.ncti_pool_scores`).
Cells are scored the way the runner does (:func:`potran.bench.runner.cell_features`).
"""
from __future__ import annotations

import pandas as pd

from ..metrics import PED_METRICS
from ..perturbations import NONE, PED, SA, label
from .folders import FEATURE_CACHE

__all__ = ["SA_ALPHA", "sa_alpha", "score_cell", "score_cells", "ncti_scores"]

#: SA's step per setting: its authors' value for the kind of models ranked ("group2", 0.1, for
#: self-supervised ResNets on v4, whose ranked models are all self-supervised); "group1" (0.005,
#: supervised ImageNet models) elsewhere, e.g. on v3, whose zoo mixes kinds
SA_ALPHA = {"v4": "group2"}


def sa_alpha(setting: str) -> str:
    """SA's step on ``setting`` (:data:`SA_ALPHA`, else "group1")."""
    return SA_ALPHA.get(setting, "group1")

_COLUMNS = ["model", "target", "metric", "perturbation", "score", "seconds", "error"]
_NCTI = ["ncti_seli", "ncti_ncc", "ncti_vc"]


def score_cell(page, model: str, target: str, metrics=PED_METRICS, *, ped: str = PED, sa: str = SA,
               cache_dir=FEATURE_CACHE, device="cpu") -> dict:
    """One cell of :func:`score_cells`: ``{"model", "target", "ped", "sa", "rows", "cell"}``
    (``rows``: the score rows without model and target; ``cell``: the cell's columns of
    ``cells``, NaN written as None), the record that ``data/bench_v3/successors/cells/`` holds."""
    from ..metrics import ncti
    from .runner import attempt, move_all, score_moved

    arrays = page.cell_features(model, target, cache_dir=cache_dir, device=device)
    X, y, G = arrays["X_scored"], arrays["y"], arrays["G_scored"]
    moved = move_all(X, y, G, (NONE, ped, sa))
    motion, perturbed = moved[ped][0], moved[sa][0]
    components, error, _ = attempt(ncti, X, y)
    cell = {"n": len(y), "dim": int(X.shape[1]),
            "sa_gate_mean": None if perturbed is None else float(perturbed.trace.gate_mean),
            "sa_gate_open": None if perturbed is None else bool(perturbed.trace.gate_open),
            "ped_steps": None if motion is None else int(motion.trace.steps),
            **{f"ncti_{k}": (None if components is None else float(getattr(components, k)))
               for k in ("seli", "ncc", "vc")}, "ncti_error": error}
    rows = [{k: r[k] for k in _COLUMNS[2:]} for r in score_moved(moved, y, metrics)]
    return {"model": model, "target": target, "ped": ped, "sa": sa, "rows": rows, "cell": cell}


def score_cells(page, metrics=PED_METRICS, *, sa_options=None, ped_options=None,
                cache_dir=FEATURE_CACHE, device="cpu", progress: bool = False):
    """Score every cell of ``page`` with each metric alone, after PED and after SA, and NCTI; a
    cell of the setting's committed ``"successors"`` folder (``page.data``) with the same PED, SA
    and every metric asked for is read from it.

    ``sa_options``, ``ped_options``: of :func:`potran.sa.perturb` and :func:`potran.ped.simulate`,
    written into the perturbation labels (:func:`potran.perturbations.label`). Returns ``scores``
    (model, target, metric, perturbation: ``"none"``, the PED label, the SA label; score, seconds,
    error) and ``cells`` (model, target, n, dim, sa_gate_mean: mean of the two largest covariance
    eigenvalues, sa_gate_open, ped_steps, ncti_seli, ncti_ncc, ncti_vc: NaN where NCTI failed).
    """
    from tqdm.auto import tqdm

    from .store import CellStore

    ped, sa = label(PED, **(ped_options or {})), label(SA, **(sa_options or {}))
    folders = getattr(page, "data", {})
    committed = CellStore(folders["successors"]) if "successors" in folders else None
    rows, cells = [], []
    pairs = [(m, t) for t in page.targets for m in page.models]
    for model, target in tqdm(pairs, desc="successors", unit="cell", disable=not progress):
        record = committed.load(model, target) if committed is not None else None
        if (record is None or (record["ped"], record["sa"]) != (ped, sa)
                or not set(metrics) <= {r["metric"] for r in record["rows"]}):
            record = score_cell(page, model, target, metrics, ped=ped, sa=sa, cache_dir=cache_dir,
                                device=device)
        rows += [dict(r, model=model, target=target) for r in record["rows"] if r["metric"] in metrics]
        cells.append({"model": model, "target": target, **record["cell"]})
    scores = pd.DataFrame(rows, columns=_COLUMNS)
    scores["score"] = scores["score"].astype(float)
    cells = pd.DataFrame(cells)
    return scores, cells.astype({k: float for k in _NCTI if k in cells})


def ncti_scores(cells: pd.DataFrame) -> pd.DataFrame:
    """NCTI's final scores: each target's models normalised as one pool (cells NCTI failed on are
    left out of their pool). Columns model, target, metric ("ncti"), perturbation ("none"), score."""
    from ..metrics import ncti_pool_scores

    parts = []
    for target, grp in cells.dropna(subset=_NCTI).groupby("target", sort=False):
        pool = ncti_pool_scores(list(grp[_NCTI].itertuples(index=False, name=None)))
        parts.append(pd.DataFrame({"model": grp.model.to_numpy(), "target": target, "metric": "ncti",
                                   "perturbation": NONE, "score": pool}))
    if not parts:
        return pd.DataFrame(columns=["model", "target", "metric", "perturbation", "score"])
    return pd.concat(parts, ignore_index=True)
