"""SA: "spread and attract" feature perturbation ("Feature Space Perturbation", WACV 2025).

As the authors' released code runs it (the code behind the paper's numbers): the book's method
page, §SA. Memory beyond the input: the centred copy and the projection (O(N*D)), O(C*k + C^2)
for the attract step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg
import scipy.spatial.distance

from potran.backend import is_tensor, to_numpy
from potran.params import COUNT, FLAG, POSITIVE, SEED, OneOf, Option, declare, options_of
from potran.validation import check_xy

#: alpha of the official drivers: group 1 (supervised ImageNet CNNs) and group 2 (self-supervised ResNet-50s)
ALPHAS = {"group1": 0.005, "group2": 0.1}
ALPHA = ALPHAS["group1"]     # the default of the official ``SA`` function
SIGMA = 0.6                  # radius coefficient of the attract step
N_COMPONENTS = 64            # dimension of the projection
PCA_SEED = 1919              # seed of the randomized SVD's Gaussian test matrix
OVERSAMPLES = 10             # extra test vectors of the randomized SVD
GATE_FACTOR = 5.0            # the gate compares max(exp(-5 m), 1e-10) with 1e-9 ...
GATE_FLOOR = 1e-10
GATE_THRESHOLD = 1e-9
#: ... which is the same as m > 9 ln(10) / 5 = 4.1447 (method page, eq-sa-gate)
GATE_MIN_EIGENVALUE = -math.log(GATE_THRESHOLD) / GATE_FACTOR
SPREAD_FORCE = 1.0           # step length of the (optional) spread
COINCIDENT = 1e-12           # means closer than this fraction of their contact distance: no direction


@dataclass
class SATrace:
    """What the perturbation did.

    Attributes
    ----------
    gate_eigenvalues : ndarray (2,)
        The two largest eigenvalues of the population covariance of the raw features.
    gate_open : bool
        Whether the features were transformed (``m > GATE_MIN_EIGENVALUE``, or ``gate=False``).
    n_components : int or None
        Dimension of the projection (None when the gate kept the raw features).
    class_shifts : ndarray (C, k) or None
        The attract step's translation of every class (rows in the order of the sorted labels).
    n_pairs_repelled : int or None
        Unordered class pairs farther apart than ``sigma * (R_a + R_b)``, which the attract step
        pushes apart.
    """

    gate_eigenvalues: Any = field(default=None, repr=False)
    gate_open: bool = False
    n_components: int | None = None
    class_shifts: Any = field(default=None, repr=False)
    n_pairs_repelled: int | None = None

    @property
    def gate_mean(self) -> float:
        """m, the mean of the two gate eigenvalues."""
        return float(np.mean(self.gate_eigenvalues))

    def to_dict(self) -> dict[str, Any]:
        """The scalar summary, JSON-ready (the shifts as their per-class norms)."""
        norms = None if self.class_shifts is None else np.linalg.norm(self.class_shifts, axis=1).tolist()
        return {"gate_eigenvalues": np.asarray(self.gate_eigenvalues).tolist(), "gate_mean": self.gate_mean,
                "gate_open": self.gate_open, "n_components": self.n_components,
                "class_shift_norms": norms, "n_pairs_repelled": self.n_pairs_repelled}


@dataclass
class SAResult:
    """Perturbed features (NumPy float64, or a float64 tensor on the input's device) and the trace."""

    features: Any
    trace: SATrace


def resolve_alpha(alpha) -> float:
    """``alpha`` as a number: a positive float, or ``"group1"`` / ``"group2"`` (:data:`ALPHAS`)."""
    return ALPHAS[alpha] if isinstance(alpha, str) else float(alpha)


def gate_eigenvalues(X: np.ndarray) -> np.ndarray:
    """The two largest eigenvalues of the population covariance of ``X`` (method page,
    eq-sa-gate), from the smaller Gram matrix; the official code's general solver on the D x D
    covariance gives the same values up to rounding."""
    A = X - X.mean(0)
    gram = A.T @ A if A.shape[0] >= A.shape[1] else A @ A.T
    size = gram.shape[0]
    top = scipy.linalg.eigh(gram / A.shape[0], eigvals_only=True,
                            subset_by_index=[max(size - 2, 0), size - 1])
    return top[::-1].copy()


def randomized_projection(X: np.ndarray, n_components: int, seed: int = PCA_SEED) -> np.ndarray:
    """The N x k scores ``U_k diag(s_k)`` of a one-iteration randomized SVD (method page,
    eq-sa-rsvd): the steps of scikit-learn's ``PCA(svd_solver="randomized", iterated_power=1,
    random_state=1919)``, which the official code calls, test matrix of ``k + 10`` columns from
    ``np.random.RandomState(seed)``, sign rule and, for N < D, the transpose included."""
    A = X - X.mean(0)
    transpose = A.shape[0] < A.shape[1]
    M = A.T if transpose else A
    omega = np.random.RandomState(seed).normal(size=(M.shape[1], n_components + OVERSAMPLES))
    sketch = M @ (M.T @ (M @ omega))
    Q, _ = scipy.linalg.qr(sketch, mode="economic")
    U_hat, s, Vt = scipy.linalg.svd(Q.T @ M, full_matrices=False, lapack_driver="gesdd")
    U = Q @ U_hat
    if transpose:
        U_k, Vt_k = Vt[:n_components].T, U[:, :n_components].T
    else:
        U_k, Vt_k = U[:, :n_components], Vt[:n_components]
    s_k = s[:n_components]
    signs = np.sign(Vt_k[np.arange(Vt_k.shape[0]), np.argmax(np.abs(Vt_k), axis=1)])
    return U_k * (signs * s_k)


def class_geometry(Z: np.ndarray, codes: np.ndarray, n_classes: int):
    """Class means (C x k) and RMS radii R_c = sqrt(sum_j Var_c[z_j]) (population variances)."""
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    means = np.zeros((n_classes, Z.shape[1]))
    np.add.at(means, codes, Z)
    means /= counts[:, None]
    sq = np.zeros(n_classes)
    np.add.at(sq, codes, ((Z - means[codes]) ** 2).sum(1))
    return means, np.sqrt(sq / counts)


def spread_points(Z: np.ndarray, codes: np.ndarray, n_classes: int,
                  force: float = SPREAD_FORCE) -> np.ndarray:
    """The paper's spread: move every sample ``force`` away from its class mean (method page, eq-sa-spread).

    A sample exactly at its class mean stays there. The official code computes this but
    discards it; :func:`perturb` applies it only with ``spread=True``.
    """
    means, _ = class_geometry(Z, codes, n_classes)
    offset = Z - means[codes]
    norm = np.linalg.norm(offset, axis=1, keepdims=True)
    return Z + force * np.divide(offset, norm, out=np.zeros_like(offset), where=norm > 0)


def attract_shifts(means: np.ndarray, radii: np.ndarray, alpha: float, sigma: float):
    """Translation of every class (method page, eq-sa-attract, as ``W mu - diag(W 1) mu``: O(C^2)
    memory) and the number of pairs it pushes apart. Coincident means (closer than ``COINCIDENT``
    times ``sigma (R_a + R_b)``) do not act on each other (the official code divides 0 by 0)."""
    centred = means - means.mean(0)
    distances = scipy.spatial.distance.cdist(centred, centred)
    contact = sigma * (radii[:, None] + radii[None, :])
    apart = distances > COINCIDENT * contact
    np.fill_diagonal(apart, False)
    weight = np.where(apart, alpha * (contact - distances) / np.where(apart, distances, 1.0), 0.0)
    shifts = weight @ centred - weight.sum(1, keepdims=True) * centred
    repelled = int(np.triu(apart & (distances > contact), 1).sum())
    return shifts, repelled


@declare(
    Option("alpha", (*POSITIVE, OneOf(tuple(ALPHAS))), "attract step size (group1: supervised, group2: "
           "self-supervised models, the official drivers' values)"),
    Option("sigma", POSITIVE, "radius coefficient: closer classes attract, farther ones repel"),
    Option("n_components", COUNT, "dimension of the randomized PCA projection"),
    Option("pca_seed", SEED, "seed of the randomized SVD"),
    Option("gate", FLAG, "apply the official gate on the covariance's two largest eigenvalues"),
    Option("spread", FLAG, "spread every class first, as the paper describes (the official code does not)"),
)
def perturb(X, y, *, alpha: float | str = ALPHA, sigma: float = SIGMA, n_components: int = N_COMPONENTS,
            pca_seed: int = PCA_SEED, gate: bool = True, spread: bool = False) -> SAResult:
    """Apply SA to features ``X`` (N x D) with labels ``y`` (method page, §SA).

    Parameters
    ----------
    alpha : float or {"group1", "group2"}, default 0.005
        Attract step, not divided by the number of classes: "group1" = 0.005 (the official
        driver for supervised ImageNet models, the official function's default), "group2" = 0.1
        (self-supervised models).
    sigma : float, default 0.6
        Radius coefficient: classes closer than ``sigma * (R_a + R_b)`` attract, farther ones repel.
    n_components : int, default 64
        Clipped to min(N, D) (the official code clips to N only and raises for D < 64 when the
        gate is open).
    pca_seed : int, default 1919
        Seed of the randomized SVD (the official value).
    gate : bool, default True
        The official gate (eq-sa-gate): features whose two largest covariance eigenvalues average
        at most 4.1447 are returned unchanged. False always transforms.
    spread : bool, default False
        True spreads every class (eq-sa-spread) before the attract step, as the paper describes;
        the official code's spread has no effect.

    Returns
    -------
    SAResult
        ``features``: N x k float64 (N x D, the validated input, when the gate stays closed);
        a tensor on the input's device when ``X`` is a tensor. ``trace``: an :class:`SATrace`.
    """
    alpha = resolve_alpha(alpha)
    features, labels = check_xy(to_numpy(X), y)
    trace = SATrace(gate_eigenvalues=gate_eigenvalues(features))
    trace.gate_open = (not gate) or trace.gate_mean > GATE_MIN_EIGENVALUE
    if trace.gate_open:
        k = int(min(n_components, *features.shape))
        Z = randomized_projection(features, k, pca_seed)
        if spread:
            Z = spread_points(Z, labels.codes, labels.n_classes)
        means, radii = class_geometry(Z, labels.codes, labels.n_classes)
        shifts, trace.n_pairs_repelled = attract_shifts(means, radii, alpha, sigma)
        features = Z + shifts[labels.codes]
        trace.n_components, trace.class_shifts = k, shifts
    else:
        features = features.copy()  # never hand out a view of the caller's array
    if is_tensor(X):
        import torch

        return SAResult(torch.as_tensor(features, dtype=torch.float64, device=X.device), trace)
    return SAResult(features, trace)


#: Keyword options of :func:`perturb` that ``potran.score`` passes through.
OPTIONS = tuple(o.name for o in options_of(perturb))
