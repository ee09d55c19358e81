"""Cost pilot of benchmark v4 (data/bench_v4/README.md, "Architecture and cost"): throughput of
candidate ResNet sizes at 32 px on one torch thread, for SSL pretraining (two strong views, a
2-layer projector, SimCLR's loss: the typical objective) and for fine-tuning (one weak view, a
linear head, batch 64), forward + backward + AdamW step.

    OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/v4_cost_pilot.py             # sizes
    OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/v4_cost_pilot.py objectives  # per step
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


def main(names):
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    torch.manual_seed(0)
    out = {}
    for name in names:
        widths, blocks = SIZES[name]
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
        with torch.no_grad():
            xe = torch.rand(500, 3, 32, 32)
            eval_rate = rate(lambda: net(xe), 500, 4.0)
        out[name] = {"widths": widths, "blocks": blocks, "params": n_parameters(net),
                     "ssl_img_s": round(ssl_rate, 1), "finetune_img_s": round(ft_rate, 1),
                     "eval_img_s": round(eval_rate, 1)}
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


if __name__ == "__main__":
    if sys.argv[1:2] == ["objectives"]:
        objectives(tuple(sys.argv[2:]) or ("r3x1-16", "r3x1-32"))
    else:
        main(sys.argv[1:] or list(SIZES))
