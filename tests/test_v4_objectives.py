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
from potran.bench.v4.objectives.barlow_twins import barlow_terms
from potran.bench.v4.objectives.base import ema_, enqueue_, kmeans
from potran.bench.v4.objectives.inpainting import hole_mask, reconstruction_loss
from potran.bench.v4.objectives.jigsaw import PERMUTATIONS, from_tiles, shuffle, to_tiles, unshuffle
from potran.bench.v4.objectives.moco import info_nce
from potran.bench.v4.objectives.pcl import concentration
from potran.bench.v4.objectives.rotation import rotate
from potran.bench.v4.objectives.simclr import nt_xent
from potran.bench.v4.objectives.swav import sinkhorn, swapped_prediction
from potran.bench.v4.objectives.vicreg import vicreg_terms

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


class NoAugment:
    """Views equal to the input (for losses checked against a hand computation)."""

    def __call__(self, x):
        return x.clone()

    def weak(self, x):
        return x.clone()


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
    loss = obj(x[:8], torch.arange(8), NoAugment(), y[:8])
    expected = F.cross_entropy(obj.head(obj.encoder(x[:8])), y[:8])
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert loss.item() == pytest.approx(math.log(N_CLASSES), abs=0.5)
    with pytest.raises(ValueError, match="labels"):
        obj(x[:8], torch.arange(8), NoAugment())
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


# -- MoCo: InfoNCE, the momentum encoder, the queue ----------------------------------------------

def test_info_nce_closed_form_and_identical_views():
    # q = k, unit, orthogonal to all K negatives: loss = log(1 + K e^{-1/tau})
    rows = unit_orthogonal(9, 12)  # float64
    q, negatives = rows[:3], rows[3:]
    assert info_nce(q, q.clone(), negatives, 0.2).item() == pytest.approx(
        math.log(1 + 6 * math.exp(-1 / 0.2)), rel=1e-9)
    gen = torch.Generator().manual_seed(2)
    q, k, neg = (F.normalize(torch.randn(n, 8, generator=gen), dim=1) for n in (16, 16, 40))
    assert info_nce(q, q.clone(), neg) < info_nce(q, k, neg)
    perm = torch.randperm(16, generator=gen)
    assert info_nce(q[perm], k[perm], neg).item() == pytest.approx(info_nce(q, k, neg).item(), rel=1e-6)
    # the queue's order does not matter either
    assert info_nce(q, k, neg.flip(0)).item() == pytest.approx(info_nce(q, k, neg).item(), rel=1e-6)


def test_momentum_constants():
    from potran.bench.v4.objectives import byol, moco
    assert moco.MOMENTUM == byol.MOMENTUM == 0.99


@pytest.mark.parametrize("name, pairs", [
    ("moco", (("key_encoder", "encoder"), ("key_head", "head"))),
    ("pcl", (("key_encoder", "encoder"), ("key_head", "head"))),
    ("byol", (("target_encoder", "encoder"), ("target_projector", "projector"))),
])
def test_momentum_target_gets_no_gradient_and_follows_the_ema_formula(name, pairs):
    obj = make(name)
    momentum = 0.99  # MoCo's (PCL's) and BYOL's MOMENTUM
    x, y = toy_data()
    idx = torch.arange(BATCH)
    # at init the target is a copy of the online network that takes no gradient
    for target, online in pairs:
        for p_t, p_o in zip(getattr(obj, target).parameters(), getattr(obj, online).parameters()):
            assert torch.equal(p_t, p_o) and not p_t.requires_grad
    opt = torch.optim.SGD([p for p in obj.parameters() if p.requires_grad], lr=0.5)
    obj(x[idx], idx, StandInAugment(), y[idx]).backward()
    for target, _ in pairs:
        assert all(p.grad is None for p in getattr(obj, target).parameters())
    opt.step()
    before = {t: [p.clone() for p in getattr(obj, t).parameters()] for t, _ in pairs}
    obj.after_step()
    for target, online in pairs:
        for old, p_t, p_o in zip(before[target], getattr(obj, target).parameters(),
                                 getattr(obj, online).parameters()):
            torch.testing.assert_close(p_t, momentum * old + (1 - momentum) * p_o, rtol=1e-6, atol=1e-7)
        moved = [not torch.equal(o, p) for o, p in zip(before[target], getattr(obj, target).parameters())]
        assert any(moved)


def test_ema_formula_exactly():
    online, target = nn.Linear(3, 2).double(), nn.Linear(3, 2).double()
    expected = [0.9 * t.detach() + 0.1 * o.detach() for t, o in zip(target.parameters(), online.parameters())]
    ema_(target, online, 0.9)
    for e, t in zip(expected, target.parameters()):
        torch.testing.assert_close(t.detach(), e, rtol=1e-15, atol=1e-15)


def test_queue_is_fifo_of_the_stated_size():
    queue, ptr = torch.zeros(5, 2), torch.zeros((), dtype=torch.long)
    for start in (0, 3, 6):  # batches of 3 keys 0..8; the last 5 written are 4..8
        keys = torch.arange(start, start + 3, dtype=torch.float).repeat(2, 1).T
        enqueue_(queue, ptr, keys)
    assert queue.shape == (5, 2) and int(ptr) == 9 % 5
    # ring order starting at ptr (the oldest entry) is 4, 5, 6, 7, 8
    assert torch.equal(queue.roll(-int(ptr), 0)[:, 0], torch.arange(4, 9, dtype=torch.float))
    enqueue_(queue, ptr, torch.arange(20, 32, dtype=torch.float).repeat(2, 1).T)  # more than the size
    assert sorted(queue[:, 0].tolist()) == list(range(27, 32))

    obj = make("moco")
    assert obj.queue.shape == (min(4096, N_IMAGES), 128)
    x, y = toy_data()
    idx = torch.arange(BATCH)
    obj(x[idx], idx, StandInAugment(), y[idx])
    keys = obj._keys.clone()
    obj.after_step()
    assert torch.equal(obj.queue[:BATCH], keys) and int(obj.queue_ptr) == BATCH
    torch.testing.assert_close(obj.queue.norm(dim=1), torch.ones(N_IMAGES))


# -- InsDis: the memory bank ----------------------------------------------------------------------

def test_insdis_scores_the_whole_bank_and_updates_its_entries_by_the_proximal_rule():
    obj = make("insdis").eval()
    rows = unit_orthogonal(N_IMAGES, 128).float()
    obj.bank.copy_(rows)
    x, y = toy_data()
    idx = torch.arange(4)
    v = F.normalize(obj.head(obj.encoder(x[idx])), dim=1).detach()
    loss = obj(x[idx], idx, NoAugment(), y[idx])
    # the non-parametric softmax over all N_IMAGES entries, the image's own entry the target
    expected = F.cross_entropy(v @ rows.T / 0.07, idx)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    before = obj.bank.clone()
    obj.after_step()
    torch.testing.assert_close(obj.bank[idx], F.normalize(0.5 * before[idx] + 0.5 * v, dim=1))
    assert torch.equal(obj.bank[4:], before[4:])


# -- Barlow Twins and VICReg ----------------------------------------------------------------------

def whitened(b: int, d: int, seed: int = 0) -> torch.Tensor:
    """(b, d) embeddings with zero-mean, mutually orthogonal columns of equal norm: their
    correlation (and, scaled, their covariance) matrix is the identity."""
    a = torch.randn(b, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    q, _ = torch.linalg.qr(a - a.mean(0))
    return q


def collapsed(b: int, d: int, seed: int = 0) -> torch.Tensor:
    """Dimensional collapse: every dimension a multiple of one per-sample variable."""
    gen = torch.Generator().manual_seed(seed)
    u = torch.randn(b, 1, generator=gen, dtype=torch.float64)
    return u * (1 + torch.rand(1, d, generator=gen, dtype=torch.float64))


def test_barlow_twins_terms():
    z = whitened(64, 8) * 8  # unit variance per dimension (the standardisation's eps is 1e-5)
    on, off = barlow_terms(z, z.clone())
    assert on.item() == pytest.approx(0.0, abs=1e-6)  # identical views: no invariance cost
    assert off.item() == pytest.approx(0.0, abs=1e-12)  # whitened: no redundancy
    on, off = barlow_terms(collapsed(64, 8), collapsed(64, 8))
    assert on.item() == pytest.approx(0.0, abs=1e-6)
    assert off.item() == pytest.approx(8 * 7, rel=1e-4)  # every C_ij = 1
    # independent views: the invariance term is large; the loss does not depend on the batch order
    z2 = whitened(64, 8, seed=1)
    assert barlow_terms(z, z2)[0] > 1.0
    perm = torch.randperm(64, generator=torch.Generator().manual_seed(3))
    for a, b in zip(barlow_terms(z[perm], z2[perm]), barlow_terms(z, z2)):
        assert a.item() == pytest.approx(b.item(), rel=1e-9)


def test_vicreg_terms():
    z = whitened(64, 8) * math.sqrt(63)  # unbiased covariance = identity
    inv, var, cov = vicreg_terms(z, z.clone())
    assert inv.item() == 0.0  # identical views
    assert var.item() == 0.0  # std sqrt(1 + eps) >= 1: no hinge
    assert cov.item() == pytest.approx(0.0, abs=1e-12)
    inv, var, cov = vicreg_terms(collapsed(64, 8), collapsed(64, 8))
    assert cov.item() > 1.0
    # a constant embedding: the variance hinge is at its maximum, 1 - sqrt(eps), per view
    const = torch.ones(64, 8, dtype=torch.float64)
    assert vicreg_terms(const, const)[1].item() == pytest.approx(2 * (1 - math.sqrt(1e-4)), rel=1e-9)
    assert vicreg_terms(const, const)[2].item() == 0.0
    # the invariance term is the mean squared difference of paired embeddings
    assert vicreg_terms(z, z + 0.5)[0].item() == pytest.approx(0.25, rel=1e-9)


# -- SwAV: Sinkhorn-Knopp -------------------------------------------------------------------------

@pytest.mark.parametrize("b, k", [(32, 8), (12, 20)])
def test_sinkhorn_rows_and_columns_sum_to_their_targets(b, k):
    scores = F.normalize(torch.randn(b, k, generator=torch.Generator().manual_seed(b)), dim=1)
    q = sinkhorn(scores, n_iters=3)
    assert (q >= 0).all()
    torch.testing.assert_close(q.sum(1), torch.ones(b))  # each sample's code: a distribution
    q = sinkhorn(scores, n_iters=200)
    torch.testing.assert_close(q.sum(1), torch.ones(b))
    torch.testing.assert_close(q.sum(0), torch.full((k,), b / k), rtol=1e-3, atol=1e-3)  # equipartition
    # the codes follow the samples when the batch is reordered
    perm = torch.randperm(b, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(sinkhorn(scores[perm], n_iters=3), sinkhorn(scores, n_iters=3)[perm])


def test_swapped_prediction_prefers_agreeing_views():
    gen = torch.Generator().manual_seed(4)
    s1, s2 = torch.randn(32, 10, generator=gen), torch.randn(32, 10, generator=gen)
    assert swapped_prediction(s1, s1.clone()) < swapped_prediction(s1, s2)


# -- clustering: DeepCluster and PCL --------------------------------------------------------------

def fill_bank(obj: Objective, seed: int = 0) -> None:
    x, y = toy_data(seed)
    augment = StandInAugment(seed)
    obj.before_epoch(0)
    for start in range(0, N_IMAGES, BATCH):
        idx = torch.arange(start, start + BATCH)
        loss = obj(x[idx], idx, augment, y[idx])
        if obj.name == "deepcluster":
            assert loss.item() == 0.0  # no pseudo-labels yet
        obj.after_step()


def test_kmeans_is_seeded_and_assigns_every_row():
    x = torch.randn(200, 6, generator=torch.Generator().manual_seed(0))
    c1, l1 = kmeans(x, 7, seed=3)
    c2, l2 = kmeans(x, 7, seed=3)
    assert torch.equal(c1, c2) and torch.equal(l1, l2)
    assert l1.shape == (200,) and set(l1.tolist()) <= set(range(7))
    torch.testing.assert_close(c1.norm(dim=1), torch.ones(7))
    # each row is assigned to its most similar centroid
    assert torch.equal(l1, (F.normalize(x, dim=1) @ c1.T).argmax(1))
    # well-separated clusters are found exactly
    centres = 10 * torch.eye(4, 6)
    noise = torch.randn(100, 6, generator=torch.Generator().manual_seed(1))
    pts = centres.repeat_interleave(25, 0) + 0.1 * noise
    _, labels = kmeans(pts, 4, seed=0)
    assert all(len(set(labels[i * 25:(i + 1) * 25].tolist())) == 1 for i in range(4))
    assert len(set(labels.tolist())) == 4


@pytest.mark.parametrize("name", ["deepcluster", "pcl"])
def test_before_epoch_assigns_every_bank_entry_seeded_and_deterministic(name):
    objs = [make(name), make(name), make(name, seed=1)]
    for obj in objs:
        fill_bank(obj)
        assert bool(obj.seen.all())
        obj.before_epoch(1)
    first, second, other = objs
    label_names = ["labels"] if name == "deepcluster" else [f"labels{m}" for m in range(3)]
    for lname in label_names:
        labels = getattr(first, lname)
        k = (getattr(first, lname.replace("labels", "centroids"))).shape[0]
        assert labels.shape == (N_IMAGES,) and bool((labels >= 0).all()) and bool((labels < k).all())
        assert torch.equal(labels, getattr(second, lname))
        assert not torch.equal(labels, getattr(other, lname))
    # the loss now uses the pseudo-labels
    x, y = toy_data()
    idx = torch.arange(BATCH)
    assert first(x[idx], idx, StandInAugment(), y[idx]).item() > 0


def test_pcl_concentration():
    # two clusters of 20 points at distance 0.1 and 0.4 from their centroids (5 other clusters
    # of one point): phi grows with the spread, and the mean phi is tau
    centroids = torch.eye(7)
    x = torch.cat([centroids[0] + 0.1 * F.normalize(torch.ones(20, 7) - 7 * centroids[0], dim=1),
                   centroids[1] + 0.4 * F.normalize(torch.ones(20, 7) - 7 * centroids[1], dim=1),
                   centroids[2:]])
    labels = torch.cat([torch.zeros(20), torch.ones(20), torch.arange(2, 7)]).long()
    phi = concentration(x, centroids, labels, tau=0.2)
    assert phi[0] < phi[1]
    assert phi.mean().item() == pytest.approx(0.2, rel=1e-5)


# -- pretext tasks: jigsaw and inpainting ---------------------------------------------------------

def test_jigsaw_tiles_and_permutations_invert():
    x = torch.rand(24, 3, 8, 8)
    perm = torch.arange(24)  # every permutation once
    tiles = to_tiles(x)
    assert tiles.shape == (24, 4, 3, 4, 4)
    assert torch.equal(tiles[:, 1], x[:, :, :4, 4:]) and torch.equal(tiles[:, 2], x[:, :, 4:, :4])
    assert torch.equal(from_tiles(tiles), x)
    shuffled = shuffle(tiles, perm)
    assert torch.equal(from_tiles(unshuffle(shuffled, perm)), x)
    assert torch.equal(shuffled[0], tiles[0])  # permutation 0 is the identity
    changed = [not torch.equal(shuffled[i], tiles[i]) for i in range(1, 24)]
    assert all(changed)
    # position j of a shuffled image holds tile PERMUTATIONS[p, j]
    p = 17
    for j in range(4):
        assert torch.equal(shuffled[p, j], tiles[p, int(PERMUTATIONS[p, j])])
    assert len({tuple(r) for r in PERMUTATIONS.tolist()}) == 24


def test_inpainting_loss_is_zero_for_a_perfect_decoder_and_counts_only_the_hole():
    gen = torch.Generator().manual_seed(0)
    mask = hole_mask(6, 16, gen)
    assert mask.shape == (6, 1, 16, 16) and bool((mask.sum((1, 2, 3)) == 64).all())
    x = torch.rand(6, 3, 16, 16)
    assert reconstruction_loss(x.clone(), x, mask).item() == 0.0
    wrong_outside = torch.where(mask.bool(), x, 1 - x)
    assert reconstruction_loss(wrong_outside, x, mask).item() == 0.0
    assert reconstruction_loss(x + 0.5, x, mask).item() == pytest.approx(0.25, rel=1e-6)
    obj = make("inpainting")
    assert obj.decoder(torch.zeros(2, FEAT)).shape == (2, 3, 32, 32)


@pytest.mark.parametrize("name", [n for n, c in OBJECTIVES.items() if c.family != "pretext"])
def test_loss_does_not_depend_on_the_batch_order(name):
    # the pretext tasks draw one label per position from their generator, so they are left out;
    # every other loss is a mean over the batch of terms that follow their image
    obj = make(name)
    if name in ("deepcluster", "pcl"):
        fill_bank(obj)
        obj.before_epoch(1)
    x, y = toy_data()
    idx = torch.arange(5, 5 + BATCH)
    perm = torch.randperm(BATCH, generator=torch.Generator().manual_seed(7))
    a = obj(x[idx], idx, NoAugment(), y[idx]).item()
    b = obj(x[idx][perm], idx[perm], NoAugment(), y[idx][perm]).item()
    assert a > 0 and b == pytest.approx(a, rel=1e-5)


def test_the_encoder_is_shared_not_copied():
    for name in OBJECTIVES:
        enc = TinyEncoder()
        obj = OBJECTIVES[name](enc, FEAT, N_IMAGES, n_classes=N_CLASSES)
        assert obj.encoder is enc
        assert all(not k.startswith("encoder.") or k[len("encoder."):] in enc.state_dict()
                   for k in obj.state_dict())


def test_heads_depend_on_the_seed_not_on_the_global_random_state():
    for name in OBJECTIVES:
        states = []
        for global_seed, seed in ((1, 0), (2, 0), (1, 3)):
            torch.manual_seed(0)
            enc = TinyEncoder()
            torch.manual_seed(global_seed)
            states.append(OBJECTIVES[name](enc, FEAT, N_IMAGES, n_classes=N_CLASSES, seed=seed).state_dict())
        same = all(torch.equal(states[0][k], states[1][k]) for k in states[0])
        differ = any(not torch.equal(states[0][k], states[2][k]) for k in states[0])
        assert same and differ, name


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_runs_on_the_real_encoder_and_views_at_32_px(name):
    # the v4 encoder (at a toy width) and the v4 augmentations, one training step
    from potran.bench.v4.augment import Augment
    from potran.bench.v4.resnet import resnet

    torch.manual_seed(0)
    enc = resnet((4, 8), (1, 1))
    obj = OBJECTIVES[name](enc, enc.feat_dim, 32, n_classes=N_CLASSES, seed=0)
    obj.before_epoch(0)
    x = torch.rand(16, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    loss = obj(x, torch.arange(16), Augment(0), torch.arange(16) % N_CLASSES)
    loss.backward()
    obj.after_step()
    assert loss.dim() == 0 and math.isfinite(loss.item())
