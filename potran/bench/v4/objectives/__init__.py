"""Benchmark v4's pretraining objectives, one module each, in the zoo's order (`OBJECTIVES`):
twelve self-supervised objectives covering the families of the paper's hub, then the supervised
control (reported, not counted). The random-init control needs no objective."""

from __future__ import annotations

from .barlow_twins import BarlowTwins
from .base import Objective
from .byol import BYOL
from .deepcluster import DeepCluster
from .inpainting import Inpainting
from .insdis import InsDis
from .jigsaw import Jigsaw
from .moco import MoCo
from .pcl import PCL
from .rotation import Rotation
from .simclr import SimCLR
from .supervised import Supervised
from .swav import SwAV
from .vicreg import VICReg

__all__ = ["OBJECTIVES", "Objective"]

OBJECTIVES: dict[str, type[Objective]] = {
    cls.name: cls for cls in (SimCLR, MoCo, InsDis, BYOL, BarlowTwins, VICReg, SwAV, DeepCluster,
                              PCL, Rotation, Jigsaw, Inpainting, Supervised)
}
