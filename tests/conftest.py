import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

# Property tests: a fixed set of examples by default, so that CI never fails at random
# (`derandomize` draws the same examples on every machine); HYPOTHESIS_PROFILE=explore searches
# afresh with more examples and keeps the failures it finds in .hypothesis/.
settings.register_profile("fixed", max_examples=10, derandomize=True, database=None)
settings.register_profile("explore", max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fixed"))


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """One torch intra-op thread for the tests: their networks are tiny, and on a shared 2-core
    machine a second thread only contends (a fake fine-tuning cell ran 15x slower with two). The
    commands under test set their own (``--threads``); tests that need more set them."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


PARITY = Path(__file__).parent / "parity"
CASES = (1, 2, 3)


def load_case(k: int):
    arrays = np.load(PARITY / f"case_{k}.npz")
    expected = json.loads((PARITY / f"case_{k}.json").read_text())
    return {name: arrays[name] for name in arrays.files}, expected


@pytest.fixture(params=CASES, ids=[f"case{k}" for k in CASES])
def case(request):
    return load_case(request.param)


def blobs(n_per_class=(30, 40, 25), dim=12, seed=0, spread=1.0):
    """Small Gaussian classes with distinct centres."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for c, n in enumerate(n_per_class):
        centre = rng.normal(0, 2, dim)
        X.append(centre + spread * rng.normal(size=(n, dim)))
        y.append(np.full(n, c))
    return np.vstack(X), np.concatenate(y)


@pytest.fixture
def small():
    X, y = blobs()
    G = np.random.default_rng(1).normal(size=(50, X.shape[1]))
    return X, y, G
