"""Sphinx configuration of the clvmodels documentation.

Build (from the repository root, with the ``docs`` extra installed)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The API reference is generated from the packages' ``__all__`` at build time (``docs/api/``, not
committed), so a public name added to a package appears without editing these files. The
notebooks of ``notebooks/`` (linked as ``docs/notebooks``) are executed during the build by
myst-nb, and a cell that raises fails the build.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import types
from pathlib import Path

# The notebooks' kernels inherit this process' environment: a headless MPLBACKEND=Agg (as CI may
# set) would stop them from returning their figures, so the kernels get Jupyter's inline backend.
os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the checkout's clvmodels, even when it is not installed

import clvmodels  # noqa: E402

project = "clvmodels"
author = "the clvmodels developers"
copyright = "the clvmodels developers"
release = version = clvmodels.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
    "matplotlib.sphinxext.plot_directive",
]

root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "api/generated/*.md", "**.ipynb_checkpoints", "notebooks/README*"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

# ----- API reference --------------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # the numpydoc Parameters sections say the types, in words
numpydoc_show_class_members = False  # the class template lists members with their own docs
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# Examples that import matplotlib are run by the plot directive and their figures shown under them
numpydoc_use_plots = True
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 90)]

# ----- notebooks --------------------------------------------------------------------------------------
nb_execution_mode = os.environ.get("CLVMODELS_DOCS_EXECUTE", "cache")  # "force" re-runs every notebook
nb_execution_raise_on_error = True  # a notebook that fails fails the build (and CI)
nb_execution_show_tb = True  # the failing cell's traceback in the build log
nb_execution_timeout = 900  # seconds per cell: the Bayesian notebook samples for a while
nb_execution_cache_path = str(HERE / "_build" / ".jupyter_cache")
# a local escape hatch while a notebook is being rewritten, e.g. "*03_*": rendered without outputs
nb_execution_excludepatterns = [p for p in os.environ.get("CLVMODELS_DOCS_SKIP", "").split(",") if p]
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "colon_fence"]

# ----- output -------------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"clvmodels {release}"
html_theme_options = {"navigation_depth": 2, "show_toc_level": 2}
intersphinx_mapping = {}  # no network at build time: references to numpy/pandas stay plain text


#: API pages: (file name, title, module, introduction). Names come from each module's __all__.
API_PAGES = [
    ("top_level", "clvmodels: summaries, models and the pipeline's steps", "clvmodels",
     "Everything a notebook needs, importable from the package itself. Names that live in one of "
     "the subpackages below are documented there and listed here with a link."),
    ("value", "clvmodels.value: customer value", "clvmodels.value",
     "Customer value net of acquisition cost plus referrals, rolled up by channel or cohort."),
    ("reactivation", "clvmodels.reactivation: win-back targeting", "clvmodels.reactivation",
     "Lapsed customers, the expected increment of a win-back contact, campaign lists and their "
     "evaluation."),
    ("export", "clvmodels.export: CRM export", "clvmodels.export",
     "Scores to CSV, Parquet and SQL tables, with run metadata; atomic writes."),
    ("plotting", "clvmodels.plotting: plots", "clvmodels.plotting",
     "Fit checks, heterogeneity, value and win-back pictures (matplotlib, imported on first use)."),
    ("datasets", "clvmodels.datasets: example data", "clvmodels.datasets",
     "The CDNOW data and simulators of BG/NBD customers."),
]


def _documentable(obj) -> bool:
    return inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj)


def _public(module_name: str) -> list[tuple[str, object]]:
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    found = []
    for name in names:
        obj = getattr(module, name)
        if not isinstance(obj, types.ModuleType) and _documentable(obj):
            found.append((name, obj))
    return found


def write_api_pages() -> None:
    """Write ``docs/api/*.rst`` from the packages' ``__all__``.

    Called when this file is read, before Sphinx lists the source files: autosummary generates
    stubs only for pages that exist by then (a ``builder-inited`` hook is too late in a clean
    checkout).
    """
    out = HERE / "api"
    out.mkdir(exist_ok=True)
    homes = {}  # id(object) -> "module.name" of the subpackage page that documents it
    for _, _, module_name, _ in API_PAGES[1:]:
        for name, obj in _public(module_name):
            homes.setdefault(id(obj), f"{module_name}.{name}")
    toc = []
    for page, title, module_name, intro in API_PAGES:
        local, elsewhere = [], []
        for name, obj in _public(module_name):
            home = homes.get(id(obj))
            (elsewhere if module_name == "clvmodels" and home else local).append((name, home))
        lines = [title, "=" * len(title), "", intro, "", f".. currentmodule:: {module_name}", ""]
        if local:
            lines += [".. autosummary::", "   :toctree: generated", "   :nosignatures:", ""]
            lines += [f"   {name}" for name, _ in local] + [""]
        if elsewhere:
            lines += ["Also importable from ``clvmodels``:", ""]
            role = {True: "class", False: "func"}
            lines += [f"- ``clvmodels.{name}``: :{role[inspect.isclass(obj)]}:`{home}`"
                      for (name, home), obj in
                      ((item, getattr(clvmodels, item[0])) for item in elsewhere)] + [""]
        text = "\n".join(lines)
        target = out / f"{page}.rst"
        if not target.exists() or target.read_text() != text:  # unchanged files keep the cache
            target.write_text(text)
        toc.append(f"   {page}")
    # docs/value_accounting.md (what each value column holds) is written by the value layer's
    # authors; listed here once it exists, so the site builds before and after it lands
    if (HERE / "value_accounting.md").exists():
        toc.append("   ../value_accounting")
    index = "\n".join(["API reference", "=============", "",
                       "Every public function and class, from its docstring.", "",
                       ".. toctree::", "   :maxdepth: 1", "", *toc, ""])
    if not (out / "index.rst").exists() or (out / "index.rst").read_text() != index:
        (out / "index.rst").write_text(index)


write_api_pages()
