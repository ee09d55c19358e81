"""What every page of the book does: its set-up, and a figure shown with its caption.

The pages (``notebooks/*.py``) call :func:`setup_page` once and show their figures with
:func:`show` (``show = partial(book.show, folder=out_dir)``), so that both are written once.
"""
from __future__ import annotations

import warnings
from pathlib import Path

__all__ = ["setup_page", "show"]


def setup_page(threads: int | None = None, *, torch: bool = True) -> None:
    """Set a page up: the seaborn theme of every figure, no tqdm warning about notebook widgets
    (a built page shows no progress bar), and, with ``torch``, torch's CPU threads
    (:func:`potran.bench.configure_torch`)."""
    import seaborn as sns

    warnings.filterwarnings("ignore", message="IProgress not found")
    if torch:
        from . import configure_torch

        configure_torch(threads)
    sns.set_theme(style="whitegrid", context="notebook")


def show(fig, name: str, caption: str, *, folder) -> Path:
    """Save ``fig`` as ``<folder>/<name>.png``, display it, and put its caption (MyST Markdown) under it."""
    import matplotlib.pyplot as plt
    from IPython.display import Markdown, display

    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.show()
    display(Markdown(caption))
    return path
