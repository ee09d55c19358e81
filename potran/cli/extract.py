"""``potran extract``: features of one's own torch model on an image folder (:mod:`potran.extract`)."""
from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

from potran.cli.options import UsageError, check_device
from potran.extract import IMAGENET_MEAN, IMAGENET_STD


def run_extract(args) -> int:
    """``potran extract``: features of one's own torch model on an image folder (potran.extract)."""
    from potran import extract

    if args.arch and not args.weights:
        raise UsageError("--arch needs --weights STATE_DICT (potran never downloads weights)")
    if args.torchscript and args.weights:
        raise UsageError("--weights is for --arch; a TorchScript file holds its own weights")
    preprocessing = extract.Preprocessing(args.image_size, args.resize, _floats(args.mean, "--mean"),
                                          _floats(args.std, "--std"))
    device = check_device(args.device)
    model = (extract.torchscript_model(args.torchscript) if args.torchscript
             else extract.torchvision_backbone(args.arch, args.weights))
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        arrays = extract.write_features(args.out, model, args.images, general=args.general,
                                        preprocessing=preprocessing, batch_size=args.batch_size,
                                        num_workers=args.workers, device=device,
                                        progress=not args.no_progress, skip_unreadable=args.skip_unreadable)
    for warning in caught:
        if issubclass(warning.category, UserWarning) and Path(warning.filename) == Path(__file__):
            print(f"potran extract: warning: {warning.message}", file=sys.stderr)
    if arrays["skipped"]:
        shown = ", ".join(arrays["skipped"][:3]) + (", ..." if len(arrays["skipped"]) > 3 else "")
        print(f"potran extract: skipped {len(arrays['skipped'])} unreadable image(s): {shown}",
              file=sys.stderr)
    general = f", G {arrays['G'].shape[0]} x {arrays['G'].shape[1]}" if "G" in arrays else ""
    print(f"{args.out}: X {arrays['X'].shape[0]} x {arrays['X'].shape[1]}, {len(arrays['classes'])} "
          f"classes{general} ({time.perf_counter() - t0:.1f} s on {device})")
    return 0


def _floats(text: str, flag: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"{flag} wants comma-separated numbers, got {text!r}") from None


def add_extract_parser(subparsers) -> None:
    p = subparsers.add_parser("extract", help="features of your own torch model on an image folder, "
                              "as the .npz that score and select read",
                              description="Penultimate features of a torchvision architecture with a "
                              "local state dict (its final classifier replaced by Identity), or the "
                              "output of a TorchScript module, on an image folder in ImageFolder layout "
                              "(one subfolder per class). Nothing is downloaded.")
    p.add_argument("images", help="image folder, one subfolder of images per class")
    model = p.add_mutually_exclusive_group(required=True)
    model.add_argument("--arch", help="torchvision architecture, e.g. resnet50 (with --weights)")
    model.add_argument("--torchscript", help="TorchScript file (torch.jit.save): its output is the features")
    p.add_argument("--weights", help="state-dict file of --arch")
    p.add_argument("--out", required=True, help="output .npz (X, y, classes, files and, with --general, G)")
    p.add_argument("--general", help="folder of generic images (any layout): PED's general set G")
    p.add_argument("--image-size", type=int, default=224, help="centre crop size (default: 224)")
    p.add_argument("--resize", type=int, help="shorter side before the crop (default: image size x 8/7)")
    p.add_argument("--mean", default=",".join(map(str, IMAGENET_MEAN)), help="R,G,B (default: ImageNet's)")
    p.add_argument("--std", default=",".join(map(str, IMAGENET_STD)), help="R,G,B (default: ImageNet's)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    p.add_argument("--skip-unreadable", action="store_true",
                   help="leave out images that cannot be read (and say how many) instead of stopping")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run_extract)
