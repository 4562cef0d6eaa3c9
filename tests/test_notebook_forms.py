"""Tests for submarine_hub.core.notebook_forms (pure functions, no hub needed)."""

from __future__ import annotations

import copy
import json
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest
from nbdime.diffing import notebooks as nbdime_notebooks
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from submarine_hub.core.notebook_forms import (
    diff_notebooks,
    diff_text,
    export_notebook,
    import_text,
    parameters_cell,
)

NO_CHANGE = {"added": 0, "removed": 0, "modified": 0}


def make_nb() -> nbformat.NotebookNode:
    return new_notebook(
        cells=[
            new_markdown_cell("# Title\nSome text."),
            new_code_cell(
                "x = 1\nprint(x)",
                execution_count=1,
                outputs=[new_output("stream", name="stdout", text="1\n")],
            ),
            new_code_cell("alpha = 0.5", metadata={"tags": ["parameters"]}),
            new_code_cell("y = x + 1"),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )


def rerun(nb: dict) -> dict:
    """Copy of nb where only cell 1's output (and execution count) changed."""
    b = copy.deepcopy(nb)
    b["cells"][1]["outputs"] = [new_output("stream", name="stdout", text="2\n")]
    b["cells"][1]["execution_count"] = 7
    return b


def counts(result: dict) -> dict:
    return {k: result["summary"][k] for k in ("added", "removed", "modified")}


# --------------------------------------------------------------------------- diff_notebooks


def test_identical_notebooks_give_empty_diff() -> None:
    a = make_nb()
    result = diff_notebooks(a, copy.deepcopy(a))
    assert result["diff"] == []
    assert result["summary"] == {**NO_CHANGE, "unchanged": 4}
    assert result["text"] == ""


def test_added_removed_modified_cells_are_counted() -> None:
    a = make_nb()
    b = copy.deepcopy(a)
    b["cells"][3]["source"] = "y = x + 2"  # modified
    del b["cells"][0]  # removed
    b["cells"].append(new_code_cell("z = 3"))  # added
    b["cells"].append(new_markdown_cell("## The end"))  # added

    result = diff_notebooks(a, b)

    assert result["summary"] == {"added": 2, "removed": 1, "modified": 1, "unchanged": 2}
    # Plain JSON, not nbdime's DiffEntry objects.
    assert json.loads(json.dumps(result["diff"])) == result["diff"]
    assert type(result["diff"][0]) is dict
    (cells,) = result["diff"]
    assert cells["key"] == "cells" and cells["op"] == "patch"
    text = result["text"]
    assert "\x1b[" not in text
    assert "y = x + 2" in text and "z = 3" in text and "# Title" in text


def test_inputs_are_not_mutated() -> None:
    a, b = make_nb(), rerun(make_nb())
    a_copy, b_copy = copy.deepcopy(a), copy.deepcopy(b)
    diff_notebooks(a, b, ignore_outputs=True, ignore_metadata=True)
    assert a == a_copy and b == b_copy


def test_output_change_is_seen_by_default() -> None:
    a = make_nb()
    result = diff_notebooks(a, rerun(a))
    assert counts(result) == {**NO_CHANGE, "modified": 1}
    assert "2" in result["text"]


def test_notebooks_as_plain_json_with_different_outputs_are_diffed() -> None:
    # what the metastore hands over: dicts read from JSON, not nbformat's nodes
    def with_result(value: str) -> dict:
        nb = make_nb()
        nb["cells"][1]["outputs"] = [
            new_output("execute_result", data={"text/plain": value}, execution_count=1),
            new_output("display_data", data={"text/plain": value, "image/png": value}),
        ]
        return json.loads(json.dumps(nb))

    a, b = with_result("1"), with_result("2")
    assert type(a["cells"][1]["outputs"][0]) is dict
    result = diff_notebooks(a, b)
    assert counts(result) == {**NO_CHANGE, "modified": 1}
    assert "/cells/1/outputs/1/data/image/png" in result["text"]


def test_ignore_outputs_makes_output_only_change_empty() -> None:
    a = make_nb()
    result = diff_notebooks(a, rerun(a), ignore_outputs=True)
    assert result["diff"] == []
    assert result["summary"] == {**NO_CHANGE, "unchanged": 4}
    assert result["text"] == ""


def test_ignore_outputs_still_sees_source_change() -> None:
    a = make_nb()
    b = rerun(a)
    b["cells"][1]["source"] = "x = 2\nprint(x)"
    assert counts(diff_notebooks(a, b, ignore_outputs=True)) == {**NO_CHANGE, "modified": 1}


def test_ignore_metadata_makes_metadata_only_change_empty() -> None:
    a = make_nb()
    b = copy.deepcopy(a)
    b["cells"][0]["metadata"]["collapsed"] = True
    b["cells"][3]["metadata"]["tags"] = ["slow"]
    b["metadata"]["kernelspec"]["display_name"] = "Python 3 (ipykernel)"

    seen = diff_notebooks(a, b)
    assert seen["summary"]["modified"] == 2
    assert any(e["key"] == "metadata" for e in seen["diff"])

    ignored = diff_notebooks(a, b, ignore_metadata=True)
    assert ignored["diff"] == []
    assert ignored["summary"] == {**NO_CHANGE, "unchanged": 4}


def test_cell_ids_ignored_by_default_and_reported_on_request() -> None:
    a = make_nb()
    b = copy.deepcopy(a)
    for i, cell in enumerate(b["cells"]):
        cell["id"] = f"new-id-{i}"

    assert diff_notebooks(a, b)["diff"] == []
    assert diff_notebooks(a, b)["summary"]["modified"] == 0
    shown = diff_notebooks(a, b, ignore_ids=False)
    assert shown["summary"]["modified"] == 4
    assert "new-id-0" in json.dumps(shown["diff"])


def test_global_nbdime_state_is_restored() -> None:
    a = make_nb()
    b = rerun(a)
    b["cells"][0]["metadata"]["collapsed"] = True
    before = dict(nbdime_notebooks.notebook_differs)

    ignored = diff_notebooks(a, b, ignore_outputs=True, ignore_metadata=True)
    assert ignored["diff"] == []
    assert dict(nbdime_notebooks.notebook_differs) == before

    # A later call without ignores sees both changes again.
    seen = diff_notebooks(a, b)
    assert seen["summary"]["modified"] == 2
    assert dict(nbdime_notebooks.notebook_differs) == before
    # And nbdime's own entry point is back to its defaults.
    assert nbdime_notebooks.diff_notebooks(a, rerun(a)) != []


def test_foreign_nbdime_configuration_neither_leaks_in_nor_is_lost() -> None:
    a = make_nb()
    try:
        nbdime_notebooks.set_notebook_diff_targets(outputs=False, details=False)
        configured = dict(nbdime_notebooks.notebook_differs)
        # Someone else ignores outputs globally; our plain diff still sees them.
        assert diff_notebooks(a, rerun(a))["summary"]["modified"] == 1
        # ...and their configuration is still in place afterwards.
        assert dict(nbdime_notebooks.notebook_differs) == configured
        assert nbdime_notebooks.diff_notebooks(a, rerun(a)) == []
    finally:
        nbdime_notebooks.reset_notebook_differ()


def test_concurrent_calls_with_mixed_ignores() -> None:
    a = make_nb()
    b = rerun(a)
    b["cells"][0]["metadata"]["collapsed"] = True
    expected = {
        (False, False): 2,
        (True, False): 1,
        (False, True): 1,
        (True, True): 0,
    }
    jobs = [(i % 2 == 1, (i // 2) % 2 == 1) for i in range(64)]

    def run(flags: tuple[bool, bool]) -> tuple[tuple[bool, bool], int]:
        ignore_outputs, ignore_metadata = flags
        result = diff_notebooks(
            a, b, ignore_outputs=ignore_outputs, ignore_metadata=ignore_metadata
        )
        return flags, result["summary"]["modified"]

    before = dict(nbdime_notebooks.notebook_differs)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, jobs))
    for flags, modified in results:
        assert modified == expected[flags], flags
    assert dict(nbdime_notebooks.notebook_differs) == before


# --------------------------------------------------------------------------- diff_text


def test_diff_text() -> None:
    a = "one\ntwo\nthree\nfour\n"
    b = "one\n2\nthree\nfour\nfive\n"
    result = diff_text(a, b, fromfile="v1/train.py", tofile="v2/train.py")
    assert result["summary"] == {"added": 2, "removed": 1, "unchanged": 3}
    lines = result["text"].splitlines()
    assert lines[0] == "--- v1/train.py"
    assert lines[1] == "+++ v2/train.py"
    assert "-two" in lines and "+2" in lines and "+five" in lines


def test_diff_text_identical() -> None:
    assert diff_text("same\n", "same\n") == {
        "summary": {"added": 0, "removed": 0, "unchanged": 1},
        "text": "",
    }


# --------------------------------------------------------------------------- export / import


def test_export_py_percent_round_trips() -> None:
    nb = make_nb()
    text, ext = export_notebook(nb, "py:percent")
    assert ext == ".py"
    assert "# %%" in text
    assert "# %% [markdown]" in text

    back = import_text(text, "py:percent")
    assert back["nbformat"] == 4
    assert [c["cell_type"] for c in back["cells"]] == [c["cell_type"] for c in nb["cells"]]
    assert [c["source"] for c in back["cells"]] == [c["source"] for c in nb["cells"]]
    assert parameters_cell(back) == 2


def test_export_py_light() -> None:
    text, ext = export_notebook(make_nb(), "py:light")
    assert ext == ".py"
    assert "format_name: light" in text
    assert "alpha = 0.5" in text


def test_export_markdown() -> None:
    nb = make_nb()
    text, ext = export_notebook(nb, "md")
    assert ext == ".md"
    assert "# Title" in text
    assert "```python" in text and "x = 1" in text
    back = import_text(text, "md")
    assert [c["source"] for c in back["cells"]] == [c["source"] for c in nb["cells"]]

    myst, ext = export_notebook(nb, "md:myst")
    assert ext == ".md"
    assert "```{code-cell}" in myst


def test_export_ipynb_is_jupyter_json() -> None:
    nb = make_nb()
    text, ext = export_notebook(nb, "ipynb")
    assert ext == ".ipynb"
    assert text.startswith('{\n "cells": [\n  {\n')
    assert text.endswith("}\n")
    assert nbformat.reads(text, as_version=4) == nb
    assert import_text(text, "ipynb") == nb


def test_export_does_not_mutate_input() -> None:
    nb = make_nb()
    before = copy.deepcopy(nb)
    for fmt in ("py:percent", "md:myst", "ipynb"):
        export_notebook(nb, fmt)
    assert nb == before


def test_unknown_format() -> None:
    message = "Unknown export format 'docx'; use one of py:percent, py:light, md, md:myst, ipynb"
    with pytest.raises(ValueError) as excinfo:
        export_notebook(make_nb(), "docx")
    assert str(excinfo.value) == message
    with pytest.raises(ValueError, match="Unknown export format 'docx'"):
        import_text("x = 1\n", "docx")


def test_import_malformed_ipynb() -> None:
    with pytest.raises(ValueError, match="Could not read the text as ipynb"):
        import_text("{not json", "ipynb")


# --------------------------------------------------------------------------- helpers / errors


def test_parameters_cell() -> None:
    nb = make_nb()
    assert parameters_cell(nb) == 2
    nb["cells"][3]["metadata"]["tags"] = ["parameters"]
    assert parameters_cell(nb) == 2
    del nb["cells"][2]
    assert parameters_cell(nb) == 2  # the former cell 3
    assert parameters_cell(new_notebook(cells=[new_code_cell("pass")])) is None
    assert parameters_cell(new_notebook()) is None


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"metadata": {}, "nbformat": 4}, "no 'cells' list"),
        ({"cells": "x", "nbformat": 4}, "'cells' must be a list"),
        ({"cells": []}, "no 'nbformat' version"),
        ({"worksheets": [], "cells": [], "nbformat": 3}, "nbformat version 3"),
        ({"cells": [{"source": "x"}], "nbformat": 4}, "cell 0 has no 'cell_type'"),
        (["not", "a", "dict"], "expected a JSON object"),
    ],
)
def test_non_notebook_input(bad: object, message: str) -> None:
    good = make_nb()
    with pytest.raises(ValueError, match=message):
        diff_notebooks(good, bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        diff_notebooks(bad, good)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        export_notebook(bad, "py:percent")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        parameters_cell(bad)  # type: ignore[arg-type]


def test_diff_text_rejects_non_text() -> None:
    with pytest.raises(ValueError, match="two strings"):
        diff_text(b"bytes", "text")  # type: ignore[arg-type]
