"""The ``potran`` command line: ``score`` on the parity cases, ``rank`` on the paper's GT, errors."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from potran.bench.tau import tau_table
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
    code, out, _ = cli("score", CASE, "--metric", "logme", "--perturbation", "ped", "--json")
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
    code, out, _ = cli("score", CASE, "--metric", "logme", "--perturbation", "ped")
    lines = out.splitlines()
    assert code == 0
    assert float(lines[-1]) == pytest.approx(EXPECTED["ped_logme"], rel=1e-8)
    assert "ped steps: 6" in lines
    assert sum(line.strip().startswith("step ") for line in lines) == 6


def test_score_ped_options_reach_the_simulation(cli):
    _, out, _ = cli("score", CASE, "--metric", "logme", "--perturbation", "ped", "--json",
                    "--ped-max-steps", "2")
    assert json.loads(out)["trace"]["steps"] == 2
    _, out, _ = cli("score", CASE, "--metric", "logme", "--perturbation", "ped", "--json",
                    "--ped-nsigma", "0.3")
    assert json.loads(out)["score"] != pytest.approx(EXPECTED["ped_logme"], rel=1e-6)


def test_score_standardize_flag_runs_the_motion_in_the_raw_space(cli):
    import potran

    from conftest import load_case

    arrays, _ = load_case(1)
    _, out, _ = cli("score", CASE, "--metric", "logme", "--perturbation", "ped", "--json",
                    "--no-ped-standardize")
    record = json.loads(out)
    assert record["options"] == {"standardize": False}
    raw = potran.score(arrays["X"], arrays["y"], "logme", ped=True, general=arrays["G"], standardize=False)
    assert record["score"] == pytest.approx(raw, rel=1e-12)
    assert record["score"] != pytest.approx(EXPECTED["ped_logme"], rel=1e-6)
    with pytest.raises(SystemExit) as exit_info:  # argparse checks the declared constraint
        cli("score", CASE, "--metric", "logme", "--perturbation", "ped", "--ped-max-steps", "-1")
    assert exit_info.value.code == 2


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
                       "--general", tmp_path / "G.npy", "--metric", "logme", "--perturbation", "ped")
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
    assert_one_line_error(cli("score", path, "--metric", "logme"), "score",
                          f"{path} is not a valid .npz file (an .npz is a zip archive of .npy arrays)")
    truncated = tmp_path / "X.npy"
    np.save(truncated, np.ones((50, 4)))
    truncated.write_bytes(truncated.read_bytes()[:100])
    np.save(tmp_path / "y.npy", np.arange(50) % 2)
    assert_one_line_error(cli("score", truncated, "--labels", tmp_path / "y.npy", "--metric", "logme"),
                          "score", f"cannot read features from {truncated}")


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
    assert_one_line_error(cli("score", path, "--metric", "logme", "--perturbation", "ped"), "score",
                          "--perturbation ped needs a general feature set", code=2)


@pytest.mark.parametrize("argv, message", [
    (["--ped-nsigma", "0.3"], "PED options (--ped-nsigma) need --perturbation ped"),
    (["--sa-alpha", "group2"], "SA options (--sa-alpha) need --perturbation sa"),
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
                          "--option wants KEY=VALUE or METRIC.KEY=VALUE, got 'gaussian'", code=2)
    assert_one_line_error(cli("score", CASE, "--metric", "logme", "--option", "colour=red"), "score",
                          "no scored metric has an option 'colour'", code=2)


def test_score_device(cli):
    import torch

    assert_one_line_error(cli("score", CASE, "--metric", "logme", "--device", "nonsense"), "score",
                          "unknown device 'nonsense'", code=2)
    result = cli("score", CASE, "--metric", "logme", "--perturbation", "ped", "--device", "cuda")
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


@pytest.mark.slow  # a fresh interpreter imports torch: about 10 s here
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


def _supplementary_scores(tmp_path, datasets=None):
    """The supplementary GT as 'scores': tau_w 0.966 on cifar10, 0.761 on dtd (data/paper/README.md)."""
    supp = groundtruth("supplementary").rename(columns={"test_acc": "score"})
    if datasets is not None:
        supp = supp[supp["target"].isin(datasets)]
    supp = supp[["target", "model", "score"]]
    path = tmp_path / "scores.csv"
    supp.to_csv(path, index=False)
    return path


def test_rank_single_target(cli, tmp_path):
    supp = groundtruth("supplementary")
    tw = groundtruth("twpy")
    supp[supp["target"] == "cifar10"].rename(columns={"test_acc": "score"})[["model", "score"]].to_csv(
        tmp_path / "s.csv", index=False)
    tw[tw["target"] == "cifar10"][["model", "test_acc"]].to_csv(tmp_path / "g.csv", index=False)
    code, out, _ = cli("rank", tmp_path / "s.csv", tmp_path / "g.csv")
    assert code == 0
    assert out.splitlines() == ["weighted_tau over 12 models", "0.966"]
    code, out, _ = cli("rank", tmp_path / "s.csv", tmp_path / "g.csv", "--json")
    record = json.loads(out)
    assert record["statistic"] == "weighted_tau" and record["n_models"] == 12
    assert round(record["value"], 3) == 0.966 and "per_target" not in record


def test_rank_per_target_and_mean(cli, tmp_path, gt_csv):
    scores = _supplementary_scores(tmp_path)
    code, out, _ = cli("rank", scores, gt_csv)
    rows = {line.split()[0]: line.split()[-1] for line in out.splitlines()[1:]}
    assert code == 0
    assert ((rows["cifar10"], rows["dtd"], rows["voc2007"], rows["pets"])
            == ("0.966", "0.761", "0.681", "1.000"))
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
    groundtruth().query("target == 'dtd' and model != 'swav'").to_csv(bad, index=False)
    assert_one_line_error(cli("rank", scores, bad), "rank",
                          "different models: no gt for ['swav'] (target 'dtd')")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert_one_line_error(cli("rank", empty, gt_csv), "rank", "cannot read scores")


# --- potran rank on the benchmark's own tables -----------------------------------------------------

@pytest.fixture
def bench_tables(tmp_path):
    """A scores.csv of `potran bench` (2 metrics +/- PED, one failed score) and an accuracy.csv
    of `potran groundtruth`."""
    rng = np.random.default_rng(0)
    rows = [{"model": m, "target": t, "metric": metric, "perturbation": p, "score": rng.normal(),
             "seconds": 0.1, "error": ""}
            for t in ("t1", "t2") for metric in ("logme", "sfda") for p in ("none", "ped")
            for m in "abcd"]
    scores = pd.DataFrame(rows)
    failed = ((scores.model == "d") & (scores.target == "t1") & (scores.metric == "sfda")
              & (scores.perturbation == "none"))
    scores.loc[failed, ["score", "error"]] = [np.nan, "ValueError: singular"]
    acc = pd.DataFrame({"model": list("abcd") * 2, "target": ["t1"] * 4 + ["t2"] * 4,
                        "test_acc": rng.uniform(0.5, 1, 8), "test_acc_sd": rng.uniform(0, 0.1, 8),
                        "n_seeds": 3, "lr": 1e-3})
    scores.to_csv(tmp_path / "scores.csv", index=False)
    acc.to_csv(tmp_path / "accuracy.csv", index=False)
    return tmp_path / "scores.csv", tmp_path / "accuracy.csv", scores, acc


def _expected_tau(scores, acc, metric, perturbation, target, column="test_acc"):
    rows = scores[(scores.metric == metric) & (scores.perturbation == perturbation)
                  & (scores.target == target)]
    rows = rows[np.isfinite(rows.score)]
    truth = acc[acc.target == target].set_index("model")[column]
    return scipy.stats.weightedtau(rows.score, truth[rows.model]).statistic, len(rows)


@pytest.mark.parametrize("metric, ped", [("logme", "none"), ("logme", "ped"), ("sfda", "none")])
def test_rank_reads_bench_scores_and_groundtruth_accuracy(cli, bench_tables, metric, ped):
    scores_csv, acc_csv, scores, acc = bench_tables
    argv = ["rank", scores_csv, acc_csv, "--metric", metric, "--json"] + (
        ["--perturbation", ped] if ped != "none" else [])
    code, out, _ = cli(*argv)
    record = json.loads(out)
    assert code == 0 and record["statistic"] == "weighted_tau"
    for target in ("t1", "t2"):
        tau, n = _expected_tau(scores, acc, metric, ped, target)
        assert record["per_target"][target] == pytest.approx(tau, abs=1e-14)
        assert record["n_models"][target] == n
    assert record["n_models"]["t1"] == (3 if (metric, ped) == ("sfda", "none") else 4)  # failed row left out
    assert record["value"] == pytest.approx(np.mean(list(record["per_target"].values())), abs=1e-15)
    # the same numbers as the benchmark's own tau table
    tau = tau_table(scores, acc).set_index(["target", "metric", "perturbation"]).weighted_tau
    for target in ("t1", "t2"):
        assert record["per_target"][target] == pytest.approx(tau[(target, metric, ped)], abs=1e-14)


def test_rank_accuracy_column_and_plain_output(cli, bench_tables):
    scores_csv, acc_csv, scores, acc = bench_tables
    record = json.loads(cli("rank", scores_csv, acc_csv, "--metric", "logme", "--accuracy",
                            "test_acc_sd", "--json")[1])
    tau, _ = _expected_tau(scores, acc, "logme", "none", "t2", column="test_acc_sd")
    assert record["per_target"]["t2"] == pytest.approx(tau, abs=1e-14)
    code, out, _ = cli("rank", scores_csv, acc_csv, "--metric", "logme")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["target", "models", "weighted_tau"]
    assert [line.split()[:2] for line in lines[1:3]] == [["t1", "4"], ["t2", "4"]]
    assert lines[3].split()[0] == "mean"


def test_rank_single_metric_table_needs_no_metric_option(cli, bench_tables, tmp_path):
    scores_csv, acc_csv, scores, acc = bench_tables
    scores[scores.metric == "logme"].to_csv(tmp_path / "logme.csv", index=False)
    a = json.loads(cli("rank", tmp_path / "logme.csv", acc_csv, "--json")[1])
    b = json.loads(cli("rank", scores_csv, acc_csv, "--metric", "logme", "--json")[1])
    assert a == b


def test_rank_errors_on_bench_tables(cli, bench_tables, tmp_path):
    scores_csv, acc_csv, scores, acc = bench_tables
    assert_one_line_error(cli("rank", scores_csv, acc_csv), "rank",
                          "the scores hold several metrics (logme, sfda): pick one with --metric", code=2)
    assert_one_line_error(cli("rank", scores_csv, acc_csv, "--metric", "gbc"), "rank",
                          "the scores have no metric 'gbc'; they have logme, sfda")
    assert_one_line_error(cli("rank", scores_csv, acc_csv, "--metric", "logme", "--accuracy", "acc"),
                          "rank", "gt lacks column(s) ['acc']")
    plain = tmp_path / "plain.csv"
    scores[(scores.metric == "logme") & (scores.perturbation == "none")][["model", "target", "score"]].to_csv(
        plain, index=False)
    assert_one_line_error(cli("rank", plain, acc_csv, "--metric", "logme"), "rank",
                          "--metric needs a 'metric' column in the scores", code=2)
    assert_one_line_error(cli("rank", plain, acc_csv, "--perturbation", "ped"), "rank",
                          "--perturbation needs a 'perturbation' column in the scores", code=2)
    assert_one_line_error(cli("rank", scores_csv, acc_csv, "--metric", "logme", "--perturbation", "sa"),
                          "rank", "the scores have no perturbation 'sa'; they have none, ped")
    assert json.loads(cli("rank", plain, acc_csv, "--json")[1])["n_models"] == {"t1": 4, "t2": 4}


# --- potran bench / groundtruth / pretrain -------------------------------------------------------

@pytest.fixture
def bench_readme(monkeypatch):
    """Records the calls of potran.bench.readme.write_bench_readme instead of writing."""
    from potran.bench import readme

    calls = []
    monkeypatch.setattr(readme, "write_bench_readme", lambda *a, **kw: calls.append((a, kw)))
    return calls


@pytest.fixture
def torch_threads():
    """The torch thread count of this process (the commands set it); restored afterwards."""
    import torch

    threads = torch.get_num_threads()
    yield str(threads)
    torch.set_num_threads(threads)


@pytest.mark.parametrize("argv, message", [
    (["bench", "--models", "conv4_random,resnet50"],
     "unknown model 'resnet50' in setting 'bench4'; known: mobilenet_v2"),
    (["bench", "--targets", "lfw"],
     "unknown target 'lfw' in setting 'bench4'; known: mnist5k, patches, letters, fonts"),
    (["bench", "--metric", "logme,logmee"], "unknown metric 'logmee'; known: logme"),
    (["bench", "--perturbation", "none", "--ped-nsigma", "2"],
     "PED options (--ped-nsigma) need --perturbation ped"),
    (["bench", "--reduce", "off"], "--reduce must be auto or a width >= 1, got 'off'"),
    (["bench", "--perturbation", "pde"], "--perturbation: unknown perturbation 'pde' in 'pde'"),
    (["bench", "--perturbation", "sa:nsigma=2"], "--perturbation: unknown option(s) ['nsigma']"),
    (["bench", "--perturbation", "sa", "--perturbation", "sa"], "--perturbation: a label is given twice"),
    (["bench", "--device", "nonsense"], "unknown device 'nonsense'"),
    (["groundtruth", "--models", "resnet50"], "unknown model 'resnet50'"),
    (["groundtruth", "--targets", "digits"], "unknown target 'digits'"),
    (["groundtruth", "--device", "nonsense"], "unknown device 'nonsense'"),
    (["pretrain", "--objectives", "jigsaw"], "unknown objective 'jigsaw'; known: random, supervised"),
])
def test_grid_commands_reject_bad_options_as_usage_errors(cli, bench_readme, tmp_path, argv, message):
    out = tmp_path / "out"
    assert_one_line_error(cli(*argv, "--out", out), argv[0], message, code=2)
    assert not out.exists()  # nothing was started


@pytest.mark.parametrize("argv", [["bench", "--models", "resnet50"], ["groundtruth", "--targets", "digits"],
                                  ["pretrain", "--objectives", "jigsaw"]])
def test_bad_options_are_rejected_before_torch_is_configured(cli, monkeypatch, tmp_path, argv):
    import potran.bench

    calls = []
    monkeypatch.setattr(potran.bench, "configure_torch", lambda *a, **kw: calls.append(a))
    code, _, _ = cli(*argv, "--out", tmp_path / "out")
    assert code == 2 and calls == []


def test_bench_without_setting_opens_bench4(cli, bench_readme, torch_threads, tmp_path, monkeypatch):
    """potran bench without --setting scores settings.get("bench4"), --n-train in its protocol."""
    from dataclasses import replace

    from potran.bench import runner, settings

    seen = []
    monkeypatch.setattr(runner, "run", lambda bench, out, **kw: (seen.append((bench, kw["groundtruth"])),
                                                                 (pd.DataFrame({"error": []}), None))[1])
    assert cli("bench", "--models", "conv4_random", "--targets", "fonts", "--seed", "3", "--n-train", "50",
               "--metric", "logme", "--threads", torch_threads, "--out", tmp_path / "out")[0] == 0
    s = settings.get("bench4", ["conv4_random"], ["fonts"], seed=3)
    bench = s.benchmark(metrics=("logme",), finetune=replace(s.bench.finetune, n_train=50))
    assert seen == [(bench, str(s.groundtruth_dir / "accuracy.csv"))]


@pytest.mark.slow  # real zoo models on a real target
def test_bench_command_writes_tables_and_calls_the_readme(cli, bench_readme, torch_threads,
                                                          tmp_path, monkeypatch):
    from dataclasses import replace

    from potran.bench import settings, sources

    general = np.random.default_rng(0).integers(0, 256, (300, 32, 32, 3), dtype=np.uint8)
    fast = replace(sources.OFFLINE, load_general=lambda: general)
    monkeypatch.setattr(settings, "OFFLINE", fast)  # what potran bench opens: settings.get("bench4")
    models = ["conv4_random", "conv4_supervised_p10"]
    gt = tmp_path / "gt.csv"
    pd.DataFrame({"model": models, "target": "patches", "test_acc": [0.6, 0.9]}).to_csv(gt, index=False)
    common = ["--models", ",".join(models), "--targets", "patches", "--metric", "logme", "--metric", "dim",
              "--n-train", "120", "--cache-dir", tmp_path / "cache", "--threads", torch_threads,
              "--no-progress"]
    out = tmp_path / "out"
    code, stdout, _ = cli("bench", *common, "--perturbation", "ped", "--ped-max-steps", "2",
                          "--reduce", "64", "--groundtruth", gt, "--out", out)
    assert code == 0
    scores = pd.read_csv(out / "scores.csv")
    assert len(scores) == 2 * 2 and (scores.perturbation == "ped:max_steps=2").all()
    assert scores.error.isna().all()
    assert (scores[scores.metric == "dim"].score == 128).all()  # the raw width
    cell = json.loads((out / "cells" / "conv4_random__patches.json").read_text())
    assert (cell["dim"], cell["score_dim"]) == (128, 64)      # scored after the reduction to 64
    tau = pd.read_csv(out / "tau.csv")
    assert sorted(tau.target.unique()) == ["mean", "patches"] and (tau.n_models == 2).all()
    assert stdout.startswith("4 scores (0 failed) of 2 models x 1 targets")
    header = stdout.splitlines()[1].split()  # then the tau table: (metric, perturbation) x target
    assert "patches" in header and "mean" in header
    assert {line.split()[0] for line in stdout.splitlines()[3:]} == {"logme", "dim"}
    (args, kwargs), = bench_readme
    assert args[0] == str(out) and args[1].startswith("potran bench --models conv4_random,")
    assert "--ped-max-steps 2" in args[1]
    pd.testing.assert_frame_equal(args[2].drop(columns="error").reset_index(drop=True),
                                  scores.drop(columns="error"), check_dtype=False)
    assert str(args[3]) == str(gt) and kwargs == {"score_dim": 64}  # the README says 64, not 128

    # PED options reach the simulation: no steps at all leave the scores unchanged
    out2 = tmp_path / "out2"
    assert cli("bench", *common, "--perturbation", "none", "--perturbation", "ped", "--ped-max-steps", "0",
               "--groundtruth", "", "--out", out2)[0] == 0
    both = pd.read_csv(out2 / "scores.csv").pivot_table(index=["model", "metric"], columns="perturbation",
                                                        values="score")
    np.testing.assert_array_equal(both["ped:max_steps=0"], both["none"])
    assert not (out2 / "tau.csv").exists() and len(bench_readme) == 1  # no tau, no README

    # --perturbation gives the axis itself: SA's rows beside the raw ones, with other scores
    out3 = tmp_path / "out3"
    assert cli("bench", *common, "--perturbation", "none", "--perturbation", "sa",
               "--groundtruth", "", "--out", out3)[0] == 0
    sa = pd.read_csv(out3 / "scores.csv").pivot_table(index=["model", "metric"], columns="perturbation",
                                                      values="score")
    assert list(sa.columns) == ["none", "sa"]
    assert (sa.loc[(slice(None), "logme"), "sa"] != sa.loc[(slice(None), "logme"), "none"]).any()


@pytest.mark.slow  # fine-tunes a real zoo model on a real target
def test_groundtruth_command_runs_resumes_and_refuses_another_protocol(cli, torch_threads, tmp_path):
    out = tmp_path / "gt"

    def command(epochs):
        return ["groundtruth", "--out", out, "--models", "conv4_random", "--targets", "patches",
                "--seeds", "0", "1", "--epochs", epochs, "--n-train", "32", "--n-test", "20",
                "--batch-size", "16", "--threads", torch_threads, "--no-progress"]

    argv = command("1")
    code, stdout, _ = cli(*argv)
    assert code == 0 and stdout.startswith(f"1 cells in {out}")
    table = pd.read_csv(out / "accuracy.csv")
    assert table[["model", "target", "n_seeds", "n_train", "n_test", "epochs"]].values.tolist() == [
        ["conv4_random", "patches", 2, 32, 20, 1]]
    record = json.loads((out / "cells" / "conv4_random__patches.json").read_text())
    assert record["config"]["seeds"] == [0, 1] and record["config"]["batch_size"] == 16
    assert record["test_acc"] == table.test_acc.item()
    readme = (out / "README.md").read_text()
    assert "potran groundtruth --out " in readme and "Cells: 1 of 1 done" in readme
    before = (out / "cells" / "conv4_random__patches.json").read_text()
    assert cli(*argv)[0] == 0  # resumed: nothing left to do
    assert (out / "cells" / "conv4_random__patches.json").read_text() == before
    assert_one_line_error(cli(*command("2")), "groundtruth",
                          "conv4_random__patches.json was made with another configuration")


@pytest.mark.parametrize("metric", ["leep", "nce", "ncti"])
def test_bench_refuses_metrics_a_grid_cell_cannot_score(cli, metric):
    """A cell holds features only: leep/nce need source probabilities, ncti scores a pool."""
    assert_one_line_error(cli("bench", "--metric", f"logme,{metric}", "--no-progress"), "bench",
                          f"unknown metric '{metric}'", code=2)


def test_bench_paper_setting_needs_all_three_folders(cli, tmp_path):
    assert_one_line_error(cli("bench", "--paper-data", tmp_path, "--no-progress"), "bench",
                          "missing: --paper-checkpoints, --paper-imagenet-val", code=2)
    assert_one_line_error(cli("bench", "--paper-option", "image_size=32", "--no-progress"), "bench",
                          "--paper-option needs the paper's setting", code=2)


@pytest.mark.slow
def test_bench_scores_the_paper_setting_from_local_files(cli, tmp_path):
    """potran bench reaches the paper's setting: random-weight ResNet-50s in ssl-transfer's format,
    tiny DTD/SUN397 folders, ranked against the paper's published accuracies."""
    from fake_paper import write_paper_files

    files = write_paper_files(tmp_path / "paper", ("byol", "swav", "simclr-v1"))
    out = tmp_path / "out"
    code, stdout, _ = cli("bench", "--paper-checkpoints", files["ckpt"], "--paper-data", files["data"],
                          "--paper-imagenet-val", files["imagenet"], "--paper-option", "image_size=32",
                          "--paper-option", "batch_size=8", "--models", "byol,swav,simclr-v1",
                          "--targets", "dtd", "--metric", "logme,dim",
                          "--out", out, "--cache-dir", tmp_path / "cache", "--threads", "1", "--no-progress")
    assert code == 0
    scores = pd.read_csv(out / "scores.csv")
    assert set(scores.model) == {"byol", "swav", "simclr-v1"} and set(scores.target) == {"dtd"}
    assert scores.error.isna().all() and (scores[scores.metric == "dim"].score == 2048).all()
    tau = pd.read_csv(out / "tau.csv")
    assert (tau[tau.target == "dtd"].n_models == 3).all()
    assert "published fine-tuning accuracies" in stdout and not (out / "README.md").exists()


# --- one vocabulary ---------------------------------------------------------------------------------

def _flags(command):
    """Every option string of a subcommand's parser."""
    from potran.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    return {flag for action in sub._actions for flag in action.option_strings}


@pytest.mark.parametrize("command", ["score", "select", "bench"])
def test_perturbation_flags_are_the_declarations(command):
    """Each declared option of PED and SA (potran.params) is one typed flag, in every subcommand
    that scores, and there is no other --ped-*/--sa-* flag."""
    from potran.params import options_of
    from potran.ped import simulate
    from potran.sa import perturb

    flags = _flags(command)
    for kind, function in (("ped", simulate), ("sa", perturb)):
        declared = {f"--{kind}-" + o.name.replace("_", "-") for o in options_of(function)
                    if o.name != "device"}
        booleans = {f"--no-{kind}-" + o.name.replace("_", "-") for o in options_of(function)
                    if o.describe() == "True or False"}
        assert {f for f in flags if f.startswith((f"--{kind}-", f"--no-{kind}-"))} == declared | booleans
    assert {"--metric", "--perturbation", "--seed"} <= flags
    assert command == "bench" or "--option" in flags


@pytest.mark.parametrize("command", ["rank", "report"])
def test_rank_and_report_share_the_metric_flag(command):
    assert {"--metric", "--perturbation"} <= _flags(command)


def test_select_bootstrap_default_is_the_library_default():
    from potran.cli import build_parser
    from potran.selection import N_BOOT

    assert build_parser().parse_args(["select", "x.npz"]).n_boot == N_BOOT


@pytest.mark.parametrize("argv, new", [
    (["score", CASE, "--metric", "logme", "--ped"], "--ped is now --perturbation ped"),
    (["score", CASE, "--metric", "logme", "--nsigma", "1"], "--nsigma is now --ped-nsigma"),
    (["score", CASE, "--metric", "logme", "--no-standardize"],
     "--no-standardize is now --no-ped-standardize"),
    (["select", "x.npz", "--ped-both"], "--ped-both is now --perturbation none --perturbation ped"),
    (["select", "x.npz", "--ped-option=nsigma=1"], "--ped-option is now a typed flag per option"),
    (["bench", "--metrics", "logme"], "--metrics is now --metric"),
    (["bench", "--ped", "on"], "--ped is now --perturbation"),
    (["bench", "--score-dim", "64"], "--score-dim is now --reduce N"),
])
def test_old_spellings_name_the_new_one(cli, argv, new):
    assert_one_line_error(cli(*argv), argv[0], new, code=2)


def test_score_several_metrics_and_perturbations(cli):
    code, out, _ = cli("score", CASE, "--metric", "logme,sfda", "--perturbation", "none", "--perturbation",
                       "ped", "--json")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [(r["metric"], r["perturbation"]) for r in records] == [
        ("logme", "none"), ("logme", "ped"), ("sfda", "none"), ("sfda", "ped")]
    assert records[0]["score"] == pytest.approx(EXPECTED["logme"], rel=1e-8)
    assert records[1]["score"] == pytest.approx(EXPECTED["ped_logme"], rel=1e-8)


def test_score_metric_option_for_one_metric(cli):
    _, out, _ = cli("score", CASE, "--metric", "logme,gbc", "--option", "gbc.gaussian=diagonal",
                    "--option", "gbc.pca_dim=none", "--json")
    gbc = json.loads(out.splitlines()[1])
    assert gbc["score"] == pytest.approx(EXPECTED["gbc_diagonal_raw_f64"], rel=1e-8)
    assert_one_line_error(cli("score", CASE, "--metric", "logme", "--option", "gaussian=diagonal"), "score",
                          "no scored metric has an option 'gaussian'", code=2)
    assert_one_line_error(cli("score", CASE, "--metric", "logme", "--option", "gbc.gaussian=diagonal"),
                          "score", "metric 'gbc' is not scored", code=2)


def test_score_a_non_finite_score_is_an_error_naming_the_metric(cli, monkeypatch):
    import potran

    real = potran.score
    monkeypatch.setattr(potran, "score", lambda X, y, metric, **kw: float("nan") if metric == "sfda"
                        else real(X, y, metric, **kw))
    code, out, err = cli("score", CASE, "--metric", "logme,sfda")
    assert code == 1 and out.splitlines()[-1] == "nan"
    assert err.count("\n") == 1 and "metric 'sfda' gave a non-finite score (nan)" in err


def test_a_missing_extra_names_it(cli, monkeypatch):
    """potran bench without the bench extra: one line naming the extra, not a traceback."""
    import potran.cli
    import potran.cli.bench

    def missing(args):
        raise ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib")

    monkeypatch.setattr(potran.cli.bench, "run_bench", missing)
    parser = potran.cli.build_parser
    monkeypatch.setattr(potran.cli, "build_parser", lambda: _with_func(parser(), "bench", missing))
    assert_one_line_error(cli("bench", "--no-progress"), "bench",
                          "needs the optional package 'matplotlib': pip install 'potran[bench]'")


def _with_func(parser, command, func):
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    sub.set_defaults(func=func)
    return parser


# --- --setting (potran.bench.settings) ---------------------------------------------------------------

@pytest.mark.parametrize("argv, message", [
    (["bench", "--setting", "v9"], "unknown setting 'v9'; known: v4, v3, bench4, paper"),
    (["bench", "--setting", "v3", "--paper-data", "x"], "the --paper-* folders belong to --setting paper"),
    (["bench", "--setting", "v3", "--n-train", "10"], "--n-train is for the default offline benchmark"),
    (["groundtruth", "--setting", "v3", "--models", "nope"], "unknown model 'nope' in setting 'v3'"),
    (["groundtruth", "--setting", "paper"], "--setting paper fine-tunes with PaperSetting.finetune_grid"),
    (["report", "--setting", "v3", "scores.csv"], "--setting takes no SCORES.csv / GT.csv"),
])
def test_setting_usage_errors(cli, tmp_path, argv, message):
    extra = ["--out", tmp_path / "out"] if argv[0] != "report" else []
    assert_one_line_error(cli(*argv, *extra), argv[0], message, code=2)


def test_bench_setting_reads_the_committed_cells(cli, tmp_path):
    """bench --setting v3 scores nothing that is committed: the rows are the committed ones."""
    code, out, err = cli("bench", "--setting", "v3", "--models", "conv4_random,conv4_simclr,mobilenet_v2",
                         "--targets", "fonts", "--metric", "logme,dim", "--perturbation", "none",
                         "--no-progress", "--out", tmp_path / "out")
    assert code == 0 and out.startswith("ranked against `data/bench_v3/accuracy.csv` with its per-seed cells")
    scores = pd.read_csv(tmp_path / "out" / "scores.csv")
    committed = pd.read_csv(Path(__file__).parents[1] / "data" / "bench_v3" / "scores" / "scores.csv")
    key = ["model", "target", "metric", "perturbation"]
    merged = scores.merge(committed, on=key, suffixes=("", "_committed"))
    assert len(merged) == len(scores) == 6 and (merged.score == merged.score_committed).all()


def test_report_setting_reads_the_committed_files(cli):
    code, out, _ = cli("report", "--setting", "v3", "--metric", "dim", "--perturbation", "none",
                       "--n-boot", "5", "--n-draws", "20", "--no-baseline", "--json")
    records = json.loads(out)
    assert code == 0 and {r["metric"] for r in records if r.get("metric")} == {"dim"}
    assert_one_line_error(cli("report", "--setting", "bench4"), "report",
                          "setting 'bench4' has no committed scores")


def test_a_library_warning_is_one_line_naming_the_command(cli, tmp_path):
    """Duplicated points make scikit-learn's k-means warn inside NLEEP: the user gets one line, not
    the warning's file, line and source."""
    X = np.zeros((40, 3))
    X[:20] = 1
    path = _npz(tmp_path, X=X, y=np.repeat([0, 1], 20), classes=np.array(["cat", "dog"]))
    code, out, err = cli("score", path, "--metric", "nleep")
    assert code == 0 and float(out.splitlines()[-1]) == 1.0
    assert err == ("potran score: warning: Number of distinct clusters (2) found smaller than n_clusters "
                   "(10). Possibly due to duplicate points in X.\n")


def test_score_speaks_in_class_names(cli, tmp_path):
    X = np.random.default_rng(0).normal(size=(21, 4))
    path = _npz(tmp_path, X=X, y=np.array([0] * 10 + [1] * 10 + [2]), classes=np.array(["a", "b", "cirlce"]))
    assert_one_line_error(cli("score", path, "--metric", "logme"), "score",
                          "class 'cirlce' of y has 1 sample(s)")
