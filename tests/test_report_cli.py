"""``potran report``: the tests of potran.stats from the command line."""
import json

import numpy as np
import pandas as pd
import pytest

from potran.cli import main


def _records(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_report_paper_json_gives_peds_gains_with_exact_sign_flip_p(capsys):
    records = _records(capsys, ["report", "--paper", "--json", "--n-draws", "500"])
    assert {"comparison", "estimate", "low", "high", "p_value", "test"} <= set(records[0])
    by = {r["comparison"]: r for r in records}
    logme = by["logme+PED - logme"]
    assert logme["estimate"] == pytest.approx(0.2689, abs=5e-5)
    assert logme["p_value"] == pytest.approx(2 / 1024)
    assert logme["min_p"] == pytest.approx(2 / 1024)
    assert "exact sign-flip over 10 targets" in logme["test"]
    assert logme["low"] < logme["estimate"] < logme["high"]
    sfda = by["sfda+PED - sfda"]
    assert sfda["estimate"] == pytest.approx(0.0456, abs=5e-5) and sfda["p_value"] > 0.05
    assert sfda["verdict"].startswith("not resolved")
    assert by["nleep vs chance"]["p_value"] == pytest.approx(2 / 501)


def test_report_paper_table(capsys):
    assert main(["report", "--paper", "--n-draws", "200"]) == 0
    out = capsys.readouterr().out
    assert "== PED: PED - none, per target" in out
    assert "logme+PED - logme" in out and "+0.269" in out
    assert "oracle-style reference" in out


def _bench(tmp_path, with_cells: bool):
    rng = np.random.default_rng(0)
    scores, acc, cells = [], [], tmp_path / "gt" / "cells"
    cells.mkdir(parents=True)
    for t in ("a", "b", "c", "d"):
        for i in range(6):
            q = 0.5 + 0.05 * i + rng.normal(0, 0.01)
            acc.append({"model": f"m{i}", "target": t, "test_acc": q})
            scores += [{"model": f"m{i}", "target": t, "metric": "good", "perturbation": p,
                        "score": q + (p == "ped") * 0.01} for p in ("none", "ped")]
            if with_cells:
                runs = [{"seed": s, "test_acc": q + rng.normal(0, 0.005)} for s in range(3)]
                (cells / f"m{i}__{t}.json").write_text(json.dumps(
                    {"model": f"m{i}", "target": t, "n_test": 400, "runs": runs}))
    pd.DataFrame(scores).to_csv(tmp_path / "scores.csv", index=False)
    pd.DataFrame(acc).to_csv(tmp_path / "gt" / "accuracy.csv", index=False)
    return str(tmp_path / "scores.csv"), str(tmp_path / "gt" / "accuracy.csv")


@pytest.mark.parametrize("with_cells", [True, False])
def test_report_scores_and_groundtruth(tmp_path, capsys, with_cells):
    scores, gt = _bench(tmp_path, with_cells)
    records = _records(capsys, ["report", scores, gt, "--json", "--n-boot", "100", "--n-draws", "200"])
    by = {(r["family"], r["comparison"]): r for r in records}
    chance = by[("chance", "good vs chance")]
    assert chance["estimate"] == pytest.approx(1.0) and chance["verdict"] == "better than chance"
    targets = by[("targets", "good: mean tau_w")]
    assert targets["min_p"] == 0.125 and targets["verdict"].startswith("cannot be resolved")
    boot = by[("models", "good: mean tau_w")]
    assert ("seeds" in boot["resampled"]) == with_cells
    assert ("baseline", "good - static_loto") in by
    pair = _records(capsys, ["report", scores, gt, "--json", "--n-boot", "50", "--n-draws", "50",
                             "--compare", "good+PED,good"])
    pair = {(r["family"], r["comparison"]): r for r in pair}
    assert pair[("pair", "good+PED - good")]["estimate"] == pytest.approx(
        by[("PED", "good+PED - good")]["estimate"])


def test_report_bad_usage(tmp_path, capsys):
    scores, gt = _bench(tmp_path, False)
    assert main(["report"]) == 2
    assert "give SCORES.csv and GT.csv, --setting NAME or --paper" in capsys.readouterr().err
    assert main(["report", "--paper", scores]) == 2
    assert main(["report", scores, gt, "--compare", "good"]) == 2
    assert "--compare wants A,B" in capsys.readouterr().err
    assert main(["report", scores, gt, "--compare", "good,nothing"]) == 1
    assert "no scores for [('nothing', 'none')]" in capsys.readouterr().err
    assert main(["report", scores, str(tmp_path / "none.csv")]) == 1
    assert "no such file" in capsys.readouterr().err
    pd.DataFrame({"model": ["a"], "acc": [1.0]}).to_csv(tmp_path / "bad.csv", index=False)
    assert main(["report", scores, str(tmp_path / "bad.csv")]) == 1
    assert "lack column(s) ['target', 'test_acc']" in capsys.readouterr().err
    assert main(["report", scores, gt, "--cells", str(tmp_path / "nowhere")]) == 1
    assert "no such folder" in capsys.readouterr().err


def test_report_metric_and_perturbation_pick_rows(tmp_path, capsys):
    scores, gt = _bench(tmp_path, False)
    records = _records(capsys, ["report", scores, gt, "--json", "--n-boot", "20", "--n-draws", "50",
                                "--metric", "good", "--perturbation", "none", "--no-baseline"])
    assert {r["perturbation"] for r in records if r.get("perturbation")} == {"none"}
    assert main(["report", scores, gt, "--metric", "bad"]) == 1
    assert "the scores have no metric 'bad'; they have good" in capsys.readouterr().err
