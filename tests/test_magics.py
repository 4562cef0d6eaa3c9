"""``%load_ext submarine_hub`` in a real kernel of a real session: experiments with rich
output, a live display of a run, and the whole command line behind ``%submarine``."""

from __future__ import annotations

import pytest

from .helpers.hub import Hub

pytestmark = pytest.mark.hub


def test_submit_and_watch_a_template_run_with_a_live_display(hub: Hub) -> None:
    out = hub.run_in_kernel(
        "alice",
        "%load_ext submarine_hub\n"
        "r = %submarine submit --template sklearn-classifier -p dataset iris "
        "-p n_estimators 5 --team data-science --name magic-iris --watch\n"
        "print('FINAL', r[0]['status'], r[0]['template'])",
        timeout=180,
        rich=True,
    )
    assert "Submitted run " in out and "FINAL succeeded sklearn-classifier" in out, out
    updates = [line for line in out.splitlines() if line.startswith("[update_display_data]")]
    assert updates, out  # the display was updated while the run went on
    assert "succeeded" in updates[-1] and "<table>" in updates[-1]


def test_experiments_table_and_the_cli_behind_the_magic(hub: Hub) -> None:
    out = hub.run_in_kernel(
        "alice",
        "%load_ext submarine_hub\n"
        "t = %submarine experiments --team data-science --status succeeded --limit 1\n"
        "print('ROWS', len(t)); print(t._repr_html_()[:7])\n"
        "%submarine template list\n"
        "%submarine experiment get 99999999\n",
        timeout=120,
    )
    assert "ROWS 1" in out and "<table>" in out, out
    assert "sklearn-classifier" in out  # `submarine template list`, in the kernel
    assert "No experiment 99999999" in out and "Traceback" not in out, out


def test_another_team_is_refused_in_the_magic_too(hub: Hub) -> None:
    out = hub.run_in_kernel(
        "carol",
        "%load_ext submarine_hub\n%submarine experiments --team data-science\n",
        timeout=120,
    )
    assert "not a member of team 'data-science'" in out and "Traceback" not in out, out
    out = hub.run_in_kernel("carol", "%load_ext submarine_hub\n%submarine submit\n", timeout=60)
    assert "give either -f SPEC or --template NAME" in out, out
