"""Straightforward transcriptions of the official algorithms (PED, LogME, SFDA, GBC; book/method.md).

Slow and memory hungry on purpose (dense C x C x D pair tensor, per-class loops, generalised
eigenproblem): they are the yardstick the fast implementations are compared with on random inputs.
The dense PED lives in ``potran.bench.timing`` (the runtime page times it) and is imported from there.
"""
import numpy as np
import scipy.linalg

from potran.bench.timing import dense_ped as ped_official  # noqa: F401 -- the dense C x C x D PED


def logme_official(F, y):
    F = F.astype(np.float64)
    n, d = F.shape
    if n > d:
        u, s, vh = np.linalg.svd(F.T @ F, full_matrices=True)
        s = np.sqrt(s)
        keep = s > 1e-10
        s, vh = s[keep], vh[keep]
        u = F @ vh.T / s
    else:
        u, s, vh = np.linalg.svd(F, full_matrices=False)
    sigma = s**2
    evidences = []
    for c in range(int(y.max()) + 1):
        yc = (y == c).astype(np.float64)
        x = u.T @ yc
        x2 = x**2
        r0 = yc @ yc - x2.sum()
        alpha, beta = 1.0, 1.0
        for _ in range(11):
            t = alpha / beta
            gamma = (sigma / (sigma + t)).sum()
            m2 = (sigma * x2 / (t + sigma) ** 2).sum()
            res2 = (x2 / (1 + sigma / t) ** 2).sum() + r0
            alpha = gamma / (m2 + 1e-5)
            beta = (n - gamma) / (res2 + 1e-5)
            if abs(alpha / beta - t) / t <= 1e-3:
                break
        ev = (d / 2 * np.log(alpha) + n / 2 * np.log(beta) - 0.5 * np.log(alpha + beta * sigma).sum()
              - beta / 2 * res2 - alpha / 2 * m2 - n / 2 * np.log(2 * np.pi))
        evidences.append(ev / n)
    return float(np.mean(evidences))


def _lda_proba(X, y, shrinkage=None):
    classes = np.unique(y)
    priors = np.bincount(y) / len(y)
    means = np.array([X[y == c].mean(0) for c in classes])
    Sw = sum(priors[c] * np.cov(X[y == c].T, bias=1) for c in classes)
    if shrinkage is None:
        x = Sw.sum(1)
        for _ in range(3):
            v = Sw @ x
            v = v / np.linalg.norm(v)
            x = Sw @ v
            x = x / np.linalg.norm(x)
        shrinkage = max(np.exp(-5 * (x @ Sw @ v)), 1e-10)
    d = X.shape[1]
    St = (1 - shrinkage) * np.cov(X.T, bias=1) + shrinkage * np.trace(np.cov(X.T, bias=1)) / d * np.eye(d)
    Sw_s = (1 - shrinkage) * Sw + shrinkage * np.trace(Sw) / d * np.eye(d)
    evals, evecs = scipy.linalg.eigh(St - Sw_s, Sw_s)
    evecs = evecs[:, np.argsort(evals)[::-1]]
    coef = means @ evecs @ evecs.T
    intercept = -0.5 * np.diag(means @ coef.T) + np.log(priors)
    scores = X @ coef.T + intercept
    p = np.exp(scores - scores.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True), shrinkage


def sfda_official(X, y):
    X = X.astype(np.float64).copy()
    C = len(np.unique(y))
    prob, shrinkage = _lda_proba(X, y)
    prob = np.exp(prob) / np.exp(prob).sum(1, keepdims=True)
    means = np.array([X[y == c].mean(0) for c in range(C)])
    outer = (means.sum(0) - means) / (C - 1)
    for c in range(C):
        idx = np.where(y == c)[0]
        p = prob[idx, c][:, None]
        X[idx] = p * X[idx] + (1 - p) * outer[c]
    prob2, _ = _lda_proba(X, y, shrinkage)
    return float(prob2[np.arange(len(y)), y].mean())


def gbc_official(X, y, gaussian="spherical"):
    C = int(y.max()) + 1
    mu = np.array([X[y == c].mean(0) for c in range(C)])
    var = np.maximum(np.array([X[y == c].var(0) for c in range(C)]), 1e-4)
    if gaussian == "spherical":
        var = var.mean(1, keepdims=True)
    total = 0.0
    for i in range(C):
        for j in range(C):
            if i != j:
                avg = (var[i] + var[j]) / 2
                db = ((mu[i] - mu[j]) ** 2 / avg).sum() / 8 + 0.5 * (
                    np.log(avg).sum() - 0.5 * np.log(var[i]).sum() - 0.5 * np.log(var[j]).sum())
                total += np.exp(-db)
    return -total
