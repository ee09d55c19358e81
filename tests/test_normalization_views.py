"""potran.bench.normalization_views: PED standardised against PED in the raw space, in tables and words."""
import matplotlib
import numpy as np
import pandas as pd

from potran.bench import normalization_views as views

matplotlib.use("Agg")

STD, RAW = views.settings(0.6)["standardised"], views.settings(0.6)["raw"]


def _intervals():
    rows = [("logme", "none", 0.1, 0.0, 0.2, np.nan, np.nan, np.nan, np.nan),
            ("logme", STD, 0.3, 0.2, 0.4, 0.2, 0.1, 0.3, 0.01),
            ("logme", RAW, 0.05, -0.1, 0.2, -0.05, -0.2, 0.1, 0.5)]
    columns = ["metric", "perturbation", "mean_tau", "low", "high", "delta", "delta_low", "delta_high",
               "p_delta"]
    return views.named(pd.DataFrame(rows, columns=columns), 0.6)


def test_settings_and_their_names():
    assert STD != RAW and "standardize=False" in RAW and "standardize" not in STD
    assert _intervals().setting.tolist() == ["none", "standardised", "raw"]
    assert views.named(pd.DataFrame({"perturbation": ["ped:other"]}), 0.6).setting.isna().all()


def test_interval_table_and_forest():
    shown = views.interval_table(_intervals()).styler.data
    assert shown.setting.tolist() == ["without PED", "PED, standardised", "PED, raw space"]
    assert shown["change by PED [95 % interval]"].iloc[1] == "+0.200 [+0.100, +0.300]"
    fig, caption, alt = views.tau_forest(_intervals(), {"low": -0.1, "high": 0.1}, ["logme"],
                                         n_ranked=7, nsigma=0.6)
    assert caption.startswith("Ours (7 ranked cells)") and "(logme)" in alt
    assert fig.axes[0].get_ylabel() == "metric"


def test_motion_table_averages_over_the_metrics():
    trace = pd.DataFrame({"setting": ["standardised", "standardised", "raw"], "metric": ["a", "b", "a"],
                          "mean_steps": [2.0, 4.0, 6.0], "energy_decline": [0.5, 0.7, 0.1],
                          "no_overlap": [1, 3, 0]}).set_index(["setting", "metric"])
    motion = views.motion_table(trace)
    assert motion.index.tolist() == ["standardised", "raw"]
    assert motion.loc["standardised"].tolist() == [3.0, 0.6, 2.0] and motion.loc["raw", "mean_steps"] == 6
