"""What every page of the book does: its set-up, its figures and its tables, in one style.

Pages (``notebooks/*.py``) call :func:`setup_page` once, :func:`show` per figure and
:func:`table` per table (long ones folded with :func:`details`). **Figures**: at most
:data:`FIG_WIDTH` inches wide (:func:`figsize`) at :data:`DPI`; the text column is
:data:`COLUMN_PX` CSS px in a 1280 px window, and a PNG may be at most twice that; numbered per
page ("Figure 1."), caption under, alt text. **Tables**: one number of decimals per column, no
scientific notation, p-values with three decimals ("< 0.001" below), "–" for missing, intervals on
one line ("+0.270 [+0.130, +0.410]", :func:`interval`); colours are CSS classes (``shade-p1`` ...
for values in [-1, 1], light and dark theme in ``book/_ext/static/potran.css``), never inline.
"""
from __future__ import annotations

import base64
import html
import io
import math
import numbers
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["setup_page", "figsize", "show", "legibility", "number", "p_value", "span", "interval", "table",
           "ped_column", "details", "tests_table", "blocks", "Table", "FIG_WIDTH", "DPI", "COLUMN_PX",
           "MIN_FONT_PX"]

#: Width of the book's text column (CSS px) in a 1280 px window (sphinx-book-theme, measured).
COLUMN_PX = 688
#: Largest figure width (inches): at :data:`DPI`, 8 in are 1200 px, at most twice :data:`COLUMN_PX`.
FIG_WIDTH = 8.0
#: Resolution of every PNG (dots per inch).
DPI = 150
#: Smallest text size (CSS px) a figure may display at 1280 px.
MIN_FONT_PX = 10.0
#: Font sizes (pt) of every figure; at 8 in wide, 10 pt is displayed at 11.7 px.
FONT_SIZES = {"font.size": 11, "axes.titlesize": 11, "axes.labelsize": 11, "xtick.labelsize": 10,
              "ytick.labelsize": 10, "legend.fontsize": 10, "legend.title_fontsize": 10,
              "figure.titlesize": 12}
MISSING = "–"

_figures = {"count": 0}

# tqdm.auto warns that notebook widgets are missing when the benchmark's modules first import it:
# pages import this module first, so the filter is set before (a built page shows no progress bar)
warnings.filterwarnings("ignore", message="IProgress not found")


def setup_page(threads: int | None = None, *, torch: bool = True) -> None:
    """Set a page up: the figures' theme and font sizes, figure numbers from 1 and, with
    ``torch``, torch's CPU threads (:func:`potran.bench.configure_torch`)."""
    import seaborn as sns

    if torch:
        from . import configure_torch

        configure_torch(threads)
    sns.set_theme(style="whitegrid", context="notebook", rc={**FONT_SIZES, "figure.dpi": DPI})
    _figures["count"] = 0


def figsize(height: float, width: float = 1.0) -> tuple[float, float]:
    """``(width, height)`` in inches: ``width`` is a share of :data:`FIG_WIDTH` (1: the column)."""
    if not 0 < width <= 1:
        raise ValueError(f"width is a share of the column, in (0, 1], got {width!r}")
    if height <= 0:
        raise ValueError(f"height must be positive, got {height!r}")
    return FIG_WIDTH * width, float(height)


def legibility(png_width: int, smallest_pt: float, dpi: float = DPI, shown: float | None = None) -> float:
    """The CSS px at which text of ``smallest_pt`` points is displayed when the PNG (``png_width``
    px at ``dpi``) is shown ``shown`` CSS px wide (default: as at 1280 px, shrunk to
    :data:`COLUMN_PX` when it is wider)."""
    shown = min(png_width, COLUMN_PX) if shown is None else shown
    return smallest_pt * dpi / 72 * min(1.0, shown / png_width)


def show(fig, name: str, caption: str, *, alt: str, folder) -> None:
    """Number, save, display and caption a figure.

    ``fig`` is rendered once at :data:`DPI` (tight bounding box) into ``<folder>/<name>.png`` and
    displayed from those bytes with ``alt`` text; ``caption`` (MyST) goes under it after
    "**Figure n.**". The output metadata ``potran`` holds ``dpi``, ``min_font_pt``, ``width_px``
    (:func:`legibility`; the site test checks them). ValueError for no alt text, a PNG wider than
    twice :data:`COLUMN_PX`, or text smaller than :data:`MIN_FONT_PX` displayed.
    """
    import matplotlib.pyplot as plt
    from IPython.display import Image, Markdown, display
    from matplotlib.text import Text
    from PIL import Image as PILImage

    if not alt or not alt.strip():
        raise ValueError(f"figure {name!r} needs alt text saying what it shows")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", facecolor="white")
    png = buffer.getvalue()
    width = PILImage.open(io.BytesIO(png)).size[0]
    sizes = [t.get_fontsize() for t in fig.findobj(Text)   # the visible, non-empty texts
             if t.get_visible() and t.get_text().strip() and (t.axes is None or t.axes.get_visible())]
    smallest = float(min(sizes)) if sizes else float("nan")
    plt.close(fig)
    if width > 2 * COLUMN_PX:
        raise ValueError(f"figure {name!r} is {width} px wide, more than twice the column "
                         f"({COLUMN_PX} px): make it at most {FIG_WIDTH} in (book.figsize)")
    shown = legibility(width, smallest)
    if shown < MIN_FONT_PX:
        raise ValueError(f"figure {name!r}: its smallest text ({smallest:g} pt) is displayed at "
                         f"{shown:.1f} px, under {MIN_FONT_PX:g} px")
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    _figures["count"] += 1
    display(Image(data=png, format="png", alt=" ".join(alt.split()),
                  metadata={"potran": {"dpi": DPI, "min_font_pt": smallest, "width_px": width}}))
    display(Markdown(f"**Figure {_figures['count']}.** {caption.strip()}"))


# --------------------------------------------------------------------------- tables


def _missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (
        isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isnan(value))


def number(value, digits: int = 3, *, signed: bool = False) -> str:
    """``value`` with ``digits`` decimals (a sign with ``signed``), "–" when missing; integers
    without decimals; never scientific notation."""
    if _missing(value):
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return f"{int(value):+d}" if signed else f"{int(value):d}"
    if not isinstance(value, numbers.Real):
        return str(value)
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    text = f"{float(value):{'+' if signed else ''}.{digits}f}"
    if float(text) == 0:  # no "-0.000"
        text = text.replace("-", "+" if signed else "")
    return text


def p_value(value) -> str:
    """A p-value with three decimals, "< 0.001" below 0.001, "–" when missing."""
    if _missing(value):
        return MISSING
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def span(low, high, digits: int = 3) -> str:
    """"[-0.497, +0.524]" (signed, ``digits`` decimals); "–" when an end is missing."""
    if _missing(low) or _missing(high):
        return MISSING
    return f"[{number(low, digits, signed=True)}, {number(high, digits, signed=True)}]"


def interval(estimate, low, high, digits: int = 3) -> str:
    """"+0.270 [+0.130, +0.410]" (signed, ``digits`` decimals); "–" without an estimate, the
    estimate alone without an interval."""
    if _missing(estimate):
        return MISSING
    head = number(estimate, digits, signed=True)
    return head if _missing(low) or _missing(high) else f"{head} {span(low, high, digits)}"


def ped_column(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its ``perturbation`` column as a reader sees it: a column "PED" reading
    "no" (``"none"``) or "yes" (``"ped"``), another label by its title (``"SA"``,
    ``"PED[nsigma=2]"``: :func:`potran.perturbations.title`)."""
    from potran.perturbations import NONE, PED, title

    shown = frame["perturbation"].map(lambda p: {NONE: "no", PED: "yes"}.get(p) or title(p))
    return frame.assign(perturbation=shown).rename(columns={"perturbation": "PED"})


def _formatter(spec, digits: int):
    """A cell formatter from a column spec: an int (decimals), "+N" (signed, N decimals), "p",
    "int", "%N" (a share shown as percent with N decimals), "text" or a callable."""
    if spec is None or (isinstance(spec, int) and not isinstance(spec, bool)):
        return lambda v: number(v, digits if spec is None else spec)
    if spec == "p":
        return p_value
    if isinstance(spec, str) and spec[:1] == "+" and spec[1:].isdigit():
        return lambda v: number(v, int(spec[1:]), signed=True)
    if isinstance(spec, str) and spec[:1] == "%" and spec[1:].isdigit():
        return lambda v: MISSING if _missing(v) else f"{100 * v:.{int(spec[1:])}f} %"
    shown = {"int": lambda v: f"{int(round(v)):d}", "text": str}.get(spec) if isinstance(spec, str) else spec
    if callable(shown):
        return lambda v: MISSING if _missing(v) else shown(v)
    raise ValueError(f"unknown column format {spec!r}: an int, '+N', '%N', 'p', 'int', 'text' or a callable")


def _shade(value) -> str:
    """CSS class of a value in [-1, 1] on the diverging scale (blue positive, red negative)."""
    if _missing(value) or not isinstance(value, numbers.Real) or isinstance(value, bool):
        return ""
    level = min(4, int(abs(float(value)) / 0.25 + 1e-12) + (abs(float(value)) >= 0.05))
    return f"shade-{'p' if value > 0 else 'n'}{level}" if level else ""


@dataclass(frozen=True)
class Table:
    """A formatted table: the pandas ``styler`` (:func:`table`) and an optional caption shown above
    it, outside the part that scrolls sideways (so a narrow screen never cuts it)."""

    styler: object
    caption: str = ""
    csv: tuple[str, str] | None = None  # (file name, CSV text) offered as a download below the table

    def to_html(self) -> str:
        head = f'<p class="potran-caption">{html.escape(self.caption)}</p>' if self.caption else ""
        body = f'<div class="potran-scroll">{self.styler.to_html()}</div>'
        link = ""
        if self.csv:
            name, data = html.escape(self.csv[0]), base64.b64encode(self.csv[1].encode()).decode()
            link = (f'<p class="potran-csv"><a download="{name}" href="data:text/csv;charset=utf-8;base64,'
                    f'{data}">Download this table as CSV ({name})</a></p>')
        return f'<div class="potran-table-block">{head}{body}{link}</div>'

    _repr_html_ = to_html


def table(data, *, digits: int = 3, formats: dict | None = None, shade=(), marks=None, tips=None,
          caption: str = "", uuid: str | None = None, index: bool = True, csv: str | None = None) -> Table:
    """The book's table of ``data`` (DataFrame or Series).

    ``digits``: decimals of float columns not in ``formats`` (``{column: spec}``: decimals, "+N",
    "%N", "p", "int", "text" or a callable; interval columns are text already). ``shade``: columns
    with values in [-1, 1] (tau_w) shaded by CSS class. ``marks``, ``tips``: frames like ``data``;
    True cells get the ``mark`` class, non-empty ``tips`` a tooltip (``title``). ``caption``: one
    sentence above. Id ``T_<uuid>`` (pages and tests find tables by it). ``index``: shown as bold
    first column(s), level names as headers. ``csv``: file name of a CSV download below the table
    of the unformatted values (full precision, index included when shown), for re-plotting.
    """
    frame = data.to_frame() if isinstance(data, pd.Series) else data
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"table() takes a DataFrame or a Series, got {type(data).__name__}")
    formats = dict(formats or {})
    unknown = [c for c in [*formats, *shade] if c not in frame.columns and c not in frame.index.names]
    if unknown:
        raise KeyError(f"no such column(s): {unknown}")
    flags = (pd.DataFrame(False, index=frame.index, columns=frame.columns) if marks is None else
             marks.reindex_like(frame).fillna(False).astype(bool))
    # the index becomes the first column(s), in bold (one header row, never a row of index names)
    keys = frame.index.to_frame(index=False) if index else pd.DataFrame(index=range(len(frame)))
    keys.columns = ["" if n is None else str(n) for n in (frame.index.names if index else [])]
    body = frame.reset_index(drop=True)
    if isinstance(body.columns, pd.MultiIndex):
        body.columns = [", ".join(map(str, c)) for c in body.columns]
    shown = pd.concat([keys, body], axis=1)
    styler = shown.style.hide(axis="index")
    classes = pd.DataFrame("", index=shown.index, columns=shown.columns)
    for position, column in enumerate(shown.columns):
        values = shown.iloc[:, position]
        spec = formats.get(column)
        counts = pd.api.types.is_integer_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if position < keys.shape[1]:
            classes.iloc[:, position] = "key"
            if spec is None and pd.api.types.is_float_dtype(values):
                spec = lambda v: np.format_float_positional(v, trim="-")  # noqa: E731 -- a label as given
        elif ((pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values))
              or values.map(lambda v: isinstance(v, str) and "[" in v and v[-1:] == "]").any()):
            classes.iloc[:, position] = "num"
        styler = styler.format(_formatter("int" if spec is None and counts else spec, digits),
                               subset=pd.IndexSlice[:, [column]])
    for column in shade:
        classes[column] = [f"{k} {_shade(v)}".strip() for k, v in zip(classes[column], shown[column])]
    marked = np.hstack([np.zeros(keys.shape, dtype=bool), flags.to_numpy()])
    classes = classes.where(~marked, classes + " mark")
    styler = styler.set_td_classes(classes).set_table_attributes('class="potran-table"')
    if tips is not None:
        titles = tips.reindex_like(frame).fillna("").set_axis(body.columns, axis=1)
        styler = styler.set_tooltips(titles.reset_index(drop=True), as_title_attribute=True)
    if uuid:
        styler = styler.set_uuid(uuid)
    download = None if not csv else (csv if csv.endswith(".csv") else f"{csv}.csv",
                                     frame.to_csv(index=index))
    return Table(styler, caption, download)


def details(content, summary: str):
    """``content`` (a :class:`Table` or a pandas Styler) folded under a ``<details>`` block whose
    visible line is ``summary``: a long table one click away."""
    from IPython.display import HTML

    return HTML(f'<details class="potran-details"><summary>{html.escape(summary)}</summary>'
                f'{content.to_html()}</details>')


def tests_table(tests: pd.DataFrame):
    """Every row of a test table (the columns of :func:`potran.bench.significance.benchmark_tests`),
    folded: family, comparison, estimate with its interval, raw and Holm p-values, the smallest
    attainable p, the test and its verdict."""
    every = pd.DataFrame({
        "family": tests.family, "comparison": tests.comparison,
        "estimate [interval]": list(map(interval, tests.estimate, tests.low, tests.high)),
        "p": tests.p_value, "p (Holm)": tests.p_holm, "smallest possible p": tests.min_p,
        "test": tests.test, "verdict": tests.verdict})
    shown = table(every, formats={"p": "p", "p (Holm)": "p", "smallest possible p": "p"}, index=False,
                  uuid="tests-table")
    return details(shown, f"All {len(every)} tests, one row each")


def blocks(items) -> None:
    """Display a page section's ``items`` in order: text (str) as markdown, anything else (a
    :class:`Table`, a figure, HTML) as itself; None items are skipped."""
    from IPython.display import Markdown, display

    for item in items:
        if item is not None:
            display(Markdown(item) if isinstance(item, str) else item)
