"""The scoring grid on a real Dask cluster (scheduler + 2 worker processes on 127.0.0.1).

One worker is killed while it scores; the cluster reruns its cells elsewhere, and the results
must equal the local run's, with every cell present once.
"""
import json
import logging
import os
import signal
import time

import distributed
import pandas as pd
import pytest

from potran.bench import runner  # noqa: E402
from potran.bench.distributed import connect, map_cells  # noqa: E402
from potran.bench.finetune import FinetuneConfig  # noqa: E402

BENCH = runner.Benchmark(models=("conv4_random", "conv4_supervised", "conv4_simclr", "conv4_rotation"),
                         targets=("fonts",), metrics=("logme", "random"),
                         finetune=FinetuneConfig(n_train=240))


def test_connect_without_scheduler_is_local():
    assert connect(None) is None and connect("") is None


def test_connect_to_nothing_says_so():
    with pytest.raises(ValueError, match="cannot reach the Dask scheduler"):
        connect("tcp://127.0.0.1:9", timeout=2)


def _slow_square(delay, model, target):
    time.sleep(delay)
    return f"{model}/{target}", os.getpid()


def test_map_cells_local_keeps_order_and_calls_back():
    seen = []
    out = map_cells(_slow_square, [("a", "t"), ("b", "t")], args=(0,), progress=False,
                    on_done=seen.append)
    assert [r[0] for r in out] == ["a/t", "b/t"] and seen == out


@pytest.mark.slow
def test_grid_on_a_cluster_survives_a_killed_worker(tmp_path):
    cache = tmp_path / "cache"
    local, _ = runner.run(BENCH, tmp_path / "local", cache_dir=cache, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster) as client:
        pids = client.run(os.getpid)
        victim = sorted(pids)[0]
        out = tmp_path / "cluster"
        futures = [client.submit(runner.score_one, BENCH, m, t, str(out), cache_dir=str(cache),
                                 key=f"cell-{m}", pure=False, retries=3)
                   for t in BENCH.targets for m in BENCH.models]
        deadline = time.time() + 120
        while not any(f.done() for f in futures) and time.time() < deadline:
            time.sleep(0.05)
        os.kill(pids[victim], signal.SIGKILL)  # a worker dies mid-grid
        distributed.wait(futures, timeout=300)
        assert all(f.status == "finished" for f in futures)
        remote, _ = runner.run(BENCH, out, cache_dir=cache, progress=False, client=client)
    files = sorted(p.name for p in (out / "cells").glob("*.json"))
    assert files == sorted(f"{m}__fonts.json" for m in BENCH.models)
    for name in files:  # each cell scored once: one row per (metric, perturbation)
        rows = json.loads((out / "cells" / name).read_text())["rows"]
        assert len(rows) == len({(r["metric"], r["perturbation"]) for r in rows}) == 4
    key = ["model", "target", "metric", "perturbation"]
    pd.testing.assert_frame_equal(local.sort_values(key)[key + ["score"]].reset_index(drop=True),
                                  remote.sort_values(key)[key + ["score"]].reset_index(drop=True))
