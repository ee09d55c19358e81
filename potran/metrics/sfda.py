"""SFDA: self-challenging Fisher discriminant analysis (Shao et al., ECCV 2022); method page, §SFDA.

The reference keeps all D generalised eigenvectors V of (S_b, S_w~), so its classifier
``M V V^T`` equals ``M S_w~^{-1}``: one linear solve instead of the generalised eigenproblem.
"""
from __future__ import annotations

import math

import torch

from potran.backend import as_torch, class_means, gram, labels_to_torch, matmul, solve
from potran.params import DEVICE, Option, declare
from potran.validation import check_xy

POWER_ITERATIONS = 3
SHRINKAGE_FLOOR = 1e-10


def _within_scatter(X, codes, means):
    """S_w = sum_c (n_c/N) Cov_c (population covariances): the class-centred rows' Gram matrix / N."""
    return gram(X - means[codes]) / X.shape[0]


def _largest_eigenvalue(S):
    """Three rounds of power iteration started from the row sums (the reference's ``iterative_A``)."""
    x = S.sum(1)
    for _ in range(POWER_ITERATIONS):
        y = S @ x
        y = y / torch.linalg.vector_norm(y)
        x = S @ y
        x = x / torch.linalg.vector_norm(x)
    return float(x @ S @ y)


def _shrink(S, shrinkage):
    d = S.shape[0]
    out = (1.0 - shrinkage) * S
    out.diagonal().add_(shrinkage * torch.trace(S) / d)
    return out


def _lda_probabilities(X, codes, n_classes, shrinkage=None):
    """Fit shrinkage LDA and return (class probabilities on X, the shrinkage used)."""
    n = X.shape[0]
    priors = torch.bincount(codes, minlength=n_classes).to(X.dtype) / n
    means = class_means(X, codes, n_classes)
    S_w = _within_scatter(X, codes, means)
    if shrinkage is None:
        shrinkage = max(math.exp(-5.0 * _largest_eigenvalue(S_w)), SHRINKAGE_FLOOR)
    S_w = _shrink(S_w, shrinkage)
    coef = solve(S_w, means.T).T                     # = M V V^T of the reference
    intercept = -0.5 * (means * coef).sum(1) + torch.log(priors)
    logits = matmul(X, coef.T) + intercept
    return torch.softmax(logits, dim=1), shrinkage


@declare(Option("device", DEVICE, "torch device (default: the input's)"))
def sfda(X, y, *, device=None) -> float:
    """SFDA score: mean probability of the true class after the ConfMix self-challenge. Unlike the
    reference, ``X`` is never modified (method page, quirk 1). With D > N the score saturates at 1.
    """
    X, labels = check_xy(X, y)
    F = as_torch(X, device)
    codes = labels_to_torch(labels.codes, F.device)
    C = labels.n_classes
    probs, shrinkage = _lda_probabilities(F, codes, C)
    soft = torch.softmax(probs, dim=1)                   # "soften" probabilities (method page)
    means = class_means(F, codes, C)
    outer = (means.sum(0, keepdim=True) - means) / (C - 1)
    p_true = soft[torch.arange(F.shape[0], device=F.device), codes][:, None]
    mixed = p_true * F + (1 - p_true) * outer[codes]     # ConfMix, on a copy
    probs2, _ = _lda_probabilities(mixed, codes, C, shrinkage)
    return float(probs2[torch.arange(F.shape[0], device=F.device), codes].mean())
