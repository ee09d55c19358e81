"""Ranking one's own models (potran.selection, ``potran select``): scores equal potran.score's,
rank 1 is the best model for every metric, NCTI's pool score, clear errors."""
import io
import json

import numpy as np
import pandas as pd
import pytest

import potran
from potran import perturbations, selection
from potran.cli import main
from potran.cli.scoring import format_ranking
from potran.metrics import ncti_pool_scores
from potran.selection import COLUMNS, METRICS, model_files

from conftest import blobs

RNG = np.random.default_rng(5)


def zoo(dim):
    """Three standardised models of one width: separable classes, noisier ones, pure noise."""
    X, y = blobs(n_per_class=(40, 40, 40), dim=dim, seed=0)
    rng = np.random.default_rng(dim)
    z = lambda F: (F - F.mean(0)) / F.std(0)  # noqa: E731
    return {"good": z(X), "noisy": z(X + 2 * rng.normal(size=X.shape)), "noise": rng.normal(size=X.shape)}, y


MODELS, Y = zoo(10)
X = MODELS["good"]
GENERAL = {name: RNG.normal(size=(60, 10)) for name in MODELS}
WIDE, _ = zoo(70)  # for PARC (D >= 32) and NCTI (D >= 64); TransRate ranks noise first at this D > N_c
NAMES = np.array(["owl", "cat", "dog"])


def rank_models(*args, **kwargs):
    """potran.rank_models without the bootstrap unless asked (the tests below check the scores)."""
    return selection.rank_models(*args, **{"n_boot": 0, **kwargs})


def test_table_scores_are_potran_scores_and_ranks_descend():
    table = rank_models(MODELS, Y, metrics=["logme", "gbc"], ped="both", general=GENERAL)
    assert list(table.columns) == COLUMNS and len(table) == 3 * 2 * 2
    assert table["score"].dtype == np.float64 and str(table["rank"].dtype) == "Int64"
    assert (table.error == "").all() and (table.width == table.scored_width).all()  # D = 10: no reduction
    for row in table.itertuples():
        ped = row.perturbation == "ped"
        expected = potran.score(MODELS[row.model], Y, row.metric, ped=ped,
                                general=GENERAL[row.model] if ped else None)
        assert row.score == expected
    for _, part in table.groupby(["metric", "perturbation"]):
        assert part["rank"].tolist() == [1, 2, 3]
        assert part["score"].is_monotonic_decreasing
    assert list(dict.fromkeys(zip(table.metric, table.perturbation))) == [
        ("logme", "none"), ("logme", "ped"), ("gbc", "none"), ("gbc", "ped")]


@pytest.mark.parametrize("metric", [m for m in METRICS if m not in ("random", "dim", "norm")])
def test_rank_one_is_the_model_with_separable_classes(metric):
    """Every metric is higher-is-better, so the separable model ranks first and pure noise last."""
    table = rank_models(WIDE if metric in ("parc", "ncti") else MODELS, Y, metrics=metric, reduction=None)
    assert table["model"].tolist() == ["good", "noisy", "noise"]
    assert table["rank"].tolist() == [1, 2, 3]


def test_ties_share_the_smallest_rank():
    wide = dict(MODELS, wide=np.hstack([X, X]))
    table = rank_models(wide, Y, metrics="dim")
    assert dict(zip(table.model, table["rank"])) == {"wide": 1, "good": 2, "noisy": 2, "noise": 2}


def test_ncti_gives_the_pool_score():
    general = {name: RNG.normal(size=(60, 70)) for name in WIDE}
    table = rank_models(WIDE, Y, metrics="ncti", ped=True, general=general, reduction=None)
    components = {name: potran.score(F, Y, "ncti", ped=True, general=general[name])
                  for name, F in WIDE.items()}
    assert dict(zip(table.model, table.score)) == ncti_pool_scores(components)
    assert set(table.perturbation) == {"ped"}


def test_class_names_give_the_same_table_as_codes():
    codes = rank_models(MODELS, np.argsort(np.argsort(NAMES))[Y], metrics=["sfda", "gbc"])
    pd.testing.assert_frame_equal(rank_models(MODELS, NAMES[Y].tolist(), metrics=["sfda", "gbc"]), codes)
    per_model = {name: NAMES[Y] for name in MODELS}  # a mapping of identical label vectors is one y
    pd.testing.assert_frame_equal(rank_models(MODELS, per_model, metrics=["sfda", "gbc"]), codes)


def test_options_reach_ped_sa_and_the_metric():
    table = rank_models(MODELS, Y, metrics="gbc", ped=True, sa="both", general=GENERAL,
                        options={"gbc": {"gaussian": "diagonal"}}, ped_options={"nsigma": 1.2},
                        sa_options={"alpha": 0.5})
    assert list(dict.fromkeys(table.perturbation)) == ["none", "ped", "sa"]
    get = table.set_index(["model", "perturbation"])["score"]
    assert get["noisy", "ped"] == potran.score(MODELS["noisy"], Y, "gbc", ped=True, general=GENERAL["noisy"],
                                               nsigma=1.2, gaussian="diagonal")
    assert get["noisy", "sa"] == potran.score(MODELS["noisy"], Y, "gbc", sa=True, alpha=0.5,
                                              gaussian="diagonal")
    assert get["noisy", "none"] == potran.score(MODELS["noisy"], Y, "gbc", gaussian="diagonal")
    on_cpu = rank_models(MODELS, Y, metrics="sfda", ped=True, general=GENERAL, device="cpu")
    pd.testing.assert_frame_equal(on_cpu, rank_models(MODELS, Y, metrics="sfda", ped=True, general=GENERAL))


def test_scores_are_those_of_the_moved_features_of_the_perturbation_axis():
    table = rank_models(MODELS, Y, metrics=["logme", "gbc"], ped="both", general=GENERAL,
                        ped_options={"nsigma": 1.2, "standardize": True})
    get = table.set_index(["model", "metric", "perturbation"])["score"]
    for name, X in MODELS.items():
        moved = perturbations.move("ped:nsigma=1.2,standardize=True", X, Y, GENERAL[name]).features
        for metric in ("logme", "gbc"):
            assert get[name, metric, "ped"] == potran.score(moved, Y, metric)
            assert get[name, metric, "none"] == potran.score(X, Y, metric)


def test_each_perturbation_runs_once_per_model(monkeypatch):
    from potran import ped

    calls = []
    real = ped.simulate
    monkeypatch.setattr(ped, "simulate", lambda X, *a, **k: calls.append(X) or real(X, *a, **k))
    rank_models(MODELS, Y, metrics=["logme", "sfda", "gbc"], ped=True, general=GENERAL)
    assert len(calls) == len(MODELS)


@pytest.mark.parametrize("kwargs,message", [
    (dict(metrics="logmee"), "unknown metric 'logmee'; valid metrics: logme, sfda, gbc"),
    (dict(metrics="leep"), "'leep' \\(it scores source-classifier probabilities, not features\\)"),
    (dict(metrics=[]), "no metric given; valid metrics: logme"),
    (dict(ped=True), "PED needs general=\\{model name: general feature set\\}"),
    (dict(ped=True, general={"good": GENERAL["good"], "noisy": GENERAL["noisy"]}),
     "PED needs a general feature set for every model; model 'noise' has none"),
    (dict(ped=True, general=dict(GENERAL, other=GENERAL["good"])), "unknown model\\(s\\) \\['other'\\]"),
    (dict(general=GENERAL), "general feature sets were given but ped is False"),
    (dict(ped="yes"), "ped must be False, True or 'both', got 'yes'"),
    (dict(options={"logme": {}}), "options for metric\\(s\\) \\['logme'\\] that are not scored"),
    (dict(ped=True, general=GENERAL, ped_options={"sigma": 1}),
     "ped_options: unknown option\\(s\\) \\['sigma'\\] of perturbation 'ped'.*; known: nsigma"),
    (dict(sa=True, sa_options={"nsigma": 1}),
     "sa_options: unknown option\\(s\\) \\['nsigma'\\] of perturbation 'sa'.*; known: alpha"),
    (dict(ped=True, general=GENERAL, ped_options={"nsigma": 0}), "ped_options: nsigma must be"),
    (dict(metrics="parc", options={"parc": {"bogus": 1}}),
     "metric 'parc': unknown option\\(s\\) \\['bogus'\\]; known: n_dims"),
    (dict(metrics="knn", options={"knn": {"k": 0}}), "metric 'knn': k must be an integer >= 1, got 0"),
    (dict(n_boot=-1), "n_boot must be an integer >= 0, got -1"),
    (dict(reduction="yes"), "reduction must be 'auto', None or an integer >= 1, got 'yes'"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rank_models(MODELS, Y, **kwargs)


def test_bad_features_or_labels_name_the_model():
    with pytest.raises(ValueError, match="features of model 'short' have 119 rows but y has 120 labels"):
        rank_models(dict(MODELS, short=X[:-1]), Y)
    with pytest.raises(ValueError, match="non-empty mapping"):
        rank_models([X, X], Y)
    with pytest.raises(ValueError, match="features of model 'bad' contains NaN or Inf"):
        rank_models(dict(MODELS, bad=np.full_like(X, np.nan)), Y)
    shuffled = {"good": Y, "noisy": Y[::-1], "noise": Y}
    with pytest.raises(ValueError, match="y of model 'noisy' differs from y of model 'good'"):
        rank_models(MODELS, shuffled)
    with pytest.raises(ValueError, match="y has no labels for model 'noise'"):
        rank_models(MODELS, {"good": Y, "noisy": Y})
    with pytest.raises(ValueError, match="mixes label types"):
        rank_models(MODELS, ["a", 1] * 60)


def test_format_ranking():
    table = rank_models(MODELS, Y, metrics=["logme", "sfda"], ped="both", general=GENERAL)
    text = format_ranking(table)
    blocks = text.split("\n\n")
    assert blocks[0].startswith("reduction: none")
    titles = [b.splitlines()[0] for b in blocks[1:5]]
    assert titles == ["logme:", "logme after PED:", "sfda:", "sfda after PED:"]
    first = table.iloc[0]
    assert blocks[1].splitlines()[2].split() == ["1", first.model, f"{first.score:.6g}"]
    header, *rows = blocks[5].splitlines()
    assert header.split() == ["model", "logme", "logme+PED", "sfda", "sfda+PED"]
    assert [r.split()[0] for r in rows] == ["good", "noisy", "noise"]
    assert rows[0].split()[1:3] == [f"{first.score:.6g}", "(1)"]
    assert blocks[6].startswith("agreement of the 2 metrics' rankings (3 models): Kendall's W 1.00")


# --- potran select --------------------------------------------------------------------------------

@pytest.fixture
def npz_folder(tmp_path):
    for name, F in MODELS.items():
        np.savez(tmp_path / f"{name}.npz", X=F, y=NAMES[Y], G=GENERAL[name])
    return tmp_path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_select_prints_rankings_and_a_table(npz_folder, capsys):
    code, out, err = run(capsys, "select", npz_folder, "--perturbation", "none", "--perturbation", "ped",
                         "--metric", "logme,gbc", "--metric", "sfda", "--n-boot", "0")
    assert code == 0 and err == ""
    in_file_order = {name: MODELS[name] for name in sorted(MODELS)}  # good, noise, noisy
    expected = rank_models(in_file_order, NAMES[Y], metrics=["logme", "gbc", "sfda"], ped="both",
                           general=GENERAL)
    assert out.startswith("3 models, 120 labelled images, 3 classes (cat, dog, owl)\n\n")
    assert format_ranking(expected) in out
    assert "evidence: benchmark v3, 12 targets of the fine-tuning main table" in out
    assert "notebooks/benchmark_v3" in out


def test_select_json_and_csv_are_the_table(npz_folder, capsys):
    files = [npz_folder / f"{name}.npz" for name in MODELS]
    expected = rank_models(MODELS, NAMES[Y], metrics=["logme", "gbc"], ped=True, general=GENERAL, n_boot=5,
                           seed=3)
    code, out, _ = run(capsys, "select", *files, "--metric", "logme,gbc", "--perturbation", "ped", "--json",
                       "--n-boot", "5", "--seed", "3")
    record = json.loads(out)
    assert code == 0 and record["models"] == list(MODELS) and record["images"] == 120
    assert record["resampling"]["replicates"] == 5 and record["resampling"]["seed"] == 3
    assert record["reduction"]["good"] == {"width": 10, "scored_width": 10}
    rows = pd.DataFrame(record["rows"])
    pd.testing.assert_frame_equal(rows[["model", "metric", "score", "low", "high", "p_best"]],
                                  expected[["model", "metric", "score", "low", "high", "p_best"]])
    assert rows["top_set"].tolist() == expected["top_set"].tolist()
    assert record["agreement"][0]["kendall_w"] == pytest.approx(1.0)
    assert record["evidence_page"] == "notebooks/benchmark_v3"
    assert {r["metric"] for r in record["evidence"]} == {"logme", "gbc"}
    code, out, _ = run(capsys, "select", *files, "--metric", "logme,gbc", "--perturbation", "ped", "--csv",
                       "--ped-nsigma", "0.6", "--n-boot", "5", "--seed", "3")
    back = pd.read_csv(io.StringIO(out), keep_default_na=False, na_values=[""])
    assert list(back.columns) == COLUMNS
    columns = ["score", "low", "high", "p_best"]
    np.testing.assert_allclose(back[columns], expected[columns])


def test_select_errors(npz_folder, tmp_path, capsys):
    def error(*argv):
        code, out, err = run(capsys, "select", *argv, "--n-boot", "0")
        assert out == "" and err.count("\n") == 1 and err.startswith("potran select: error: ")
        return code, err

    np.savez(npz_folder / "nog.npz", X=X, y=Y)
    code, err = error(npz_folder, "--perturbation", "ped")
    assert code == 2 and f"{npz_folder / 'nog.npz'} has no array 'G'" in err
    code, err = error(npz_folder, "--metric", "leep")
    assert code == 1 and "valid metrics: logme, sfda" in err
    (npz_folder / "nog.npz").unlink()
    np.savez(npz_folder / "other.npz", X=X, y=NAMES[Y][::-1])
    code, err = error(npz_folder)
    assert code == 1
    assert "y of model 'other' differs from y of model 'good' at image 1: 'dog' against 'owl'" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no .npz files in" in error(empty)[1]
    assert "no such file or folder" in error(tmp_path / "absent")[1]
    (tmp_path / "x.npy").write_bytes(b"")
    assert "expected .npz files" in error(tmp_path / "x.npy")[1]
    code, err = error(npz_folder, "--ped-nsigma", "2")
    assert code == 2 and "PED options (--ped-nsigma) need --perturbation ped" in err
    code, err = error(npz_folder, "--reduce", "wide")
    assert code == 2 and "--reduce must be auto, off or a width >= 1, got 'wide'" in err


def _extracted(folder, name, X, y, classes, files, **extra):
    np.savez(folder / f"{name}.npz", X=X, y=y, classes=np.asarray(classes), files=np.asarray(files), **extra)


def test_select_checks_that_the_models_saw_the_same_images(tmp_path, capsys):
    codes = np.argsort(np.argsort(NAMES))[Y]             # extract's codes: classes in sorted order
    classes, files = sorted(NAMES), [f"{NAMES[c]}/{i}.png" for i, c in enumerate(Y)]
    _extracted(tmp_path, "a", MODELS["good"], codes, classes, files)
    _extracted(tmp_path, "b", MODELS["noisy"], codes, classes, files[::-1])
    code, out, err = run(capsys, "select", tmp_path, "--n-boot", "0")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert f"{tmp_path / 'b.npz'} and {tmp_path / 'a.npz'} differ at image 1: {files[-1]!r} against " \
           f"{files[0]!r}" in err
    _extracted(tmp_path, "b", MODELS["noisy"], codes, ["cat", "dgo", "owl"], files)
    code, _, err = run(capsys, "select", tmp_path, "--n-boot", "0")
    assert code == 1 and "differ at class 2: 'dgo' against 'dog'" in err
    _extracted(tmp_path, "b", MODELS["noisy"], codes, classes, files[:-1] + ["other.png"])
    assert "differ at image 120: 'other.png'" in run(capsys, "select", tmp_path, "--n-boot", "0")[2]


def test_select_speaks_in_class_names(tmp_path, capsys):
    """A class with one image is named by its folder's name, not by its code."""
    y = np.array([0] * 10 + [1] * 10 + [2])
    classes, files = ["circle", "cirlce", "square"], [f"{i}.png" for i in range(21)]
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        _extracted(tmp_path, name, rng.normal(size=(21, 5)), y, classes, files)
    code, out, err = run(capsys, "select", tmp_path, "--metric", "logme", "--n-boot", "0")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "class 'square' of y of model 'a' has 1 sample(s)" in err


def test_a_metric_that_fails_is_named_and_the_rest_is_shown(npz_folder, capsys, monkeypatch):
    import potran.scoring

    real = potran.scoring.score

    def broken(X, y, metric, **kwargs):
        if metric == "gbc" and np.allclose(X, MODELS["noisy"]):
            return float("nan")
        if metric == "sfda" and np.allclose(X, MODELS["noise"]):
            raise np.linalg.LinAlgError("singular matrix")
        return real(X, y, metric, **kwargs)

    monkeypatch.setattr(potran.scoring, "score", broken)
    table = rank_models(MODELS, Y, metrics=["gbc", "sfda", "logme"], n_boot=3)
    failed = table[table.error != ""].set_index(["model", "metric"])["error"]
    assert failed.to_dict() == {("noisy", "gbc"): "the score is nan", ("noise", "sfda"): "singular matrix"}
    assert table[table.error != ""]["rank"].isna().all()
    gbc = table[table.metric == "gbc"]
    assert gbc["rank"].tolist()[:2] == [1, 2] and gbc["model"].tolist() == ["good", "noise", "noisy"]
    code, out, err = run(capsys, "select", npz_folder, "--metric", "gbc,sfda,logme", "--n-boot", "0")
    assert code == 0 and "failed: the score is nan" in out
    assert err.splitlines() == ["potran select: error: model 'noisy', metric 'gbc': the score is nan",
                                "potran select: error: model 'noise', metric 'sfda': singular matrix"]


def test_ties_are_named_per_metric():
    wide = dict(MODELS, copy=MODELS["good"] * (1 + 1e-12))
    table = rank_models(wide, Y, metrics=["logme", "dim"], reduction=None)
    logme = table[table.metric == "logme"].set_index("model")
    assert logme.loc["good", "rank"] == logme.loc["copy", "rank"] == 1
    assert logme.loc["good", "tied_with"] == "copy" and logme.loc["noisy", "rank"] == 3
    assert "tie at rank 1 (scores equal to within a relative 1e-9): good = copy" in format_ranking(table)
    dim = table[table.metric == "dim"]
    assert set(dim.tied_with) == {"noisy,noise,copy", "good,noise,copy", "good,noisy,copy",
                                  "good,noisy,noise"}


def test_resampling_is_paired_stratified_and_seeded(monkeypatch):
    """Every replicate keeps 90 % of each class's images, drawn without replacement, and scores
    every model on the same draw; the same seed gives the same table."""
    draws = []
    real = selection._score_group

    def spy(names, features, general, labels, index, *args, **kwargs):
        if index is not None:
            draws.append(index)
        return real(names, features, general, labels, index, *args, **kwargs)

    monkeypatch.setattr(selection, "_score_group", spy)
    y = np.repeat([0, 1, 2], [30, 50, 40])
    models = {name: F for name, F in MODELS.items()}
    table = rank_models(models, y, metrics=["logme", "gbc"], n_boot=7, seed=4)
    assert len(draws) == 7 * 2                               # one draw per replicate, shared by the metrics
    for index in draws:
        assert np.array_equal(np.bincount(y[index], minlength=3), [27, 45, 36])
        assert len(np.unique(index)) == len(index)
    assert not np.array_equal(draws[0], draws[2])
    again = rank_models(models, y, metrics=["logme", "gbc"], n_boot=7, seed=4)
    pd.testing.assert_frame_equal(table, again)
    assert (table.low <= table.high).all() and np.allclose(table.groupby("metric").p_best.sum(), 1)
    for _, part in table.groupby("metric"):
        assert part.top_set.iloc[0]                           # the first is in its own top set
        assert (part.p_best.iloc[0] >= part.p_best).all()


def test_agreement_is_kendalls_w():
    """Three metrics, four models: rankings (1,2,3,4), (1,2,3,4), (4,3,2,1) give W = 1/9."""
    rows = [{"model": m, "metric": metric, "perturbation": "none", "score": s}
            for metric, scores in (("a", [4, 3, 2, 1]), ("b", [8, 6, 4, 2]), ("c", [1, 2, 3, 4]))
            for m, s in zip("wxyz", scores)]
    w = selection.agreement(pd.DataFrame(rows))
    # rank sums 6, 7, 8, 9: S = 5; W = 12 S / (m^2 (n^3 - n)) = 60 / 540
    assert w.kendall_w.item() == pytest.approx(1 / 9) and w.mean_tau.item() == pytest.approx(-1 / 3)


def test_model_files_name_models_by_stem(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for path in ("a/m1.npz", "a/m2.npz", "b/m1.npz", "b/notes.txt"):
        (tmp_path / path).write_bytes(b"")
    assert model_files([tmp_path / "a"]) == {"m1": tmp_path / "a/m1.npz", "m2": tmp_path / "a/m2.npz"}
    with pytest.raises(ValueError, match="two files for model 'm1'"):
        model_files([tmp_path / "a", tmp_path / "b"])


# --- the user case of issue 27, offline ---------------------------------------------------------------

def _shapes(n_per_class=60, side=24, seed=0):
    """Four classes of drawn shapes (disc, square, cross, ring) at random positions and sizes, in
    noisy RGB: (N, 3, side, side) float32 and the labels."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:side, :side]
    images, labels = [], []
    for c in range(4):
        for _ in range(n_per_class):
            cx, cy, r = rng.uniform(8, side - 8, 2).tolist() + [rng.uniform(3, 7)]
            d = np.hypot(xx - cx, yy - cy)
            mask = [d < r, np.maximum(abs(xx - cx), abs(yy - cy)) < r,
                    (abs(xx - cx) < r / 3) | (abs(yy - cy) < r / 3), abs(d - r) < 1.2][c]
            colour = rng.uniform(0.3, 1, 3)[:, None, None]
            images.append(mask * colour + rng.normal(0, 0.25, (3, side, side)))
            labels.append(c)
    return np.asarray(images, np.float32), np.asarray(labels)


def _stand_in_models(images, y):
    """Four stand-ins for the issue's models, all wider than the 240 images allow: a tiny random
    CNN (512-d), the same CNN half re-initialised, a strong linear map of the class means (600-d)
    and pure noise (300-d)."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(3, 32, 5, padding=2), nn.ReLU(), nn.AdaptiveAvgPool2d(4), nn.Flatten())
    with torch.no_grad():
        good = cnn(torch.from_numpy(images)).numpy()
        conv = cnn[0].weight
        conv[: conv.shape[0] // 2] = torch.randn_like(conv[: conv.shape[0] // 2]) * 3
        damaged = cnn(torch.from_numpy(images)).numpy()
    rng = np.random.default_rng(1)
    linear = np.eye(4)[y] @ rng.normal(size=(4, 600)) + rng.normal(0, 0.8, (len(y), 600))
    return {"cnn": good, "damaged": damaged, "linear": linear, "noise": rng.normal(size=(len(y), 300))}


def test_pseudo_replicates_keep_the_ranking_of_the_data():
    """Why not the ordinary bootstrap: on 120 images, SFDA of 64 dimensions of pure noise passes 10
    separable dimensions in every with-replacement replicate, although it ranks second on the
    images. The delete-d jackknife's pseudo-replicates are centred on the scores."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 40)
    models = {"signal": rng.normal(size=(120, 10)) + y[:, None], "noise": rng.normal(size=(120, 100))}
    table = rank_models(models, y, metrics="sfda", n_boot=30).set_index("model")
    assert table.loc["signal", "rank"] == 1 and table.loc["signal", "p_best"] > 0.5
    assert table.loc["signal", "low"] < table.loc["signal", "score"] < table.loc["signal", "high"]
    index = [np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), 40) for c in range(3)]))
             for _ in range(10)]
    reduced = selection.reduce_features(models["noise"], dim=64)
    wins = [potran.score(reduced[i], y[i], "sfda") > potran.score(models["signal"][i], y[i], "sfda")
            for i in index]
    assert all(wins)                                         # the ordinary bootstrap would say noise


def test_the_user_case_of_issue_27(tmp_path, capsys):
    """Four models wider than their 240 images: the reduction is stated, the rankings have no
    degenerate ties, and every ranking comes with intervals, P(best) and the top set."""
    images, y = _shapes()
    models = _stand_in_models(images, y)
    classes = np.array(["circle", "cross", "ring", "square"])
    files = np.array([f"{classes[c]}/{i}.png" for i, c in enumerate(y)])
    for name, F in models.items():
        np.savez(tmp_path / f"{name}.npz", X=F, y=y, classes=classes, files=files)
    metrics = "logme,sfda,hscore,reg_hscore,knn"
    raw = rank_models(models, classes[y], metrics=metrics.split(","), reduction=None)
    assert (raw[raw.metric == "hscore"]["rank"] == 1).all()          # the issue's H-score: all C - 1
    code, out, err = run(capsys, "select", tmp_path, "--metric", metrics, "--n-boot", "20", "--csv")
    assert code == 0 and err == ""
    table = pd.read_csv(io.StringIO(out), keep_default_na=False, na_values=[""])
    assert set(zip(table.model, table.scored_width)) == {("cnn", 64), ("damaged", 64), ("linear", 64),
                                                         ("noise", 64)}
    for metric, part in table.groupby("metric"):
        assert part["rank"].nunique() >= 3, metric                  # no degenerate ties
        assert part["low"].notna().all() and (part["low"] <= part["high"]).all()
        assert part["p_best"].sum() == pytest.approx(1) and part["top_set"].any()
        assert part.set_index("model").loc["noise", "rank"] >= 3   # pure noise is never near the top
    code, text, _ = run(capsys, "select", tmp_path, "--metric", metrics, "--n-boot", "20")
    assert "reduction: features wide for 240 images are projected" in text
    assert "cnn 512 -> 64, damaged 512 -> 64, linear 600 -> 64, noise 300 -> 64" in text
    assert "how sure: 20 replicates, each scoring every model on the same 90% of each class's images" in text
    assert "P(best)" in text
    assert "agreement of the 5 metrics' rankings (4 models): Kendall's W" in text
    print(text)  # the README and the issue's note quote it (pytest -s)
