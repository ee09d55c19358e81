"""Benchmark v4's pretraining objectives, one module each, in the zoo's order (`OBJECTIVES`)."""

from __future__ import annotations

from .base import Objective
from .rotation import Rotation
from .simclr import SimCLR
from .supervised import Supervised

__all__ = ["OBJECTIVES", "Objective"]

OBJECTIVES: dict[str, type[Objective]] = {
    cls.name: cls for cls in (SimCLR, Rotation, Supervised)
}
