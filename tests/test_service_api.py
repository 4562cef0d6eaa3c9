"""The platform service's REST API: in-process (the handlers, auth errors, limits), and
through a real hub and proxy for what only the hub does (its OAuth login)."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from submarine_hub.service.handlers import API_ROUTES
from submarine_hub.service.handlers.mlflow import DOC_PATH, OPERATIONS, MlflowArtifactsHandler

from .helpers.api import assert_json_error
from .helpers.hub import Hub
from .helpers.service import InProcessService

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def test_health_needs_no_auth(service: InProcessService) -> None:
    r = service.api("GET", "health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "version": r.json()["version"], "database": "ok"}


def test_openapi_is_valid_and_lists_every_endpoint(service: InProcessService) -> None:
    spec = service.api("GET", "openapi.json").json()
    validate(spec)
    assert spec["servers"] == [{"url": "/services/submarine/api/v1"}]
    routes = {(h.path, m) for h in API_ROUTES for m in HTTP_METHODS if m in h.__dict__}
    # MLflow's API (tag mlflow, beside api/v1): every operation of its table, and the
    # artifacts proxy
    routes |= {(DOC_PATH.format(op=op), m.lower()) for m, op in OPERATIONS}
    artifacts = "/{team}/api/2.0/mlflow-artifacts/artifacts"
    routes |= {(artifacts, "get")}
    routes |= {
        (artifacts + "/{path}", m) for m in HTTP_METHODS if m in MlflowArtifactsHandler.__dict__
    }
    documented = {
        (path, m) for path, item in spec["paths"].items() for m in HTTP_METHODS if m in item
    }
    assert routes == documented
    mlflow = {p for p, item in spec["paths"].items() if "mlflow" in p}
    for path in mlflow:
        assert spec["paths"][path]["servers"] == [{"url": "/services/submarine/mlflow"}], path
        for m in HTTP_METHODS:
            if m in spec["paths"][path]:
                assert spec["paths"][path][m]["tags"] == ["mlflow"], (path, m)


def test_unknown_endpoint_is_json_404(service: InProcessService) -> None:
    assert_json_error(service.api("GET", "no/such/thing"), 404, "No such endpoint")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "token not-a-real-token"}])
def test_me_refuses_anonymous_callers(service: InProcessService, headers: dict[str, str]) -> None:
    assert_json_error(service.api("GET", "me", headers=headers), 401, "Authentication required")


def test_me_refuses_token_without_service_access(service: InProcessService) -> None:
    token = service.token_for("alice", scopes=["read:users:name!user"])
    r = service.api("GET", "me", headers={"Authorization": f"token {token}"})
    assert_json_error(r, 403, "access:services!service=submarine")


def test_me_of_a_team_member(service: InProcessService) -> None:
    r = service.api("GET", "me", user="alice")
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["name"] == "alice"
    assert me["kind"] == "user"
    assert me["admin"] is False
    assert [t["name"] for t in me["teams"]] == ["data-science"]
    assert "access:services!service=submarine" in me["scopes"]


def test_me_of_a_user_in_two_teams_and_an_admin(service: InProcessService) -> None:
    assert [t["name"] for t in service.api("GET", "me", user="bob").json()["teams"]] == [
        "data-science",
        "ml-platform",
    ]
    admin = service.api("GET", "me", user="admin").json()
    assert admin["admin"] is True
    assert admin["teams"] == []


def test_teams_are_hub_groups_seen_by_members_only(service: InProcessService) -> None:
    mine = service.api("GET", "teams", user="alice").json()["items"]
    assert [(t["name"], t["members"]) for t in mine] == [("data-science", ["alice", "bob"])]
    everything = service.api("GET", "teams", user="admin").json()["items"]
    assert {"data-science", "ml-platform"} <= {t["name"] for t in everything}


def test_a_user_of_another_team_is_refused(service: InProcessService) -> None:
    assert_json_error(
        service.api("GET", "teams/ml-platform", user="alice"), 403, "not a member of team"
    )
    assert_json_error(
        service.api("PATCH", "teams/ml-platform", user="alice", json={"description": "mine now"}),
        403,
    )
    assert service.api("GET", "teams/ml-platform", user="carol").status_code == 200


def test_unknown_team_is_404(service: InProcessService) -> None:
    assert_json_error(service.api("GET", "teams/no-such-team", user="admin"), 404, "No team named")


def test_only_admins_change_team_settings(service: InProcessService) -> None:
    assert_json_error(
        service.api("PATCH", "teams/data-science", user="alice", json={"description": "x"}),
        403,
        "Only hub admins",
    )
    r = service.api(
        "PATCH", "teams/data-science", user="admin", json={"description": "Forecasting models"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "Forecasting models"
    assert service.api("GET", "teams/data-science", user="alice").json()["description"] == (
        "Forecasting models"
    )
    me = service.api("GET", "me", user="alice").json()
    assert me["teams"] == [{"name": "data-science", "description": "Forecasting models"}]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "JSON object is required"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"description": 5}', "must be a string"),
        (b'{"colour": "red"}', "Unknown team field"),
        (b'{"description": "' + b"x" * 2001 + b'"}', "longer than 2000"),
    ],
)
def test_bad_team_update_is_400(service: InProcessService, body: bytes, message: str) -> None:
    r = service.api(
        "PATCH",
        "teams/data-science",
        user="admin",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    assert_json_error(r, 400, message)


def test_request_body_over_the_limit_is_413(service: InProcessService) -> None:
    big = b'{"description": "' + b"x" * (17 * 1024 * 1024) + b'"}'
    r = service.api("PATCH", "teams/data-science", user="admin", data=big)
    assert_json_error(r, 413, "over the limit")


def test_home_page_sends_browsers_to_the_hub_login(hub: Hub) -> None:
    import requests

    r = requests.get(f"{hub.url}/services/submarine/", allow_redirects=False, timeout=30)
    assert r.status_code == 302
    assert "/hub/api/oauth2/authorize" in r.headers["Location"]


def test_browser_login_reaches_the_service_through_hub_oauth(hub: Hub) -> None:
    s = hub.login("carol")
    r = s.get(f"{hub.url}/services/submarine/", timeout=30)  # follows the OAuth dance
    assert r.status_code == 200, r.text
    assert "Signed in as <strong>carol</strong>" in r.text
    assert "ml-platform" in r.text
    # the service's OAuth cookie now authenticates API calls too
    me = s.get(hub.api_url("me"), timeout=30).json()
    assert me["name"] == "carol"
    # a write with the cookie but without the xsrf token is not authenticated
    r = s.patch(hub.api_url("teams/ml-platform"), json={"description": "x"}, timeout=30)
    assert_json_error(r, 401, "Authentication required")
    # with it, the write is authenticated (and refused: carol is no admin)
    xsrf = s.cookies.get("_xsrf", path="/services/submarine/")
    r = s.patch(
        hub.api_url("teams/ml-platform"),
        json={"description": "x"},
        headers={"X-XSRFToken": xsrf},
        timeout=30,
    )
    assert_json_error(r, 403, "Only hub admins")
