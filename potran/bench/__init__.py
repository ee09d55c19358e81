"""The offline benchmark: everything needed to test a transferability metric without downloads.

- :mod:`~potran.bench.settings` -- the setting registry: benchmark v3 (the default), the 4-target
  benchmark and the paper's setting, each opened by name with its committed data;
- :mod:`~potran.bench.datasets` -- target tasks, the general set and the pretraining source,
  all from images that pip packages ship;
- :mod:`~potran.bench.zoo` -- pretrained backbones that load offline (and
  :mod:`~potran.bench.zoo.pretrain`, which made our own);
- :mod:`~potran.bench.features` -- cached feature extraction;
- :mod:`~potran.bench.finetune` and :mod:`~potran.bench.groundtruth` -- the fine-tuning ground
  truth, one resumable cell per (model, target);
- :mod:`~potran.bench.reduction` -- the dimension protocol every score follows;
- :mod:`~potran.bench.sources` -- where a benchmark's models, images and features come from;
- :mod:`~potran.bench.folders` -- where it keeps what it computes (feature cache, result folders);
- :mod:`~potran.bench.runner` -- the scoring grid (every metric +/- PED);
- :mod:`~potran.bench.report` -- what the results can resolve: intervals, the random null band,
  ground-truth reliability and the static baselines;
- :mod:`~potran.bench.store` -- atomic result files and the cell store both grids share.

Command line: ``potran bench``, ``potran groundtruth``, ``potran pretrain``.
"""


def configure_torch(threads: int | None = None) -> None:
    """Set torch's CPU threads (None keeps them) and flush denormals to zero.

    Without flushing, some CPU runs of the zoo's networks are 10-20x slower.
    """
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
