"""Spark runs on Kubernetes: ``spark-submit --master k8s://...`` in client mode, from the
run's driver Job, in the team's namespace.

What a Spark run adds to a run's objects (:func:`add_spark`):

- a ServiceAccount, Role and RoleBinding of its own: the driver may create, watch and
  delete pods, services and config maps in its namespace (its executors), nothing more;
- a ConfigMap holding the executors' pod template (the platform's labels with role
  ``executor``, no service-account token, the run's resources per executor);
- on the driver's pod: that service account, the template mounted, and the variables
  Spark reads for the driver's own pod (name and IP, from the Downward API), so every
  executor is owned by the driver pod: a kill (the Job deleted, its pod with it) leaves
  no executor behind, Kubernetes' garbage collector removes them.

:func:`driver_plan` makes the driver's command line (script: ``spark-submit``; module or
notebook: ``python``, the options in ``PYSPARK_SUBMIT_ARGS``). The image must hold
PySpark and a Java runtime.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import yaml

from ...core.experiments import spark
from ...core.experiments.backend import LaunchPlan
from . import manifests as m
from .names import LABEL_ROLE, label_value

MASTER = "k8s://https://kubernetes.default.svc"
SPARK_SUBMIT = "spark-submit"
PYTHON = "python3"
TEMPLATE_DIR = "/etc/submarine/spark"
TEMPLATE_FILE = "executor.yaml"
TEMPLATE_VOLUME = "spark-templates"
EXECUTOR_CONTAINER = "executor"


def driver_plan(plan: LaunchPlan, *, namespace: str, image: str, artifacts_dir: str) -> LaunchPlan:
    """The plan whose one replica is the Spark driver, against the cluster's API."""
    assert plan.spark is not None
    account = service_account(plan)
    options = spark.submit_options(
        plan.spark["task"],
        master=MASTER,
        name=plan.spark["name"],
        event_dir=f"{artifacts_dir}/{spark.EVENTS_FOLDER}",
        python=PYTHON,
        extra_conf={
            "spark.kubernetes.namespace": namespace,
            "spark.kubernetes.container.image": image,
            "spark.kubernetes.executor.podTemplateFile": f"{TEMPLATE_DIR}/{TEMPLATE_FILE}",
            "spark.kubernetes.executor.podTemplateContainerName": EXECUTOR_CONTAINER,
            "spark.kubernetes.authenticate.driver.serviceAccountName": account,
            "spark.kubernetes.executor.deleteOnTermination": "true",
        },
    )
    task = plan.spark["task"]
    if "module" in task:  # no file of ours in the image to hand spark-submit: python -m
        env = {"PYSPARK_SUBMIT_ARGS": " ".join([*options, "pyspark-shell"])}
        argv = [PYTHON, "-m", task["module"], *task.get("args", [])]
    else:
        argv, env = spark.driver_argv(
            task,
            options,
            spark_submit=SPARK_SUBMIT,
            module_runner="",
            notebook_argv=plan.spark.get("notebook_argv"),
        )
    driver = dataclasses.replace(plan.replicas[0], argv=argv, env={**plan.replicas[0].env, **env})
    return dataclasses.replace(plan, replicas=[driver])


def service_account(plan: LaunchPlan) -> str:
    return f"sub-spark-{plan.run_id}"


def executor_template(plan: LaunchPlan, labels: dict[str, str]) -> dict[str, Any]:
    """The executors' pod template (a Pod: Spark fills in the command and image)."""
    assert plan.spark is not None
    executor = plan.spark["task"]["executor"]
    # Spark adds its memory overhead (10%, at least 384 MiB) to the JVM's heap
    memory = executor["memory"] + max(384 * 1024**2, executor["memory"] // 10)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"labels": {**labels, LABEL_ROLE: label_value("executor")}},
        "spec": {
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": EXECUTOR_CONTAINER,
                    "resources": m.container_resources(executor["cores"], memory),
                }
            ],
        },
    }


def add_spark(
    manifests: list[dict[str, Any]], plan: LaunchPlan, namespace: str, labels: dict[str, str]
) -> list[dict[str, Any]]:
    """The run's objects with what its Spark driver needs (see the module's docstring)."""
    account = service_account(plan)
    meta = m.metadata(account, namespace, labels)
    template = executor_template(plan, labels)
    extra: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta,
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["pods", "services", "configmaps", "persistentvolumeclaims"],
                    "verbs": ["create", "get", "list", "watch", "delete", "deletecollection"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": account},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
        },
        m.config_map(meta, {TEMPLATE_FILE: yaml.safe_dump(template, sort_keys=False)}),
    ]
    out: list[dict[str, Any]] = []
    for manifest in manifests:
        if manifest["kind"] == "Job":
            _driver_pod(manifest["spec"]["template"]["spec"], account)
            out.extend(extra)  # before the driver that uses them
        out.append(manifest)
    return out


def _driver_pod(spec: dict[str, Any], account: str) -> None:
    spec["serviceAccountName"] = account
    spec["automountServiceAccountToken"] = True  # the driver creates its executors
    spec.setdefault("volumes", []).append({"name": TEMPLATE_VOLUME, "configMap": {"name": account}})
    container = spec["containers"][0]
    container.setdefault("volumeMounts", []).append(
        {"name": TEMPLATE_VOLUME, "mountPath": TEMPLATE_DIR, "readOnly": True}
    )
    own = [
        {
            "name": "SPARK_DRIVER_POD_NAME",
            "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
        },
        {"name": "SPARK_LOCAL_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "SPARK_LOCAL_HOSTNAME", "value": "$(SPARK_LOCAL_IP)"},
        # executors owned by the driver's pod (garbage-collected with it), and reaching it
        {
            "name": "SPARK_SUBMIT_OPTS",
            "value": "-Dspark.kubernetes.driver.pod.name=$(SPARK_DRIVER_POD_NAME) "
            "-Dspark.driver.host=$(SPARK_LOCAL_IP)",
        },
    ]
    container["env"] = own + container.get("env", [])
