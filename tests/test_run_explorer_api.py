"""The run explorer's API in-process: ``GET /experiments/search`` with MLflow's filter
syntax over a team's runs and a sweep's children; bad expressions answered 400 with the
position; another team refused; the SDK and CLI send the same syntax."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from submarine_hub.client import SubmarineClient

from .helpers.api import as_user, assert_json_error, command, submit, wait_for
from .helpers.cli import submarine
from .helpers.service import InProcessService


def _log(service: InProcessService, user: str, run_id: int, **metrics: float) -> None:
    body = {"metrics": [{"key": k, "value": v} for k, v in metrics.items()]}
    r = service.api("POST", f"experiments/{run_id}/metrics", user=user, json=body)
    assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def sweep(service: InProcessService) -> dict[str, Any]:
    """A team with a sweep (a parent and 6 children with params and an accuracy) and two
    plain runs; a user of another team."""
    team = service.new_team("explorer")
    user = service.new_user("explorer", [team])
    other = service.new_user("outsider", [service.new_team("outsiders")])
    service.backend.hold = True  # the parent stays running while its children are added
    try:
        parent = submit(service, user, command("sweep", "sleep 60", team=team))
        service.wake()
        wait_for(lambda: parent["id"] in service.backend.runs, 10, "the sweep to launch")
        children = []
        for i, (lr, acc) in enumerate([(0.1, 0.71), (0.01, 0.93), (0.001, 0.88),
                                       (0.3, 0.95), (0.03, 0.91), (0.003, 0.42)]):  # fmt: skip
            spec = command(f"trial-{i}", "true", team=team, meta={"tags": [f"lr={lr}"]})
            child = submit(service, user, spec, params={"parent": parent["id"]})
            r = service.api(
                "POST",
                f"experiments/{child['id']}/metrics",
                user=user,
                json={"metrics": [{"key": "accuracy", "value": acc}], "params": {"lr": str(lr)}},
            )
            assert r.status_code == 201, r.text
            children.append(child["id"])
        plain = [submit(service, user, command(f"plain-{i}", "true", team=team)) for i in range(2)]
        _log(service, user, plain[0]["id"], accuracy=0.99)
    finally:
        service.backend.hold = False
    ids = [parent["id"], *children, *(p["id"] for p in plain)]

    def all_ended() -> bool:  # those launched while held are ended here
        for rid in ids:
            run = service.backend.runs.get(rid)
            if run is not None and run.state.status == "running":
                service.backend.finish(rid)
        service.wake()
        return all(
            service.api("GET", f"experiments/{rid}", user=user).json()["status"] == "succeeded"
            for rid in ids
        )

    wait_for(all_ended, 30, "the sweep's runs to end")
    return {"team": team, "user": user, "other": other, "parent": parent["id"],
            "children": children, "plain": [p["id"] for p in plain]}  # fmt: skip


def _search(service: InProcessService, user: str, **params: Any) -> Any:
    query = urlencode(params, doseq=True)
    return service.api("GET", f"experiments/search?{query}", user=user)


def test_a_sweeps_children_filtered_by_a_metric_expression_and_sorted(
    service: InProcessService, sweep: dict[str, Any]
) -> None:
    r = _search(
        service,
        sweep["user"],
        filter=f"attributes.parent_id = {sweep['parent']} and metrics.accuracy > 0.9",
        order_by="metrics.accuracy DESC",
    )
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["metrics"]["accuracy"] for i in items] == [0.95, 0.93, 0.91]
    assert [i["params"]["lr"] for i in items] == ["0.3", "0.01", "0.03"]
    assert all(i["parent_id"] == sweep["parent"] for i in items)


def test_the_parent_row_counts_its_children_and_shows_the_best(
    service: InProcessService, sweep: dict[str, Any]
) -> None:
    body = _search(
        service,
        sweep["user"],
        filter="attributes.parent_id IS NULL",
        order_by=["metrics.accuracy DESC"],
        team=sweep["team"],
    ).json()
    rows = {i["id"]: i for i in body["items"]}
    assert next(iter(rows)) == sweep["plain"][0]  # the only top-level run with an accuracy
    parent = rows[sweep["parent"]]
    assert parent["children"] == 6
    assert parent["best"] == {"key": "accuracy", "value": 0.95}
    assert body["keys"]["metrics"] == ["accuracy"]


def test_pages_columns_and_tags(service: InProcessService, sweep: dict[str, Any]) -> None:
    user, parent = sweep["user"], sweep["parent"]
    seen: list[int] = []
    token = None
    for _ in range(10):
        params: dict[str, Any] = {"filter": f"parent_id = {parent}", "order_by": "params.lr",
                                  "max_results": 4, "columns": "params.lr"}  # fmt: skip
        if token:
            params["page_token"] = token
        body = _search(service, user, **params).json()
        seen += [i["id"] for i in body["items"]]
        assert all(set(i["metrics"]) == set() for i in body["items"])  # only params.lr asked
        token = body["next_page_token"]
        if not token:
            break
    assert sorted(seen) == sorted(sweep["children"]) and len(seen) == 6
    got = _search(service, user, filter="tags.lr = '0.001'").json()["items"]
    assert [i["name"] for i in got] == ["trial-2"]


@pytest.mark.parametrize(
    ("params", "pattern"),
    [
        ({"filter": "metrics.accuracy > 0.9 or params.lr = '1'"}, r"AND only.*character 24"),
        ({"filter": "metrics.accuracy > 'high'"}, r"compares with a number.*character 20"),
        ({"filter": "params.lr > 0.1"}, r"does not apply to param 'lr'"),
        ({"filter": "colour = 'red'"}, "Unknown attribute 'colour'"),
        ({"order_by": "metrics.accuracy SIDEWAYS"}, "Unexpected"),
        ({"order_by": "tags.lr"}, "not tags"),
        ({"max_results": 0}, "max_results"),
        ({"max_results": 2**70}, "max_results"),
        ({"page_token": "!!"}, "page_token"),
        ({"columns": "colour"}, "params.KEY or metrics.KEY"),
    ],
)
def test_bad_searches_are_refused_with_a_message(
    service: InProcessService, sweep: dict[str, Any], params: dict[str, Any], pattern: str
) -> None:
    assert_json_error(_search(service, sweep["user"], **params), 400, pattern)


def test_another_team_neither_finds_nor_names_the_team(
    service: InProcessService, sweep: dict[str, Any]
) -> None:
    other = sweep["other"]
    found = _search(service, other, filter="metrics.accuracy > 0").json()["items"]
    assert not {i["id"] for i in found} & {sweep["parent"], *sweep["children"]}
    by_id = _search(service, other, filter=f"attributes.run_id = {sweep['parent']}").json()
    assert by_id["items"] == []
    assert_json_error(_search(service, other, team=sweep["team"]), 403, "not a member")


@pytest.mark.local
def test_the_sdk_and_the_cli_send_the_same_syntax(
    service: InProcessService, sweep: dict[str, Any]
) -> None:
    env = as_user(service, sweep["user"])
    client = SubmarineClient(env["SUBMARINE_API_URL"], token=env["SUBMARINE_TOKEN"])
    page = client.search_runs(
        f"parent_id = {sweep['parent']} and metrics.accuracy >= 0.91",
        order_by=["metrics.accuracy DESC"],
    )
    assert [r["metrics"]["accuracy"] for r in page["items"]] == [0.95, 0.93, 0.91]
    everything = list(client.iter_runs(f"parent_id = {sweep['parent']}", page_size=4))
    assert len(everything) == 6
    args = [
        "experiment", "search", f"parent_id = {sweep['parent']} and metrics.accuracy > 0.9",
        "--order-by", "metrics.accuracy DESC", "--columns", "params.lr,metrics.accuracy",
    ]  # fmt: skip
    out = submarine(*args, "--json", env=env)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["params"]["lr"] for r in rows] == ["0.3", "0.01", "0.03"]
    table = submarine(*args, env=env)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert "params.lr" in lines[0] and "metrics.accuracy" in lines[0]
    assert "0.95" in lines[1] and "trial-3" in lines[1]
    bad = submarine("experiment", "search", "metrics.accuracy > 0.9 or x", env=env)
    assert bad.returncode != 0 and "AND only" in bad.stderr
