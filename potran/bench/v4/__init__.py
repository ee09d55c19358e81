"""Benchmark v4: one ResNet-style architecture, pretrained here on one pool of images by a dozen
self-supervised objectives (plus supervised and random-init controls), for v3's 24 targets.

- `potran.bench.v4.resnet`: the encoder (`resnet()`, at the size `ARCH` fixes);
- `potran.bench.v4.augment`: the random views the objectives train on (`Augment`);
- `potran.bench.v4.pool`: the pretraining pool and its held-out part (PED's general set);
- `potran.bench.v4.objectives`: one module per objective (`OBJECTIVES`);
- `potran.bench.v4.pretrain`: the pretraining driver (weights in ``data/bench_v4/weights``).

``data/bench_v4/README.md`` holds the cost pilot behind `ARCH` and `EPOCHS` and the
pre-registration draft.
"""

from __future__ import annotations

__all__ = ["ARCH", "IMAGE_SIZE", "SEED", "CONTROLS"]

#: the one architecture (widths and residual blocks per stage; see data/bench_v4/README.md)
ARCH = {"widths": (16, 32, 64), "blocks": (1, 1, 1)}
#: the images' side in pixels (the pool and v3's targets)
IMAGE_SIZE = 32
#: the seed every model's initialisation comes from (one initialisation for the whole zoo)
SEED = 0
#: the models beside the SSL objectives that are reported but not counted
CONTROLS = ("supervised", "random")
