"""H-score (Bao et al., ICIP 2019) and its shrinkage-regularised form (Ibrahim et al., ICLR 2023);
method page, §H-score."""
from __future__ import annotations

import numpy as np
from sklearn.covariance import LedoitWolf

from potran.backend import blas_threads_for, to_numpy
from potran.params import FLAG, Interval, Option, declare
from potran.validation import check_xy

RCOND_OPTION = Option("rcond", (Interval(float, 0, None),), "relative cut-off of the pseudo-inverse")

RCOND = 1e-15
CONSTANT_RTOL = 1e-9  # a dimension whose std is below this share of the largest std is constant


def _class_mean_rows(features: np.ndarray, codes: np.ndarray, n_classes: int) -> np.ndarray:
    """Each row replaced by the mean feature of its class (g(x) in the H-score)."""
    sums = np.zeros((n_classes, features.shape[1]))
    np.add.at(sums, codes, features)
    return (sums / np.bincount(codes, minlength=n_classes)[:, None])[codes]


@declare(Option("standardize", FLAG, "z-score the features first"), RCOND_OPTION)
def hscore(X, y, *, standardize: bool = True, rcond: float = RCOND) -> float:
    """H-score ``tr(pinv(Cov_f) Cov_g)`` with sample covariances (higher is better; at most C - 1).

    ``standardize=True`` z-scores the features first (as Bolya et al.), which keeps ``pinv`` well
    conditioned when D > N. A dimension whose std is at most ``CONSTANT_RTOL`` times the largest is
    only centred, so PED's rounding on a constant dimension is not blown up to unit variance.
    """
    features, labels = check_xy(to_numpy(X), y)
    if standardize:
        std = features.std(0)
        constant = std <= CONSTANT_RTOL * std.max()
        features = (features - features.mean(0)) / np.where(constant, 1.0, std)
    with blas_threads_for(features.shape[0] * features.shape[1] ** 2 + features.shape[1] ** 3):
        cov_f = np.cov(features, rowvar=False)
        cov_g = np.cov(_class_mean_rows(features, labels.codes, labels.n_classes), rowvar=False)
        return float(np.trace(np.linalg.pinv(cov_f, rcond=rcond, hermitian=True) @ cov_g))


@declare(RCOND_OPTION)
def reg_hscore(X, y, *, rcond: float = RCOND) -> float:
    """Regularised H-score: Ledoit-Wolf shrunk feature covariance, ``tr(pinv(Cov_a) (1 - a) Cov_g)``."""
    features, labels = check_xy(to_numpy(X), y)
    features = features - features.mean(0)
    with blas_threads_for(features.shape[0] * features.shape[1] ** 2 + features.shape[1] ** 3):
        # store_precision=False: the estimator's own pseudo-inverse (an eigh) is not needed
        estimate = LedoitWolf(assume_centered=False, store_precision=False).fit(features)
        cov_g = np.cov(_class_mean_rows(features, labels.codes, labels.n_classes), rowvar=False)
        shrunk_inv = np.linalg.pinv(estimate.covariance_, rcond=rcond, hermitian=True)
        return float(np.trace(shrunk_inv @ ((1 - estimate.shrinkage_) * cov_g)))
