"""potran.bench.book and potran.bench.plots: the book's one figure policy and one table style."""
from __future__ import annotations

import io
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from potran.bench import book, plots  # noqa: E402


def body_cells(html: str) -> list[list[str]]:
    """The text of the <td> cells of each body row of an HTML table."""
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


@pytest.fixture
def shown(monkeypatch):
    """What show() displays, instead of displaying it."""
    import IPython.display

    out = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: out.append(obj))
    book.setup_page(torch=False)
    yield out
    plt.close("all")


def test_numbers_have_fixed_decimals_a_dash_when_missing_and_no_exponent():
    assert book.number(0.123456) == "0.123" and book.number(1.5e-7) == "0.000"
    assert book.number(12345.678, 1) == "12345.7" and "e" not in book.number(3e-12, 3)
    assert book.number(-0.0001, signed=True) == "+0.000" and book.number(-0.0001) == "0.000"
    assert book.number(np.int64(12)) == "12" and book.number(True) == "yes"
    assert [book.number(v) for v in (np.nan, None, pd.NA)] == ["–"] * 3
    assert book.p_value(0.00004) == "< 0.001" and book.p_value(0.0123) == "0.012"
    assert book.p_value(float("nan")) == "–"
    assert book.interval(0.27, 0.13, 0.41) == "+0.270 [+0.130, +0.410]"
    assert book.interval(0.27, np.nan, np.nan) == "+0.270" and book.interval(np.nan, 0, 1) == "–"


def test_table_formats_per_column_and_shades_by_class_not_colour():
    frame = pd.DataFrame({"tau": [0.8, -0.3, np.nan], "p": [0.0001, 0.5, np.nan], "n": [3, 4, 5],
                          "iv": [book.interval(0.1, -0.2, 0.3), "–", ""], "name": ["a", None, "c"]},
                         index=["x", "y", "z"])
    html = book.table(frame, formats={"p": "p"}, shade=["tau"], caption="a caption", uuid="t1").to_html()
    cells = pd.DataFrame(body_cells(html), columns=["", *frame.columns])  # the index comes first
    assert cells[""].tolist() == ["x", "y", "z"] and html.count("<thead>") == 1 and html.count("<tr>") == 4
    assert cells["tau"].tolist() == ["0.800", "-0.300", "–"]
    assert cells["p"].tolist() == ["< 0.001", "0.500", "–"] and cells["n"].tolist() == ["3", "4", "5"]
    assert cells["name"].tolist()[1] == "–" and "nan" not in html.lower()
    assert 'id="T_t1"' in html and 'class="potran-table"' in html
    assert "shade-p4" in html and "shade-n2" in html and "background" not in html
    assert html.index("a caption") < html.index("potran-scroll")  # above the part that scrolls
    assert re.search(r'<td id="T_t1_row0_col0" class="data row0 col0 key"', html)
    assert re.search(r'<td id="T_t1_row0_col4" class="data row0 col4 num"', html)  # the interval
    with pytest.raises(KeyError, match="no such column"):
        book.table(frame, shade=["nope"])
    with pytest.raises(ValueError, match="unknown column format"):
        book.table(frame, formats={"tau": "sci"})
    folded = book.details(book.table(frame), "3 rows").data
    assert folded.startswith('<details class="potran-details"><summary>3 rows</summary>')


def test_table_does_not_change_the_callers_frame():
    frame = pd.DataFrame({"tau": [0.5, np.nan]})
    before = frame.copy()
    book.table(frame, shade=["tau"]).to_html()
    pd.testing.assert_frame_equal(frame, before)


def test_show_numbers_the_figures_of_a_page_and_records_their_legibility(shown, tmp_path):
    for name in ("a", "b"):
        fig, ax = plt.subplots(figsize=book.figsize(3))
        ax.plot([1, 2], [3, 4])
        ax.set_title("a title")
        assert book.show(fig, name, "What it shows.", alt="A rising line.", folder=tmp_path) is None
    image, caption = shown[2], shown[3]
    assert caption.data == "**Figure 2.** What it shows."
    png = (tmp_path / "b.png").read_bytes()
    assert image.data == png and image.alt == "A rising line."
    record = image.metadata["potran"]
    width = Image.open(io.BytesIO(png)).size[0]
    assert record["width_px"] == width <= 2 * book.COLUMN_PX and record["dpi"] == book.DPI
    assert record["min_font_pt"] == 10  # the tick labels
    assert book.legibility(width, record["min_font_pt"]) >= book.MIN_FONT_PX
    book.setup_page(torch=False)
    fig, _ = plt.subplots(figsize=book.figsize(2))
    book.show(fig, "c", "Again.", alt="Empty axes.", folder=tmp_path)
    assert shown[-1].data.startswith("**Figure 1.**")  # a new page counts from 1


def test_show_refuses_illegible_or_oversized_figures_and_missing_alt(shown, tmp_path):
    fig, ax = plt.subplots(figsize=book.figsize(2))
    with pytest.raises(ValueError, match="needs alt text"):
        book.show(fig, "x", "c", alt=" ", folder=tmp_path)
    ax.text(0.5, 0.5, "tiny", fontsize=6)
    with pytest.raises(ValueError, match=r"smallest text \(6 pt\) is displayed at"):
        book.show(fig, "x", "c", alt="a", folder=tmp_path)
    fig, _ = plt.subplots(figsize=(12, 3))
    with pytest.raises(ValueError, match="more than twice the column"):
        book.show(fig, "x", "c", alt="a", folder=tmp_path)
    assert not list(tmp_path.iterdir()) and not shown
    with pytest.raises(ValueError, match="share of the column"):
        book.figsize(3, width=1.5)


def test_forest_draws_one_line_per_label_settings_offset_and_open_marks(shown):
    rows = pd.DataFrame({
        "metric": ["logme", "logme", "gbc", "gbc", "static"],
        "setting": ["without", "with", "without", "with", "baseline"],
        "mean_tau": [0.2, 0.4, np.nan, -0.1, 0.6], "low": [-0.1, 0.1, np.nan, -0.3, 0.5],
        "high": [0.5, 0.7, np.nan, 0.2, 0.7]})
    fig, ax = plt.subplots()
    handles, labels = plots.forest(ax, rows, label="metric", group="setting", band=(-0.2, 0.25),
                                   hollow_if_zero=True, names={"with": "with PED"})
    assert [t.get_text() for t in ax.get_yticklabels()] == ["logme", "gbc", "static"]
    points = [line for line in ax.lines if line.get_marker() == "o" and len(line.get_xdata())]
    ys = sorted(float(p.get_ydata()[0]) for p in points)
    assert ys == pytest.approx([-0.11, 0.11, 1.11, 2.0])  # the baseline sits on its line
    hollow = [p for p in points if p.get_markerfacecolor() == "white"]
    assert len(hollow) == 2  # logme without PED and gbc with it: the intervals containing 0
    assert any(t.get_text() == "n/a" for t in ax.texts)
    assert labels == ["random ranking (95 %)", "without", "with PED", "baseline"]
    with pytest.raises(KeyError, match="needs the column"):
        plots.forest(ax, rows, label="nope")


def test_table_marks_cells_with_a_title_and_shows_every_index_level():
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]},
                         index=pd.MultiIndex.from_tuples([("m", 0.25), ("n", 1.0)], names=["model", "share"]))
    marks = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    marks.loc[("n", 1.0), "b"] = True
    tips = marks.replace({True: "was 5.0", False: ""})
    html = book.table(frame, digits=1, marks=marks, tips=tips, uuid="t2").to_html()
    assert body_cells(html) == [["m", "0.25", "1.0", "3.0"], ["n", "1", "2.0", "4.0"]]
    assert re.search(r'class="data row1 col3 num mark" +title="was 5.0"', html)
    assert html.count(" mark") == 1 and html.count("title=") == 1


def _extension():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "book" / "_ext" / "potran_book.py"
    spec = importlib.util.spec_from_file_location("potran_book", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_api_page_prints_plain_values_only_and_no_reprs_in_signatures():
    from pathlib import Path

    ext = _extension()
    assert ext.plain_value(0.6) and ext.plain_value(("logme", "sfda")) and ext.plain_value("adamw")
    assert not ext.plain_value(Path("/home/me/.cache")) and not ext.plain_value("/home/me/.cache")
    assert not ext.plain_value({"a": 1}) and not ext.plain_value(tuple(range(40)))
    signature = ("(models, finetune: FinetuneConfig = FinetuneConfig(lr=1e-3, lr_overrides=(('hed', 1e-4),)),"
                 " sources=Sources(get_model=<function get at 0x7f00>), k=2)")
    assert ext.shorten_reprs(signature) == ("(models, finetune: FinetuneConfig = FinetuneConfig(…), "
                                            "sources=Sources(…), k=2)")
    assert ext.shorten_reprs("(x, f=<function get>)") == "(x, f=get)"


def test_blocks_show_text_as_markdown_and_the_rest_as_given(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    frame = book.table(pd.DataFrame({"a": [1.0]}))
    book.blocks(["**bold**", None, frame])
    assert len(shown) == 2 and isinstance(shown[0], IPython.display.Markdown)
    assert shown[0].data == "**bold**" and shown[1] is frame


def test_papermill_kernels_get_the_environment_of_the_book_build():
    """``make papermill`` gives the kernels what the book's build gives them (the extension's
    KERNEL_ENV): no tqdm bars, no warning from tqdm.auto that names a local path."""
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    exported = dict(re.findall(r"^export (\w+) := (.*)$", makefile, flags=re.M))
    exported.update(re.findall(r"^book/generated/%\.ipynb: export (\w+) := (.*)$", makefile, flags=re.M))
    env = _extension().KERNEL_ENV
    assert {name: exported.get(name) for name in env} == env


def test_ped_column_reads_perturbation_labels_as_a_reader_would():
    labels = ["none", "ped", "sa", "ped:nsigma=2"]
    frame = pd.DataFrame({"metric": ["logme"] * 4, "perturbation": labels})
    shown = book.ped_column(frame)
    assert list(shown.columns) == ["metric", "PED"]
    assert list(shown.PED) == ["no", "yes", "SA", "PED[nsigma=2]"]
    assert list(frame.perturbation) == labels  # the caller's frame is left alone


def test_tests_table_folds_every_test_with_its_interval():
    tests = pd.DataFrame({"family": ["PED"], "comparison": ["logme"], "estimate": [0.1], "low": [0.0],
                          "high": [0.2], "p_value": [0.04], "p_holm": [0.08], "min_p": [0.01],
                          "test": ["sign-flip"], "verdict": ["unresolved"]})
    html = book.tests_table(tests).data
    assert "All 1 tests, one row each" in html and "+0.100 [+0.000, +0.200]" in html


def test_a_table_offers_its_unformatted_values_as_a_csv_download():
    import base64
    import re

    frame = pd.DataFrame({"tau": [0.123456789, -0.5]}, index=pd.Index(["logme", "sfda"], name="metric"))
    html = book.table(frame, digits=2, csv="taus").to_html()
    link = re.search(r'<a download="taus\.csv" href="data:text/csv;charset=utf-8;base64,([^"]+)"', html)
    assert link, html[-300:]
    text = base64.b64decode(link.group(1)).decode()
    assert text == frame.to_csv() and "0.123456789" in text          # full precision, index kept
    assert "0.12<" in html.replace(" ", "")                          # the page shows 2 decimals
    assert "download=" not in book.table(frame).to_html()            # no link unless asked
    assert "metric" not in base64.b64decode(re.search(r"base64,([^\"]+)", book.table(
        frame, index=False, csv="t.csv").to_html()).group(1)).decode()
