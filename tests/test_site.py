"""The built site, in a real browser: every page of the table of contents loads from the site alone
and reads cleanly.

The site is built first if ``_build/html/index.html`` is missing (``make book``: the benchmark's
scores, then ``jupyter-book build book``); ``POTRAN_SITE_BUILD=<folder>`` tests a site built
elsewhere (its ``html/``; e.g. a scratch build of a few pages), which is never rebuilt. It is
served from ``html/`` on 127.0.0.1 by ``http.server`` in a thread, and Debian's Chromium
(``/usr/bin/chromium``, driven by Playwright from PyPI; ``make test`` installs it) opens each page
three times: 1280 px wide, 390 px wide (a phone) and 1280 px in the dark theme. A page passes when

- no request failed or answered an error status, and none went to another host;
- the console logged no error and no script raised;
- every math element was typeset by MathJax (an ``mjx-container`` inside, no TeX error);
- every ``<img>`` loaded (``naturalWidth > 0``);
- what a reader sees (the article without its code and its math) holds no local path, no Python
  warning or traceback, no raw ``$...$`` or ``\\(``, no Python repr of a potran object, and no
  table cell reading "nan" or "None";
- every figure has alt text; at 1280 px its PNG is at most twice its displayed width, and its
  smallest text (the ``potran`` record that :func:`potran.bench.book.show` leaves in the executed
  notebook) is displayed at 10 px or more; figures are numbered 1, 2, ... on each page, and so
  are equations;
- at 390 px, the page itself does not scroll sideways; a table wider than the screen sits in a
  container that does and shows the cue (a line saying so above it and a shadow at the edge); no
  caption is cut off; no printed line runs past its box (they wrap);
- the dark theme is applied (``html[data-theme=dark]``), and leaves the figures on white at full
  contrast (no filter).

Full-page screenshots are saved as ``screenshots/<page>__<view>.png`` of the build folder (``/``
of the page written ``__``; views ``1280``, ``390`` and ``1280-dark``) for a person to look at.

On the main-table page the tau table (``table#T_tau-table``: :func:`potran.bench.book.table` of
``notebooks/main_table.py`` with ``uuid="tau-table"``) shows the numbers of
``<default setting>/main_table/tau.csv`` of the build folder (the page's result folder on its default setting)
as :func:`potran.bench.book.number` writes them (3 decimals, "–" where missing).
The index opens with its findings, whose numbers are pasted from the pages it links and read there
as those pages compute them; the reproducibility page names a commit of this repository; the API
reference is a section with one page per group of modules.
Without Chromium the test fails (it does not skip): CI must check the site.
"""
from __future__ import annotations

import functools
import http.server
import os
import re
import subprocess
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from potran.bench import book, settings

ROOT = Path(__file__).resolve().parents[1]
#: the build folder (``_build``); POTRAN_SITE_BUILD tests a site built elsewhere (never rebuilt then)
BUILD = Path(os.environ.get("POTRAN_SITE_BUILD", ROOT / "_build"))
HTML = BUILD / "html"
CHROMIUM = Path("/usr/bin/chromium")
TAU_TABLE = "table#T_tau-table"
MAIN_TABLE_PAGE = "notebooks/main_table"
PAGE_TIMEOUT_MS = 60_000
#: full-page screenshots of every page in every view, written by the browser tests
SCREENSHOTS = BUILD / "screenshots"
#: the book whose site is tested: ``book/`` beside the build folder (a scratch copy of the book with
#: a few pages has its own table of contents), else the repository's
SITE_BOOK = BUILD.parent / "book" if (BUILD.parent / "book" / "_toc.yml").is_file() else ROOT / "book"


def toc_pages(book: Path = ROOT / "book") -> list[str]:
    """Document names of ``book/_toc.yml``, in reading order."""
    import yaml

    toc = yaml.safe_load((book / "_toc.yml").read_text())

    def files(node) -> list[str]:
        found = [node["file"]] if "file" in node else []
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key, []):
                found += files(child)
        return found

    return [toc["root"], *files(toc)]


# --------------------------------------------------------------------------- static checks


def test_every_notebook_is_in_the_toc():
    pages = set(toc_pages())
    notebooks = sorted((ROOT / "notebooks").glob("*.py"))
    missing = [p.stem for p in notebooks if f"notebooks/{p.stem}" not in pages]
    assert not missing, f"notebooks not in book/_toc.yml (so never built): {missing}"


def test_every_toc_entry_exists():
    book = ROOT / "book"
    for page in toc_pages():
        assert any((book / f"{page}{ext}").is_file() for ext in (".md", ".py", ".ipynb")), page


#: The API reference: a section page and one page per group of modules (book/_toc.yml)
API_INDEX = "api"
API_PAGES = sorted(f"api/{p.stem}" for p in (ROOT / "book" / "api").glob("*.md"))


def test_api_page_documents_every_module():
    text = "\n".join((ROOT / "book" / f"{page}.md").read_text() for page in [API_INDEX, *API_PAGES])
    documented = re.findall(r"automodule:: ([\w.]+)", text)
    modules = set()
    for path in (ROOT / "potran").rglob("*.py"):  # from the files: importing would load torch
        parts = path.relative_to(ROOT).with_suffix("").parts
        modules.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    wanted = {"potran", "potran.ped", "potran.scoring", "potran.evaluation", "potran.metrics"}
    wanted |= {m for m in modules if m.startswith("potran.bench")}
    assert wanted <= set(documented), f"add to one of book/api/*.md: {sorted(wanted - set(documented))}"
    assert len(documented) == len(set(documented)), "a module documented twice (duplicate objects)"


def test_api_reference_is_a_section_with_a_page_per_module_group():
    """book/api.md introduces the reference and links every sub-page; each sub-page is in the table
    of contents under it, opens with a heading and an introduction, then documents its modules."""
    import yaml

    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    entry = next(c for c in toc["chapters"] if c.get("file") == API_INDEX)
    assert [s["file"] for s in entry.get("sections", [])] and \
        sorted(s["file"] for s in entry["sections"]) == API_PAGES
    index = (ROOT / "book" / f"{API_INDEX}.md").read_text()
    assert "automodule" not in index
    assert "notebooks/benchmark_v3" in index, "the API index says where the 16 models are described"
    for page in API_PAGES:
        assert f"{{doc}}`{page}`" in index, f"{API_INDEX}.md does not link {page}"
        text = (ROOT / "book" / f"{page}.md").read_text()
        head, _, rest = text.partition("```{eval-rst}")
        assert head.startswith("# ") and len(head.split("\n", 1)[1].strip()) > 80, \
            f"{page}: a heading and a short introduction before the modules"
        assert "automodule::" in rest, page


def test_mathjax_is_vendored_and_configured():
    vendor = ROOT / "book" / "_vendor" / "mathjax"
    assert (vendor / "tex-chtml-full.js").stat().st_size > 1_000_000
    assert len(list((vendor / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))) >= 20
    assert not (ROOT / "book" / "_static").exists(), "JB1 injects every .js under _static as a script"
    config = (ROOT / "_config.yml").read_text()
    assert "mathjax_path: mathjax/tex-chtml-full.js" in config and "html_static_path: [_vendor]" in config


# --------------------------------------------------------------------------- the site in a browser


@pytest.fixture(scope="module")
def site() -> Path:
    if not (HTML / "index.html").is_file() and "POTRAN_SITE_BUILD" not in os.environ:
        subprocess.run(["make", "book"], cwd=ROOT, check=True)
    assert (HTML / "index.html").is_file()
    return HTML


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no access log on the test's output
        pass


@pytest.fixture(scope="module")
def server(site: Path):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test does: "
                    "apt-get install -y chromium)", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: install the test extras (make test does)", pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


#: The three ways each page is opened: name -> browser-context options.
VIEWS = {
    "1280": {"viewport": {"width": 1280, "height": 900}},
    "390": {"viewport": {"width": 390, "height": 844}},
    "1280-dark": {"viewport": {"width": 1280, "height": 900}, "color_scheme": "dark"},
}


def visit(browser, base: str, page_name: str, view: str = "1280") -> dict:
    """Open one page in a fresh context of ``view``; return what went wrong and the page itself
    (still open: close it with ``seen["page"].context.close()``)."""
    host = urlparse(base).netloc
    page = browser.new_context(**VIEWS[view]).new_page()
    seen = {"foreign": [], "failed": [], "console": [], "errors": []}

    def on_request(request):
        url = urlparse(request.url)
        if url.scheme not in ("data", "blob", "about") and url.netloc != host:
            seen["foreign"].append(request.url)

    page.on("request", on_request)
    page.on("requestfailed", lambda r: seen["failed"].append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and seen["failed"].append(f"{r.url} (HTTP {r.status})"))
    page.on("console", lambda m: m.type == "error" and seen["console"].append(m.text))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.goto(f"{base}/{page_name}.html", wait_until="networkidle", timeout=PAGE_TIMEOUT_MS)
    seen["page"] = page
    return seen


def check_math(page) -> tuple[int, list[str]]:
    """Wait for MathJax on every math element; return their count and those not typeset."""
    count = page.locator(".math").count()
    if count:
        page.wait_for_selector("mjx-container", state="attached", timeout=PAGE_TIMEOUT_MS)
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                               timeout=PAGE_TIMEOUT_MS)
        page.evaluate("() => MathJax.startup.promise")
    raw = page.eval_on_selector_all(
        ".math",
        "els => els.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80))")
    errors = page.eval_on_selector_all("mjx-merror", "els => els.map(e => e.textContent.slice(0, 80))")
    return count, raw + [f"TeX error: {e}" for e in errors]


def check_images(page) -> list[str]:
    """Scroll every image into view (lazy images load then) and return those that did not load."""
    page.eval_on_selector_all("img", "els => els.forEach(e => { e.loading = 'eager'; e.scrollIntoView(); })")
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=PAGE_TIMEOUT_MS)
    return page.eval_on_selector_all(
        "img", "els => els.filter(e => !(e.naturalWidth > 0)).map(e => e.getAttribute('src'))")


#: Screenshots stop this far down a page (the API page is tens of thousands of pixels long).
SCREENSHOT_MAX_PX = 16_000


def screenshot(page, page_name: str, view: str) -> None:
    """A full-page screenshot of what a reader sees (its first :data:`SCREENSHOT_MAX_PX` px), for a
    person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # the image check scrolled: the sticky header goes back on top
    width, height = page.evaluate("[document.documentElement.clientWidth, "
                                  "document.documentElement.scrollHeight]")
    page.screenshot(path=str(SCREENSHOTS / f"{page_name.replace('/', '__')}__{view}.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": width, "height": min(height, SCREENSHOT_MAX_PX)},
                    timeout=PAGE_TIMEOUT_MS)


#: What a reader should never see in a page's text (code and math left out).
LOCAL_PATH = re.compile(r"(?<![\w.])(/work/|/home/|/tmp/|/root/|/Users/|/private/var/)|\b[A-Z]:\\(?=\w)|"
                        r"\.venv/|site-packages")
PYTHON_NOISE = re.compile(r"Traceback \(most recent call last\)|\b[A-Z]\w*(Warning|Error): |"
                          r"warnings\.warn\(")
RAW_TEX = re.compile(r"\$[^$\s][^$]*\$|\\\(|\\\[|\\(tau|frac|mathrm|sum|lambda|mu|sigma)\b")
REPR = re.compile(r"\b[A-Z][A-Za-z]+\([a-z_]+=|<[\w.]+ object at 0x|PosixPath\(|\bnp\.float64\(")
EMPTY_CELLS = {"nan", "none", "<na>", "nat"}

READER_TEXT = """() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main');
  const copy = article.cloneNode(true);
  copy.querySelectorAll('.cell_input, pre, code, mjx-container, .math, script, style, .headerlink')
      .forEach(e => e.remove());
  return copy.textContent;
}"""

FIGURES = """() => [...document.querySelectorAll('article.bd-article img')].map(i => ({
  src: i.getAttribute('src'), alt: i.getAttribute('alt') || '', natural: i.naturalWidth,
  shown: i.getBoundingClientRect().width, notebook: !!i.closest('.cell_output')}))"""

WIDE_TABLES = """() => [...document.querySelectorAll('article.bd-article table')].filter(
  t => t.getBoundingClientRect().width > document.documentElement.clientWidth).map(t => {
    let box = t.parentElement;
    while (box && !['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) box = box.parentElement;
    return {id: t.id || t.className, scrolls: !!box,
            cue: !!box && box.classList.contains('potran-wide')
                 && getComputedStyle(box, '::before').content.includes('scroll sideways')
                 && getComputedStyle(box).backgroundImage.includes('gradient')};
  })"""

#: Printed outputs whose lines run past their box (they should wrap; potran.css)
OVERFLOWING_OUTPUTS = """() => [...document.querySelectorAll('article.bd-article div.cell_output pre')]
  .filter(p => p.scrollWidth > p.clientWidth + 1).map(p => p.textContent.slice(0, 60))"""

#: Figures the dark theme dims or puts on a grey ground (they keep white and full contrast; potran.css)
DIMMED_FIGURES = """() => [...document.querySelectorAll('article.bd-article img')].filter(i => {
  const s = getComputedStyle(i);
  return s.filter !== 'none' || s.backgroundColor !== 'rgb(255, 255, 255)';
}).map(i => i.getAttribute('src'))"""

CUT_CAPTIONS = """() => [...document.querySelectorAll('article.bd-article p.potran-caption, '
  + 'article.bd-article .cell_output .text_markdown p')].filter(p => /^Figure \\d+\\./.test(p.textContent)
  || p.classList.contains('potran-caption')).filter(p => p.scrollWidth > p.clientWidth + 1
  || p.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .map(p => p.textContent.slice(0, 60))"""


def reader_problems(page) -> list[str]:
    """What a reader should not see on the page (module docstring), one line each."""
    text = page.evaluate(READER_TEXT)
    problems = []
    for name, pattern in (("local path", LOCAL_PATH), ("Python warning or traceback", PYTHON_NOISE),
                          ("raw TeX", RAW_TEX), ("Python repr", REPR)):
        for match in list(pattern.finditer(text))[:3]:
            start = max(0, match.start() - 40)
            problems.append(f"{name}: ...{text[start:match.end() + 40]!r}...")
    stderr = page.locator("article .output.stderr, article .output.traceback").count()
    if stderr:
        problems.append(f"{stderr} stderr or traceback output(s)")
    cells = page.eval_on_selector_all("article table td, article table th",
                                      "els => els.map(e => e.textContent.trim())")
    empty = sorted({c for c in cells if c.lower() in EMPTY_CELLS})
    if empty:
        problems.append(f"table cells reading {empty}")
    return problems


def figure_records(page_name: str) -> dict:
    """``{sha256 of a PNG: its potran record}`` of the page's executed notebook (empty without one)."""
    import base64
    import hashlib
    import json

    path = HTML / "_sources" / f"{page_name}.ipynb"
    if not path.is_file():
        return {}
    records = {}
    for cell in json.loads(path.read_text())["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                digest = hashlib.sha256(base64.b64decode(data["image/png"])).hexdigest()
                records[digest] = output.get("metadata", {}).get("image/png", {}).get("potran")
    return records


def figure_problems(page, page_name: str) -> list[str]:
    """Alt text, PNG width against displayed width, and displayed text size of every figure."""
    records = figure_records(page_name)
    problems = []
    for fig in page.evaluate(FIGURES):
        name = fig["src"].rsplit("/", 1)[-1]
        if len(fig["alt"].strip()) < 15 or fig["alt"].endswith((".png", ".svg", ".jpg")):
            problems.append(f"{name}: no alt text ({fig['alt']!r})")
        if fig["shown"] <= 0:
            continue
        if fig["natural"] > 2 * fig["shown"] + 1:
            problems.append(f"{name}: PNG {fig['natural']} px wide, shown at {fig['shown']:.0f} px (over 2x)")
        if not fig["notebook"]:
            continue
        record = records.get(name.split(".")[0])
        if not record:
            problems.append(f"{name}: a notebook figure without the record of potran.bench.book.show")
            continue
        shown_px = book.legibility(fig["natural"], record["min_font_pt"], record["dpi"], shown=fig["shown"])
        if shown_px < book.MIN_FONT_PX:
            problems.append(f"{name}: smallest text {record['min_font_pt']} pt shown at {shown_px:.1f} px")
    return problems


def numbering_problems(page) -> list[str]:
    """Figures numbered 1, 2, ... by their captions, equations (1), (2), ... on this page alone."""
    problems = []
    captions = page.eval_on_selector_all(
        "article .cell_output p", "els => els.map(e => e.textContent).filter(t => /^Figure \\d+\\./.test(t))")
    numbers = [int(re.match(r"Figure (\d+)\.", c).group(1)) for c in captions]
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"figures numbered {numbers}")
    equations = page.eval_on_selector_all("article span.eqno", "els => els.map(e => e.textContent.trim())")
    numbers = [int(re.search(r"\d+", e).group()) for e in equations if re.search(r"\d+", e)]
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"equations numbered {numbers[:5]}...")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("page_name", toc_pages(SITE_BOOK))
def test_page_loads_offline_and_reads_cleanly(browser, server, page_name):
    seen = visit(browser, server, page_name)
    page = seen["page"]
    try:
        math_count, untypeset = check_math(page)
        broken_images = check_images(page)
        title = page.title()
        reader = reader_problems(page)
        figures = figure_problems(page, page_name)
        numbering = numbering_problems(page)
        screenshot(page, page_name, "1280")
    finally:
        page.context.close()
    assert not seen["foreign"], f"requests to other hosts: {seen['foreign']}"
    assert not seen["failed"], f"failed requests: {seen['failed']}"
    assert not seen["console"], f"console errors: {seen['console']}"
    assert not seen["errors"], f"script errors: {seen['errors']}"
    assert not untypeset, f"{len(untypeset)} of {math_count} math elements not typeset: {untypeset[:5]}"
    assert not broken_images, f"images that did not load: {broken_images}"
    assert title, "page without a title"
    assert not reader, "what a reader sees:\n" + "\n".join(reader)
    assert not figures, "figures:\n" + "\n".join(figures)
    assert not numbering, "numbering:\n" + "\n".join(numbering)


@pytest.mark.slow
@pytest.mark.parametrize("page_name", toc_pages(SITE_BOOK))
def test_page_on_a_phone_and_in_the_dark(browser, server, page_name):
    seen = visit(browser, server, page_name, "390")
    page = seen["page"]
    try:
        check_math(page)
        check_images(page)
        wide = page.evaluate(WIDE_TABLES)
        cut = page.evaluate(CUT_CAPTIONS)
        overflowing = page.evaluate(OVERFLOWING_OUTPUTS)
        page_width = page.evaluate("[document.documentElement.scrollWidth, "
                                   "document.documentElement.clientWidth]")
        screenshot(page, page_name, "390")
    finally:
        page.context.close()
    seen = visit(browser, server, page_name, "1280-dark")
    page = seen["page"]
    try:
        check_math(page)
        check_images(page)
        theme = page.evaluate("document.documentElement.dataset.theme")
        dimmed = page.evaluate(DIMMED_FIGURES)
        screenshot(page, page_name, "1280-dark")
    finally:
        page.context.close()
    assert all(t["scrolls"] and t["cue"] for t in wide), f"wide tables without a scroll cue: {wide}"
    assert not cut, f"captions cut off at 390 px: {cut}"
    assert not overflowing, f"printed lines that run past the screen at 390 px: {overflowing}"
    assert page_width[0] <= page_width[1] + 1, f"the page scrolls sideways at 390 px: {page_width}"
    assert theme == "dark", f"the dark theme was not applied (data-theme={theme!r})"
    assert not dimmed, f"figures dimmed or on a grey ground in the dark theme: {dimmed}"


@pytest.mark.slow
def test_index_has_math_and_api_has_functions(browser, server):
    """Sanity of the checks above: pages that must have math and API entries do."""
    if not {"method", "api/core"} <= set(toc_pages(SITE_BOOK)):
        pytest.skip("a scratch site without the method and API pages")
    seen = visit(browser, server, "method")
    try:
        assert seen["page"].locator("mjx-container").count() > 10
    finally:
        seen["page"].context.close()
    seen = visit(browser, server, "api/core")
    try:
        assert seen["page"].locator("dl.py.function").count() > 10
        assert seen["page"].locator("#potran.scoring.score, [id='potran.scoring.score']").count() == 1
    finally:
        seen["page"].context.close()


@pytest.mark.slow
def test_main_table_shows_the_benchmark_taus(browser, server):
    import pandas as pd

    if MAIN_TABLE_PAGE not in toc_pages(SITE_BOOK):
        pytest.fail(f"{MAIN_TABLE_PAGE} is not in the table of contents", pytrace=False)
    tau = pd.read_csv(BUILD / settings.DEFAULT / "main_table" / "tau.csv")   # the page's default setting
    seen = visit(browser, server, MAIN_TABLE_PAGE)
    page = seen["page"]
    try:
        assert page.locator(TAU_TABLE).count() == 1, f"no {TAU_TABLE} on the main-table page"
        header = page.eval_on_selector_all(f"{TAU_TABLE} thead tr:last-child th",
                                           "els => els.map(e => e.textContent.trim())")
        rows = page.eval_on_selector_all(
            f"{TAU_TABLE} tbody tr", "rows => rows.map(r => [...r.children].map(c => c.textContent.trim()))")
    finally:
        page.context.close()
    assert header[:2] == ["metric", "PED"], header
    targets = header[2:]
    assert targets and targets[-1] == "mean", header
    tau = book.ped_column(tau)  # the perturbation as the page shows it (no/yes)
    expected = {(r.metric, r.PED, r.target): book.number(r.weighted_tau) for r in tau.itertuples()}
    assert rows, "the tau table has no rows"
    compared = 0
    for row in rows:
        metric, perturbation, values = row[0], row[1], row[2:]
        assert len(values) == len(targets), row
        for target, shown in zip(targets, values):
            want = expected.get((metric, perturbation, target), book.MISSING)
            assert shown == want, f"{metric} ({perturbation}) on {target}: page {shown}, tau.csv {want}"
            compared += want != book.MISSING
    shown_keys = {(row[0], row[1]) for row in rows}
    in_csv = {(m, p) for m, p, t in expected if t in targets}
    assert in_csv <= shown_keys, f"rows of tau.csv missing on the page: {sorted(in_csv - shown_keys)}"
    assert compared > 0 or tau.weighted_tau.isna().all(), "no number compared"


@pytest.mark.slow
def test_every_notebook_page_offers_its_executed_notebook(site):
    """The download menu of a notebook page links the executed .ipynb: every code cell run, outputs
    included, no error."""
    import json

    for name in [p for p in toc_pages(SITE_BOOK) if p.startswith("notebooks/")]:
        path = Path(name)
        executed = site / "_sources" / "notebooks" / f"{path.stem}.ipynb"
        assert executed.is_file(), f"no executed notebook for {path.name}"
        code = [cell for cell in json.loads(executed.read_text())["cells"] if cell["cell_type"] == "code"]
        assert any(cell.get("outputs") for cell in code), executed
        unrun = [i for i, cell in enumerate(code) if cell.get("execution_count") is None and cell["source"]]
        assert not unrun, f"{executed.name}: code cells {unrun} were not executed"
        errors = [o.get("ename") for cell in code for o in cell.get("outputs", [])
                  if o["output_type"] == "error"]
        assert not errors, f"{executed.name}: error outputs {errors}"
        page = (site / "notebooks" / f"{path.stem}.html").read_text()
        assert f"_sources/notebooks/{path.stem}.ipynb" in page, f"{path.stem}.html does not link it"


def reader_text(html: str) -> str:
    """A page's text as a reader reads it: tags dropped, entities and typographic quotes undone,
    white space collapsed."""
    import html as html_module

    text = html_module.unescape(re.sub(r"<[^>]+>", "", html))
    for curly, plain in (("’", "'"), ("‘", "'"), ("“", '"'), ("”", '"')):
        text = text.replace(curly, plain)
    return re.sub(r"\s+", " ", text)


@pytest.mark.slow
def test_index_answers_first_with_the_pages_numbers(site, browser, server):
    """The index's findings open the page (their heading on the first screen at 1280 px). Each
    point links a page of the book, and every number pasted into it (myst-nb glue from another
    document: ``span.pasted-text``) is on the page it links, as that page computes it; the
    points under the answers stay within the index's budget of 300 words."""
    index_html = (site / "index.html").read_text()
    section = index_html.split('id="what-the-companion-found"', 1)[1].split('id="what-ped-is"', 1)[0]
    items = re.findall(r"<li>(.*?)</li>", section, flags=re.S)
    assert len(items) >= 5, "the index's answers are missing"
    pages = set(toc_pages(SITE_BOOK))
    pasted_any = False
    for item in items:
        linked = set(re.findall(r'href="(notebooks/[a-z_0-9]+)\.html', item))
        assert linked and linked <= pages, f"a point of the index without its page: {reader_text(item)}"
        texts = [reader_text((site / f"{page}.html").read_text()) for page in linked]
        for value in re.findall(r'<span class="pasted-text">(.*?)</span>', item):
            pasted_any = True
            assert any(value in text for text in texts), f"{value} of the index is not on {sorted(linked)}"
    assert pasted_any, "no number of the index is pasted from its page"
    limits = section.split('id="what-limits-these-answers"', 1)[1]
    assert len(reader_text(re.sub(r"<[^>]+>", " ", limits)).split()) <= 300
    seen = visit(browser, server, "index")
    try:
        top = seen["page"].locator("#what-the-companion-found").bounding_box()["y"]
    finally:
        seen["page"].context.close()
    assert top < VIEWS["1280"]["viewport"]["height"] - 200, f"the findings start {top:.0f} px down"


@pytest.mark.slow
def test_reproducibility_page_names_the_commit(site):
    """The reproducibility page names the git commit the site was built from: a commit of this
    repository."""
    if "notebooks/reproducibility" not in toc_pages(SITE_BOOK):
        pytest.skip("a scratch site without the reproducibility page")
    text = reader_text((site / "notebooks" / "reproducibility.html").read_text())
    shas = set(re.findall(r"\b[0-9a-f]{40}\b", text))
    assert shas, "no 40-hex commit on the reproducibility page"
    known = [sha for sha in shas if subprocess.run(["git", "cat-file", "-e", f"{sha}^{{commit}}"], cwd=ROOT,
                                                     capture_output=True).returncode == 0]
    assert known, f"none of {sorted(shas)} is a commit of this repository"


#: The paper's artefacts the index's map must place (issue 15), and how a page may reproduce one
PAPER_ARTEFACTS = ("§3", "main table", "Supplementary Table 1", "Supplementary Table 2",
                   "Supplementary Figure 1", "Figure 2", "Figure 3")
HOW_REPRODUCED = ("re-run on the offline benchmark", "re-read from the published numbers",
                  "measured on the machine that built the book", "checked against the official code")


@pytest.mark.slow
def test_index_maps_every_paper_artefact_to_its_page(site):
    """The index's map: each artefact of the paper on a row that links its page (one in the table
    of contents) and says how it is reproduced; the introduction links the map."""
    index_html = (site / "index.html").read_text()
    section = index_html.split('id="paper-map"', 1)[1]
    table = section.split("<table", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.S)[1:]
    pages = set(toc_pages(SITE_BOOK))
    assert rows, "no map table on the index"
    for row in rows:
        text = reader_text(row)
        linked = {p for p in re.findall(r'href="([\w/]+)\.html', row)}
        assert linked and linked <= pages, f"a row of the map without a page of the book: {text}"
        assert any(how in text for how in HOW_REPRODUCED), f"a row that does not say how: {text}"
    mapped = reader_text(table)
    assert all(a in mapped for a in PAPER_ARTEFACTS), [a for a in PAPER_ARTEFACTS if a not in mapped]
    intro = index_html.split('id="what-the-companion-found"', 1)[0]
    assert 'href="#paper-map"' in intro, "the introduction does not link the map"
