"""The CPU backend of the heavy linear algebra (potran.backend.cpu_blas): NumPy and torch give the
official numbers within the parity tolerances, and the choice is read, checked and overridable."""
import os
import subprocess
import sys

import numpy as np
import pytest
import test_parity
import torch

import potran
from potran import backend
from potran.metrics import gbc, logme, sfda

BACKENDS = backend.CPU_BLAS_CHOICES


@pytest.fixture(params=BACKENDS)
def cpu_blas(request):
    previous = backend.set_cpu_blas(request.param)
    yield request.param
    backend.set_cpu_blas(previous)


def test_parity_cases_hold_on_both_backends(cpu_blas, case):
    test_parity.test_logme(case)
    test_parity.test_sfda(case)
    for gaussian in ("spherical", "diagonal"):
        test_parity.test_gbc(case, gaussian)
    test_parity.test_ped_moved_features_and_trace(case)
    for metric, key, options, tol in [("logme", "ped_logme", {}, test_parity.REL),
                                      ("sfda", "ped_sfda", {}, test_parity.REL),
                                      ("gbc", "ped_gbc_spherical_pca64", {}, 1e-5)]:
        test_parity.test_ped_plus_metric(case, metric, key, options, tol)


@pytest.mark.parametrize("n,d", [(500, 40), (60, 200)], ids=["N>D", "D>N"])
def test_backends_agree_on_random_inputs(n, d):
    rng = np.random.default_rng(n)
    y = np.arange(n) % 7
    X = rng.normal(size=(7, d))[y] + rng.normal(size=(n, d)) * 2
    G = rng.normal(size=(300, d))
    values = {}
    for name in BACKENDS:
        previous = backend.set_cpu_blas(name)
        try:
            values[name] = [logme(X, y), logme(X, y, full_logdet=True), sfda(X, y), gbc(X, y, pca_dim=None),
                            potran.simulate(X, y, G).features]
        finally:
            backend.set_cpu_blas(previous)
    for a, b in zip(values["numpy"][:4], values["torch"][:4]):
        assert a == pytest.approx(b, rel=1e-10)
    np.testing.assert_allclose(values["numpy"][4], values["torch"][4], rtol=0, atol=1e-12)


def test_numpy_backend_computes_in_numpy_and_returns_tensors(cpu_blas, monkeypatch):
    calls = []
    real_eigh = np.linalg.eigh
    monkeypatch.setattr(np.linalg, "eigh", lambda a: calls.append(a.shape) or real_eigh(a))
    A = torch.randn(50, 6, dtype=torch.float64)
    S = backend.gram(A)
    evals, evecs = backend.eigh(S)
    assert isinstance(S, torch.Tensor) and isinstance(evecs, torch.Tensor)
    torch.testing.assert_close(S, A.T @ A, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(backend.gram(A, rows=True), A @ A.T, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(evecs @ torch.diag(evals) @ evecs.T, S, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(backend.solve(S, A.T), torch.linalg.solve(S, A.T), rtol=1e-10, atol=1e-10)
    assert calls == ([(6, 6)] if cpu_blas == "numpy" else [])


def test_set_cpu_blas_rejects_unknown_names():
    with pytest.raises(ValueError, match="cpu_blas must be one of"):
        backend.set_cpu_blas("mkl")


@pytest.mark.slow
@pytest.mark.parametrize("value,expected", [("torch", "torch"), ("numpy", "numpy"), (None, "numpy")])
def test_environment_variable_chooses_the_backend(value, expected):
    env = {k: v for k, v in os.environ.items() if k != backend.CPU_BLAS_ENV}
    if value is not None:
        env[backend.CPU_BLAS_ENV] = value
    code = "from potran.backend import cpu_blas; print(cpu_blas())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected


@pytest.mark.slow
def test_bad_environment_variable_is_a_clear_error():
    env = dict(os.environ, **{backend.CPU_BLAS_ENV: "blas"})
    code = "from potran.backend import cpu_blas; cpu_blas()"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "POTRAN_CPU_BLAS must be one of" in out.stderr


def _blas_threads():
    from threadpoolctl import threadpool_info

    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


@pytest.mark.blas_threads  # checks the default threads against the one the library chooses
def test_small_problems_run_on_one_blas_thread():
    default = _blas_threads()
    with backend.blas_threads_for(backend.SMALL_WORK):
        assert _blas_threads() == {1}
    with backend.blas_threads_for(backend.SMALL_WORK + 1):
        assert _blas_threads() == default
    assert _blas_threads() == default
    with backend.one_thread():
        assert _blas_threads() == {1}


def test_small_problem_metrics_do_not_depend_on_the_threads():
    from threadpoolctl import threadpool_limits

    from potran.metrics import knn, parc
    from potran.metrics.hscore import hscore, reg_hscore

    rng = np.random.default_rng(3)
    y = np.arange(400) % 5
    X = rng.normal(size=(5, 40))[y] + rng.normal(size=(400, 40))
    metrics = (hscore, reg_hscore, parc, knn)
    small = [m(X, y) for m in metrics]
    with threadpool_limits(limits=2), pytest.MonkeyPatch.context() as mp:
        mp.setattr(backend, "SMALL_WORK", 0)  # the default threads for these small problems
        threaded = [m(X, y) for m in metrics]
    assert small == pytest.approx(threaded, rel=1e-12)


def test_top_eigh_equals_the_leading_pairs_of_the_full_solver(cpu_blas):
    rng = np.random.default_rng(7)
    A = rng.normal(size=(700, backend.SUBSET_MIN_SIDE + 88))
    S = torch.from_numpy(A.T @ A)
    full_vals, full_vecs = torch.linalg.eigh(S)
    vals, vecs = backend.top_eigh(S, 64)
    assert vals.shape == (64,) and vecs.shape == (S.shape[0], 64)
    assert torch.all(vals[:-1] >= vals[1:])  # descending
    np.testing.assert_allclose(vals, full_vals.flip(0)[:64], rtol=1e-12)
    overlap = (vecs * full_vecs.flip(1)[:, :64]).sum(0).abs()  # same vectors up to sign
    np.testing.assert_allclose(overlap, 1.0, atol=1e-10)


def test_gbc_with_the_subset_solver_equals_the_full_solver(monkeypatch):
    rng = np.random.default_rng(3)
    y = np.repeat(np.arange(6), 120)
    X = rng.normal(size=(720, 600)) + rng.normal(size=(6, 600))[y]
    subset = gbc(X, y)
    monkeypatch.setattr(backend, "SUBSET_MIN_SIDE", 10**9)  # force the full eigh
    np.testing.assert_allclose(subset, gbc(X, y), rtol=1e-6)
