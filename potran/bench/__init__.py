"""The offline benchmark: everything needed to test a transferability metric without downloads
(book/api/benchmark.md; ``potran bench``, ``potran groundtruth``, ``potran pretrain``)."""


def configure_torch(threads: int | None = None) -> None:
    """Set torch's CPU threads (None keeps them) and flush denormals to zero (without it, some CPU
    runs of the zoo's networks are 10-20x slower)."""
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
