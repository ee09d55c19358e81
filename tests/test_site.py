"""The built site, in a real browser: every page of the table of contents loads from the site alone.

The site is built first if ``_build/html/index.html`` is missing (``make book``: the benchmark's
scores, then ``jupyter-book build book``). It is served from ``_build/html`` on 127.0.0.1 by
``http.server`` in a thread, and Debian's Chromium (``/usr/bin/chromium``, driven by Playwright
from PyPI; ``make test`` installs it) opens each page. A page passes when

- no request failed or answered an error status, and none went to another host;
- the console logged no error and no script raised;
- every math element was typeset by MathJax (an ``mjx-container`` inside, no TeX error);
- every ``<img>`` loaded (``naturalWidth > 0``);

and its full-page screenshot is saved as ``_build/screenshots/<page>.png`` (``/`` written ``__``).

On the main-table page the tau table (``table#T_tau-table``: the pandas Styler of
``notebooks/main_table.py`` with ``set_uuid("tau-table")``) shows the numbers of
``_build/bench/tau.csv`` rounded to 3 decimals. Without Chromium the test fails (it does not skip):
CI must check the site.
"""
from __future__ import annotations

import functools
import http.server
import math
import os
import re
import subprocess
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: the build folder (``_build``); POTRAN_SITE_BUILD tests a site built elsewhere (never rebuilt then)
BUILD = Path(os.environ.get("POTRAN_SITE_BUILD", ROOT / "_build"))
HTML = BUILD / "html"
CHROMIUM = Path("/usr/bin/chromium")
TAU_TABLE = "table#T_tau-table"
MAIN_TABLE_PAGE = "notebooks/main_table"
PAGE_TIMEOUT_MS = 60_000
#: a full-page screenshot of every page, written by test_page_loads_offline
SCREENSHOTS = BUILD / "screenshots"


def toc_pages() -> list[str]:
    """Document names of book/_toc.yml, in reading order."""
    import yaml

    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())

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


def test_api_page_documents_every_module():
    text = (ROOT / "book" / "api.md").read_text()
    documented = set(re.findall(r"automodule:: ([\w.]+)", text))
    modules = set()
    for path in (ROOT / "potran").rglob("*.py"):  # from the files: importing would load torch
        parts = path.relative_to(ROOT).with_suffix("").parts
        modules.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    wanted = {"potran", "potran.ped", "potran.scoring", "potran.evaluation", "potran.metrics"}
    wanted |= {m for m in modules if m.startswith("potran.bench")}
    assert wanted <= documented, f"add to book/api.md: {sorted(wanted - documented)}"


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


def visit(browser, base: str, page_name: str) -> dict:
    """Open one page; return what went wrong and the page itself (still open)."""
    host = urlparse(base).netloc
    page = browser.new_page()
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


@pytest.mark.slow
@pytest.mark.parametrize("page_name", toc_pages())
def test_page_loads_offline(browser, server, page_name):
    seen = visit(browser, server, page_name)
    page = seen["page"]
    try:
        math_count, untypeset = check_math(page)
        broken_images = check_images(page)
        title = page.title()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # what a reader sees, for a person to look at
        page.evaluate("window.scrollTo(0, 0)")  # the image check scrolled: the sticky header goes back on top
        page.screenshot(path=str(SCREENSHOTS / f"{page_name.replace('/', '__')}.png"), full_page=True)
    finally:
        page.close()
    assert not seen["foreign"], f"requests to other hosts: {seen['foreign']}"
    assert not seen["failed"], f"failed requests: {seen['failed']}"
    assert not seen["console"], f"console errors: {seen['console']}"
    assert not seen["errors"], f"script errors: {seen['errors']}"
    assert not untypeset, f"{len(untypeset)} of {math_count} math elements not typeset: {untypeset[:5]}"
    assert not broken_images, f"images that did not load: {broken_images}"
    assert title, "page without a title"


@pytest.mark.slow
def test_index_has_math_and_api_has_functions(browser, server):
    """Sanity of the checks above: pages that must have math and API entries do."""
    seen = visit(browser, server, "method")
    try:
        assert seen["page"].locator("mjx-container").count() > 10
    finally:
        seen["page"].close()
    seen = visit(browser, server, "api")
    try:
        assert seen["page"].locator("dl.py.function").count() > 10
        assert seen["page"].locator("#potran.scoring.score, [id='potran.scoring.score']").count() == 1
    finally:
        seen["page"].close()


def _shown(value: float) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


@pytest.mark.slow
def test_main_table_shows_the_benchmark_taus(browser, server):
    import pandas as pd

    if MAIN_TABLE_PAGE not in toc_pages():
        pytest.fail(f"{MAIN_TABLE_PAGE} is not in the table of contents", pytrace=False)
    tau = pd.read_csv(BUILD / "bench" / "tau.csv")
    seen = visit(browser, server, MAIN_TABLE_PAGE)
    page = seen["page"]
    try:
        assert page.locator(TAU_TABLE).count() == 1, f"no {TAU_TABLE} on the main-table page"
        header = page.eval_on_selector_all(f"{TAU_TABLE} thead tr:last-child th",
                                           "els => els.map(e => e.textContent.trim())")
        rows = page.eval_on_selector_all(
            f"{TAU_TABLE} tbody tr", "rows => rows.map(r => [...r.children].map(c => c.textContent.trim()))")
    finally:
        page.close()
    assert header[:2] == ["metric", "ped"], header
    targets = header[2:]
    assert targets and targets[-1] == "mean", header
    expected = {(r.metric, str(bool(r.ped)), r.target): _shown(r.weighted_tau) for r in tau.itertuples()}
    assert rows, "the tau table has no rows"
    compared = 0
    for row in rows:
        metric, ped, values = row[0], row[1], row[2:]
        assert len(values) == len(targets), row
        for target, shown in zip(targets, values):
            want = expected.get((metric, ped, target), "n/a")
            assert shown == want, f"{metric} (ped {ped}) on {target}: page {shown}, tau.csv {want}"
            compared += want != "n/a"
    shown_keys = {(row[0], row[1]) for row in rows}
    in_csv = {(m, p) for m, p, t in expected if t in targets}
    assert in_csv <= shown_keys, f"rows of tau.csv missing on the page: {sorted(in_csv - shown_keys)}"
    assert compared > 0 or tau.weighted_tau.isna().all(), "no number compared"


@pytest.mark.slow
def test_every_notebook_page_offers_its_executed_notebook(site):
    """The download menu of a notebook page links the executed .ipynb, outputs included."""
    import json

    for path in sorted((ROOT / "notebooks").glob("*.py")):
        executed = site / "_sources" / "notebooks" / f"{path.stem}.ipynb"
        assert executed.is_file(), f"no executed notebook for {path.name}"
        cells = json.loads(executed.read_text())["cells"]
        assert any(cell.get("outputs") for cell in cells if cell["cell_type"] == "code"), executed
        page = (site / "notebooks" / f"{path.stem}.html").read_text()
        assert f"_sources/notebooks/{path.stem}.ipynb" in page, f"{path.stem}.html does not link it"


@pytest.mark.slow
def test_index_opens_with_the_computed_findings(site):
    """The index's findings section is there, its numbers are the analyses' (potran.bench.findings),
    and each point links to its page."""
    import html as html_module

    from potran.bench import findings, paper_analysis

    page = html_module.unescape(re.sub(r"<[^>]+>", "", (site / "index.html").read_text()))
    assert "What the companion found" in page
    for finding in findings.paper_findings(paper_analysis.paper_tests()):
        assert re.sub(r"[*`]", "", finding.text).replace("'", "’")[:200] in page.replace("'", "’")
    links = re.findall(r'href="(notebooks/[a-z_]+)\.html', (site / "index.html").read_text())
    assert {"notebooks/paper_numbers", "notebooks/main_table", "notebooks/groundtruth"} <= set(links)
