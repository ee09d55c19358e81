"""The paper's setting as a benchmark definition: 12 self-supervised ResNet-50s on 11 targets.

One module per job: :mod:`~potran.bench.paper_setting.layout` (models, targets, on-disk layout,
split constants), :mod:`~potran.bench.paper_setting.files` (what is missing, in one error),
:mod:`~potran.bench.paper_setting.models` (checkpoints), :mod:`~potran.bench.paper_setting.splits`
(datasets and splits), :mod:`~potran.bench.paper_setting.general` (the general set's moments and
feature extraction), :mod:`~potran.bench.paper_setting.sweep` (the fine-tuning grid) and
:mod:`~potran.bench.paper_setting.setting` (the benchmark definition); this package exports
their public names.

Everything here reads local files; nothing is downloaded unless ``download=True`` is passed.

**What the user provides.**

``checkpoint_dir``
    One ``<name>.pth`` per model of `MODELS`, as the ssl-transfer project distributes them: the
    state dict of a torchvision ``resnet50`` without its ``fc`` layer. There is no published
    checksum for these files, so :func:`paper_models` *records* each file's sha256 (it is part of
    every feature-cache key) and checks before each use that the file has not changed since;
    it cannot tell a correct file from a wrong one.
``data_root``
    One folder holding every target in the on-disk layout of its torchvision dataset class
    (`REQUIRED` lists the files and folders; :func:`check_paper_setting` names all that are
    missing in one error). SUN397 also needs the official partition files ``Training_01.txt``
    and ``Testing_01.txt`` (``Partitions.zip``) in ``SUN397/``.
``imagenet_val``
    A folder with the ImageNet validation images (any layout; image files are found
    recursively): PED's general set.

**Splits** (the protocol of the PED/SFDA code, without its mistakes). Aircraft, DTD (partition
1), Flowers and VOC2007 have an official validation split; the others' validation split is a
seeded 20 % of their training split (`VAL_FRACTION`, `VAL_SEED`, drawn as the official
fine-tuning script draws it), and ``trainval`` is then the whole training split. Caltech-101
has no official split in torchvision: `CALTECH_TRAIN_PER_CLASS` (30) seeded images per class
train, the rest test. SUN397 uses partition 01. CIFAR-10/100 and SUN397 use their real test
images: the official feature script passed the split name where torchvision expects
``train=``, so its "test" part was the training set again, and those targets were scored on
their training images twice. VOC2007 is multi-label; like the official code (the argmax of the
multi-hot vector) an image gets the first of `VOC_CLASSES` among its objects (all objects,
"difficult" ones included). Torchvision's Caltech101 has 101 classes: it drops
``BACKGROUND_Google``, which the paper's 102-class version kept. Scoring uses the ``all`` split
(train + val + test, each image once) as the paper's features did (``scored_split="trainval"``
scores only the images fine-tuning learns from).

**Images are never held as one array.** A paper target is a
:class:`~potran.bench.datasets.Target` whose ``x_*`` are object arrays of :class:`ImageRef` (a
dataset split and an index, a few bytes each); pixels are read, resized (shorter side to 224
px, bicubic) and centre-cropped image by image when a batch is needed. The runner's calls
(``np.asarray(tgt.x_train)[idx]``, ``len(tgt.y_train)``) work on such arrays unchanged, so
:mod:`potran.bench.runner` and :mod:`potran.bench.finetune` are reused as they are;
:meth:`PaperSetting.extract` streams batches through a torch ``DataLoader`` (optionally with
worker processes) and caches the features under a key made of the images' identities (dataset,
split, index, root folder), the model's weights sha256 and the preprocessing. This keeps
:mod:`potran.bench.features` unchanged: its cache key hashes the images' bytes, which a lazy
target does not have. (Files replaced in place under the same root need a fresh cache.)

**The general set: moments in one pass.** :func:`general_moments` runs a model over the
ImageNet folder once, merging every batch's count, mean and centred second moments into float64
running totals (Chan's pairwise update), so it never holds the set's features. ``.stats()``
gives the :class:`potran.ped.GeneralStats` (mean, population std) PED needs:
``potran.score(X, y, "logme", ped=True, general=stats)``. The runner needs a general *matrix*
(it projects it onto the target's principal components when a model is wider than
``score_dim``); ``.surrogate()`` gives a small matrix (2 rows per non-zero eigenvalue) with
exactly the set's mean and covariance, so every projection of it has the projected set's mean
and std, and PED standardises as with the full set.

**Ground truth.** :meth:`PaperSetting.finetune_grid` fine-tunes with the existing
:func:`potran.bench.finetune.finetune` once per setting of the official learning-rate x
weight-decay grid (`SWEEP_GRID`: learning rates 1e-1 .. 1e-4 and weight decays 0 and 1e-6 ..
1e-3 *divided by the learning rate*, 20 settings; the released script kept only the first),
fitting on ``train`` and evaluating on ``val`` (cells
``<out>/sweep/cells/<model>__<target>__lr<lr>_wd<wd>.json``), then fits the best setting
(highest validation accuracy, the first on ties) on ``trainval`` and evaluates on ``test``
(``<out>/cells/<model>__<target>.json`` and ``accuracy.csv``, as
:mod:`potran.bench.groundtruth` writes them). Every cell is resumable. The schedule
(`FINETUNE`): SGD, momentum 0.9, batch 128, cosine decay, `STEPS` (5000) steps turned into
epochs per split, one seed. Deviations from the official script: no Nesterov momentum, no
augmentation, top-1 accuracy for every target (it used mean per-class accuracy on Aircraft,
Caltech-101, Flowers and Pets and 11-point mAP on VOC). :func:`~potran.bench.finetune.finetune`
reads and preprocesses the images of each batch when it needs them, so a split is never held
as floats (at 224 px that would be 0.6 MB per image, 30 GB for CIFAR's training split); the
images are decoded in the training process, one batch at a time.

**Running a book page on this setting.** The pages that score models open it with the parameter
``setting`` set to ``paper`` and the three folders ``paper_checkpoints``, ``paper_data`` and
``paper_imagenet_val`` (:func:`potran.bench.settings.get`), e.g.::

    python -m jupytext --to ipynb --output - notebooks/main_table.py \\
      | python -m papermill - _build/paper/main_table.ipynb -k python3 --cwd notebooks \\
          -p setting paper -p paper_checkpoints /data/ssl-transfer/models \\
          -p paper_data /data/targets \\
          -p paper_imagenet_val /data/imagenet/val -p device cuda

ranks the models against the paper's published accuracies, or, with
``-p groundtruth /data/paper-groundtruth/accuracy.csv``, against a ground truth made by
``benchmark(...).finetune_grid("/data/paper-groundtruth", device="cuda")``.
"""
from __future__ import annotations

from .files import check_paper_setting, missing_files
from .general import (
    GeneralMoments,
    GeneralSet,
    extract_features,
    general_moments,
    general_set,
    general_stats,
)
from .layout import (
    CALTECH_TRAIN_PER_CLASS,
    FEATURE_DIM,
    IMAGE_SIZE,
    MODELS,
    REQUIRED,
    TARGETS,
    VAL_FRACTION,
    VAL_SEED,
    VOC_CLASSES,
)
from .models import LocalWeightsFile, PaperModel, paper_models
from .setting import PaperSetting, benchmark
from .splits import ImageRef, PaperSplits, paper_splits
from .sweep import FINETUNE, STEPS, SWEEP_GRID, setting_name

__all__ = [
    "MODELS", "TARGETS", "REQUIRED", "IMAGE_SIZE", "FEATURE_DIM", "VAL_FRACTION", "VAL_SEED",
    "CALTECH_TRAIN_PER_CLASS", "VOC_CLASSES", "SWEEP_GRID", "STEPS", "FINETUNE",
    "LocalWeightsFile", "PaperModel", "paper_models",
    "ImageRef", "PaperSplits", "paper_splits", "missing_files", "check_paper_setting",
    "GeneralSet", "general_set", "GeneralMoments", "general_moments", "general_stats",
    "extract_features", "setting_name", "PaperSetting", "benchmark",
]
