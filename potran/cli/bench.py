"""The benchmark's subcommands: ``potran bench`` (the scoring grid), ``groundtruth`` (the
fine-tuning grid), ``pretrain`` (our conv4 weights) and ``demo`` (a ten-second tour)."""
from __future__ import annotations

import shlex
import time
from dataclasses import replace

from potran.bench.folders import BENCH_OUT, FEATURE_CACHE, GROUNDTRUTH_OUT
from potran.cli.options import (
    UsageError,
    add_metric_flag,
    add_perturbation_flags,
    add_seed_flag,
    check_device,
    metric_list,
    parse_options,
    perturbation_options,
    reduce_width,
    unused_perturbation_flags,
    usage_errors,
)
from potran.perturbations import PED, SA
from potran.reduction import SCORE_DIM

BENCH_GROUNDTRUTH = str(GROUNDTRUTH_OUT / "accuracy.csv")
#: the options (attributes of the parsed arguments) that give the paper's setting its local folders
PAPER_FOLDERS = ("paper_checkpoints", "paper_data", "paper_imagenet_val")


def _add_run_options(p, threads: int) -> None:
    """Options every long-running subcommand shares."""
    p.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    p.add_argument("--threads", type=int, default=threads, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786): run the cells "
                   "on that cluster instead of here")


def _command_line(args) -> str:
    return "potran " + " ".join(shlex.quote(a) for a in args.argv)


def run_bench(args) -> int:
    """``potran bench``: score every metric (+/- PED) on the models x targets grid."""
    from potran.bench import configure_torch, distributed, runner, settings
    from potran.bench.readme import write_bench_readme
    from potran.metrics import FEATURE_METRICS

    # a grid cell has features only: leep/nce need source probabilities, and ncti's score is
    # relative to the pool of models (potran.metrics.ncti_pool_scores)
    metrics = metric_list(args) or runner.DEFAULT_METRICS
    with usage_errors():
        metrics = settings.chosen_names(metrics, FEATURE_METRICS, "metric")
    scoring = dict(metrics=metrics, perturbations=_bench_perturbations(args))
    if args.reduce != "auto":  # else the setting's own (the paper's: the full 2048)
        scoring["score_dim"] = reduce_width(args.reduce, "bench")
    paper = {k: getattr(args, k) for k in PAPER_FOLDERS}  # the --paper-* folders
    if not args.setting and any(paper.values()):
        args.setting = "paper"  # the --paper-* folders alone open the paper's setting
    if args.setting and args.n_train is not None:
        raise UsageError("--n-train is for the default offline benchmark; a --setting scores its own splits")
    if not args.setting and args.paper_option:
        raise UsageError("--paper-option needs the paper's setting (--paper-checkpoints, --paper-data, "
                         "--paper-imagenet-val)")
    setting = _setting(args, paper)
    if not args.setting:  # the archived 4-target benchmark: its --n-train, ground truth and README
        scoring["finetune"] = replace(setting.bench.finetune, n_train=args.n_train)
    bench = setting.benchmark(**scoring)
    groundtruth, readme = args.groundtruth or None, bool(args.groundtruth)
    if args.setting and args.groundtruth == BENCH_GROUNDTRUTH:  # not given: the setting's own
        truth = setting.groundtruth()
        groundtruth, readme = truth.accuracy, False
        print(f"ranked against {truth.source}")
    check_device(args.device)
    configure_torch(args.threads)
    client = distributed.connect(args.scheduler)
    t0 = time.perf_counter()
    if client is None and "scores" in setting.data:  # the committed cells first
        scores, tau = setting.scores(args.out, groundtruth=groundtruth, cache_dir=args.cache_dir,
                                     device=args.device, progress=not args.no_progress, **scoring)
    else:
        scores, tau = runner.run(bench, args.out, groundtruth=groundtruth, cache_dir=args.cache_dir,
                                 device=args.device, progress=not args.no_progress, client=client)
    failed = scores[scores.error.fillna("") != ""]
    print(f"{len(scores)} scores ({len(failed)} failed) of {len(bench.models)} models x "
          f"{len(bench.targets)} targets in {time.perf_counter() - t0:.0f} s")
    if tau is not None:
        print(tau.pivot_table(index=["metric", "perturbation"], columns="target", values="weighted_tau",
                              sort=False, dropna=False).round(3).to_string())
        if readme:
            write_bench_readme(args.out, _command_line(args), scores, args.groundtruth,
                               score_dim=bench.score_dim)
    return 0


def _add_setting_flag(p) -> None:
    p.add_argument("--setting", metavar="NAME", help="a setting of potran.bench.settings: v3 (benchmark v3), "
                   "bench4 (the archived 4-target benchmark), v4, paper (with the --paper-* folders); "
                   "default: bench4")


def _setting(args, paper=None):
    """``--setting``'s :class:`potran.bench.settings.Setting` (default: bench4), with --models etc."""
    from potran.bench import settings

    files = {}
    if paper and any(paper.values()):
        if args.setting != "paper":
            raise UsageError(f"the --paper-* folders belong to --setting paper, not {args.setting!r}")
        missing = [f"--{k.replace('_', '-')}" for k, v in paper.items() if not v]
        if missing:
            raise UsageError(f"the paper's setting reads three local folders; missing: {', '.join(missing)}")
        files = {k.removeprefix("paper_"): v for k, v in paper.items()}
        files["options"] = parse_options(args.paper_option, "--paper-option")
    with usage_errors():
        return settings.get(args.setting or "bench4", models=args.models, targets=args.targets,
                            seed=getattr(args, "seed", 0), **files)


def _bench_perturbations(args) -> tuple[str, ...]:
    """The perturbation labels of ``potran bench`` (:mod:`potran.perturbations`): each
    ``--perturbation`` label (default: the benchmark's none and ped), a bare ``ped``/``sa`` with
    the options of the ``--ped-*``/``--sa-*`` flags."""
    from potran.bench.runner import DEFAULT_PERTURBATIONS
    from potran.perturbations import kind, label, parse

    labels = list(args.perturbation) or list(DEFAULT_PERTURBATIONS)
    if len(set(labels)) < len(labels):
        raise UsageError(f"--perturbation: a label is given twice in {labels}")
    for name in labels:
        try:
            parse(name)
        except ValueError as err:
            raise UsageError(f"--perturbation: {err}") from None
    unused_perturbation_flags(args, [kind(n) for n in labels])
    out = []
    for name in labels:
        given = perturbation_options(args, name) if name in (PED, SA) else {}
        try:
            out.append(label(name, **given) if given else name)
        except ValueError as err:
            raise UsageError(f"--{name}-*: {err}") from None
    return tuple(out)


def add_bench_parser(subparsers) -> None:
    p = subparsers.add_parser("bench", help="score every metric (+/- PED) on models x targets and "
                              "rank against the fine-tuning ground truth",
                              description="Score every metric (+/- PED) on the offline benchmark "
                              "(resumable; features cached) and write scores.csv, tau.csv and a "
                              "README with intervals and the random-null band.")
    p.add_argument("--models", help="comma-separated zoo names (default: all)")
    p.add_argument("--targets", help="comma-separated target names (default: all)")
    add_metric_flag(p, "default: every feature metric")
    add_perturbation_flags(p, labels=True, default="default: none and ped")
    p.add_argument("--groundtruth", default=BENCH_GROUNDTRUTH,
                   help="fine-tuning accuracy table ('' to skip tau; on the paper's setting the "
                   "default is its published accuracies)")
    p.add_argument("--out", default=str(BENCH_OUT), help="result folder (default: %(default)s)")
    p.add_argument("--cache-dir", default=str(FEATURE_CACHE), help="feature cache (default: %(default)s)")
    add_seed_flag(p, "the stochastic metrics (each cell derives its own from it)", default=0)
    p.add_argument("--n-train", type=int, help="training images scored, as in the ground truth "
                   "(default: all)")
    p.add_argument("--reduce", metavar="auto|N", default="auto",
                   help="features wider than N are projected on their N leading principal components "
                   f"(auto: the setting's protocol, {SCORE_DIM} on the offline benchmark, the full width "
                   "on the paper's setting)")
    paper = p.add_argument_group("the paper's setting, from local files (all three; default: the offline "
                                 "benchmark)")
    paper.add_argument("--paper-checkpoints", metavar="DIR",
                       help="the 12 ResNet-50 checkpoints as ssl-transfer distributes them (<name>.pth)")
    paper.add_argument("--paper-data", metavar="DIR", help="the 11 targets in torchvision's on-disk layouts")
    paper.add_argument("--paper-imagenet-val", metavar="DIR",
                       help="ImageNet validation images: PED's general set")
    paper.add_argument("--paper-option", action="append", default=[], metavar="KEY=VALUE",
                       help="option of potran.bench.paper_setting.benchmark, e.g. image_size=224")
    _add_setting_flag(p)
    _add_run_options(p, threads=2)
    p.set_defaults(func=run_bench)


def run_groundtruth(args) -> int:
    """``potran groundtruth``: fine-tune every missing (model, target) cell."""
    from potran.bench import configure_torch, distributed, groundtruth

    if args.setting == "paper":
        raise UsageError("--setting paper fine-tunes with PaperSetting.finetune_grid (potran.bench."
                         "paper_setting), not potran groundtruth")
    setting = _setting(args)
    models, targets = setting.models, setting.targets
    given = {"lr": args.lr, "wd": args.wd, "epochs": args.epochs or None,
             "batch_size": args.batch_size or None, "seeds": tuple(args.seeds) if args.seeds else None,
             "n_train": args.n_train, "n_test": args.n_test}
    config = replace(setting.bench.finetune, **{k: v for k, v in given.items() if v is not None})
    check_device(args.device)
    configure_torch(args.threads)
    client = distributed.connect(args.scheduler)
    t0 = time.perf_counter()
    after = lambda table: groundtruth.write_readme(args.out, _command_line(args), config,  # noqa: E731
                                                  models, targets)
    table = groundtruth.run_grid(models, targets, args.out, config, device=args.device,
                                 progress=not args.no_progress, after_cell=after, client=client,
                                 sources=setting.bench.sources)
    after(table)
    print(f"{len(table)} cells in {args.out} ({time.perf_counter() - t0:.0f} s this run)")
    return 0


def add_groundtruth_parser(subparsers) -> None:
    p = subparsers.add_parser("groundtruth", help="fine-tune every zoo model on every target "
                              "(the benchmark's ground truth; resumable)",
                              description="Fine-tune every zoo model on every target, once per "
                              "seed, one resumable cell each; writes cells/, snapshots/, "
                              "accuracy.csv and README.md.")
    p.add_argument("--out", default=str(GROUNDTRUTH_OUT), help="result folder (default: %(default)s)")
    p.add_argument("--models", help="comma-separated zoo names (default: all)")
    p.add_argument("--targets", help="comma-separated target names (default: all)")
    p.add_argument("--seeds", type=int, nargs="+", help="seeds (default: 0 1 2)")
    p.add_argument("--epochs", type=int, help="epochs (default: the protocol's)")
    p.add_argument("--lr", type=float, help="learning rate (default: the protocol's)")
    p.add_argument("--wd", type=float, help="weight decay (default: the protocol's)")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--n-train", type=int, help="training images (default: all)")
    p.add_argument("--n-test", type=int, help="test images (default: all)")
    _add_setting_flag(p)
    _add_run_options(p, threads=1)
    p.set_defaults(func=run_groundtruth)


def run_pretrain(args) -> int:
    """``potran pretrain``: pretrain our conv4 models and write their weights."""
    from potran.bench import configure_torch, settings
    from potran.bench.zoo import pretrain

    with usage_errors():  # validated first
        objectives = settings.chosen_names(args.objectives, pretrain.OBJECTIVES, "objective")
    configure_torch(args.threads)
    pretrain.write_weights(args.out, objectives, checkpoints_only=args.checkpoints_only,
                           progress=not args.no_progress)
    return 0


def add_pretrain_parser(subparsers) -> None:
    p = subparsers.add_parser("pretrain", help="pretrain the zoo's conv4 models on photo crops",
                              description="Pretrain our conv4 CNNs (supervised, SimCLR, rotation, "
                              "denoising, random-init control) and their checkpoints.")
    p.add_argument("--out", default="data/zoo", help="weights folder")
    p.add_argument("--objectives", help="comma-separated (default: all)")
    p.add_argument("--checkpoints-only", action="store_true",
                   help="stop each run at its last checkpoint; keep the final weights")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run_pretrain)


def add_demo_parser(subparsers) -> None:
    subparsers.add_parser("demo", help="a ten-second tour: rank synthetic models with every "
                          "metric +/- PED").set_defaults(func=run_demo)


def run_demo(args) -> int:
    """``potran demo``: rank synthetic models with every metric, with and without PED."""
    from potran import demo

    demo.main()
    return 0
