"""Every notebook runs top to bottom on a freshly built platform, and its charts come out."""

import nbformat
import pytest
from nbclient import NotebookClient
from typer.testing import CliRunner

from learnlake.cli import app as cli
from learnlake.settings import get_settings
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def built_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("notebooks") / "learnlake"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEARNLAKE_HOME", str(home))
        mp.setenv("LEARNLAKE_COURSES", "2")
        get_settings.cache_clear()
        result = CliRunner().invoke(cli, ["demo", "--no-serve", "--learners", "40"])
        assert result.exit_code == 0, result.output
        yield home
    get_settings.cache_clear()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_notebook_runs_and_draws_its_charts(path, built_home, monkeypatch):
    monkeypatch.setenv("LEARNLAKE_HOME", str(built_home))
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(REPO_ROOT)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # Altair charts come out as HTML that embeds their Vega-Lite spec.
    charts = [o for o in outputs if "vegaEmbed" in o.get("data", {}).get("text/html", "")]
    assert len(charts) >= 4
