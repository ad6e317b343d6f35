"""Every notebook runs top to bottom on a freshly built platform, and its charts come out."""

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import REPO_ROOT, use_home

pytestmark = pytest.mark.integration

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_notebook_runs_and_draws_its_charts(path, small_demo, monkeypatch):
    use_home(monkeypatch, small_demo[0])  # the kernel inherits this environment
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(REPO_ROOT)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # Altair charts come out as HTML that embeds their Vega-Lite spec.
    charts = [o for o in outputs if "vegaEmbed" in o.get("data", {}).get("text/html", "")]
    assert len(charts) >= 4
