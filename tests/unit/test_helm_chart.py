#!/usr/bin/python3
"""helm/wmsbridge: yamllint on Chart.yaml and values.yaml, and every template
rendered (tests/unit/helmrender.py, a strict renderer of the Go-template
subset the chart uses) with the default values and with the optional parts
switched on, then checked object by object: kinds and apiVersions, probes,
the migration hook, selectors that match, Secrets or an existing Secret, the
dashboard and rules copies. Where helm is installed, `helm lint` and
`helm template` are the reference (helm/README.md)."""
import json
import pathlib
import re
import subprocess
import sys

import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import helmrender  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "e2e"))
from harness import ROOT, Reporter  # noqa: E402

CHART = ROOT / "helm" / "wmsbridge"
SERVICES = ["catalog-ingest", "fulfilment-reporter", "order-ingest", "stock-publisher"]
API_VERSIONS = {
    "Deployment": "apps/v1", "Service": "v1", "ConfigMap": "v1", "Secret": "v1", "ServiceAccount": "v1",
    "Job": "batch/v1", "PodDisruptionBudget": "policy/v1", "HorizontalPodAutoscaler": "autoscaling/v2",
    "ServiceMonitor": "monitoring.coreos.com/v1", "PrometheusRule": "monitoring.coreos.com/v1",
}
MASTER_KEY = "42" * 32


def defaults():
    return yaml.safe_load((CHART / "values.yaml").read_text())


def installable(values=None):
    """The default values plus what an install must give."""
    v = values or defaults()
    v["config"]["kafkaBrokers"] = "kafka-0.kafka:9092,kafka-1.kafka:9092"
    v["secrets"].update(pgDsn="postgresql://wb:pw@pg:5432/wb", redisUrl="redis://:pw@redis:6379/0",
                        masterKey=MASTER_KEY)
    return v


def render(values):
    return [obj for _, obj in helmrender.render(CHART, values)]


def by_kind(objs, kind):
    return {o["metadata"]["name"]: o for o in objs if o["kind"] == kind}


def matches(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def container(dep):
    cs = dep["spec"]["template"]["spec"]["containers"]
    assert len(cs) == 1, cs
    return cs[0]


def values_read_by_services():
    """Every WB_* name in the C sources of libshared, the services and bridgectl."""
    names = set()
    for folder in ("libshared", "services", "tools/bridgectl"):
        for path in (ROOT / folder).rglob("*.c"):
            names.update(re.findall(r'"(WB_[A-Z0-9_]+)"', path.read_text(errors="replace")))
    return names


# ---------------------------------------------------------------- cases


def yamllint_chart():
    p = subprocess.run(["yamllint", "-c", str(ROOT / ".yamllint"), "--strict",
                        str(CHART / "Chart.yaml"), str(CHART / "values.yaml")],
                       capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stdout + p.stderr
    # and it does fail: a tab-indented, duplicated key file is refused.
    bad = subprocess.run(["yamllint", "-c", str(ROOT / ".yamllint"), "-"], input="a: 1\na: 2\n",
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode != 0, "yamllint accepted a duplicate key"


def chart_metadata():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2", chart
    assert chart["name"] == "wmsbridge" and chart["type"] == "application", chart
    assert re.fullmatch(r"\d+\.\d+\.\d+", chart["version"]), chart["version"]
    assert chart.get("appVersion"), chart


def default_objects():
    objs = render(installable())
    for o in objs:
        assert o["apiVersion"] == API_VERSIONS[o["kind"]], (o["kind"], o["apiVersion"])
        assert o["metadata"]["labels"]["app.kubernetes.io/instance"] == "rel", o["metadata"]
    kinds = sorted(o["kind"] for o in objs)
    assert kinds.count("Deployment") == 4 and kinds.count("PodDisruptionBudget") == 4, kinds
    for absent in ("HorizontalPodAutoscaler", "ServiceMonitor", "PrometheusRule"):
        assert absent not in kinds, f"{absent} rendered though not enabled"
    assert {n for n in by_kind(objs, "Secret")} == {"rel-wmsbridge", "rel-wmsbridge-migrations"}, kinds


def deployments():
    values = installable()
    values["services"]["stock-publisher"]["replicas"] = 5
    values["services"]["stock-publisher"]["env"] = {"WB_STOCK_SENDERS": "16"}
    objs = render(values)
    deps = by_kind(objs, "Deployment")
    configmaps, secrets = by_kind(objs, "ConfigMap"), by_kind(objs, "Secret")
    assert sorted(deps) == [f"rel-wmsbridge-{s}" for s in SERVICES], sorted(deps)
    for name in SERVICES:
        svc = values["services"][name]
        dep = deps[f"rel-wmsbridge-{name}"]
        spec = dep["spec"]
        assert spec["replicas"] == svc["replicas"], (name, spec.get("replicas"))
        pod_labels = spec["template"]["metadata"]["labels"]
        assert matches(spec["selector"]["matchLabels"], pod_labels), name
        assert pod_labels["app.kubernetes.io/component"] == name
        c = container(dep)
        assert c["image"] == f"wmsbridge/{name}:0.1.0", c["image"]
        assert c["resources"] == svc["resources"], (name, c["resources"])
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        assert ports == {"http": svc["port"]}, ports
        env = {e["name"]: e.get("value") for e in c["env"]}
        assert env["WB_HTTP_PORT"] == str(svc["port"]), env
        for k, v in svc["env"].items():
            assert env[k] == v, (k, env)
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}, c["livenessProbe"]
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}, c["readinessProbe"]
        refs = c["envFrom"]
        assert refs[0]["configMapRef"]["name"] in configmaps, refs
        assert refs[1]["secretRef"]["name"] in secrets, refs
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] and not sc["allowPrivilegeEscalation"], sc
        pod = spec["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] == 10001
        # The services' SIGTERM path must fit in the grace period.
        assert pod["terminationGracePeriodSeconds"] * 1000 > values["config"]["shutdownTimeoutMs"]
        assert spec["template"]["metadata"]["annotations"]["checksum/config"], name
    assert container(deps["rel-wmsbridge-stock-publisher"])["env"][1] == {"name": "WB_STOCK_SENDERS",
                                                                           "value": "16"}


def config_and_secret():
    v = installable()
    v["config"]["orderPublicUrl"] = "https://bridge.example.com"
    objs = render(v)
    cm = by_kind(objs, "ConfigMap")["rel-wmsbridge"]["data"]
    secret = by_kind(objs, "Secret")["rel-wmsbridge"]["stringData"]
    read = values_read_by_services()
    for key in list(cm) + list(secret):
        assert key in read, f"{key} is set by the chart but no service reads it"
    assert cm["WB_KAFKA_BROKERS"] == "kafka-0.kafka:9092,kafka-1.kafka:9092", cm
    assert cm["WB_PG_MIGRATE"] == "false", cm
    assert cm["WB_ORDER_PUBLIC_URL"] == "https://bridge.example.com", cm
    # Unset optional values put nothing in the ConfigMap.
    assert "WB_CATALOG_PUBLIC_URL" not in cm and "WB_SHOPIFY_CLIENT_ID" not in cm, cm
    assert set(secret) == {"WB_PG_DSN", "WB_REDIS_URL", "WB_MASTER_KEY"}, secret
    assert secret["WB_MASTER_KEY"] == MASTER_KEY
    # Secrets stay out of the ConfigMap.
    assert not any(MASTER_KEY in str(v) or "pw@" in str(v) for v in cm.values()), cm


def required_values():
    for path, label in ((("config", "kafkaBrokers"), "config.kafkaBrokers"),
                        (("secrets", "masterKey"), "secrets.masterKey"),
                        (("secrets", "pgDsn"), "secrets.pgDsn")):
        v = installable()
        v[path[0]][path[1]] = ""
        try:
            render(v)
        except helmrender.RenderError as exc:
            assert label in str(exc), exc
        else:
            raise AssertionError(f"rendered without {label}")


def existing_secret():
    v = installable()
    v["secrets"] = {"existingSecret": "wb-creds", "pgDsn": "", "redisUrl": "", "masterKey": ""}
    objs = render(v)
    assert not by_kind(objs, "Secret"), by_kind(objs, "Secret")
    for dep in by_kind(objs, "Deployment").values():
        assert container(dep)["envFrom"][1]["secretRef"]["name"] == "wb-creds"
    job = by_kind(objs, "Job")["rel-wmsbridge-migrations"]
    ref = {e["name"]: e for e in container(job)["env"]}["WB_PG_DSN"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "wb-creds", "key": "WB_PG_DSN"}, ref


def migration_hook():
    objs = render(installable())
    job = by_kind(objs, "Job")["rel-wmsbridge-migrations"]
    ann = job["metadata"]["annotations"]
    assert set(ann["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}, ann
    assert "before-hook-creation" in ann["helm.sh/hook-delete-policy"], ann
    c = container(job)
    script = " ".join(c["command"])
    assert "bridgectl db migrate" in script and "bridgectl topics ensure" in script, script
    assert script.index("db migrate") < script.index("topics ensure")
    assert c["image"] == "wmsbridge/bridgectl:0.1.0", c["image"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    env = {e["name"]: e for e in c["env"]}
    assert env["WB_KAFKA_BROKERS"]["value"] == "kafka-0.kafka:9092,kafka-1.kafka:9092"
    # Topics get the cluster's replication unless the values say otherwise.
    assert env["WB_KAFKA_REPLICATION_FACTOR"]["value"] == "-1", env["WB_KAFKA_REPLICATION_FACTOR"]
    assert env["WB_KAFKA_MIN_INSYNC_REPLICAS"]["value"] == "0", env["WB_KAFKA_MIN_INSYNC_REPLICAS"]
    # A pre-install hook runs before the release's Secret exists: the DSN comes
    # from a hook Secret created first (lower weight).
    secret = by_kind(objs, "Secret")[env["WB_PG_DSN"]["valueFrom"]["secretKeyRef"]["name"]]
    sann = secret["metadata"]["annotations"]
    assert sann["helm.sh/hook"] == ann["helm.sh/hook"], sann
    assert int(sann["helm.sh/hook-weight"]) < int(ann["helm.sh/hook-weight"]), (sann, ann)
    assert "WB_PG_DSN" in secret["stringData"]
    # The migration pod is no target of the Services.
    pod_labels = job["spec"]["template"]["metadata"]["labels"]
    for svc in by_kind(objs, "Service").values():
        assert not matches(svc["spec"]["selector"], pod_labels), svc["metadata"]["name"]
    v = installable()
    v["migrations"]["enabled"] = False
    assert not by_kind(render(v), "Job")


def webhook_services_and_pdbs():
    objs = render(installable())
    deps = by_kind(objs, "Deployment")
    pods = {n: d["spec"]["template"]["metadata"]["labels"] for n, d in deps.items()}
    services = by_kind(objs, "Service")
    for name in ("order-ingest", "catalog-ingest"):
        svc = services[f"rel-wmsbridge-{name}"]
        hit = [n for n, labels in pods.items() if matches(svc["spec"]["selector"], labels)]
        assert hit == [f"rel-wmsbridge-{name}"], (name, hit)
        assert svc["spec"]["ports"][0]["targetPort"] == "http"
    assert "rel-wmsbridge-stock-publisher" not in services
    metrics = services["rel-wmsbridge-metrics"]
    hit = sorted(n for n, labels in pods.items() if matches(metrics["spec"]["selector"], labels))
    assert hit == sorted(deps), hit
    for name, pdb in by_kind(objs, "PodDisruptionBudget").items():
        hit = [n for n, labels in pods.items() if matches(pdb["spec"]["selector"]["matchLabels"], labels)]
        assert hit == [name], (name, hit)
        assert pdb["spec"]["maxUnavailable"] == 1


def optional_parts():
    v = installable()
    v["services"]["stock-publisher"]["autoscaling"]["enabled"] = True
    v["serviceMonitor"]["enabled"] = True
    v["serviceMonitor"]["labels"] = {"release": "kube-prometheus-stack"}
    v["prometheusRule"]["enabled"] = True
    objs = render(v)
    hpas = by_kind(objs, "HorizontalPodAutoscaler")
    deps = by_kind(objs, "Deployment")
    assert list(hpas) == ["rel-wmsbridge-stock-publisher"], list(hpas)
    hpa = hpas["rel-wmsbridge-stock-publisher"]["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                     "name": "rel-wmsbridge-stock-publisher"}, hpa
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 12), hpa
    # The HPA owns the replica count of its Deployment, and only of that one.
    assert "replicas" not in deps["rel-wmsbridge-stock-publisher"]["spec"]
    assert deps["rel-wmsbridge-order-ingest"]["spec"]["replicas"] == 2
    sm = by_kind(objs, "ServiceMonitor")["rel-wmsbridge"]
    assert sm["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    metrics = by_kind(objs, "Service")["rel-wmsbridge-metrics"]
    assert matches(sm["spec"]["selector"]["matchLabels"], metrics["metadata"]["labels"])
    # job="wmsbridge" and service="<component>", as the rules expect.
    assert metrics["metadata"]["labels"][sm["spec"]["jobLabel"]] == "wmsbridge", sm["spec"]
    ep = sm["spec"]["endpoints"][0]
    assert ep["path"] == "/metrics" and ep["port"] == metrics["spec"]["ports"][0]["name"], ep
    assert {"sourceLabels": ["__meta_kubernetes_pod_label_app_kubernetes_io_component"],
            "targetLabel": "service"} in ep["relabelings"], ep
    rule = by_kind(objs, "PrometheusRule")["rel-wmsbridge"]
    source = yaml.safe_load((ROOT / "deploy" / "prometheus" / "wmsbridge-rules.yml").read_text())
    assert rule["spec"] == source, "PrometheusRule differs from deploy/prometheus/wmsbridge-rules.yml"


def grafana_dashboard():
    objs = render(installable())
    cm = by_kind(objs, "ConfigMap")["rel-wmsbridge-dashboard"]
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1", cm["metadata"]
    dash = json.loads(cm["data"]["wmsbridge-dashboard.json"])
    source = json.loads((ROOT / "deploy" / "grafana" / "wmsbridge-dashboard.json").read_text())
    assert dash == source, "the chart's dashboard differs from deploy/grafana/wmsbridge-dashboard.json"
    v = installable()
    v["grafanaDashboard"]["enabled"] = False
    assert "rel-wmsbridge-dashboard" not in by_kind(render(v), "ConfigMap")


def copies_identical():
    pairs = [(CHART / "dashboards" / "wmsbridge-dashboard.json", ROOT / "deploy/grafana/wmsbridge-dashboard.json"),
             (CHART / "rules" / "wmsbridge-rules.yml", ROOT / "deploy/prometheus/wmsbridge-rules.yml")]
    for copy_, source in pairs:
        assert copy_.read_bytes() == source.read_bytes(), f"{copy_} is not a copy of {source}: cp {source} {copy_}"


def values_referenced_exist():
    """Static: every .Values.a.b path in the templates (rendered or not) and
    every $svc.x field exists in values.yaml (the renderer catches the rest)."""
    values = defaults()
    text = "\n".join(p.read_text() for p in (CHART / "templates").iterdir())
    paths = set(re.findall(r"\.Values((?:\.[A-Za-z0-9_]+)+)", text))
    assert paths, "no .Values references found"
    for path in paths:
        node = values
        for part in path.strip(".").split("."):
            assert isinstance(node, dict) and part in node, f".Values{path} is not in values.yaml"
            node = node[part]
    fields = set(re.findall(r"\$svc((?:\.[A-Za-z0-9_]+)+)", text))
    assert fields, "no $svc references found"
    for name, svc in values["services"].items():
        for path in fields:
            node = svc
            for part in path.strip(".").split("."):
                assert isinstance(node, dict) and part in node, f"services.{name}{path} is not in values.yaml"
                node = node[part]
    # The renderer is strict: a key missing from values.yaml fails the render.
    broken = installable()
    del broken["services"]["order-ingest"]["pdb"]
    try:
        render(broken)
    except helmrender.RenderError as exc:
        assert "pdb" in str(exc), exc
    else:
        raise AssertionError("rendered with services.order-ingest.pdb missing")


def values_documented():
    """Every key of values.yaml (two levels, and each service's keys) is in helm/README.md."""
    readme = (ROOT / "helm" / "README.md").read_text()
    values = defaults()
    missing = []
    for key, val in values.items():
        if f"`{key}" not in readme:
            missing.append(key)
        # services: below; the security contexts are Kubernetes' own objects.
        if isinstance(val, dict) and key not in ("services", "podSecurityContext", "securityContext"):
            missing += [f"{key}.{k}" for k in val if f"`{key}.{k}" not in readme]
    for k in values["services"]["order-ingest"]:
        if f"services.<name>.{k}" not in readme:
            missing.append(f"services.<name>.{k}")
    assert sorted(values["services"]) == SERVICES, sorted(values["services"])
    assert not missing, f"not in helm/README.md: {missing}"
    assert "helm lint" in readme and "helm template" in readme


def notes_render():
    r = helmrender.Renderer(CHART, installable())
    text = r.run(r.defines["wmsbridge/templates/NOTES.txt"], r.root, {"$": r.root})
    assert "rel-wmsbridge-order-ingest" in text and "wmsbridge/bridgectl:0.1.0" in text, text


def main():
    rep = Reporter()
    rep.run("helm_yamllint_chart_and_values", yamllint_chart)
    rep.run("helm_chart_metadata", chart_metadata)
    rep.run("helm_default_objects_kinds_and_api_versions", default_objects)
    rep.run("helm_deployment_per_service_replicas_resources_probes", deployments)
    rep.run("helm_configmap_and_secret_only_variables_services_read", config_and_secret)
    rep.run("helm_required_values_refused_when_missing", required_values)
    rep.run("helm_existing_secret_replaces_the_chart_secret", existing_secret)
    rep.run("helm_migration_job_is_a_pre_install_upgrade_hook", migration_hook)
    rep.run("helm_webhook_services_metrics_service_and_pdbs_select_their_pods", webhook_services_and_pdbs)
    rep.run("helm_optional_hpa_servicemonitor_prometheusrule", optional_parts)
    rep.run("helm_grafana_dashboard_configmap_for_the_sidecar", grafana_dashboard)
    rep.run("helm_chart_copies_match_deploy_sources", copies_identical)
    rep.run("helm_every_referenced_value_exists", values_referenced_exist)
    rep.run("helm_values_documented_in_readme", values_documented)
    rep.run("helm_notes_render", notes_render)
    return 1 if rep.failures else 0


if __name__ == "__main__":
    sys.exit(main())
