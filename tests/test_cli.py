"""The ``potran`` command line: ``score`` on the parity cases, ``rank`` on the paper's GT, errors."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from potran.cli import main
from potran.paper import groundtruth

PARITY = Path(__file__).parent / "parity"
CASE = str(PARITY / "case_1.npz")
EXPECTED = json.loads((PARITY / "case_1.json").read_text())


@pytest.fixture
def cli(capsys):
    """Run ``potran ARGS...``; returns (exit status, stdout, stderr)."""
    def run(*argv):
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def assert_one_line_error(result, command, message, code=1):
    status, out, err = result
    assert status == code
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"potran {command}: error: ")
    assert message in err


# --- potran score ---------------------------------------------------------------------------------

def test_score_plain_output_ends_with_the_score(cli):
    code, out, _ = cli("score", CASE, "--metric", "logme")
    assert code == 0
    assert float(out.splitlines()[-1]) == pytest.approx(EXPECTED["logme"], rel=1e-8)


def test_score_json(cli):
    code, out, _ = cli("score", CASE, "--metric", "logme", "--json")
    record = json.loads(out)
    assert code == 0
    assert record["score"] == pytest.approx(EXPECTED["logme"], rel=1e-8)
    assert (record["metric"], record["ped"], record["n_samples"]) == ("logme", False, 600)
    assert "trace" not in record


def test_score_ped_json_has_the_official_trace(cli):
    code, out, _ = cli("score", CASE, "--metric", "logme", "--ped", "--json")
    record = json.loads(out)
    assert code == 0 and record["ped"] is True
    assert record["score"] == pytest.approx(EXPECTED["ped_logme"], rel=1e-8)
    trace = record["trace"]
    assert trace["steps"] == EXPECTED["ped_logme_accepted_steps"] == 6
    np.testing.assert_allclose(trace["displacements"], EXPECTED["ped_logme_position_changes"],
                               rtol=1e-10)
    energies = np.array(trace["energies"])  # before step 1, then after every step
    assert energies.shape == (7,) and np.all(np.diff(energies) < 0)


def test_score_ped_plain_prints_the_steps_then_the_score(cli):
    code, out, _ = cli("score", CASE, "--metric", "logme", "--ped")
    lines = out.splitlines()
    assert code == 0
    assert float(lines[-1]) == pytest.approx(EXPECTED["ped_logme"], rel=1e-8)
    assert "ped steps: 6" in lines
    assert sum(line.strip().startswith("step ") for line in lines) == 6


def test_score_ped_options_reach_the_simulation(cli):
    _, out, _ = cli("score", CASE, "--metric", "logme", "--ped", "--json", "--max-steps", "2")
    assert json.loads(out)["trace"]["steps"] == 2
    _, out, _ = cli("score", CASE, "--metric", "logme", "--ped", "--json", "--nsigma", "0.3")
    assert json.loads(out)["score"] != pytest.approx(EXPECTED["ped_logme"], rel=1e-6)


def test_score_metric_options_and_seed(cli):
    _, out, _ = cli("score", CASE, "--metric", "gbc", "--option", "gaussian=diagonal",
                    "--option", "pca_dim=none", "--json")
    record = json.loads(out)
    assert record["score"] == pytest.approx(EXPECTED["gbc_diagonal_raw_f64"], rel=1e-8)
    assert record["options"] == {"gaussian": "diagonal", "pca_dim": None}
    draws = [float(cli("score", CASE, "--metric", "random", "--seed", s)[1].splitlines()[-1])
             for s in (1, 1, 2)]
    assert draws[0] == draws[1] != draws[2]


def test_score_npy_inputs_equal_npz(cli, tmp_path):
    arrays = np.load(CASE)
    for key in ("X", "y", "G"):
        np.save(tmp_path / f"{key}.npy", arrays[key])
    code, out, _ = cli("score", tmp_path / "X.npy", "--labels", tmp_path / "y.npy",
                       "--general", tmp_path / "G.npy", "--metric", "logme", "--ped")
    assert code == 0
    assert float(out.splitlines()[-1]) == pytest.approx(EXPECTED["ped_logme"], rel=1e-8)


def _npz(tmp_path, **arrays):
    path = tmp_path / "case.npz"
    np.savez(path, **arrays)
    return path


def test_score_unknown_metric(cli):
    assert_one_line_error(cli("score", CASE, "--metric", "no-such-metric"), "score",
                          "unknown metric 'no-such-metric'; choose from", code=2)


def test_score_missing_file(cli, tmp_path):
    assert_one_line_error(cli("score", tmp_path / "absent.npz", "--metric", "logme"), "score",
                          "no such file")


def test_score_corrupt_file(cli, tmp_path):
    path = tmp_path / "broken.npz"
    path.write_text("not an archive")
    assert_one_line_error(cli("score", path, "--metric", "logme"), "score", "cannot read")


def test_score_npz_without_labels(cli, tmp_path):
    path = _npz(tmp_path, X=np.ones((4, 2)))
    assert_one_line_error(cli("score", path, "--metric", "logme"), "score", "has no array 'y'")


def test_score_bad_arrays(cli, tmp_path):
    arrays = dict(np.load(CASE))
    arrays["X"][3, 5] = np.nan
    assert_one_line_error(cli("score", _npz(tmp_path, **arrays), "--metric", "logme"), "score",
                          "NaN")


def test_score_label_length_mismatch(cli, tmp_path):
    arrays = dict(np.load(CASE))
    arrays["y"] = arrays["y"][:-1]
    assert_one_line_error(cli("score", _npz(tmp_path, **arrays), "--metric", "logme"), "score",
                          "inconsistent numbers of samples")


def test_score_ped_without_general_set(cli, tmp_path):
    arrays = np.load(CASE)
    path = _npz(tmp_path, X=arrays["X"], y=arrays["y"])
    assert_one_line_error(cli("score", path, "--metric", "logme", "--ped"), "score",
                          "--ped needs a general feature set", code=2)


@pytest.mark.parametrize("argv, message", [
    (["--nsigma", "0.3"], "PED options (--nsigma) need --ped"),
    (["--labels", "y.npy"], "--labels/--general are for .npy features"),
])
def test_score_options_that_do_not_fit(cli, argv, message):
    assert_one_line_error(cli("score", CASE, "--metric", "logme", *argv), "score", message, code=2)


def test_score_npy_without_labels_and_unknown_suffix(cli, tmp_path):
    np.save(tmp_path / "X.npy", np.ones((4, 2)))
    assert_one_line_error(cli("score", tmp_path / "X.npy", "--metric", "logme"), "score",
                          "needs --labels", code=2)
    assert_one_line_error(cli("score", tmp_path / "X.csv", "--metric", "logme"), "score",
                          "expected a .npz or .npy file", code=2)


def test_score_bad_metric_options(cli):
    assert_one_line_error(cli("score", CASE, "--metric", "gbc", "--option", "gaussian"), "score",
                          "--option wants KEY=VALUE, got 'gaussian'", code=2)
    assert_one_line_error(cli("score", CASE, "--metric", "logme", "--option", "colour=red"), "score",
                          "unknown option(s) ['colour'] for metric 'logme'")


def test_score_device(cli):
    import torch

    assert_one_line_error(cli("score", CASE, "--metric", "logme", "--device", "nonsense"), "score",
                          "unknown device 'nonsense'", code=2)
    result = cli("score", CASE, "--metric", "logme", "--ped", "--device", "cuda")
    if torch.cuda.is_available():
        assert float(result[1].splitlines()[-1]) == pytest.approx(EXPECTED["ped_logme"], rel=1e-8)
    else:
        assert_one_line_error(result, "score", "CUDA is not available")


def test_score_seed_on_a_deterministic_metric(cli):
    assert_one_line_error(cli("score", CASE, "--metric", "logme", "--seed", "1"), "score",
                          "takes no --seed", code=2)


def test_subcommands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0 and "score" in out and "rank" in out


def test_installed_command_exits_non_zero_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "potran.cli", "score", str(tmp_path / "absent.npz"), "--metric", "logme"],
        capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == f"potran score: error: no such file: {tmp_path / 'absent.npz'}"


# --- potran rank ----------------------------------------------------------------------------------

@pytest.fixture
def gt_csv(tmp_path):
    path = tmp_path / "gt.csv"
    groundtruth("twpy").to_csv(path, index=False)
    return path


def _supplementary_scores(tmp_path, datasets=None, target_column="dataset"):
    """The supplementary GT as 'scores': tau_w 0.966 on cifar10, 0.761 on dtd (data/paper/README.md)."""
    supp = groundtruth("supplementary").rename(columns={"accuracy": "score"})
    if datasets is not None:
        supp = supp[supp["dataset"].isin(datasets)]
    supp = supp.rename(columns={"dataset": target_column})[[target_column, "model", "score"]]
    path = tmp_path / "scores.csv"
    supp.to_csv(path, index=False)
    return path


def test_rank_single_target(cli, tmp_path):
    supp = groundtruth("supplementary")
    tw = groundtruth("twpy")
    supp[supp["dataset"] == "cifar10"].rename(columns={"accuracy": "score"})[["model", "score"]].to_csv(
        tmp_path / "s.csv", index=False)
    tw[tw["dataset"] == "cifar10"][["model", "accuracy"]].to_csv(tmp_path / "g.csv", index=False)
    code, out, _ = cli("rank", tmp_path / "s.csv", tmp_path / "g.csv")
    assert code == 0
    assert out.splitlines() == ["weighted_tau over 12 models", "0.966"]
    code, out, _ = cli("rank", tmp_path / "s.csv", tmp_path / "g.csv", "--json")
    record = json.loads(out)
    assert record["statistic"] == "weighted_tau" and record["n_models"] == 12
    assert round(record["value"], 3) == 0.966 and "per_target" not in record


@pytest.mark.parametrize("target_column", ["dataset", "target"])
def test_rank_per_target_and_mean(cli, tmp_path, gt_csv, target_column):
    scores = _supplementary_scores(tmp_path, target_column=target_column)
    code, out, _ = cli("rank", scores, gt_csv)
    rows = {line.split()[0]: line.split()[-1] for line in out.splitlines()[1:]}
    assert code == 0
    assert (rows["cifar10"], rows["dtd"], rows["voc2007"], rows["pets"]) == ("0.966", "0.761", "0.681", "1.000")
    assert rows["mean"] == "0.941"  # (7 + 0.96613 + 0.76076 + 0.68068) / 10
    assert "sun397" not in rows  # GT targets without scores are ignored
    record = json.loads(cli("rank", scores, gt_csv, "--json")[1])
    assert len(record["per_target"]) == 10 and record["n_models"]["dtd"] == 12
    assert record["value"] == pytest.approx(np.mean(list(record["per_target"].values())), abs=1e-15)


def test_rank_other_statistic(cli, tmp_path, gt_csv):
    scores = _supplementary_scores(tmp_path, datasets=["dtd"])
    record = json.loads(cli("rank", scores, gt_csv, "--stat", "kendall_tau", "--json")[1])
    # dtd: simclr-v2 moves from 5th to 1st (4 discordant pairs of 66), tau = 58/66
    assert record["statistic"] == "kendall_tau"
    assert record["per_target"]["dtd"] == pytest.approx(58 / 66)


def test_rank_errors(cli, tmp_path, gt_csv):
    scores = _supplementary_scores(tmp_path, datasets=["dtd"])
    assert_one_line_error(cli("rank", tmp_path / "absent.csv", gt_csv), "rank", "no such file")
    assert_one_line_error(cli("rank", gt_csv, gt_csv), "rank", "scores lacks column(s) ['score']")
    bad = tmp_path / "bad.csv"
    groundtruth().query("dataset == 'dtd' and model != 'swav'").to_csv(bad, index=False)
    assert_one_line_error(cli("rank", scores, bad), "rank", "different models: no gt for ['swav'] (target 'dtd')")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert_one_line_error(cli("rank", empty, gt_csv), "rank", "cannot read scores")
