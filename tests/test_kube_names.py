"""The one label scheme: names and label values made from user-given names are valid
and never shared by two different names, and sessions, runs and endpoints carry the
same label keys, so one selector finds a team's objects whatever made them."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from submarine_hub.backends.kube.names import (
    LABEL_INSTANCE,
    LABEL_MANAGED_BY,
    LABEL_PART_OF,
    LABEL_TEAM,
    LABEL_USER,
    TEAM_SLUG_MAX,
    check_team_name,
    is_dns_1035_label,
    is_dns_label,
    is_label_value,
    label_value,
    labels,
    object_name,
    render_name,
    selector,
    team_slug,
)
from submarine_hub.core.errors import InvalidInput

from .helpers.kube import FakeCluster, selects, session_grant

# names that differ only in what escaping drops or changes
CLOSE_NAMES = [
    "data-science",
    "Data Science",
    "data science",
    "Data.Science",
    "data_science",
    "Data_Science",
    "DATA-SCIENCE",
    "data--science",
    "data---science",
    "-data-science",
    "data-science-",
    "ml",
    "ML",
    "Ml",
    "m.l",
    "m_l",
    "m l",
    "9lives",
    "x-9lives",
    "équipe",
    "quipe",
    "a" * 40,
    "a" * 41,
    "a" * 63,
    "a" * 64,
    "a" * 65,
    "a" * 200,
    "a" * 199 + "b",
    "data-science---c1b879e7",  # what an escaped name looks like
    "Data_Science.Team",
    "data-science-team",
]

team_names = st.text(
    alphabet=st.sampled_from(string.ascii_letters + string.digits + " ._-@éß"),
    min_size=1,
    max_size=80,
).filter(lambda t: t.strip() != "" and any(c.isascii() and c.isalnum() for c in t))


def test_close_team_names_get_different_labels_and_namespaces() -> None:
    values = {label_value(t) for t in CLOSE_NAMES}
    slugs = {team_slug(t) for t in CLOSE_NAMES}
    namespaces = {
        render_name("submarine-{team}", team=t, trait="t", namespace=True) for t in CLOSE_NAMES
    }
    assert len(values) == len(slugs) == len(namespaces) == len(set(CLOSE_NAMES))
    for t in CLOSE_NAMES:
        assert is_label_value(label_value(t)) and len(label_value(t)) <= 63
        assert is_dns_label(team_slug(t)) and len(team_slug(t)) <= TEAM_SLUG_MAX


@settings(max_examples=300, deadline=None)
@given(team_names, team_names)
def test_different_team_names_never_share_a_label_value_or_namespace(a: str, b: str) -> None:
    for team in (a, b):
        assert is_label_value(label_value(team))
        assert is_dns_label(team_slug(team))
    if a != b:
        assert label_value(a) != label_value(b)
        assert team_slug(a) != team_slug(b)
        assert labels(team=a)[LABEL_TEAM] != labels(team=b)[LABEL_TEAM]


@pytest.mark.local
@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=120))
def test_any_name_becomes_a_valid_object_name(name: str) -> None:
    assert is_dns_1035_label(object_name(name))
    assert is_dns_1035_label(object_name(name, max_length=20))
    assert is_label_value(label_value(name))


def test_valid_names_are_kept() -> None:
    assert team_slug("data-science") == "data-science"
    assert label_value("Data_Science.Team") == "Data_Science.Team"
    assert object_name("endpoint-ml-iris") == "endpoint-ml-iris"
    # the documented example (docs/kubernetes.md)
    assert team_slug("Data_Science.Team") == "data-science-team---c1b879e7"


@pytest.mark.parametrize("team", ["", "  ", "___", "数据科学", "a\nb"])
def test_team_names_no_name_can_stand_for_are_refused(team: str) -> None:
    with pytest.raises(InvalidInput):
        check_team_name(team)
    with pytest.raises(InvalidInput):
        labels(team=team)


def test_sessions_runs_and_endpoints_share_the_label_keys() -> None:
    """One selector finds a team's objects, whatever made them."""
    from submarine_spawner.kube import SessionSettings, plan_session

    from submarine_hub.backends.kube import RenderSettings
    from submarine_hub.backends.kube import render as render_run
    from submarine_hub.core.experiments.backend import LaunchPlan, ReplicaPlan
    from submarine_hub.core.resources import Resources
    from submarine_hub.serving.kube import EndpointSettings
    from submarine_hub.serving.kube import render as render_endpoint

    team = "Data Science"
    session = plan_session(
        session_grant(team=team, files=()),
        SessionSettings(default_image="img", namespace="ns", namespace_per_team=True),
    )
    replica = ReplicaPlan(role="main", index=0, rank=0, argv=["true"], resources=Resources())
    plan = LaunchPlan(
        run_id=7, name="train", team=team, owner="alice", framework="none",
        roles={"main": 1}, replicas=[replica], env={}, image="img",
    )  # fmt: skip
    run = render_run(plan, RenderSettings(namespace_template="submarine-{team}"))
    endpoint_config = {
        "id": 3, "endpoint": f"{team}/iris", "team": team, "service": "endpoint-iris",
        "prefix": "/services/endpoint-iris/", "generation": 1,
    }  # fmt: skip
    endpoint = render_endpoint(endpoint_config, {"team": team}, EndpointSettings())
    objects = [*session.manifests, *run, *endpoint]
    team_selector = f"{LABEL_PART_OF}=submarine-hub,{LABEL_TEAM}={label_value(team)}"
    for found in [session.labels, *(m["metadata"]["labels"] for m in objects)]:
        assert selects(team_selector, found)
    platform = selector("default")
    for m in objects:
        if m["kind"] != "Namespace":  # a team's namespace is shared by the platforms
            assert selects(platform, m["metadata"]["labels"]), m["kind"]
            assert m["metadata"]["labels"][LABEL_MANAGED_BY] == "submarine-hub"
    assert session.labels[LABEL_USER] == "alice" and session.labels[LABEL_INSTANCE] == "default"
    assert LABEL_MANAGED_BY not in session.labels  # the pod is KubeSpawner's
    assert selects(selector("default", "session"), session.labels)
    assert selects(selector("default", run=7), run[-1]["metadata"]["labels"])
    assert selects(selector("default", endpoint=3), endpoint[2]["metadata"]["labels"])
    # a team's namespace is the same for its sessions and its runs
    [session_ns] = [m for m in session.manifests if m["kind"] == "Namespace"]
    [run_ns] = [m for m in run if m["kind"] == "Namespace"]
    assert session_ns == run_ns


def test_the_fake_cluster_selects_as_kubernetes_does() -> None:
    assert FakeCluster().select("Pod", None, "") == []
    found = {"a": "1", "b": "2"}
    assert selects("a=1,b", found) and selects("a==1", found) and selects("c!=3", found)
    assert selects("!c", found) and selects("", found)
    assert not selects("a=2", found) and not selects("!a", found)
    assert not selects("c", found) and not selects("a!=1", found)


async def test_shared_settings_are_set_once_for_sessions_runs_and_endpoints(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import kubespawner.spawner
    from jupyterhub.objects import Hub
    from submarine_spawner.kube import SubmarineKubeSpawner
    from traitlets.config import Config

    from submarine_hub.backends.kube import KubeExperimentBackend
    from submarine_hub.serving.kube import KubeEndpointBackend

    from .helpers.kube import FakeUser

    monkeypatch.setattr(kubespawner.spawner, "load_config", lambda **kwargs: None)
    c = Config()
    c.ClusterSettings.instance = "prod"
    c.ClusterSettings.gpu_resource_name = "amd.com/gpu"
    c.WorkloadSettings.node_selector = {"pool": "ml"}
    c.KubeEndpointBackend.node_selector = {"pool": "serving"}  # its own section wins
    runs = KubeExperimentBackend(config=c)
    endpoints = KubeEndpointBackend(config=c)
    spawner = SubmarineKubeSpawner(config=c, user=FakeUser("alice"), hub=Hub(), _mock=True)
    for configured in (runs, endpoints, spawner):
        assert configured.instance == "prod" and configured.gpu_resource_name == "amd.com/gpu"
    assert runs.settings().pod.node_selector == {"pool": "ml"}
    assert endpoints.settings().pod.node_selector == {"pool": "serving"}
    assert spawner.session_settings().instance == "prod"
