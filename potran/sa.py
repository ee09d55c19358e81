"""SA: "spread and attract" feature perturbation (WACV 2025), as the authors' released code runs it
(method page, §SA). Memory beyond the input: O(N*D) plus O(C*k + C^2) for the attract step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg
import scipy.spatial.distance

from potran.backend import as_torch, is_tensor, to_numpy
from potran.params import COUNT, FLAG, POSITIVE, SEED, OneOf, Option, declare, options_of
from potran.validation import check_xy

#: alpha of the official drivers: group 1 (supervised ImageNet CNNs) and group 2 (self-supervised ResNet-50s)
ALPHAS = {"group1": 0.005, "group2": 0.1}
ALPHA = ALPHAS["group1"]     # the default of the official ``SA`` function
SIGMA = 0.6                  # radius coefficient of the attract step
N_COMPONENTS = 64            # dimension of the projection
PCA_SEED = 1919              # seed of the randomized SVD's Gaussian test matrix
OVERSAMPLES = 10             # extra test vectors of the randomized SVD
#: the official gate max(exp(-5 m), 1e-10) > 1e-9 is m > 9 ln(10) / 5 = 4.1447 (method page, eq-sa-gate)
GATE_MIN_EIGENVALUE = -math.log(1e-9) / 5.0
COINCIDENT = 1e-12           # means closer than this fraction of their contact distance: no direction


@dataclass
class SATrace:
    """What the perturbation did: ``gate_eigenvalues`` (2,), the raw features' two largest
    covariance eigenvalues; ``gate_open``, whether they were transformed; ``n_components`` of the
    projection, ``class_shifts`` (C, k; sorted-label order) and ``n_pairs_repelled`` (class pairs
    farther apart than ``sigma * (R_a + R_b)``), None while the gate is closed."""

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


def gate_eigenvalues(X: np.ndarray) -> np.ndarray:
    """The two largest eigenvalues of the population covariance of ``X`` (eq-sa-gate), from the
    smaller Gram matrix (the official D x D general solver agrees to rounding)."""
    A = X - X.mean(0)
    gram = A.T @ A if A.shape[0] >= A.shape[1] else A @ A.T
    size = gram.shape[0]
    top = scipy.linalg.eigh(gram / A.shape[0], eigvals_only=True,
                            subset_by_index=[max(size - 2, 0), size - 1])
    return top[::-1].copy()


def randomized_projection(X: np.ndarray, n_components: int, seed: int = PCA_SEED) -> np.ndarray:
    """The N x k scores ``U_k diag(s_k)`` of a one-iteration randomized SVD (eq-sa-rsvd): the steps
    of the official scikit-learn ``PCA(svd_solver="randomized", iterated_power=1)``, test matrix,
    sign rule and N < D transpose included."""
    A = X - X.mean(0)
    transpose = A.shape[0] < A.shape[1]
    M = A.T if transpose else A
    omega = np.random.RandomState(seed).normal(size=(M.shape[1], n_components + OVERSAMPLES))
    sketch = M @ (M.T @ (M @ omega))
    Q, _ = scipy.linalg.qr(sketch, mode="economic")
    U_hat, s, Vt = scipy.linalg.svd(Q.T @ M, full_matrices=False, lapack_driver="gesdd")
    U = Q @ U_hat
    k = n_components
    U_k, Vt_k = (Vt[:k].T, U[:, :k].T) if transpose else (U[:, :k], Vt[:k])
    signs = np.sign(Vt_k[np.arange(Vt_k.shape[0]), np.argmax(np.abs(Vt_k), axis=1)])
    return U_k * (signs * s[:k])


def class_geometry(Z: np.ndarray, codes: np.ndarray, n_classes: int):
    """Class means (C x k) and RMS radii R_c = sqrt(sum_j Var_c[z_j]) (population variances)."""
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    means = np.zeros((n_classes, Z.shape[1]))
    np.add.at(means, codes, Z)
    means /= counts[:, None]
    sq = np.zeros(n_classes)
    np.add.at(sq, codes, ((Z - means[codes]) ** 2).sum(1))
    return means, np.sqrt(sq / counts)


def spread_points(Z: np.ndarray, codes: np.ndarray, n_classes: int) -> np.ndarray:
    """The paper's spread (eq-sa-spread): every sample moves 1 away from its class mean (one at the
    mean stays). The official code discards it; :func:`perturb` applies it with ``spread=True``."""
    means, _ = class_geometry(Z, codes, n_classes)
    offset = Z - means[codes]
    norm = np.linalg.norm(offset, axis=1, keepdims=True)
    return Z + np.divide(offset, norm, out=np.zeros_like(offset), where=norm > 0)


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
    """Apply SA to features ``X`` (N x D) with labels ``y`` (method page, §SA): an :class:`SAResult`
    whose ``features`` are N x k float64 (the validated N x D input while the gate is closed), a
    tensor on the input's device for a tensor ``X``.

    Parameters
    ----------
    alpha : float or {"group1", "group2"}, default 0.005
        Attract step, not divided by C: "group1" = 0.005 (official driver for supervised ImageNet
        models, the official default), "group2" = 0.1 (self-supervised models).
    n_components : int, default 64
        Clipped to min(N, D) (the official code clips to N only, and raises for D < 64).
    gate : bool, default True
        The official gate (eq-sa-gate): features whose two largest covariance eigenvalues average
        at most 4.1447 are returned unchanged. False always transforms.
    """
    alpha = ALPHAS[alpha] if isinstance(alpha, str) else float(alpha)
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
    return SAResult(as_torch(features, X.device) if is_tensor(X) else features, trace)


#: Keyword options of :func:`perturb` that ``potran.score`` passes through.
OPTIONS = tuple(o.name for o in options_of(perturb))
