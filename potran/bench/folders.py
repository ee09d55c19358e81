"""Where the benchmark keeps what it computes, each folder defined once under
:func:`potran.resources.project_path`; the command line's defaults, the runner and the pages read
these names."""
from __future__ import annotations

from ..resources import project_path

__all__ = ["FEATURE_CACHE", "BENCH_OUT", "GROUNDTRUTH_OUT", "PAGES_OUT"]

#: Feature cache of :func:`potran.bench.features.extract_features` (shared by every run).
FEATURE_CACHE = project_path(".cache", "features")
#: Result folder of ``potran bench`` (cells/, scores.csv, tau.csv, README.md).
BENCH_OUT = project_path("data", "bench")
#: Result folder of ``potran groundtruth`` (cells/, snapshots/, accuracy.csv, README.md).
GROUNDTRUTH_OUT = project_path("data", "groundtruth")
#: Parent of the book pages' result folders (:meth:`potran.bench.settings.Setting.results`).
PAGES_OUT = project_path("_build")
