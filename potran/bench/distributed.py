"""Run a grid's (model, target) cells here or on a Dask distributed cluster.

Each cell function computes one cell and saves it atomically in a
:class:`~potran.bench.store.CellStore`, returning at once when the cell is already there. That
makes the grid safe to retry: a task lost with a worker is run again by Dask on another worker
(``retries``), a resumed grid skips finished cells, and two workers given the same cell
write the same file. Point :func:`connect` at an existing scheduler (``tcp://host:8786``), for
example one started by dask-jobqueue on SLURM or by the Dask Kubernetes operator; every worker
needs potran installed and the same paths (result folder, feature cache) on a shared file system.
"""
from __future__ import annotations

__all__ = ["connect", "map_cells"]


def connect(scheduler: str | None, timeout: float = 30):
    """A ``dask.distributed.Client`` for the scheduler address, or None for local execution.

    Raises
    ------
    ValueError
        When ``distributed`` is not installed (``pip install "potran[dask]"``) or the scheduler
        does not answer within ``timeout`` seconds.
    """
    if not scheduler:
        return None
    try:
        from distributed import Client
    except ModuleNotFoundError:
        raise ValueError("--scheduler needs dask's distributed package: "
                         'pip install "potran[dask]"') from None
    try:
        return Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError) as err:
        raise ValueError(f"cannot reach the Dask scheduler at {scheduler}: {err}") from None


def map_cells(fn, cells, *, client=None, progress: bool = True, desc: str = "cells",
              args=(), kwargs=None, retries: int = 3, on_done=None) -> list:
    """Call ``fn(*args, model, target, **kwargs)`` for every ``(model, target)`` of ``cells``.

    Locally (``client`` None) the calls run here in order; with a Dask client they are
    submitted as independent tasks (``retries`` attempts each, so a killed worker's cells run
    again elsewhere) and gathered as they finish. ``on_done(result)`` is called here after
    each finished cell. Returns the results in the order of ``cells``.
    """
    from tqdm.auto import tqdm

    kwargs = kwargs or {}
    cells = list(cells)
    bar = tqdm(total=len(cells), desc=desc, unit="cell", disable=not progress)
    if client is None:
        results = []
        for model, target in cells:
            bar.set_description(f"{model} / {target}")
            results.append(fn(*args, model, target, **kwargs))
            if on_done is not None:
                on_done(results[-1])
            bar.update()
        bar.close()
        return results
    from distributed import as_completed

    futures = [client.submit(fn, *args, model, target, **kwargs, key=f"{desc}-{model}-{target}",
                             pure=False, retries=retries) for model, target in cells]
    for future in as_completed(futures):
        if on_done is not None:
            on_done(future.result())
        bar.update()
    bar.close()
    return client.gather(futures)
