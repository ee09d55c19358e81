"""TransRate (Huang et al., ICML 2022): coding-rate gain of the features w.r.t. the labels.

Method page, §TransRate, in the Transfer-Learning-Library convention (centred features, unweighted
class average); the authors' repository normalises rows and weights classes differently.
"""
from __future__ import annotations

import numpy as np

from potran.backend import to_numpy
from potran.params import POSITIVE, Option, declare
from potran.validation import check_xy

EPS = 1e-4


def coding_rate(Z: np.ndarray, eps: float = EPS) -> float:
    """R(Z) = 1/2 logdet(I + Z^T Z / (n eps)), through the smaller of the two Gram matrices."""
    n, d = Z.shape
    gram = Z.T @ Z if d <= n else Z @ Z.T
    _, logdet = np.linalg.slogdet(np.eye(gram.shape[0]) + gram / (n * eps))
    return 0.5 * float(logdet)


@declare(Option("coding_eps", POSITIVE, "distortion ε of the coding rate"))
def transrate(X, y, *, coding_eps: float = EPS) -> float:
    """TransRate = R(Z) - mean_c R(Z_c) on centred features (higher is better); ``coding_eps`` is
    the coding rate's distortion ε (named apart from PED's ``eps``)."""
    features, labels = check_xy(to_numpy(X), y)
    Z = features - features.mean(0)
    per_class = [coding_rate(Z[labels.codes == c], coding_eps) for c in range(labels.n_classes)]
    return coding_rate(Z, coding_eps) - float(np.mean(per_class))
