"""SA and NCTI: the official outputs on the public parity cases (tests/parity/README.md), and properties."""
import json
from functools import cache

import numpy as np
import pytest
from sklearn.decomposition import PCA

import potran
from potran import sa
from potran.metrics import FEATURE_METRICS, REGISTRY, gbc, logme, ncti, ncti_pool_scores, sfda
from potran.metrics.neural_collapse import SHRINKAGE_FLOOR, NCTIComponents, discriminant, pca64, shrinkage

from conftest import CASES, PARITY, blobs, load_case

TRANSFORM = 1e-10   # projection, perturbed features, class shifts, gate eigenvalues
SCORE = 1e-8        # SFDA, LogME, NCTI components
GBC = 1e-6          # the SA repository's GBC accumulates in float32
COMPONENTS = ("seli", "ncc", "vc")
REFERENCE = json.loads((PARITY / "sa_ncti_public.json").read_text())

# key prefix -> options of potran.sa.perturb that the official run corresponds to
SA_RUNS = {"sa": {}, "sa_a0p1": {"alpha": "group2"}, "sa_forced": {"gate": False}}
# ... and the runs on the separated input and the spread-then-attract diagnostic (both with the gate off)
ALL_RUNS = [*SA_RUNS, "sa_sep", "nonofficial_spread_then_attract"]


def rel_err(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


@cache
def inputs(k):
    data, _ = load_case(k)
    return data["X"], data["y"]


def official(k):
    return REFERENCE[f"case_{k}"]["results"]


def separated(k):
    """The parity harness's repulsive input: 6 added to coordinate y_i of every sample."""
    X, y = inputs(k)
    X = X.copy()
    X[np.arange(len(y)), y] += 6.0
    return X, y


@cache
def perturbed(k, prefix):
    X, y = separated(k) if prefix == "sa_sep" else inputs(k)
    options = {"gate": False} if prefix in ("sa_sep", "nonofficial_spread_then_attract") else SA_RUNS[prefix]
    if prefix == "nonofficial_spread_then_attract":
        options = {**options, "spread": True}
    return sa.perturb(X, y, **options)


def check_checksum(Z, expected):
    assert list(Z.shape) == expected["shape"]
    assert rel_err((Z**2).sum(), expected["sumsq"]) < TRANSFORM
    assert rel_err(np.abs(Z).sum(), expected["abs_sum"]) < TRANSFORM
    if "col_sumsq" in expected:
        assert rel_err((Z**2).sum(0), expected["col_sumsq"]) < TRANSFORM


def test_parity_inputs_are_the_cases_the_references_were_made_on():
    import hashlib

    for k in CASES:
        X, _ = inputs(k)
        digest = hashlib.sha256(np.ascontiguousarray(X).tobytes()).hexdigest()
        assert digest == REFERENCE[f"case_{k}"]["meta"]["input_sha256_X"]


# ---- SA: the transform ------------------------------------------------------------------------

@pytest.mark.parametrize("k", CASES)
def test_sa_gate(k):
    ref = official(k)
    trace = perturbed(k, "sa").trace
    assert rel_err(trace.gate_eigenvalues, ref["sa_gate_top2_eigs"]) < TRANSFORM
    assert rel_err(trace.gate_mean, ref["sa_gate_top2_mean"]) < TRANSFORM
    assert trace.gate_open == ref["sa_gate_open"]
    assert perturbed(k, "sa_a0p1").trace.gate_open == ref["sa_gate_open"]


@pytest.mark.parametrize("prefix", ALL_RUNS)
@pytest.mark.parametrize("k", CASES)
def test_sa_features(k, prefix):
    ref, result = official(k), perturbed(k, prefix)
    name = "checksum" if prefix.startswith("nonofficial") else "scored_features_checksum"
    check_checksum(result.features, ref[f"{prefix}_{name}"])
    if f"{prefix}_attract_class_shift_norms" in ref:
        norms = np.linalg.norm(result.trace.class_shifts, axis=1)
        assert rel_err(norms, ref[f"{prefix}_attract_class_shift_norms"]) < TRANSFORM
    if f"{prefix}_n_pairs_repelled" in ref:
        assert result.trace.n_pairs_repelled == ref[f"{prefix}_n_pairs_repelled"]
    if f"{prefix}_pca64_checksum" in ref:
        X, _ = separated(k) if prefix == "sa_sep" else inputs(k)
        check_checksum(sa.randomized_projection(X, 64), ref[f"{prefix}_pca64_checksum"])


def test_sa_gate_closed_keeps_the_raw_features():
    for k in CASES:
        result = perturbed(k, "sa")
        if not result.trace.gate_open:
            np.testing.assert_array_equal(result.features, inputs(k)[0])
            assert result.trace.class_shifts is None


# ---- SA: the scores ---------------------------------------------------------------------------

@pytest.mark.parametrize("prefix", ALL_RUNS)
@pytest.mark.parametrize("k", CASES)
def test_sa_sfda_logme(k, prefix):
    ref, features = official(k), perturbed(k, prefix).features
    y = inputs(k)[1]
    assert rel_err(sfda(features, y), ref[f"{prefix}_sfda"]) < SCORE
    assert rel_err(logme(features, y), ref[f"{prefix}_logme"]) < SCORE


@pytest.mark.parametrize("prefix", list(SA_RUNS))
@pytest.mark.parametrize("k", CASES)
def test_sa_gbc(k, prefix):
    """The SA repository's GBC: unbiased class variances, no PCA inside (``ddof=1, pca_dim=None``)."""
    value = gbc(perturbed(k, prefix).features, inputs(k)[1], ddof=1, pca_dim=None)
    assert rel_err(value, official(k)[f"{prefix}_gbc"]) < GBC


@pytest.mark.parametrize("prefix", list(SA_RUNS))
@pytest.mark.parametrize("k", CASES)
def test_sa_ncti(k, prefix):
    components = ncti(perturbed(k, prefix).features, inputs(k)[1])
    for name in COMPONENTS:
        assert rel_err(getattr(components, name), official(k)[f"{prefix}_ncti_{name}"]) < SCORE


@pytest.mark.parametrize("k", CASES)
def test_sa_through_score(k):
    X, y = inputs(k)
    ref = official(k)
    value, trace = potran.score(X, y, "logme", sa=True, return_trace=True)
    assert rel_err(value, ref["sa_logme"]) < SCORE
    assert isinstance(trace, sa.SATrace) and trace.gate_open == ref["sa_gate_open"]
    assert rel_err(potran.score(X, y, "sfda", sa=True, alpha="group2"), ref["sa_a0p1_sfda"]) < SCORE
    assert rel_err(potran.score(X, y, "gbc", sa=True, gate=False, ddof=1, pca_dim=None),
                   ref["sa_forced_gbc"]) < GBC


# ---- NCTI -------------------------------------------------------------------------------------

@cache
def components(k, variant, seed=0):
    X, y = inputs(k)
    if variant == "x0p1":
        X = 0.1 * X
    elif variant == "noisy":
        X = X + 0.5 * np.random.RandomState(REFERENCE["_config"]["noise_seed"]).randn(*X.shape)
    return ncti(X, y, seed=seed)


@pytest.mark.parametrize("variant", ["", "x0p1", "noisy"])
@pytest.mark.parametrize("k", CASES)
def test_ncti_components(k, variant):
    ref, prefix = official(k), "ncti_" + (f"{variant}_" if variant else "")
    result = components(k, variant)
    assert isinstance(result, NCTIComponents)
    for name in COMPONENTS:
        assert rel_err(getattr(result, name), ref[prefix + name]) < SCORE


@pytest.mark.parametrize("k", CASES)
def test_ncti_pca_shrinkage_and_solver(k):
    ref = official(k)
    for scale, prefix in ((1.0, "ncti_"), (0.1, "ncti_x0p1_")):
        _, pca = pca64(scale * inputs(k)[0])
        variances = np.sort(pca.explained_variance_)[::-1]
        temp = shrinkage(variances)
        assert rel_err(temp, ref[prefix + "shrinkage_temp"]) < SCORE
        assert discriminant(temp).solver == ref[prefix + "lda_solver"]
        if scale == 1.0:
            assert rel_err(variances[:32].sum(), ref["ncti_pca_top32_var_sum"]) < SCORE
            assert rel_err(variances[:32].sum() / variances.sum(), ref["ncti_pca_top32_var_fraction"]) < SCORE
            assert (temp == SHRINKAGE_FLOOR) == (ref["ncti_lda_solver"] == "svd")


@pytest.mark.parametrize("k", [k for k in CASES if "ncti_seed1_seli" in official(k)])
def test_ncti_randomized_pca_seeds(k):
    """Where scikit-learn picks the randomized PCA, ``seed=s`` is the official run after np.random.seed(s)."""
    ref = official(k)
    runs = [components(k, "", seed) for seed in range(5)]
    for seed, result in enumerate(runs[1:], start=1):
        for name in COMPONENTS:
            assert rel_err(getattr(result, name), ref[f"ncti_seed{seed}_{name}"]) < SCORE
    for i, name in enumerate(COMPONENTS):
        values = [run[i] for run in runs]
        spread = max(values) - min(values)
        assert abs(spread - ref["ncti_seed_spread_0to4"][name]) < SCORE * max(abs(v) for v in values)


@pytest.mark.parametrize("k", CASES)
def test_ncti_same_seed_is_bit_identical(k):
    first = ncti(*inputs(k))
    assert first == ncti(*inputs(k))
    for name in COMPONENTS:
        assert rel_err(getattr(first, name), official(k)[f"ncti_repeat_same_seed_{name}"]) < SCORE


@pytest.mark.parametrize("k", CASES)
def test_ncti_pool_scores(k):
    ref = official(k)
    expected = ref["ncti_pool_final"]
    stored = {name: NCTIComponents(*(ref[f"{prefix}{c}"] for c in COMPONENTS))
              for name, prefix in (("X", "ncti_"), ("0.1*X", "ncti_x0p1_"), ("X+0.5*noise", "ncti_noisy_"))}
    computed = {"X": components(k, ""), "0.1*X": components(k, "x0p1"), "X+0.5*noise": components(k, "noisy")}
    for pool in (stored, computed):
        scores = ncti_pool_scores(pool)
        assert list(scores) == list(pool)
        for name, value in expected.items():
            assert scores[name] == pytest.approx(value, rel=SCORE, abs=SCORE)


def test_ncti_pool_scores_forms_and_ties():
    pool = [(10.0, 0.5, 2.0), (20.0, 0.9, 1.0), (15.0, 0.7, 1.5)]
    np.testing.assert_allclose(ncti_pool_scores(pool), [-1.0, 2.0, 0.5])
    # a component on which every model ties contributes nothing (the official code divides by zero)
    np.testing.assert_allclose(ncti_pool_scores([(1.0, 0.5, 2.0), (1.0, 0.9, 2.0)]), [0.0, 1.0])
    assert ncti_pool_scores({"only": (3.0, 0.2, 1.0)}) == {"only": 0.0}
    with pytest.raises(ValueError, match="the pool is empty"):
        ncti_pool_scores([])
    with pytest.raises(ValueError, match=r"\(seli, ncc, vc\) triple"):
        ncti_pool_scores([(1.0, 2.0)])
    with pytest.raises(ValueError, match="NaN or Inf"):
        ncti_pool_scores([(1.0, np.nan, 2.0)])


# ---- registry, API, properties ----------------------------------------------------------------

def test_ncti_is_registered_but_not_a_feature_metric():
    assert REGISTRY["ncti"] is ncti
    assert "ncti" not in FEATURE_METRICS
    X, y = inputs(1)
    assert potran.score(X, y, "ncti") == components(1, "")


def test_sa_randomized_projection_is_scikit_learns():
    """Our one-iteration randomized SVD is what PCA(svd_solver='randomized', ...) computes."""
    rng = np.random.default_rng(5)
    for shape in ((120, 80), (70, 150)):
        X = rng.normal(size=shape) @ rng.normal(size=(shape[1], shape[1]))
        expected = PCA(n_components=64, svd_solver="randomized", iterated_power=1,
                       random_state=sa.PCA_SEED).fit_transform(X)
        np.testing.assert_allclose(sa.randomized_projection(X, 64), expected,
                                   rtol=0, atol=1e-9 * np.abs(expected).max())


@pytest.fixture
def big():
    """A task whose gate opens (feature scale well above the threshold)."""
    X, y = blobs(n_per_class=(40, 30, 35), dim=80, spread=3.0)
    return X, y


def test_sa_gate_threshold(big):
    X, y = big
    result = sa.perturb(X, y)
    assert result.trace.gate_open and result.trace.gate_mean > sa.GATE_MIN_EIGENVALUE
    assert result.features.shape == (len(y), 64)
    assert sa.GATE_MIN_EIGENVALUE == pytest.approx(9 * np.log(10) / 5)
    small = sa.perturb(X * 0.01, y)
    assert not small.trace.gate_open
    np.testing.assert_array_equal(small.features, X * 0.01)


def test_sa_fewer_than_64_features_projects_on_all_of_them():
    """The official code raises for D < 64 with an open gate; potran clips the dimension to D."""
    X, y = blobs(n_per_class=(40, 30, 35), dim=20, spread=3.0)
    result = sa.perturb(X, y)
    assert result.trace.gate_open and result.features.shape == (len(y), 20)
    assert result.trace.n_components == 20


def test_sa_and_ncti_leave_inputs_alone(big):
    X, y = big
    for features in (X, X * 0.01):  # gate open and closed (the official SFDA wrote into X when closed)
        X0, y0 = features.copy(), y.copy()
        potran.score(features, y, "sfda", sa=True)
        potran.score(features, y, "ncti", sa=True, gate=False)
        ncti(features, y)
        np.testing.assert_array_equal(features, X0)
        np.testing.assert_array_equal(y, y0)
        assert not np.shares_memory(sa.perturb(features, y).features, features)


def test_sa_and_ncti_are_deterministic_and_leave_the_global_rng_alone(big):
    X, y = big
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    a, b = sa.perturb(X, y), sa.perturb(X, y)
    np.testing.assert_array_equal(a.features, b.features)
    assert ncti(X, y, seed=3) == ncti(X, y, seed=3)
    assert np.array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf(big, bad):
    X, y = big
    X = X.copy()
    X[3, 2] = bad
    for call in (lambda: potran.score(X, y, "logme", sa=True), lambda: potran.score(X, y, "ncti")):
        with pytest.raises(ValueError, match="X contains NaN or Inf"):
            call()


def test_one_class_and_length_mismatch(big):
    X, y = big
    for metric, options in (("logme", {"sa": True}), ("ncti", {})):
        with pytest.raises(ValueError, match="single class"):
            potran.score(X, np.zeros(len(X), int), metric, **options)
        with pytest.raises(ValueError, match="inconsistent numbers of samples: 105 rows in X, 104 labels"):
            potran.score(X, y[:-1], metric, **options)


def test_ncti_needs_64_samples_and_features():
    X, y = blobs(n_per_class=(40, 30, 35), dim=20)
    with pytest.raises(ValueError, match="NCTI needs at least 64 samples and 64 features"):
        ncti(X, y)


def test_bad_options(big):
    X, y = big
    with pytest.raises(ValueError, match=r"SA options \['alpha'\] given but sa=False"):
        potran.score(X, y, "logme", alpha=0.1)
    with pytest.raises(ValueError, match="PED and SA are alternative perturbations"):
        potran.score(X, y, "logme", ped=True, sa=True, general=X)
    with pytest.raises(ValueError,
                       match="alpha must be a number > 0 or one of 'group1', 'group2', got 'group3'"):
        sa.perturb(X, y, alpha="group3")
    for options, message in (({"alpha": 0}, "alpha must be a number > 0 or one of"),
                             ({"sigma": -1}, "sigma must be a number > 0, got -1"),
                             ({"n_components": 0}, "n_components must be an integer >= 1, got 0"),
                             ({"gate": 1}, "gate must be True or False, got 1")):
        with pytest.raises(ValueError, match=message):
            sa.perturb(X, y, **options)
    with pytest.raises(ValueError, match="ddof must be one of 0, 1, got 2"):
        gbc(X, y, ddof=2)


def test_alpha_names_are_the_driver_values(big):
    X, y = big
    assert sa.ALPHAS == {"group1": 0.005, "group2": 0.1} and sa.ALPHA == 0.005
    np.testing.assert_array_equal(sa.perturb(X, y, alpha="group2").features,
                                  sa.perturb(X, y, alpha=0.1).features)


def test_label_gaps_are_remapped(big):
    X, y = big
    gapped = np.array([0, 4, 9])[y]
    np.testing.assert_array_equal(sa.perturb(X, gapped).features, sa.perturb(X, y).features)
    assert ncti(X, gapped) == ncti(X, y)


def test_coincident_class_means_give_no_nan():
    """The official attract step divides 0 by 0 when two class means coincide."""
    rng = np.random.default_rng(0)
    a = rng.normal(scale=3, size=(40, 70))
    X = np.vstack([a, a[::-1], rng.normal(scale=3, size=(40, 70)) + 2.0])
    y = np.repeat([0, 1, 2], 40)
    result = sa.perturb(X, y, gate=False)
    assert np.isfinite(result.features).all()
    np.testing.assert_allclose(result.trace.class_shifts[0], result.trace.class_shifts[1], atol=1e-12)


def test_tensors_are_accepted(big):
    torch = pytest.importorskip("torch")
    X, y = big
    result = sa.perturb(torch.as_tensor(X), torch.as_tensor(y))
    assert isinstance(result.features, torch.Tensor) and result.features.dtype == torch.float64
    np.testing.assert_array_equal(result.features.numpy(), sa.perturb(X, y).features)
    assert ncti(torch.as_tensor(X), torch.as_tensor(y)) == ncti(X, y)
    assert potran.score(torch.as_tensor(X), y, "sfda", sa=True) == potran.score(X, y, "sfda", sa=True)


def test_float32_input_is_computed_in_float64(big):
    X, y = big
    X32 = X.astype(np.float32)
    np.testing.assert_array_equal(sa.perturb(X32, y).features, sa.perturb(X32.astype(np.float64), y).features)
    assert ncti(X32, y) == ncti(X32.astype(np.float64), y)


def test_trace_summary_is_json_ready(big):
    X, y = big
    summary = sa.perturb(X, y).trace.to_dict()
    assert json.loads(json.dumps(summary)) == summary
    assert summary["gate_open"] and len(summary["class_shift_norms"]) == 3
