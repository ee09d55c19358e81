"""Every missing checkpoint, dataset file and ImageNet folder, named in one error."""
from __future__ import annotations

import os
from pathlib import Path

from .layout import _HINTS, _IMAGE_SUFFIXES, MODELS, REQUIRED, TARGETS


def _missing_checkpoints(checkpoint_dir, models) -> list[str]:
    return [f"checkpoint {m}: {Path(checkpoint_dir) / f'{m}.pth'} (file)" for m in models
            if not (Path(checkpoint_dir) / f"{m}.pth").is_file()]


def _image_files(folder: Path):
    for base, _, files in os.walk(folder):
        for f in files:
            if f.lower().endswith(_IMAGE_SUFFIXES):
                yield Path(base, f)


def missing_files(checkpoint_dir, data_root, imagenet_val, *, models=MODELS, targets=TARGETS) -> list[str]:
    """One line per missing file or folder of the setting (``None`` skips that part)."""
    lines = [] if checkpoint_dir is None else _missing_checkpoints(checkpoint_dir, models)
    if data_root is not None:
        for target in targets:
            for rel, kind in REQUIRED[target]:
                path = Path(data_root) / rel
                if not (path.is_dir() if kind == "dir" else path.is_file()):
                    lines.append(f"{target}: {path} ({'folder' if kind == 'dir' else 'file'})")
    if imagenet_val is not None:
        folder = Path(imagenet_val)
        if not folder.is_dir():
            lines.append(f"imagenet-val: {folder} (folder of the ImageNet validation images)")
        elif next(_image_files(folder), None) is None:
            lines.append(f"imagenet-val: no image file ({', '.join(_IMAGE_SUFFIXES)}) under {folder}")
    return lines


def check_paper_setting(checkpoint_dir, data_root, imagenet_val=None, *, models=MODELS,
                        targets=TARGETS) -> None:
    """Raise one ValueError listing every missing checkpoint, dataset file or folder (nothing is
    read or downloaded); ``None`` skips a part."""
    unknown = [t for t in targets if t not in TARGETS] + [m for m in models if m not in MODELS]
    if unknown:
        raise ValueError(f"Unknown name(s) {unknown}; models: {', '.join(MODELS)}; "
                         f"targets: {', '.join(TARGETS)}.")
    lines = missing_files(checkpoint_dir, data_root, imagenet_val, models=models, targets=targets)
    if lines:
        raise ValueError(
            f"The paper's setting is missing {len(lines)} file(s) or folder(s) (nothing is "
            f"downloaded unless download=True):\n  " + "\n  ".join(lines)
            + "\nNotes:\n  " + "\n  ".join(_HINTS))
