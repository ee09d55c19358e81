"""Bad input: one test per kind. Each raises ValueError naming the problem or returns a correct value."""
import numpy as np
import pytest

import potran
from potran.metrics import FEATURE_METRICS

from conftest import blobs

FAST = ("logme", "sfda", "gbc", "parc", "hscore", "reg_hscore", "transrate", "norm")


@pytest.fixture
def data():
    X, y = blobs(n_per_class=(40, 40, 40), dim=40)
    return X, y


@pytest.mark.parametrize("metric", FEATURE_METRICS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_features(data, metric, bad):
    X, y = data
    X = X.copy()
    X[3, 2] = bad
    with pytest.raises(ValueError, match="X contains NaN or Inf"):
        potran.score(X, y, metric)


@pytest.mark.parametrize("metric", FEATURE_METRICS)
def test_fewer_than_two_classes(data, metric):
    X, _ = data
    with pytest.raises(ValueError, match="single class"):
        potran.score(X, np.zeros(len(X), int), metric)


@pytest.mark.parametrize("metric", FEATURE_METRICS)
def test_class_with_a_single_sample(data, metric):
    X, y = data
    y = y.copy()
    y[0] = 7
    with pytest.raises(ValueError, match="class 7 of y has 1 sample"):
        potran.score(X, y, metric)


@pytest.mark.parametrize("labels,message", [
    (lambda y: y + 0.5, "non-integer value 0.5 \\(numeric labels must be integral"),
    (lambda y: y.astype(complex), "class labels, got complex dtype"),
    (lambda y: y.reshape(-1, 1), "must be 1-D"),
    (lambda y: [("a", "b", 1)[c] for c in y], r"y mixes label types \(number, string\)"),
    (lambda y: [("a", None, "c")[c] for c in y], "y contains None"),
    (lambda y: [("a", float("nan"), "c")[c] for c in y], r"y mixes label types \(number, string\)"),
    (lambda y: np.where(y == 1, np.nan, y), "y contains NaN or Inf"),
    (lambda y: [{"class": int(c)} for c in y], "hashable class names, got dict"),
])
def test_labels_not_class_labels_or_not_1d(data, labels, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        potran.score(X, labels(y), "logme")


NAMES = np.array(["dog", "cat", "owl"])  # sorted: cat, dog, owl (codes 1, 0, 2 of y's 0, 1, 2)


@pytest.mark.parametrize("metric", FAST + ("nleep", "knn"))
def test_class_names_score_as_their_codes(data, metric):
    """Class names are mapped to 0..C-1 in sorted order (scikit-learn's convention)."""
    X, y = data
    sorted_codes = np.argsort(np.argsort(NAMES))[y]
    expected = potran.score(X, sorted_codes, metric)
    for names in (NAMES[y], NAMES[y].tolist(), NAMES[y].astype(object)):
        assert potran.score(X, names, metric) == expected


def test_class_names_through_ped_sa_and_pandas(data):
    import pandas as pd

    X, y = data
    G = np.random.default_rng(1).normal(size=(30, X.shape[1]))
    sorted_codes = np.argsort(np.argsort(NAMES))[y]
    names = pd.Series(NAMES[y])
    assert potran.score(X, names, "sfda", ped=True, general=G) == potran.score(X, sorted_codes, "sfda",
                                                                               ped=True, general=G)
    np.testing.assert_array_equal(potran.simulate(X, names, G).features,
                                  potran.simulate(X, sorted_codes, G).features)
    assert potran.score(X, names, "gbc", sa=True) == potran.score(X, sorted_codes, "gbc", sa=True)
    assert potran.score(X, pd.Categorical(NAMES[y]), "logme") == potran.score(X, sorted_codes, "logme")


def test_class_names_in_error_messages(data):
    X, y = data
    names = NAMES[y].astype(object)
    names[0] = "emu"
    with pytest.raises(ValueError, match="class 'emu' of y has 1 sample"):
        potran.score(X, names, "logme")
    with pytest.raises(ValueError, match="single class \\('cat'\\)"):
        potran.score(X, ["cat"] * len(y), "logme")
    with pytest.raises(ValueError, match="inconsistent numbers of samples: 120 rows in X, 119 labels"):
        potran.score(X, NAMES[y][:-1].tolist(), "logme")
    with pytest.raises(ValueError, match="count_empty_classes=True needs non-negative integer labels"):
        potran.score(X, NAMES[y], "logme", count_empty_classes=True)


def test_boolean_and_unsortable_class_names(data):
    """Booleans are two class names (False < True); objects that do not sort are numbered in their
    order of first appearance."""
    import enum

    X, y = data
    two = y % 2
    assert potran.score(X, two.astype(bool), "logme") == potran.score(X, two, "logme")
    Colour = enum.Enum("Colour", "RED GREEN BLUE")
    members = list(Colour)
    order = {c: i for i, c in enumerate(dict.fromkeys(y.tolist()))}  # first appearance of each code
    first_seen = np.array([order[c] for c in y.tolist()])
    assert potran.score(X, [members[c] for c in y], "logme") == potran.score(X, first_seen, "logme")


def test_integral_float_labels_are_accepted(data):
    X, y = data
    assert potran.score(X, y.astype(float), "logme") == potran.score(X, y, "logme")


@pytest.mark.parametrize("metric", FAST)
def test_labels_with_gaps_are_remapped(data, metric):
    X, y = data
    gapped = np.array([0, 2, 5])[y]
    assert potran.score(X, gapped, metric) == pytest.approx(potran.score(X, y, metric), rel=1e-12)


def test_label_gaps_official_logme_counts_empty_classes(data):
    """Method page, quirk 7: the official LogME takes y.max()+1 classes; reachable on request."""
    X, y = data
    gapped = np.array([0, 2, 5])[y]
    fixed = potran.score(X, gapped, "logme")
    official = potran.score(X, gapped, "logme", count_empty_classes=True)
    assert official != pytest.approx(fixed, rel=1e-6)
    assert potran.score(X, y, "logme", count_empty_classes=True) == pytest.approx(fixed, rel=1e-12)


@pytest.mark.parametrize("metric", FEATURE_METRICS)
def test_length_mismatch(data, metric):
    X, y = data
    with pytest.raises(ValueError, match="inconsistent numbers of samples: 120 rows in X, 119 labels"):
        potran.score(X, y[:-1], metric)


def test_more_dimensions_than_samples():
    """D > N: LogME uses the N x N Gram (documented solver quirk), SFDA saturates at 1, PED moves."""
    X, y = blobs(n_per_class=(10, 12, 9), dim=80)
    G = np.random.default_rng(0).normal(size=(20, 80))
    assert np.isfinite(potran.score(X, y, "logme"))
    assert potran.score(X, y, "sfda") == pytest.approx(1.0, abs=1e-9)
    for metric in ("logme", "sfda", "gbc", "hscore", "transrate"):
        assert np.isfinite(potran.score(X, y, metric, ped=True, general=G))


@pytest.mark.parametrize("metric", FAST)
def test_float32_input_is_computed_in_float64(data, metric):
    X, y = data
    X32 = X.astype(np.float32)
    assert potran.score(X32, y, metric) == potran.score(X32.astype(np.float64), y, metric)


@pytest.mark.parametrize("metric", FEATURE_METRICS)
def test_constant_feature_columns(data, metric):
    X, y = data
    X = X.copy()
    X[:, :3] = 4.2
    value = potran.score(X, y, metric)
    assert np.isfinite(value)


def test_identical_class_centres_in_ped_give_no_nan():
    """Method page, quirk 4: the official unit vector is 0/0 = NaN for coincident centres."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(30, 5))
    X = np.vstack([a, a[::-1], rng.normal(size=(30, 5)) + 0.5])  # classes 0 and 1 share their centre
    y = np.repeat([0, 1, 2], 30)
    result = potran.simulate(X, y, rng.normal(size=(40, 5)))
    assert np.isfinite(result.features).all()
    assert result.trace.steps == 6
    shift = result.features - X
    # the coincident pair exerts no force on each other; both are pushed by class 2 only, identically
    np.testing.assert_allclose(shift[0], shift[30], atol=1e-15)
    assert np.isfinite(potran.score(X, y, "sfda", ped=True, general=rng.normal(size=(40, 5))))


@pytest.mark.parametrize("general,message", [
    (np.ones((10, 3)), "general has 3 features per row but X has 40"),
    (np.ones((1, 40)), "general needs at least 2 rows, got 1"),
    (None, "PED needs a general feature set"),
    (np.full((5, 40), np.nan), "general contains NaN or Inf"),
])
def test_bad_general_set(data, general, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        potran.score(X, y, "logme", ped=True, general=general)


@pytest.mark.parametrize("X,y,message", [
    (np.empty((0, 4)), np.empty(0, int), "X is empty"),
    (np.empty((5, 0)), np.arange(5), "X is empty"),
    (np.ones((4, 3)), np.empty(0, int), "inconsistent numbers of samples"),
    (np.ones(6), np.zeros(6, int), "X must be 2-D"),
])
def test_empty_or_misshapen_input(X, y, message):
    with pytest.raises(ValueError, match=message):
        potran.score(X, y, "logme")


def test_unknown_metric_and_options(data):
    X, y = data
    with pytest.raises(ValueError, match="unknown metric 'logmee'; known metrics: logme, sfda"):
        potran.score(X, y, "logmee")
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['bogus'\] for metric 'logme'"):
        potran.score(X, y, "logme", bogus=1)
    with pytest.raises(ValueError, match="PED options \\['nsigma'\\] given but ped=False"):
        potran.score(X, y, "logme", nsigma=0.3)
    with pytest.raises(ValueError, match="nsigma must be a number > 0, got 0"):
        potran.score(X, y, "logme", ped=True, general=X, nsigma=0)


def test_source_probability_metrics_reject_logits(data):
    _, y = data
    logits = np.random.default_rng(0).normal(size=(len(y), 5))
    for metric in ("leep", "nce"):
        with pytest.raises(ValueError, match="probs contains NaN or Inf"):
            potran.score(np.full_like(logits, np.nan), y, metric)
    with pytest.raises(ValueError, match="pass softmax outputs, not logits"):
        potran.score(logits, y, "leep")


def test_parc_needs_enough_dimensions():
    X, y = blobs(dim=8)
    with pytest.raises(ValueError, match="needs D >= 32"):
        potran.score(X, y, "parc")


def test_caller_arrays_are_never_mutated(data):
    X, y = data
    G = np.random.default_rng(3).normal(size=(30, X.shape[1]))
    X0, y0, G0 = X.copy(), y.copy(), G.copy()
    for metric in FEATURE_METRICS:
        potran.score(X, y, metric)
        potran.score(X, y, metric, ped=True, general=G)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(G, G0)


def test_float32_input_to_ped_is_computed_in_float64(data):
    X, y = data
    X32 = X.astype(np.float32)
    G = np.random.default_rng(2).normal(size=(30, X.shape[1])).astype(np.float32)
    moved = potran.simulate(X32, y, G).features
    assert moved.dtype == np.float64
    np.testing.assert_array_equal(moved,
                                  potran.simulate(X32.astype(np.float64), y, G.astype(np.float64)).features)
    import torch

    moved_t = potran.simulate(torch.as_tensor(X32), y, torch.as_tensor(G)).features
    assert moved_t.dtype == torch.float64
    np.testing.assert_array_equal(moved_t.numpy(), moved)


def test_knn_refuses_k_above_a_folds_training_part(data):
    """k-NN votes among the training part of a fold: a larger k is one clear error, not five
    scikit-learn tracebacks and a NaN."""
    import warnings

    X, y = data  # 120 samples, 5 folds: 96 in each training part
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert 0 <= potran.score(X, y, "knn", k=96) <= 1
        message = r"^knn: k = 97 neighbours, but a cross-validation fold trains on 96 of the 120 samples"
        with pytest.raises(ValueError, match=message + r" \(5 folds\); give k <= 96$"):
            potran.score(X, y, "knn", k=97)


def test_ranking_degenerate_inputs_lets_no_third_party_warning_through(data, capsys):
    """Constant features, duplicated models, a class of two: the ranking names what fails and no
    scikit-learn, NumPy or pandas warning reaches the user."""
    import warnings

    X, y = data
    models = {"good": X, "copy": X.copy(), "flat": np.ones_like(X),
              "tiny": X[:, :2] * 1e-30}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = potran.rank_models(models, y, metrics=["logme", "nleep", "knn", "gbc", "hscore"],
                                   n_boot=3)
    assert set(table.model) == set(models)
    failed = table[table.error != ""]
    assert (failed["rank"].isna()).all() and failed.score.isna().all()
    errors = failed.set_index(["model", "metric"]).error.to_dict()
    assert errors == {("tiny", "logme"): "the score is -inf"}
    logme = table[(table.metric == "logme") & (table.error == "")]
    assert logme.p_best.sum() == pytest.approx(1) and logme.top_set.notna().all()  # the others compared
    good = table[(table.model == "good") & (table.error == "")]
    assert len(good) == 5 and (good.tied_with.str.contains("copy")).all()
    assert capsys.readouterr().err == ""
