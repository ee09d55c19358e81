"""Benchmark v4's pretraining objectives (potran.bench.v4.objectives): each loss on a toy case
with a value or property known by hand, and every objective's training behaviour on a tiny
stand-in encoder and stand-in augmentation (kept here so that these tests do not depend on the
real network's size)."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from potran.bench.v4.objectives import OBJECTIVES, Objective
from potran.bench.v4.objectives.base import ema_, enqueue_, kmeans
from potran.bench.v4.objectives.rotation import rotate
from potran.bench.v4.objectives.simclr import nt_xent

FEAT, N_IMAGES, N_CLASSES, SIDE, BATCH = 16, 48, 3, 16, 24


class TinyEncoder(nn.Module):
    """Two strided conv-BN-ReLU blocks and average pooling: (B, 3, S, S) -> (B, FEAT)."""

    def __init__(self, dim: int = FEAT):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                                 nn.Conv2d(8, dim, 3, 2, 1, bias=False), nn.BatchNorm2d(dim), nn.ReLU())

    def forward(self, x):
        return self.net((x - 0.5) / 0.25).mean(dim=(2, 3))


class StandInAugment:
    """Random flip, shift and brightness (strong) or flip and shift (weak), from its own generator;
    never modifies its input."""

    def __init__(self, seed: int = 0):
        self.gen = torch.Generator().manual_seed(seed)

    def weak(self, x):
        flip = torch.rand(x.shape[0], generator=self.gen) < 0.5
        out = torch.where(flip[:, None, None, None], x.flip(3), x)
        shift = int(torch.randint(-2, 3, (1,), generator=self.gen))
        return out.roll(shift, dims=3)

    def __call__(self, x):
        gain = 0.6 + 0.8 * torch.rand(x.shape[0], 1, 1, 1, generator=self.gen)
        noise = 0.05 * torch.randn(x.shape, generator=self.gen)
        return (self.weak(x) * gain + noise).clamp(0, 1)


def make(name: str, seed: int = 0) -> Objective:
    torch.manual_seed(seed)
    return OBJECTIVES[name](TinyEncoder(), FEAT, N_IMAGES, n_classes=N_CLASSES, seed=seed)


def toy_data(seed: int = 0):
    """Images with an upright structure (dark top, bright bottom, a random colour and texture),
    so that every objective, rotation included, has something to learn; and random labels."""
    gen = torch.Generator().manual_seed(seed)
    ramp = torch.linspace(0, 1, SIDE).view(1, 1, SIDE, 1)
    colour = torch.rand(N_IMAGES, 3, 1, 1, generator=gen)
    texture = torch.rand(N_IMAGES, 3, SIDE, SIDE, generator=gen)
    x = (0.5 * ramp * colour + 0.2 * texture + 0.3 * colour).clamp(0, 1)
    y = torch.randint(N_CLASSES, (N_IMAGES,), generator=gen)
    return x, y


def unit_orthogonal(n: int, d: int, seed: int = 0) -> torch.Tensor:
    """n mutually orthogonal unit rows in R^d (n <= d)."""
    gen = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(d, n, generator=gen, dtype=torch.float64))
    return q.T.contiguous()


# -- interface ------------------------------------------------------------------------------------

def test_registry_order_and_families():
    families = {"in-batch contrastive", "momentum queue", "memory bank", "non-contrastive",
                "clustering", "prototypes", "pretext", "supervised"}
    for name, cls in OBJECTIVES.items():
        assert issubclass(cls, Objective) and cls.name == name and cls.family in families
    assert list(OBJECTIVES)[0] == "simclr" and list(OBJECTIVES)[-1] == "supervised"


# -- SimCLR ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("tau", [0.1, 0.5, 1.0])
def test_nt_xent_closed_form_for_aligned_orthogonal_embeddings(tau):
    # each anchor: positive similarity 1, the other 2B - 2 views orthogonal (similarity 0), so
    # loss = -log(e^{1/tau} / (e^{1/tau} + 2B - 2)) = log(1 + (2B - 2) e^{-1/tau})
    b = 6
    z = 3.0 * unit_orthogonal(b, 10).double()  # scale is irrelevant: NT-Xent normalises
    expected = math.log(1 + (2 * b - 2) * math.exp(-1 / tau))
    assert nt_xent(z, z.clone(), tau).item() == pytest.approx(expected, rel=1e-5)


def test_nt_xent_identical_views_beat_random_views_and_ignore_batch_order():
    gen = torch.Generator().manual_seed(1)
    z1, z2 = torch.randn(32, 8, generator=gen), torch.randn(32, 8, generator=gen)
    assert nt_xent(z1, z1.clone()) < nt_xent(z1, z2)
    perm = torch.randperm(32, generator=gen)
    assert nt_xent(z1[perm], z2[perm]).item() == pytest.approx(nt_xent(z1, z2).item(), rel=1e-6)
    # the two views play symmetric roles
    assert nt_xent(z2, z1).item() == pytest.approx(nt_xent(z1, z2).item(), rel=1e-6)


# -- rotation -------------------------------------------------------------------------------------

def test_rotation_rotating_back_recovers_the_input():
    x = torch.rand(8, 3, 5, 5)
    k = torch.arange(8) % 4
    r = rotate(x, k)
    assert torch.equal(rotate(r, -k), x)
    assert torch.equal(r[1], torch.rot90(x[1], 1, dims=(1, 2)))  # one quarter turn
    assert torch.equal(r[0], x[0]) and not torch.equal(r[2], x[2])
    four = x
    for _ in range(4):
        four = rotate(four, torch.ones(8, dtype=torch.long))
    assert torch.equal(four, x)


# -- supervised -----------------------------------------------------------------------------------

def test_supervised_loss_is_cross_entropy_of_its_head_and_needs_labels():
    obj = make("supervised").eval()
    x, y = toy_data()

    class Identity:
        def weak(self, v):
            return v

    loss = obj(x[:8], torch.arange(8), Identity(), y[:8])
    expected = F.cross_entropy(obj.head(obj.encoder(x[:8])), y[:8])
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert loss.item() == pytest.approx(math.log(N_CLASSES), abs=0.5)
    with pytest.raises(ValueError, match="labels"):
        obj(x[:8], torch.arange(8), Identity())
    with pytest.raises(ValueError, match="n_classes"):
        OBJECTIVES["supervised"](TinyEncoder(), FEAT, N_IMAGES)


# -- every objective ------------------------------------------------------------------------------

def train(name: str, seed: int = 0, epochs: int = 7, lr: float = 3e-3, recluster: bool = True):
    """Epochs over the toy pool (two batches each, fixed order, fresh views), Adam; returns the
    objective and its loss per step. ``before_epoch`` and ``after_step`` are called as the driver
    does, except that ``recluster=False`` calls ``before_epoch`` only for epochs 0 and 1 (the
    clustering objectives' pseudo-labels are then fixed from epoch 1 on)."""
    obj = make(name, seed)
    x, y = toy_data(seed)
    x_before = x.clone()
    augment = StandInAugment(seed)
    opt = torch.optim.Adam([p for p in obj.parameters() if p.requires_grad], lr=lr)
    losses = []
    for epoch in range(epochs):
        if recluster or epoch < 2:
            obj.before_epoch(epoch)
        for start in range(0, N_IMAGES, BATCH):
            idx = torch.arange(start, start + BATCH)
            loss = obj(x[idx], idx, augment, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            obj.after_step()
            losses.append(loss.item())
    assert torch.equal(x, x_before)
    return obj, losses


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_objective_trains_deterministically_and_leaves_the_input_alone(name):
    obj, losses = train(name, recluster=False)
    assert all(math.isfinite(v) for v in losses)
    # from epoch 1 on (the clustering objectives fill their bank in epoch 0, on a zero loss),
    # against fixed pseudo-labels: the last epochs' loss is below the first ones'
    live = losses[2:]
    assert 0.0 not in live
    assert sum(live[-4:]) < sum(live[:4])
    _, again = train(name, recluster=False)
    assert again == losses
    # the caller's batch is never modified, and the gradient reaches the encoder
    x, y = toy_data(1)
    idx = torch.arange(BATCH)
    xb = x[idx]
    keep = xb.clone()
    obj.zero_grad()
    obj(xb, idx, StandInAugment(5), y[idx]).backward()
    assert torch.equal(xb, keep)
    grads = [p.grad for p in obj.encoder.parameters()]
    assert all(g is not None for g in grads) and sum(float(g.abs().sum()) for g in grads) > 0
