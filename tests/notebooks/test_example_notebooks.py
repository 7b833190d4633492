"""Every notebook in notebooks/ is stored without outputs and runs headless without errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

pytestmark = pytest.mark.notebooks


def test_the_three_example_notebooks_exist() -> None:
    assert {p.name for p in NOTEBOOKS} >= {
        "01_quickstart.ipynb", "02_udgl_tour.ipynb", "03_run_and_recover.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: clear the outputs"


@pytest.mark.timeout(180)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_without_error_output(path: Path, tmp_path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=120,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    # what a run leaves in the notebook's directory is ignored by git (an EARG file
    # written on purpose), never a generated artefact showing up as untracked
    left = sorted(p.name for p in tmp_path.iterdir())
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *(f"notebooks/{n}" for n in left)],
                             cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert [n for n in left if f"notebooks/{n}" not in ignored] == []
    problems = []
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                problems.append(f"cell {index}: {out.ename}: {out.evalue}")
            elif out.output_type == "stream" and out.name == "stderr" and "Traceback" in out.text:
                problems.append(f"cell {index}: traceback on stderr:\n{out.text}")
    assert problems == []
