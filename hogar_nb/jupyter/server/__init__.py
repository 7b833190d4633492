"""The Jupyter server extension behind the editor support of the JupyterLab extension.

``POST {base_url}/hogar-nb/lint``, ``.../complete`` and ``.../format`` answer with the
core's parser, checks, kind table and formatter (see :mod:`.handlers`). It imports
only the core: no kernel, no widgets. ``pip install hogar_nb`` enables it through
``etc/jupyter/jupyter_server_config.d/hogar_nb.json``.
"""

from __future__ import annotations

from typing import Any

__all__: list[str] = []


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "hogar_nb.jupyter.server"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    from .handlers import handlers

    web_app = server_app.web_app
    web_app.add_handlers(".*$", handlers(web_app.settings["base_url"]))
    server_app.log.info("hogar_nb: UDGL lint, completion and format at %shogar-nb/",
                        web_app.settings["base_url"])
