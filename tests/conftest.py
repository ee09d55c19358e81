"""Shared fixtures, and the split between the fast loop and the full suite.

``pytest -m "not slow"`` is the fast loop: the library's behaviour (metrics and their parity with
the official code, PED, SA, statistics, validation and error messages, parameters, the stores, the
command line's argument errors, the benchmark layer on small fakes: tests/fake_zoo.py,
tests/fake_paper.py) on small inputs. ``slow`` marks the tests that build real datasets or targets,
build real zoo networks or extract their features, fine-tune them, execute the book's notebooks,
build the site or the wheel, start fresh interpreters or a Dask cluster, or run long property
searches. A heavy test of a core property is made cheaper (smaller sizes, a shared fixture) rather
than marked, and every module keeps a fast test of a real property. ``make test`` (CI) runs all,
one process per core (pytest-xdist, a file in one process): the longest files start first.
"""
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

#: the files that take longest (the site test builds the book; the pages that take the paper's
#: setting run on its stand-ins): collected first, so that a parallel run does not leave one of
#: them for the end
LONGEST_FIRST = ("test_site.py", "test_notebooks.py")


def pytest_collection_modifyitems(items):
    """Put `LONGEST_FIRST`'s tests at the front, keeping the order within each part."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(scope="session")
def thread_pools():
    """The process's BLAS and OpenMP thread pools (inspected once, after collection has loaded the
    libraries) and their default sizes; torch's default threads are restored at the end."""
    import torch
    from threadpoolctl import ThreadpoolController

    controller = ThreadpoolController()
    default = {}
    for info in controller.info():
        default[info["user_api"]] = max(default.get(info["user_api"], 1), info["num_threads"])
    torch_threads = torch.get_num_threads()
    yield controller, default
    torch.set_num_threads(torch_threads)


@pytest.fixture(autouse=True)
def one_thread(request, thread_pools):
    """One torch, BLAS and OpenMP thread for every test, set again before each (a command under
    test sets its own, ``--threads``, and keeps them). The tests' problems and networks are small,
    and on this project's loaded 2-core machine a second thread only contends: a fake fine-tuning
    cell ran 15x slower with two torch threads; NCTI on parity case 2 took 2.2 s with two BLAS
    threads, 0.08 s with one (tests/test_sa_ncti.py: 60 s of CPU, 9 s). Results are the same to
    rounding (`potran.backend.blas_threads_for`). A test marked ``blas_threads`` (one that checks
    how the library chooses threads, or a reference made on the default threads) gets the
    process's default BLAS and OpenMP threads."""
    import torch

    controller, default = thread_pools
    torch.set_num_threads(1)
    limits = default if request.node.get_closest_marker("blas_threads") else 1
    with controller.limit(limits=limits):
        yield


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
