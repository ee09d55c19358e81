"""Torch tensors are accepted; LogME, SFDA, GBC and PED compute on the tensor's device (CPU here)."""
import numpy as np
import pytest
import torch

import potran

from conftest import load_case


@pytest.fixture(scope="module")
def case2():
    return load_case(2)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("metric,options", [("logme", {}), ("sfda", {}), ("gbc", {"pca_dim": None}),
                                            ("gbc", {}), ("hscore", {}), ("parc", {})])
def test_tensor_input_matches_numpy(case2, metric, options, dtype):
    data, _ = case2
    X, y = data["X"], data["y"]
    expected = potran.score(X.astype(np.float32) if dtype == torch.float32 else X, y, metric, **options)
    got = potran.score(torch.as_tensor(X, dtype=dtype), torch.as_tensor(y), metric, **options)
    assert isinstance(got, float)
    assert got == pytest.approx(expected, rel=1e-10)


def test_ped_on_tensors_returns_a_tensor_on_the_same_device(case2):
    data, ref = case2
    result = potran.simulate(torch.as_tensor(data["X"]), torch.as_tensor(data["y"]),
                             torch.as_tensor(data["G"]))
    assert isinstance(result.features, torch.Tensor) and result.features.device.type == "cpu"
    assert (result.features.numpy() - data["X_moved_ped"]).__abs__().max() < 1e-12
    value = potran.score(torch.as_tensor(data["X"]), data["y"], "logme", ped=True, general=data["G"])
    assert value == pytest.approx(ref["ped_logme"], rel=1e-8)


def test_device_option(case2):
    data, ref = case2
    assert potran.score(data["X"], data["y"], "sfda", device="cpu") == pytest.approx(ref["sfda"], rel=1e-8)
    assert potran.score(data["X"], data["y"], "logme", ped=True, general=data["G"],
                        device="cpu") == pytest.approx(ref["ped_logme"], rel=1e-8)


def test_tensor_caller_is_not_mutated(case2):
    data, _ = case2
    X = torch.as_tensor(data["X"])
    X0 = X.clone()
    potran.score(X, data["y"], "sfda", ped=True, general=data["G"])
    assert torch.equal(X, X0)


def test_nan_tensor_rejected():
    X = torch.ones(10, 3)
    X[2, 1] = float("nan")
    with pytest.raises(ValueError, match="X contains NaN or Inf"):
        potran.score(X, np.repeat([0, 1], 5), "logme")
