"""deploy/ checked offline: no container engine and no cluster run here, so the files are
validated against the schemas that PyPI packages ship (kubernetes-validate: the Kubernetes
OpenAPI schemas, strict; check-jsonschema: the compose-spec schema), and against what the
code expects (ports, probes, the SPA and migrations where the image puts them, the worker's
shutdown wait below every grace period)."""

from __future__ import annotations

import fnmatch
import importlib.resources
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from pydantic import ValidationError

from bpmlink.kit.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBE = DEPLOY / "kubernetes"
# The oldest Kubernetes we promise (autoscaling/v2, policy/v1 PDBs) and the newest the package knows.
KUBE_VERSIONS = ("1.29", kubernetes_validate.latest_version())
PORTS = {"api": 8000, "gateway": 8001, "worker": 8003}


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.yaml") if p.name != "kustomization.yaml")


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _all_resources() -> list[dict[str, Any]]:
    return [doc for path in _yaml_files(KUBE) for doc in _docs(path)]


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {r["metadata"]["name"]: r for r in _all_resources() if r["kind"] == kind}


def _job_completion_wait() -> float:
    from bpmlink_worker.main import build_worker

    settings = Settings(REDIS_URL="redis://127.0.0.1:1/0", DATABASE_URL="postgresql://x@127.0.0.1:1/x")
    return float(build_worker(settings)._job_completion_wait)


# --- Kubernetes -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", _yaml_files(KUBE), ids=lambda p: str(p.relative_to(KUBE)))
@pytest.mark.parametrize("version", KUBE_VERSIONS)
def test_kubernetes_manifest_matches_the_schema(path: Path, version: str) -> None:
    docs = _docs(path)
    assert docs, f"{path} has no resource"
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(p) for p in exc.path)
            pytest.fail(f"{path.name}: {doc['kind']}/{doc['metadata']['name']} at {where}: {exc.message}")


@pytest.mark.parametrize("folder", [KUBE, KUBE / "migrate"], ids=["base", "migrate"])
def test_kustomization_lists_every_manifest(folder: Path) -> None:
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    present = {p.name for p in folder.glob("*.yaml") if p.name != "kustomization.yaml"}
    # The Secret is a template to copy, never applied as it is.
    assert listed == present - {"secret.example.yaml"}
    images = {c["image"] for r in (doc for name in listed for doc in _docs(folder / name)) for c in _containers(r)}
    assert images == {i["name"] for i in kustomization["images"]}, "every image is set by the kustomization"


def _containers(resource: dict[str, Any]) -> list[dict[str, Any]]:
    spec = resource.get("spec", {})
    if resource["kind"] in ("Deployment", "Job"):
        return list(spec["template"]["spec"]["containers"])
    return []


def _pod_spec(resource: dict[str, Any]) -> dict[str, Any]:
    return resource["spec"]["template"]["spec"]


def test_kubernetes_images_are_set_the_same_in_both_kustomizations() -> None:
    base = yaml.safe_load((KUBE / "kustomization.yaml").read_text())["images"]
    migrate = yaml.safe_load((KUBE / "migrate" / "kustomization.yaml").read_text())["images"]
    assert base == migrate


def test_deployments_probe_health_and_readiness_with_resources() -> None:
    deployments = _of_kind("Deployment")
    assert set(deployments) == {"bpmlink-api", "bpmlink-gateway", "bpmlink-worker"}
    for name, deployment in deployments.items():
        service = name.removeprefix("bpmlink-")
        pod = _pod_spec(deployment)
        (container,) = pod["containers"]
        assert container["args"] == [service]
        port_names = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert PORTS[service] in port_names.values(), name
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            port = container[probe]["httpGet"]["port"]
            assert port_names.get(port, port) == PORTS[service], (name, probe)
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
        assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert {e["configMapRef"]["name"] for e in container["envFrom"] if "configMapRef" in e} == {"bpmlink-config"}
        assert {e["secretRef"]["name"] for e in container["envFrom"] if "secretRef" in e} == {"bpmlink-secrets"}
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(PORTS[service])


def test_worker_grace_period_exceeds_the_job_completion_wait() -> None:
    wait = _job_completion_wait()
    worker = _pod_spec(_of_kind("Deployment")["bpmlink-worker"])
    assert worker["terminationGracePeriodSeconds"] > wait + 5
    for name, deployment in _of_kind("Deployment").items():
        pod = _pod_spec(deployment)
        pre_stop = pod["containers"][0].get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
        sleep = int(pre_stop[1]) if pre_stop[:1] == ["sleep"] else 0
        assert pod["terminationGracePeriodSeconds"] > sleep + 10, name


def test_autoscalers_budgets_and_services_select_real_pods() -> None:
    deployments = _of_kind("Deployment")
    labels = {name: d["spec"]["template"]["metadata"]["labels"] for name, d in deployments.items()}
    hpas = _of_kind("HorizontalPodAutoscaler")
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()} == {"bpmlink-gateway", "bpmlink-worker"}
    for hpa in hpas.values():
        assert hpa["spec"]["minReplicas"] >= 2
        assert "replicas" not in deployments[hpa["spec"]["scaleTargetRef"]["name"]]["spec"], "the HPA owns replicas"
    pdbs = _of_kind("PodDisruptionBudget")
    covered = {
        name
        for name, pod_labels in labels.items()
        for pdb in pdbs.values()
        if pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    }
    assert covered == set(deployments)
    services = _of_kind("Service")
    for name, service in services.items():
        selector = service["spec"].get("selector")
        if selector is None:
            continue  # bpmlink-metrics-blocked: deliberately without pods
        assert any(selector.items() <= pod.items() for pod in labels.values()), name
    for rule in _of_kind("Ingress")["bpmlink"]["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            assert path["backend"]["service"]["name"] in services


def test_migration_job_and_secret_template() -> None:
    (job,) = _docs(KUBE / "migrate" / "job.yaml")
    assert job["kind"] == "Job" and _containers(job)[0]["args"] == ["migrate"]
    assert _pod_spec(job)["restartPolicy"] == "Never"
    (secret,) = _docs(KUBE / "secret.example.yaml")
    assert {"BPMLINK_SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= set(secret["stringData"])
    assert secret["metadata"]["name"] == "bpmlink-secrets"
    config = _of_kind("ConfigMap")["bpmlink-config"]["data"]
    # Every key the pods get is a setting the code reads (a typo would be silently ignored).
    known = {f.alias for f in Settings.model_fields.values()}
    assert set(config) | set(secret["stringData"]) <= known


def test_behind_the_ingress_the_proxy_networks_are_trusted_and_valid() -> None:
    config = _of_kind("ConfigMap")["bpmlink-config"]["data"]
    # Unset, every client would share the ingress's address: ten bad logins by anyone would lock everyone out.
    settings = Settings(BPMLINK_TRUSTED_PROXIES=config["BPMLINK_TRUSTED_PROXIES"])  # type: ignore[call-arg]
    assert settings.trusted_proxies and all("/" in network for network in settings.trusted_proxies)


@pytest.mark.parametrize("value", ["10.0.0.0/33", "ingress", "10.0.0.1,,nope"])
def test_a_trusted_proxy_that_is_not_a_network_stops_the_process(value: str) -> None:
    with pytest.raises(ValidationError, match="BPMLINK_TRUSTED_PROXIES"):
        Settings(BPMLINK_TRUSTED_PROXIES=value)  # type: ignore[call-arg]


# --- compose --------------------------------------------------------------------------------


def _compose_schema() -> dict[str, Any]:
    ref = importlib.resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / "compose-spec.json"
    return json.loads(ref.read_text())


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_file_matches_the_compose_spec() -> None:
    schema = _compose_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = sorted(validator_class(schema).iter_errors(_compose()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_compose_services_scale_and_check_readiness() -> None:
    services = _compose()["services"]
    assert {"postgres", "redis", "migrate", "api", "gateway", "worker"} <= set(services)
    worker = services["worker"]
    assert "container_name" not in worker and "ports" not in worker, "--scale worker=N needs neither"
    for name in ("api", "gateway", "worker"):
        service = services[name]
        assert service["command"] == [name]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["healthcheck"]["test"] == ["CMD", "/app/deploy/entrypoint.sh", "healthcheck", str(PORTS[name])]
    assert services["migrate"]["command"] == ["migrate"] and services["migrate"]["restart"] == "no"
    grace = re.fullmatch(r"(\d+)s", worker["stop_grace_period"])
    assert grace and int(grace[1]) > _job_completion_wait()


def test_compose_local_paths_exist() -> None:
    compose = _compose()
    build = compose["x-bpmlink"]["build"]
    context = (DEPLOY / build["context"]).resolve()
    assert context == ROOT and (context / build["dockerfile"]).is_file()
    assert compose["x-bpmlink"]["env_file"] == ".env" and (DEPLOY / ".env.example").is_file()
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), source


def test_compose_variables_are_in_the_env_example() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    required = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    example = {
        line.split("=", 1)[0]
        for line in (DEPLOY / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert required <= example
    assert {"BPMLINK_SECRET_KEY", "POSTGRES_PASSWORD", "REDIS_PASSWORD"} <= example


# --- Dockerfile and entrypoint --------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def _dockerignored(relative: str) -> bool:
    patterns = [
        p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines() if p.strip() and not p.startswith("#")
    ]
    parts = relative.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        bare = pattern.removeprefix("**/")
        for prefix in prefixes:
            if fnmatch.fnmatch(prefix, pattern) or fnmatch.fnmatch(prefix.split("/")[-1], bare):
                return True
    return False


def test_dockerfile_copies_what_exists_and_runs_as_non_root() -> None:
    instructions = _instructions()
    stages = [args.split()[-1] for op, args in instructions if op == "FROM" and " AS " in args.upper()]
    assert stages == ["spa", "runtime"]
    workdir = ""
    copied_to: dict[str, str] = {}
    for op, args in instructions:
        if op == "WORKDIR":
            workdir = args
        if op != "COPY":
            continue
        words = args.split()
        flags = [w for w in words if w.startswith("--")]
        *sources, destination = [w for w in words if not w.startswith("--")]
        from_stage = next((f.split("=", 1)[1] for f in flags if f.startswith("--from=")), None)
        if from_stage is not None:
            assert from_stage in stages
            copied_to[sources[0]] = destination if destination.startswith("/") else f"{workdir}/{destination}"
            continue
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: missing in the build context"
            if workdir.startswith("/app"):  # the runtime stage's sources must survive .dockerignore
                assert not _dockerignored(source), f"COPY {source}: excluded by .dockerignore"
    users = [args for op, args in instructions if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image runs as a non-root user"
    entrypoint = json.loads(next(args for op, args in instructions if op == "ENTRYPOINT"))
    assert entrypoint == ["/app/deploy/entrypoint.sh"]
    # The api finds the SPA at <source root>/frontend/dist, the migrations at <source root>:
    # the image keeps the source root at /app (editable install) and copies the build there.
    from bpmlink_api.app import SPA_DIR

    from bpmlink.kit.migrate import ROOT as MIGRATIONS_ROOT

    assert SPA_DIR == ROOT / "frontend" / "dist" and MIGRATIONS_ROOT == ROOT
    assert copied_to["/src/frontend/dist/"].rstrip("/") == "/app/frontend/dist"
    assert any(op == "RUN" and "pip install --no-deps -e ." in args for op, args in instructions)
    assert not any(op == "RUN" and re.search(r"\[.*dev.*\]", args) for op, args in instructions), "no dev extras"


def test_entrypoint_is_valid_bash_and_knows_every_service() -> None:
    script = DEPLOY / "entrypoint.sh"
    assert os.access(script, os.X_OK)
    subprocess.run(["bash", "-n", str(script)], check=True)
    if shutil.which("shellcheck"):
        subprocess.run(["shellcheck", str(script)], check=True)
    text = script.read_text()
    for mode, module in {
        "api": "bpmlink_api",
        "gateway": "bpmlink_gateway",
        "worker": "bpmlink_worker",
        "sandbox": "bpmlink_sandbox",
    }.items():
        assert re.search(rf"^\s*{mode}\)\n(?:\s*#.*\n)*\s*exec python -m {module} \"\$@\"", text, re.M), mode
        assert any((ROOT / "services").glob(f"*/{module}/__main__.py")), module
    result = subprocess.run(["bash", str(script), "no-such-service"], capture_output=True, text=True)
    assert result.returncode == 64 and "usage" in result.stderr


def test_entrypoint_migrate_runs_the_cli(db_url: str) -> None:
    """`entrypoint.sh migrate` on an already migrated database: the CLI runs and is a no-op."""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATABASE_URL": db_url,
        "BPMLINK_ENV": "test",
    }
    result = subprocess.run(
        ["bash", str(DEPLOY / "entrypoint.sh"), "migrate"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "newest schema" in result.stdout


def test_entrypoint_healthcheck(sandbox_server: Any) -> None:
    port = sandbox_server.base_url.rsplit(":", 1)[1]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    ok = subprocess.run(["bash", str(DEPLOY / "entrypoint.sh"), "healthcheck", port], env=env, timeout=30)
    assert ok.returncode == 0
    missing = subprocess.run(
        ["bash", str(DEPLOY / "entrypoint.sh"), "healthcheck", port, "/no-such-path"],
        env=env,
        capture_output=True,
        timeout=30,
    )
    assert missing.returncode != 0
