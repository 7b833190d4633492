"""The public names are the ones we mean to publish."""

from __future__ import annotations

import hogar_nb


def test_exported_members() -> None:
    assert hogar_nb.__all__ == sorted([
        "Deployment", "Diagnostic", "DiagnosticError", "EARGError", "Edge", "Graph",
        "GraphEditError", "HogarError", "HogarRuntimeError", "Node", "UDGLError",
        "__version__", "dump_earg", "earg_schema", "edit", "load_earg", "loads_earg", "monitor", "parse_udgl",
        "run",
    ])
    for name in hogar_nb.__all__:
        assert getattr(hogar_nb, name) is not None


def test_views_need_the_jupyter_layer_and_say_so() -> None:
    import subprocess
    import sys

    code = (
        "import hogar_nb\n"
        "g = hogar_nb.parse_udgl('source a\\nsink b\\na -> b\\n')\n"
        "try:\n    g.edit()\nexcept hogar_nb.HogarError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == (
        "`edit` is an interactive view: run `%load_ext hogar_nb` in a notebook "
        "(or `import hogar_nb.jupyter`) first"
    )


def test_one_exception_root() -> None:
    for name in ("DiagnosticError", "EARGError", "GraphEditError", "HogarRuntimeError", "UDGLError"):
        assert issubclass(getattr(hogar_nb, name), hogar_nb.HogarError)
    assert issubclass(hogar_nb.UDGLError, ValueError)


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        hogar_nb.nope  # noqa: B018
    except AttributeError as err:
        assert "nope" in str(err)
    else:  # pragma: no cover
        raise AssertionError("hogar_nb.nope should not exist")
