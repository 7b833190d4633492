"""The browser libraries the notebook views draw with, sent by their widgets.

A widget carries a library's source in a ``_lib`` trait and its name and version in
``_lib_key``; in the page, :data:`LOADER_JS` imports each key once and every view of
every widget shares that module. The widget's own module stays a few kilobytes, so
it starts at once (anywidget gives a model two seconds to start), and a page with
twelve panels compiles Plotly once, not twelve times.
"""

from __future__ import annotations

import functools
from pathlib import Path

__all__ = ["CYTOSCAPE_KEY", "LOADER_JS", "cytoscape_source", "plotly_key", "plotly_source"]

_VENDOR = Path(__file__).parent / "vendor"
CYTOSCAPE_KEY = "cytoscape@3.35.0"

#: ``library(model)``: a promise of the library the model carries, imported once per page
LOADER_JS = """
const __hogarLibs = (globalThis.__hogarLibs = globalThis.__hogarLibs || new Map());
function library(model) {
  const key = model.get('_lib_key');
  if (!__hogarLibs.has(key)) {
    const url = URL.createObjectURL(new Blob([model.get('_lib')], {type: 'text/javascript'}));
    const loading = import(url).then((m) => m.default);
    loading.finally(() => URL.revokeObjectURL(url));
    __hogarLibs.set(key, loading);
  }
  return __hogarLibs.get(key);
}
"""


@functools.lru_cache(maxsize=1)
def cytoscape_source() -> str:
    """cytoscape.js's ES module build (vendored, MIT; see ``vendor/README.md``)."""
    return (_VENDOR / "cytoscape.esm.min.mjs").read_text(encoding="utf-8")


def plotly_key() -> str:
    from plotly.offline import get_plotlyjs_version

    return f"plotly.js@{get_plotlyjs_version()}"


@functools.lru_cache(maxsize=1)
def plotly_source() -> str:
    """plotly.js as the ``plotly`` package ships it (a UMD file), wrapped as an ES module."""
    from plotly.offline import get_plotlyjs

    return ("const module = {exports: {}}; const exports = module.exports; const define = undefined;\n"
            f"{get_plotlyjs()}\nexport default module.exports;\n")
