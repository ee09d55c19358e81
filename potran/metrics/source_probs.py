"""LEEP (Nguyen et al., ICML 2020) and NCE (Tran et al., ICCV 2019); method page, §LEEP and §NCE.

Their "features" are the source classifier's N x Z softmax probabilities (LEEP) or any N x Z scores
whose argmax is the predicted source class (NCE).
"""
from __future__ import annotations

import numpy as np

from potran.backend import to_numpy
from potran.metrics.nleep import leep_from_posteriors
from potran.params import declare
from potran.validation import check_xy

NCE_EPS = 1e-20  # inside the log, as thuml's NCE


def _check_probabilities(P: np.ndarray) -> None:
    if (P < 0).any():
        raise ValueError("source probabilities must be non-negative (pass softmax outputs, not logits)")
    sums = P.sum(1)
    if not np.allclose(sums, 1.0, atol=1e-4):
        raise ValueError(f"each row of source probabilities must sum to 1 (found sums from {sums.min():.4g} "
                         f"to {sums.max():.4g}); pass softmax outputs, not logits")


@declare()
def leep(probs, y) -> float:
    """LEEP = mean_i log sum_z theta_iz P(y_i | z) with the empirical conditional P(y | z)."""
    P, labels = check_xy(to_numpy(probs), y, name="probs")
    _check_probabilities(P)
    return leep_from_posteriors(P, labels.codes, labels.n_classes, log=True)


@declare()
def nce(probs, y) -> float:
    """NCE = -H(Y | Z) with Z the source model's predicted class (argmax of ``probs``)."""
    P, labels = check_xy(to_numpy(probs), y, name="probs")
    z = P.argmax(1)
    joint = np.zeros((labels.n_classes, P.shape[1]))
    np.add.at(joint, (labels.codes, z), 1.0 / len(z))
    marginal = joint.sum(0, keepdims=True)
    used = marginal[0] > 0
    conditional = joint[:, used] / marginal[:, used]
    return float(np.sum(joint[:, used] * np.log(conditional + NCE_EPS)))
