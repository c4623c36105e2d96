"""docs/notebook.ipynb runs from top to bottom in a Jupyter kernel."""

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "notebook.ipynb"


@pytest.mark.slow
def test_the_notebook_runs_and_shows_cards_tables_and_a_chart(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any(h.startswith("<div><b>Run of") for h in html)  # the RunResult card
    assert any("<table" in h and "Runs" in h for h in html)  # the comparison's KPI table
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the analysis chart
    assert "'final_mode'" in str(outputs[-1]["data"]["text/plain"])
