"""The package itself: lazy imports (no torch for ``import potran`` or ``potran --help``),
public names, data files, the ``python -m potran`` entry point and torch's CPU settings."""
import importlib
import pkgutil
import subprocess
import sys

import pytest

import potran
from potran.resources import data_path


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, timeout=300)


@pytest.mark.slow  # a fresh interpreter
def test_import_potran_does_not_load_torch():
    result = python("import sys, potran; assert potran.__version__; "
                    "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('potran.')))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"  # neither torch nor any submodule yet


@pytest.mark.slow  # a fresh interpreter
def test_command_line_help_does_not_load_torch():
    result = python("import sys\nfrom potran.cli import main\n"
                    "for argv in ([], ['score'], ['bench'], ['groundtruth'], ['rank']):\n"
                    "    try:\n        main(argv + ['--help'])\n    except SystemExit:\n        pass\n"
                    "print('torch' in sys.modules, 'pandas' in sys.modules)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False False"


@pytest.mark.slow  # two fresh interpreters
def test_python_dash_m_potran_is_the_command():
    result = subprocess.run([sys.executable, "-m", "potran", "--help"], capture_output=True,
                            text=True, check=False, timeout=300)
    assert result.returncode == 0
    for command in ("score", "rank", "bench", "groundtruth", "pretrain", "demo"):
        assert command in result.stdout
    bad = subprocess.run([sys.executable, "-m", "potran", "rank", "absent.csv", "gt.csv"],
                         capture_output=True, text=True, check=False, timeout=300)
    assert bad.returncode == 1 and bad.stderr == "potran rank: error: no such file: absent.csv\n"


def test_lazy_names_resolve_on_first_use():
    assert potran.__all__ == sorted(potran.__all__)
    assert set(potran.__all__) <= set(dir(potran))
    from potran.scoring import score

    assert potran.score is score and potran.simulate is importlib.import_module("potran.ped").simulate
    assert "logme" in potran.REGISTRY
    with pytest.raises(AttributeError, match="module 'potran' has no attribute 'nope'"):
        potran.nope  # noqa: B018


def test_every_public_name_exists():
    missing = []
    for info in pkgutil.walk_packages(potran.__path__, "potran."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        missing += [f"{info.name}.{n}" for n in getattr(module, "__all__", ()) if not hasattr(module, n)]
    assert missing == []


def test_data_files_are_found_from_the_package():
    from potran import paper
    from potran.bench.zoo import weights

    assert data_path("paper") == paper.DATA_DIR and paper.DATA_DIR.is_dir()
    assert (data_path("paper", "main_table.csv")).is_file()
    assert data_path("zoo") == weights.ZOO_DIR
    assert (data_path("zoo") / "MANIFEST.json").is_file()
    assert data_path("zoo", "conv4_random.pt") == data_path("zoo") / "conv4_random.pt"


def test_configure_torch_sets_threads_and_flushes_denormals():
    import torch

    from potran.bench import configure_torch

    threads = torch.get_num_threads()
    try:
        configure_torch(1)
        assert torch.get_num_threads() == 1
        assert torch.tensor([1e-310], dtype=torch.float64).mul(1.0).item() == 0.0  # flushed
        configure_torch(None)
        assert torch.get_num_threads() == 1  # None keeps the setting
    finally:
        torch.set_num_threads(threads)
        torch.set_flush_denormal(False)
