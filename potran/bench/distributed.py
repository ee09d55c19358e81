"""Run a grid's (model, target) cells here or on a Dask distributed cluster.

Each cell function saves its cell atomically in a :class:`~potran.bench.store.CellStore` and
returns at once when it is there, so lost tasks can rerun (``retries``) and grids resume.
:func:`connect` takes an existing scheduler (``tcp://host:8786``, e.g. dask-jobqueue's on SLURM);
every worker needs potran and the same paths (results, feature cache) on a shared file system.
"""
from __future__ import annotations

__all__ = ["connect", "map_cells"]


def connect(scheduler: str | None, timeout: float = 30):
    """A ``dask.distributed.Client`` for the scheduler address, or None for local execution;
    ValueError when ``distributed`` is not installed or the scheduler does not answer within
    ``timeout`` seconds."""
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
    """``fn(*args, model, target, **kwargs)`` of every ``(model, target)`` of ``cells``, in their
    order: run here one after the other, or with a Dask ``client`` as independent tasks
    (``retries`` attempts each). ``on_done(result)`` is called here after each finished cell."""
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
