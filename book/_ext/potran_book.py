"""Sphinx extension of the potran book (``_config.yml``: ``sphinx.local_extensions``).

It does what Jupyter Book's configuration cannot:

- sets the environment the notebook kernels inherit, so that ``jupyter-book build book`` run by
  hand is as quiet as ``make book``: no tqdm bars (``TQDM_DISABLE``) nor tqdm's warning about
  notebook widgets, which pages that import the benchmark in their parameters cell would print
  with a local path (``PYTHONWARNINGS``), no debugpy warning about frozen modules
  (``PYDEVD_DISABLE_FILE_VALIDATION``);
- tells the reproducibility page about this build through the environment: its command line
  (``POTRAN_BUILD_COMMAND``), its start (``POTRAN_BUILD_STARTED``, UTC, ISO 8601) and the
  jupyter-cache records that existed before it started (``POTRAN_CACHE_BEFORE``: primary keys),
  so that the page can tell the notebooks executed by this build from those taken from the cache;
- names the page being read in ``POTRAN_PAGE`` and the log of data reads in ``POTRAN_DATA_LOG``
  (``_build/data-reads.jsonl``, see :mod:`potran.resources`): the kernel of each page inherits them,
  so the reproducibility page can hash the data files each page read;
- reads the reproducibility page last (Sphinx reads documents in name order), so that when it
  executes, every other notebook of this build has been executed or taken from the cache;
- gives the kernels 300 s to start instead of nbclient's 60 s: on a busy machine (CI beside other
  jobs) a kernel can take longer than a minute to answer, which failed the whole build;
- offers each page's executed notebook (``.ipynb`` with its outputs, as myst-nb wrote it to
  ``_build/jupyter_execute/``) in the page's download menu, beside the ``.py`` source: it is copied
  to ``_sources/`` and named in the context the theme reads (``ipynb_source``);
- drops duplicated ``<script>`` tags: sphinx-thebe (loaded by Jupyter Book even with thebe
  off) registers its inline configuration twice, and the second ``const THEBE_JS_URL`` is a
  script error on every page;
- adds the book's style sheet (``static/potran.css``: the tables and figures of
  :mod:`potran.bench.book`, light and dark) and a script (``static/potran.js``) that marks the
  tables wider than the page, for the cue that they scroll sideways; both come from a folder of
  the extension's own, since Jupyter Book would load every script of a ``book/_static`` folder;
- gives each figure of a notebook its alt text: :func:`potran.bench.book.show` puts it in the
  image output's metadata (``alt``, as IPython's ``Image(alt=...)`` does), which myst-nb reads
  only for ``width`` and ``height``; without it the ``alt`` of an image is its file name;
- shows the value of a module constant on the API page only when it is plain (a number, a short
  string, a short tuple of those): the values autodoc would print for the others are local paths
  (``FEATURE_CACHE = PosixPath('/home/...')``) or Python reprs of objects, which the docstring
  describes better; for the same reason signatures show default values as the source writes them
  (``cache_dir=FEATURE_CACHE``, ``autodoc_preserve_defaults``);
- numbers equations per page (``math_numfig = False``: the math domain's own numbers, which
  restart on every page) instead of Sphinx's figure counter, which without numbered sections
  runs on across the whole book, so that a page would continue another page's equation numbers.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

LAST = "reproducibility"
#: The extension's static files: the style sheet and the script every page loads.
STATIC = Path(__file__).resolve().parent / "static"
STYLE = "potran.css"
SCRIPT = "potran.js"

#: Seconds a notebook's kernel may take to start (nbclient's default: 60).
KERNEL_STARTUP_TIMEOUT = 300

#: Environment of the notebook kernels (set only where the caller did not set it).
KERNEL_ENV = {
    "TQDM_DISABLE": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    # tqdm.auto's warning that notebook widgets are missing (with its file's path), at import
    "PYTHONWARNINGS": "ignore:IProgress not found",
}


def build_command(argv: list[str]) -> str:
    """The command line of this build, with the program's name instead of its full path."""
    return shlex.join([Path(argv[0]).name, *argv[1:]]) if argv else ""


def cache_path(app) -> Path:
    """The jupyter-cache folder of this build (myst-nb's setting, else its default)."""
    config = getattr(app.env, "mystnb_config", None)
    path = getattr(config, "execution_cache_path", "") if config is not None else ""
    return Path(path) if path else Path(app.outdir).parent / ".jupyter_cache"


def remember_cache(app) -> None:
    """Put the primary keys of the cache records that exist before this build into the environment."""
    path = cache_path(app)
    keys: list[int] = []
    if (path / "global.db").is_file():
        from jupyter_cache import get_cache

        keys = sorted(record.pk for record in get_cache(str(path)).list_cache_records())
    os.environ["POTRAN_CACHE_BEFORE"] = ",".join(map(str, keys))


def log_data_reads(app) -> None:
    """Point the kernels' data-read log at ``_build/data-reads.jsonl`` (kept across builds: a page
    taken from the cache keeps the reads of the build that executed it)."""
    os.environ.setdefault("POTRAN_DATA_LOG", str(Path(app.outdir).parent / "data-reads.jsonl"))


def name_page(app, docname: str, source: list[str]) -> None:
    """Tell the kernel about to execute ``docname`` its page's name (documents are read one by one)."""
    os.environ["POTRAN_PAGE"] = docname


def read_last(app, env, docnames: list[str]) -> None:
    """Move the reproducibility page to the end of the documents to read (in place)."""
    last = [name for name in docnames if name.rsplit("/", 1)[-1] == LAST]
    for name in last:
        docnames.remove(name)
    docnames.extend(last)


def unique_scripts(app, pagename, templatename, context, doctree) -> None:
    """Remove repeated scripts (same file or inline body, any priority) from the page, in place."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    unique, seen = [], set()
    for script in scripts:
        attributes = getattr(script, "attributes", {})
        key = (str(getattr(script, "filename", script) or ""), tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def executed_notebook(app, pagename, templatename, context, doctree) -> None:
    """Copy the page's executed notebook next to its source and offer it for download."""
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def image_alt_text() -> None:
    """Make myst-nb's image outputs take their ``alt`` from the output's metadata."""
    from docutils import nodes
    from myst_nb.core.render import NbElementRenderer

    render = NbElementRenderer.render_image
    if getattr(render, "potran_alt", False):
        return

    def render_image(self, data):
        rendered = render(self, data)
        alt = data.output_metadata.get(data.mime_type, {}).get("alt")
        for node in rendered:
            if alt and isinstance(node, nodes.image) and "alt" not in node:
                node["alt"] = str(alt)
        return rendered

    render_image.potran_alt = True
    NbElementRenderer.render_image = render_image


#: The longest value the API page shows for a constant.
VALUE_MAX_CHARS = 80


def plain_value(value) -> bool:
    """Whether autodoc may print ``value``: numbers, booleans, short strings that are no absolute
    path, and short tuples, lists or sets of those."""
    if isinstance(value, bool) or isinstance(value, (int, float)):
        return True
    if isinstance(value, str):
        return len(value) <= VALUE_MAX_CHARS and not os.path.isabs(value)
    if isinstance(value, (tuple, list, frozenset, set)):
        return len(repr(value)) <= VALUE_MAX_CHARS and all(plain_value(v) for v in value)
    return False


def shorten_reprs(signature: str) -> str:
    """``signature`` with every default that is an object's repr, ``=Name(...)`` or
    ``=<function f>``, written ``=Name(…)`` or ``=f``."""
    out, i = [], 0
    while i < len(signature):
        head = re.match(r"=(\s*)([A-Z][\w.]*)\(", signature[i:])
        if head:
            depth, j = 0, i + head.end() - 1
            while j < len(signature):
                depth += {"(": 1, ")": -1}.get(signature[j], 0)
                j += 1
                if depth == 0:
                    break
            out.append(f"={head.group(1)}{head.group(2)}(…)")
            i = j
            continue
        out.append(signature[i])
        i += 1
    return re.sub(r"<function ([\w.]+)(?: at 0x[0-9a-f]+)?>", r"\1", "".join(out))


def short_signature(app, what, name, obj, options, signature, return_annotation):
    """``autodoc-process-signature``: :func:`shorten_reprs` of the signature."""
    if signature:
        return shorten_reprs(signature), return_annotation
    return None


def quiet_values(app) -> None:
    """Register data and attribute documenters that leave out the values :func:`plain_value`
    refuses, and shorten the reprs in signatures (:func:`shorten_reprs`)."""
    app.setup_extension("sphinx.ext.autodoc")
    from sphinx.ext.autodoc import AttributeDocumenter, DataDocumenter

    class PlainDataDocumenter(DataDocumenter):
        def should_suppress_value_header(self) -> bool:
            return super().should_suppress_value_header() or not plain_value(self.object)

    class PlainAttributeDocumenter(AttributeDocumenter):
        def should_suppress_value_header(self) -> bool:
            return super().should_suppress_value_header() or not plain_value(self.object)

    app.add_autodocumenter(PlainDataDocumenter, override=True)
    app.add_autodocumenter(PlainAttributeDocumenter, override=True)
    app.connect("autodoc-process-signature", short_signature)


def configure(app, config) -> None:
    """Serve ``static/`` (the style sheet and the script), number equations per page and write
    the API's default values as the source does (module docstring)."""
    config.html_static_path.append(str(STATIC))
    config.math_numfig = False
    config.autodoc_preserve_defaults = True


def patient_kernels(seconds: int = KERNEL_STARTUP_TIMEOUT) -> None:
    """Give nbclient's ``startup_timeout`` to every execution of jupyter-cache, which myst-nb
    calls for both the ``cache`` and the ``force`` modes (neither offers a setting for it)."""
    from jupyter_cache.executors import utils

    execute = utils.executenb
    if getattr(execute, "potran_patient", False):
        return

    def executenb(*args, **kwargs):
        kwargs.setdefault("startup_timeout", seconds)
        return execute(*args, **kwargs)

    executenb.potran_patient = True
    utils.executenb = executenb


def setup(app):
    patient_kernels()
    image_alt_text()
    quiet_values(app)
    app.connect("config-inited", configure)
    app.add_css_file(STYLE)
    app.add_js_file(SCRIPT)
    for key, value in KERNEL_ENV.items():
        os.environ.setdefault(key, value)
    os.environ["POTRAN_BUILD_COMMAND"] = build_command(sys.argv)
    os.environ["POTRAN_BUILD_STARTED"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    # after myst-nb's own builder-inited handler, which sets the cache path
    app.connect("builder-inited", remember_cache, priority=900)
    app.connect("builder-inited", log_data_reads)
    app.connect("env-before-read-docs", read_last)
    app.connect("source-read", name_page)
    app.connect("html-page-context", unique_scripts)
    app.connect("html-page-context", executed_notebook, priority=400)  # before the theme's buttons (501)
    return {"version": "1", "parallel_read_safe": False, "parallel_write_safe": True}
