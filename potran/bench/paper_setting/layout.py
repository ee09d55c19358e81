"""The paper's setting: its models, targets, on-disk layout and split constants."""
from __future__ import annotations

MODELS: tuple[str, ...] = ("byol", "deepcluster-v2", "infomin", "insdis", "moco-v1", "moco-v2",
                           "pcl-v1", "pcl-v2", "sela-v2", "simclr-v1", "simclr-v2", "swav")
#: Target names as in :func:`potran.paper.groundtruth`.
TARGETS: tuple[str, ...] = ("aircraft", "caltech101", "cars", "cifar10", "cifar100", "dtd",
                            "flowers", "food", "pets", "sun397", "voc2007")
IMAGE_SIZE, FEATURE_DIM = 224, 2048
VAL_FRACTION, VAL_SEED = 0.2, 5
CALTECH_TRAIN_PER_CLASS, CALTECH_SEED = 30, 0
VOC_CLASSES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
               "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
               "sheep", "sofa", "train", "tvmonitor")
_IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png")

# target -> (path relative to data_root, "file" or "dir"); what torchvision's classes read
_AIRCRAFT, _CARS, _VOC = "fgvc-aircraft-2013b/data", "stanford_cars", "VOCdevkit/VOC2007"
_SPLITS3 = ("train", "val", "test")
REQUIRED: dict[str, tuple[tuple[str, str], ...]] = {
    "aircraft": ((f"{_AIRCRAFT}/images", "dir"), (f"{_AIRCRAFT}/variants.txt", "file"),
                 *((f"{_AIRCRAFT}/images_variant_{s}.txt", "file") for s in _SPLITS3)),
    "caltech101": (("caltech101/101_ObjectCategories", "dir"),),
    "cars": ((f"{_CARS}/devkit/cars_meta.mat", "file"), (f"{_CARS}/devkit/cars_train_annos.mat", "file"),
             (f"{_CARS}/cars_test_annos_withlabels.mat", "file"), (f"{_CARS}/cars_train", "dir"),
             (f"{_CARS}/cars_test", "dir")),
    "cifar10": tuple((f"cifar-10-batches-py/{f}", "file") for f in
                     (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta")),
    "cifar100": tuple((f"cifar-100-python/{f}", "file") for f in ("train", "test", "meta")),
    "dtd": (("dtd/dtd/images", "dir"), *((f"dtd/dtd/labels/{s}1.txt", "file") for s in _SPLITS3)),
    "flowers": (("flowers-102/jpg", "dir"), ("flowers-102/imagelabels.mat", "file"),
                ("flowers-102/setid.mat", "file")),
    "food": (("food-101/images", "dir"), ("food-101/meta/train.json", "file"),
             ("food-101/meta/test.json", "file")),
    "pets": (("oxford-iiit-pet/images", "dir"), ("oxford-iiit-pet/annotations/trainval.txt", "file"),
             ("oxford-iiit-pet/annotations/test.txt", "file")),
    "sun397": (("SUN397/ClassName.txt", "file"), ("SUN397/Training_01.txt", "file"),
               ("SUN397/Testing_01.txt", "file")),
    "voc2007": ((f"{_VOC}/JPEGImages", "dir"), (f"{_VOC}/Annotations", "dir"),
                *((f"{_VOC}/ImageSets/Main/{s}.txt", "file") for s in _SPLITS3)),
}

# target -> (torchvision class, fixed keyword arguments, {raw split: split keyword arguments})
_TORCHVISION = {
    "aircraft": ("FGVCAircraft", {"annotation_level": "variant"}, {s: {"split": s} for s in _SPLITS3}),
    "caltech101": ("Caltech101", {"target_type": "category"}, {"all": {}}),
    "cars": ("StanfordCars", {}, {s: {"split": s} for s in ("train", "test")}),
    "cifar10": ("CIFAR10", {}, {"train": {"train": True}, "test": {"train": False}}),
    "cifar100": ("CIFAR100", {}, {"train": {"train": True}, "test": {"train": False}}),
    "dtd": ("DTD", {"partition": 1}, {s: {"split": s} for s in _SPLITS3}),
    "flowers": ("Flowers102", {}, {s: {"split": s} for s in _SPLITS3}),
    "food": ("Food101", {}, {s: {"split": s} for s in ("train", "test")}),
    "pets": ("OxfordIIITPet", {"target_types": "category"},
             {"train": {"split": "trainval"}, "test": {"split": "test"}}),
    "sun397": ("SUN397", {}, {"all": {}}),
    "voc2007": ("VOCDetection", {"year": "2007"}, {s: {"image_set": s} for s in _SPLITS3}),
}
_HINTS = (
    "checkpoints: ssl-transfer's download_and_prepare_models.py writes <name>.pth files",
    "SUN397: Training_01.txt and Testing_01.txt come from the dataset's Partitions.zip",
    "Stanford Cars cannot be downloaded by torchvision any more; ImageNet needs an image-net.org account",
)
