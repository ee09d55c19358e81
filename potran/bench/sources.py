"""Where a benchmark's models, images and features come from: one :class:`Sources` object.

Runs see only the four callables of their ``sources``; change one with ``dataclasses.replace``,
e.g. ``replace(OFFLINE, load_general=lambda: images)``. The instances: book/api/benchmark.md.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import datasets, features, zoo

__all__ = ["Sources", "OFFLINE"]


@dataclass(frozen=True)
class Sources:
    """The four data sources of a benchmark: ``get_model`` (name -> a model with ``build()``,
    ``preprocess(images)``, ``name``, ``feature_dim``, as :class:`potran.bench.zoo.ZooModel`),
    ``load_target`` (name -> ``name``, ``x_train``, ``y_train``, ``x_test``, ``y_test``, as
    :class:`potran.bench.datasets.Target`), ``load_general`` (() -> the general set's images, as
    ``extract`` takes them) and ``extract`` (``extract(model, images, *, device, cache_dir, key,
    progress)`` -> features (N x D), as :func:`potran.bench.features.extract_features`; ``key``:
    ``"general"``, ``"<target>/train-n<N>"``)."""

    get_model: Callable
    load_target: Callable
    load_general: Callable
    extract: Callable


#: The offline benchmark's sources.
OFFLINE = Sources(get_model=zoo.get, load_target=datasets.load_target,
                  load_general=datasets.load_general, extract=features.extract_features)
