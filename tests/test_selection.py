"""Ranking one's own models (potran.selection, ``potran select``): scores equal potran.score's,
rank 1 is the best model for every metric, NCTI's pool score, clear errors."""
import io
import json

import numpy as np
import pandas as pd
import pytest

import potran
from potran import perturbations
from potran.cli import main
from potran.metrics import ncti_pool_scores
from potran.selection import COLUMNS, METRICS, model_files, rank_models, ranking_text

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


def test_table_scores_are_potran_scores_and_ranks_descend():
    table = rank_models(MODELS, Y, metrics=["logme", "gbc"], ped="both", general=GENERAL)
    assert list(table.columns) == COLUMNS and len(table) == 3 * 2 * 2
    assert table["score"].dtype == np.float64 and table["rank"].dtype == np.int64
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
    table = rank_models(WIDE if metric in ("parc", "ncti") else MODELS, Y, metrics=metric)
    assert table["model"].tolist() == ["good", "noisy", "noise"]
    assert table["rank"].tolist() == [1, 2, 3]


def test_ties_share_the_smallest_rank():
    wide = dict(MODELS, wide=np.hstack([X, X]))
    table = rank_models(wide, Y, metrics="dim")
    assert dict(zip(table.model, table["rank"])) == {"wide": 1, "good": 2, "noisy": 2, "noise": 2}


def test_ncti_gives_the_pool_score():
    general = {name: RNG.normal(size=(60, 70)) for name in WIDE}
    table = rank_models(WIDE, Y, metrics="ncti", ped=True, general=general)
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
    (dict(options={"knn": {}}), "options for metric\\(s\\) \\['knn'\\] that are not scored"),
    (dict(ped=True, general=GENERAL, ped_options={"sigma": 1}),
     "ped_options: unknown option\\(s\\) \\['sigma'\\] of perturbation 'ped'.*; known: nsigma"),
    (dict(sa=True, sa_options={"nsigma": 1}),
     "sa_options: unknown option\\(s\\) \\['nsigma'\\] of perturbation 'sa'.*; known: alpha"),
    (dict(ped=True, general=GENERAL, ped_options={"nsigma": 0}), "ped_options: nsigma must be"),
    (dict(metrics="parc", options={"parc": {"bogus": 1}}),
     "model 'good', metric 'parc': unknown option\\(s\\) \\['bogus'\\]"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rank_models(MODELS, Y, **kwargs)


def test_bad_features_or_labels_name_the_model():
    with pytest.raises(ValueError, match="features of model 'short' have 119 rows but y has 120 labels"):
        rank_models(dict(MODELS, short=X[:-1]), Y)
    with pytest.raises(ValueError, match="non-empty mapping"):
        rank_models([X, X], Y)
    with pytest.raises(ValueError, match="model 'bad', metric 'logme': X contains NaN or Inf"):
        rank_models(dict(MODELS, bad=np.full_like(X, np.nan)), Y)
    shuffled = {"good": Y, "noisy": Y[::-1], "noise": Y}
    with pytest.raises(ValueError, match="y of model 'noisy' differs from y of model 'good'"):
        rank_models(MODELS, shuffled)
    with pytest.raises(ValueError, match="y has no labels for model 'noise'"):
        rank_models(MODELS, {"good": Y, "noisy": Y})
    with pytest.raises(ValueError, match="mixes label types"):
        rank_models(MODELS, ["a", 1] * 60)


def test_ranking_text():
    table = rank_models(MODELS, Y, metrics=["logme", "sfda"], ped="both", general=GENERAL)
    text = ranking_text(table)
    blocks = text.split("\n\n")
    titles = [b.splitlines()[0] for b in blocks[:4]]
    assert titles == ["logme:", "logme after PED:", "sfda:", "sfda after PED:"]
    first = table.iloc[0]
    assert blocks[0].splitlines()[1].split() == ["1.", first.model, f"{first.score:.6g}"]
    header, *rows = blocks[4].splitlines()
    assert header.split() == ["model", "logme", "logme+PED", "sfda", "sfda+PED"]
    assert [r.split()[0] for r in rows] == ["good", "noisy", "noise"]
    assert rows[0].split()[1:3] == [f"{first.score:.6g}", "(1)"]


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
    code, out, err = run(capsys, "select", npz_folder, "--ped-both", "--metric", "logme,gbc",
                         "--metric", "sfda")
    assert code == 0 and err == ""
    in_file_order = {name: MODELS[name] for name in sorted(MODELS)}  # good, noise, noisy
    expected = rank_models(in_file_order, NAMES[Y], metrics=["logme", "gbc", "sfda"], ped="both",
                           general=GENERAL)
    assert out.startswith("3 models, 120 labelled samples, 3 classes\n\n")
    assert out.endswith(ranking_text(expected) + "\n")


def test_select_json_and_csv_are_the_table(npz_folder, capsys):
    files = [npz_folder / f"{name}.npz" for name in MODELS]
    expected = rank_models(MODELS, NAMES[Y], metrics=["logme", "gbc"], ped=True, general=GENERAL)
    code, out, _ = run(capsys, "select", *files, "--metric", "logme,gbc", "--ped", "--json")
    assert code == 0 and json.loads(out) == expected.to_dict(orient="records")
    code, out, _ = run(capsys, "select", *files, "--metric", "logme,gbc", "--ped", "--csv",
                       "--ped-option", "nsigma=0.6")
    back = pd.read_csv(io.StringIO(out))
    pd.testing.assert_frame_equal(back, expected)


def test_select_errors(npz_folder, tmp_path, capsys):
    def error(*argv):
        code, out, err = run(capsys, "select", *argv)
        assert out == "" and err.count("\n") == 1 and err.startswith("potran select: error: ")
        return code, err

    np.savez(npz_folder / "nog.npz", X=X, y=Y)
    code, err = error(npz_folder, "--ped")
    assert code == 2 and f"{npz_folder / 'nog.npz'} has no array 'G'" in err
    code, err = error(npz_folder, "--metric", "leep")
    assert code == 1 and "valid metrics: logme, sfda" in err
    (npz_folder / "nog.npz").unlink()
    np.savez(npz_folder / "other.npz", X=X, y=Y[::-1])
    code, err = error(npz_folder)
    assert code == 1 and "y of model 'other' differs" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no .npz files in" in error(empty)[1]
    assert "no such file or folder" in error(tmp_path / "absent")[1]
    (tmp_path / "x.npy").write_bytes(b"")
    assert "expected .npz files" in error(tmp_path / "x.npy")[1]
    with pytest.raises(SystemExit) as exit_info:
        main(["select", str(npz_folder), "--ped", "--ped-both"])
    assert exit_info.value.code == 2 and "not allowed with argument --ped" in capsys.readouterr().err


def test_model_files_name_models_by_stem(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for path in ("a/m1.npz", "a/m2.npz", "b/m1.npz", "b/notes.txt"):
        (tmp_path / path).write_bytes(b"")
    assert model_files([tmp_path / "a"]) == {"m1": tmp_path / "a/m1.npz", "m2": tmp_path / "a/m2.npz"}
    with pytest.raises(ValueError, match="two files for model 'm1'"):
        model_files([tmp_path / "a", tmp_path / "b"])
