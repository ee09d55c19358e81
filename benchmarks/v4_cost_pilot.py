"""Cost pilot of benchmark v4 (data/bench_v4/README.md, "Architecture and cost"): throughput of
candidate ResNet sizes at 32 px on one torch thread, for SSL pretraining (two strong views, a
2-layer projector, SimCLR's loss: the typical objective) and for fine-tuning (one weak view, a
linear head, batch 64), forward + backward + AdamW step.

    OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/v4_cost_pilot.py             # sizes
    OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/v4_cost_pilot.py objectives  # per step
    OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/v4_cost_pilot.py finetune    # one run
"""
import json
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

from potran.bench.v4.augment import Augment
from potran.bench.v4.resnet import ResNet, n_parameters

SIZES = {"r3x1-16": ((16, 32, 64), (1, 1, 1)), "r3x2-16": ((16, 32, 64), (2, 2, 2)),
         "r3x1-32": ((32, 64, 128), (1, 1, 1)), "r3x2-24": ((24, 48, 96), (2, 2, 2)),
         "r3x2-32": ((32, 64, 128), (2, 2, 2))}


def rate(step, batch, seconds=8.0):
    step()  # warm-up
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        n += batch
    return n / (time.perf_counter() - start)


def _measure(widths, blocks):
    """Pretraining, fine-tuning and inference images per second of one size."""
    torch.manual_seed(0)
    net = ResNet(widths, blocks)
    d = net.feat_dim
    proj = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, 64))
    opt = torch.optim.AdamW(list(net.parameters()) + list(proj.parameters()), 1e-3)
    aug = Augment(0)
    x = torch.rand(256, 3, 32, 32)

    def ssl():
        z = F.normalize(proj(net(torch.cat([aug(x), aug(x)]))), dim=1)
        sim = z @ z.T / 0.2
        sim.fill_diagonal_(-1e9)
        target = torch.cat([torch.arange(256, 512), torch.arange(256)])
        loss = F.cross_entropy(sim, target)
        opt.zero_grad()
        loss.backward()
        opt.step()

    head = nn.Linear(d, 10)
    opt2 = torch.optim.AdamW(list(net.parameters()) + list(head.parameters()), 1e-3)
    xf, yf = torch.rand(64, 3, 32, 32), torch.randint(10, (64,))

    def ft():
        loss = F.cross_entropy(head(net(aug.weak(xf))), yf)
        opt2.zero_grad()
        loss.backward()
        opt2.step()

    net.train()
    ssl_rate = rate(ssl, 256)  # images (pairs of views) per second
    ft_rate = rate(ft, 64)
    net.eval()
    xe = torch.rand(500, 3, 32, 32)
    with torch.no_grad():
        eval_rate = rate(lambda: net(xe), 500, 4.0)
    return {"widths": widths, "blocks": blocks, "params": n_parameters(net),
            "ssl_img_s": round(ssl_rate, 1), "finetune_img_s": round(ft_rate, 1),
            "eval_img_s": round(eval_rate, 1)}


def main(names):
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    out = {}
    for name in names:
        out[name] = _measure(*SIZES[name])
        print(json.dumps({name: out[name]}), flush=True)
    return out


def objectives(sizes=("r3x1-16", "r3x1-32"), steps=2):
    """Seconds per pretraining step (batch 256 of pool images) of every objective."""
    import numpy as np

    from potran.bench.v4.objectives import OBJECTIVES
    from potran.bench.v4.pool import load_pool

    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    images, labels = load_pool().train
    x = torch.from_numpy(images[:256]).permute(0, 3, 1, 2).float() / 255
    y = torch.from_numpy(labels[:256])
    idx = torch.arange(256)
    out = {}
    for size in sizes:
        widths, blocks = SIZES[size]
        for name, cls in OBJECTIVES.items():
            torch.manual_seed(0)
            net = ResNet(widths, blocks)
            obj = cls(net, net.feat_dim, len(images), n_classes=int(labels.max()) + 1, seed=0)
            opt = torch.optim.AdamW([p for p in obj.parameters() if p.requires_grad], 1e-3)
            aug = Augment(0)
            obj.train()
            obj.before_epoch(0)
            times = []
            for _ in range(steps + 1):
                tic = time.perf_counter()
                loss = obj(x, idx, aug, y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                obj.after_step()
                times.append(time.perf_counter() - tic)
            out[f"{size}/{name}"] = round(float(np.median(times[1:])), 3)
            print(json.dumps({f"{size}/{name}": out[f"{size}/{name}"]}), flush=True)
    return out


def finetune(target="fashion", epochs=15, lr=1e-3, batch=64):
    """Seconds of one fine-tuning run of the v4 encoder (its random initialisation) on a v3
    target: all training images, weak views, AdamW with cosine decay, then the test split."""
    import math

    from potran.bench import targets_v3
    from potran.bench.v4.pretrain import init_encoder

    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    t = targets_v3.load_target(target)
    prep = lambda a: F.interpolate(torch.from_numpy(a).permute(0, 3, 1, 2).float() / 255,  # noqa: E731
                                   size=32, mode="bilinear", align_corners=False).clamp(0, 1)
    xtr, ytr, xte = prep(t.x_train), torch.from_numpy(t.y_train), prep(t.x_test)
    net = init_encoder()
    head = nn.Linear(net.feat_dim, len(t.classes))
    params = list(net.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=1e-2)
    steps = epochs * (len(xtr) // batch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps)))
    aug, gen = Augment(0), torch.Generator().manual_seed(0)
    tic, losses = time.perf_counter(), []
    for _ in range(epochs):
        net.train()
        order, total = torch.randperm(len(xtr), generator=gen), 0.0
        for i in range(len(xtr) // batch):
            idx = order[i * batch:(i + 1) * batch]
            loss = F.cross_entropy(head(net(aug.weak(xtr[idx]))), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        losses.append(round(total / (len(xtr) // batch), 4))
    train_s = time.perf_counter() - tic
    net.eval()
    with torch.no_grad():
        pred = torch.cat([head(net(xte[i:i + 500])).argmax(1) for i in range(0, len(xte), 500)])
    out = {"target": target, "epochs": epochs, "n_train": len(xtr), "n_test": len(xte),
           "train_seconds": round(train_s, 1), "total_seconds": round(time.perf_counter() - tic, 1),
           "losses": losses, "test_acc": round(float((pred.numpy() == t.y_test).mean()), 4)}
    print(json.dumps(out), flush=True)
    return out


if __name__ == "__main__":
    if sys.argv[1:2] == ["finetune"]:
        finetune(*(sys.argv[2:3] or ["fashion"]))
        sys.exit(0)
    if sys.argv[1:2] == ["objectives"]:
        objectives(tuple(sys.argv[2:]) or ("r3x1-16", "r3x1-32"))
    else:
        main(sys.argv[1:] or list(SIZES))
