"""Names and labels of every object the platform makes in Kubernetes: one scheme.

Sessions (``submarine-kube``), experiment runs and model endpoints label their objects
with the same keys, so one selector finds a team's or a platform's objects whatever
made them:

==============================================  ==========================================
``app.kubernetes.io/part-of: submarine-hub``    every object (session pods too)
``app.kubernetes.io/managed-by: submarine-hub`` what the platform creates itself (not the
                                                session pods: KubeSpawner manages those)
``submarine-hub.apache.org/instance``           the platform (``instance`` setting)
``submarine-hub.apache.org/team``               the team
``submarine-hub.apache.org/user``               the owner
``submarine-hub.apache.org/session|run|endpoint``  the session, run or endpoint id
``submarine-hub.apache.org/role``               a run's role (pods and per-role Jobs)
``submarine-hub.apache.org/environment``        a session's environment profile
==============================================  ==========================================

Label values and names are made from user-given names by :func:`safe_slug`: a value
that is already valid is kept; any other becomes lowercase letters, digits and single
dashes followed by ``---`` and a hash of the real name. A kept value never holds
``--``, an escaped one always holds ``---``: two different names never get the same
value (:func:`label_value`, :func:`team_slug`, :func:`object_name`).

Pure functions only: nothing here talks to a cluster or imports a Kubernetes client.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from ...core.errors import InvalidInput

PART_OF = "submarine-hub"
#: The prefix of every label and annotation key of ours.
PREFIX = "submarine-hub.apache.org"

LABEL_PART_OF = "app.kubernetes.io/part-of"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_INSTANCE = f"{PREFIX}/instance"
LABEL_TEAM = f"{PREFIX}/team"
LABEL_USER = f"{PREFIX}/user"
LABEL_ENVIRONMENT = f"{PREFIX}/environment"
LABEL_SESSION = f"{PREFIX}/session"
LABEL_RUN = f"{PREFIX}/run"
LABEL_ROLE = f"{PREFIX}/role"
LABEL_ENDPOINT = f"{PREFIX}/endpoint"

#: The label key of each field :func:`labels` and :func:`selector` take.
FIELDS = {
    "team": LABEL_TEAM,
    "user": LABEL_USER,
    "environment": LABEL_ENVIRONMENT,
    "session": LABEL_SESSION,
    "run": LABEL_RUN,
    "role": LABEL_ROLE,
    "endpoint": LABEL_ENDPOINT,
}

ANNOTATION_NAME = f"{PREFIX}/name"
ANNOTATION_KILLED = f"{PREFIX}/killed-at"
ANNOTATION_ROLES = f"{PREFIX}/roles"
ANNOTATION_FRAMEWORK = f"{PREFIX}/framework"
ANNOTATION_LAYOUT = f"{PREFIX}/layout"
ANNOTATION_GENERATION = f"{PREFIX}/generation"
ANNOTATION_CONFIG_HASH = f"{PREFIX}/config-hash"
ANNOTATION_ENDPOINT = f"{PREFIX}/endpoint-ref"

#: A DNS label: the longest Namespace, Service or host name.
DNS_LABEL_MAX = 63
#: The longest team slug put into ``{team}``: leaves room for a prefix such as
#: ``submarine-team-`` within the 63 characters of a Kubernetes name.
TEAM_SLUG_MAX = 40
#: Hex digits of the hash that makes an escaped name unique.
HASH_LENGTH = 8

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# --- what Kubernetes accepts ---------------------------------------------------------


def is_dns_label(value: str) -> bool:
    """An RFC 1123 label: a Namespace's name (63 characters at most)."""
    return len(value) <= DNS_LABEL_MAX and bool(_DNS_LABEL.match(value))


def is_dns_1035_label(value: str) -> bool:
    """An RFC 1035 label: a Service's name (starts with a letter)."""
    return len(value) <= DNS_LABEL_MAX and bool(_DNS_1035.match(value))


def is_dns_subdomain(value: str) -> bool:
    """An RFC 1123 subdomain: most objects' names (a Secret's, a PVC's...)."""
    return len(value) <= 253 and bool(_DNS_SUBDOMAIN.match(value))


def is_label_value(value: str) -> bool:
    """A label value: 63 characters at most, alphanumeric at both ends (or empty)."""
    return len(value) <= 63 and bool(_LABEL_VALUE.match(value))


def is_label_key(key: str) -> bool:
    """A label key: an optional DNS subdomain prefix and ``/``, then a name."""
    prefix, _, name = key.rpartition("/")
    if prefix and not is_dns_subdomain(prefix):
        return False
    return bool(_LABEL_NAME.match(name))


# --- escaping ------------------------------------------------------------------------


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_LENGTH]


def safe_slug(value: str, *, is_valid: Callable[[str], bool], max_length: int) -> str:
    """``value`` when ``is_valid`` accepts it, it fits ``max_length`` and has no ``--``;
    else ``<stem>---<hash>``.

    The stem is ``value`` in lowercase letters, digits and single dashes, starting with
    a letter (``x-`` put before it otherwise), cut to leave room for the hash of the
    whole ``value``: the result is a DNS-1035 label of at most ``max_length``
    characters, which also is a valid label value. A kept value has no ``--`` and an
    escaped one has ``---``, so different values give different slugs.
    """
    if "--" not in value and len(value) <= max_length and is_valid(value):
        return value
    room = max_length - HASH_LENGTH - 3
    if room < 1:
        raise ValueError(f"Cannot escape names into fewer than {HASH_LENGTH + 4} characters.")
    stem = _NOT_ALNUM.sub("-", value.lower()).strip("-")[:room].rstrip("-")
    if not stem[:1].isalpha():
        stem = ("x-" + stem)[:room].rstrip("-")
    return f"{stem}---{_digest(value)}"


def label_value(value: str) -> str:
    """``value`` as a label value (63 characters at most), escaped only if needed."""
    return safe_slug(str(value), is_valid=is_label_value, max_length=63)


def object_name(value: str, *, max_length: int = DNS_LABEL_MAX) -> str:
    """``value`` as a DNS-1035 label (a Service's name) of at most ``max_length``."""
    return safe_slug(value, is_valid=is_dns_1035_label, max_length=max_length)


def check_team_name(team: str) -> None:
    """Refuse a team name no Kubernetes name or label can stand for.

    Refused, with :class:`InvalidInput` (a ``ValueError``) saying why: an empty or
    blank name; a name with control characters; a name without any ASCII letter or
    digit (``"___"``, ``"数据"``), of which escaping would leave only a hash.
    """
    if not isinstance(team, str) or not team.strip():
        raise InvalidInput("Team name is empty: Kubernetes objects need a team.")
    if _CONTROL.search(team):
        raise InvalidInput(f"Team name {team!r} contains control characters.")
    if not re.search(r"[A-Za-z0-9]", team):
        raise InvalidInput(
            f"Team name {team!r} has no ASCII letter or digit: it cannot become a "
            "Kubernetes namespace, volume name or label."
        )


def team_slug(team: str) -> str:
    """The team's name as it goes into Kubernetes names: ``{team}`` in templates.

    A DNS label of at most :data:`TEAM_SLUG_MAX` characters is kept
    (``data-science``); any other name is escaped (``Data_Science.Team`` becomes
    ``data-science-team---<hash>``).
    """
    check_team_name(team)
    return safe_slug(team, is_valid=is_dns_label, max_length=TEAM_SLUG_MAX)


def name_slug(name: str) -> str:
    """A free-form name in lowercase letters, digits and single dashes (maybe empty)."""
    return _NOT_ALNUM.sub("-", name.lower()).strip("-")


# --- templates -----------------------------------------------------------------------


def check_template(template: str, *, trait: str) -> str:
    """``template`` when ``{team}`` is the only field it uses; else :class:`InvalidInput`."""
    fill_template(template, team="team", trait=trait)
    return template


def fill_template(template: str, *, team: str, trait: str) -> str:
    """Fill ``{team}`` (a team slug) in ``template``, the value of trait ``trait``."""
    try:
        return template.format(team=team)
    except (KeyError, IndexError, ValueError) as e:
        raise InvalidInput(f"{trait} {template!r}: only {{team}} can be used ({e}).") from e


def render_name(template: str, *, team: str, trait: str, namespace: bool = False) -> str:
    """A name from ``template`` for ``team`` (a team name, made a slug here), checked:
    a Namespace's name (``namespace=True``) or another object's."""
    name = fill_template(template, team=team_slug(team), trait=trait)
    ok = is_dns_label(name) if namespace else is_dns_subdomain(name)
    if not ok:
        kind = "namespace (a DNS label, 63 characters)" if namespace else "object name (a DNS name)"
        raise InvalidInput(
            f"{trait} {template!r} gives {name!r} for team {team!r}: not a valid Kubernetes {kind}."
        )
    return name


# --- labels and selectors ------------------------------------------------------------


def labels(
    instance: str | None = None, *, managed: bool = True, **fields: str | int | None
) -> dict[str, str]:
    """The labels of an object: ``part-of``, ``managed-by`` (when ``managed``), the
    ``instance``, then each field of :data:`FIELDS` given (``team=``, ``run=``...),
    escaped. ``None`` fields are left out; a team name is checked
    (:func:`check_team_name`)."""
    out = {LABEL_PART_OF: PART_OF}
    if managed:
        out[LABEL_MANAGED_BY] = PART_OF
    if instance is not None:
        out[LABEL_INSTANCE] = label_value(instance)
    for field, value in fields.items():
        if value is None:
            continue
        if field == "team":
            check_team_name(str(value))
        out[FIELDS[field]] = label_value(str(value))
    return out


def selector(instance: str, *present: str, **equal: str | int) -> str:
    """A label selector of the ``instance``'s objects: those that have each field of
    ``present`` (``"run"``: any run's) and the value of each of ``equal`` (``run=7``)."""
    parts = [f"{LABEL_PART_OF}={PART_OF}", f"{LABEL_INSTANCE}={label_value(instance)}"]
    parts += [FIELDS[field] for field in present]
    parts += [f"{FIELDS[field]}={label_value(str(v))}" for field, v in equal.items()]
    return ",".join(parts)
