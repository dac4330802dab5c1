"""Execute a notebook with nbclient against the `nbpool` kernelspec; print the executed cells as JSON.

    /usr/bin/python3 nbclient_run.py CELLS_JSON
CELLS_JSON is a JSON list of code-cell sources. Output: {"cells": [{"execution_count", "outputs"}]}
or, when a cell fails, {"error": "..."} with exit status 1.
"""

import json
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main() -> int:
    sources = json.loads(sys.argv[1])
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nb.metadata["kernelspec"] = {"name": "nbpool", "display_name": "TypeScript (nbpool)", "language": "typescript"}
    client = NotebookClient(nb, kernel_name="nbpool", timeout=60, startup_timeout=60)
    try:
        client.execute()
    except CellExecutionError as err:
        print(json.dumps({"error": str(err)}))
        return 1
    cells = [{"execution_count": c.execution_count, "outputs": c.outputs} for c in nb.cells]
    print(json.dumps({"cells": cells}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
