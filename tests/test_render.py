"""Fast tier: render every combination in the matrix and check what comes out."""

from __future__ import annotations

import ast
import py_compile
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from ruff.__main__ import find_ruff_bin

from conftest import Bake
from local_extensions.resources import parse_resources
from matrix import DEFAULTS, LONG_NAMES, MATRIX, Answers, answers_id

LEFTOVER_MARKERS = ("{{", "{%", "cookiecutter.")
# GitHub Actions expressions and Prometheus alert templates are meant to survive rendering.
GITHUB_EXPRESSION = re.compile(r"\$\{\{ [a-z.-]+ \}\}")
PROMETHEUS_TEMPLATE = re.compile(r"\{\{ \$(?:labels\.\w+|value)(?: \| \w+)? \}\}")
DOCKER_FILES = ("Dockerfile", ".dockerignore", "compose.yaml")
KUBERNETES_FILES = ("deploy/kubernetes/kustomization.yaml", "deploy/kubernetes/deployment.yaml")
CI_FILES = (".github/workflows/ci.yml",)
OTEL_DEPENDENCIES = {
    "opentelemetry-exporter-otlp-proto-http",
    "opentelemetry-instrumentation-pymongo",
    "opentelemetry-sdk",
}
# What each `auth` answer keeps of the authentication modules and their tests.
_SHARED_AUTH = {"src/{package}/auth.py", "tests/test_auth.py"}
AUTH_FILES = {
    "api-key": _SHARED_AUTH | {"src/{package}/api_keys.py", "tests/test_auth_api_key.py"},
    "jwt": _SHARED_AUTH | {"src/{package}/jwks.py", "tests/test_auth_jwt.py"},
    "none": set(),
}
# The settings that exist only in one mode; every mode has CORS_ORIGINS.
AUTH_SETTINGS = {
    "api-key": {"api_keys"},
    "jwt": {
        "jwt_jwks_url",
        "jwt_issuer",
        "jwt_audience",
        "jwt_algorithms",
        "jwt_leeway_seconds",
        "jwt_jwks_refresh_seconds",
    },
    "none": set(),
}


def text_files(project: Path) -> list[Path]:
    return [path for path in project.rglob("*") if path.is_file()]


def ruff(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [find_ruff_bin(), *args, "--no-cache", "."],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(params=MATRIX, ids=answers_id)
def answers(request: pytest.FixtureRequest) -> Answers:
    return request.param


def test_renders_a_clean_project(bake: Bake, answers: Answers) -> None:
    project = bake(answers)
    slug = answers.get("project_name", "College API").lower().replace(" ", "-")
    assert project.name == slug
    assert (project / "src" / slug.replace("-", "_") / "__init__.py").is_file()

    for path in text_files(project):
        text = PROMETHEUS_TEMPLATE.sub("", GITHUB_EXPRESSION.sub("", path.read_text()))
        for marker in LEFTOVER_MARKERS:
            assert marker not in text, f"{path.relative_to(project)} still contains {marker!r}"
        assert not text.startswith("\n"), f"{path.relative_to(project)} starts with a blank line"

    for path in project.rglob("*.py"):
        py_compile.compile(str(path), doraise=True, cfile=str(path) + "c")


def test_passes_its_own_ruff_config(bake: Bake, answers: Answers) -> None:
    project = bake(answers)
    check = ruff(project, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = ruff(project, "format", "--check")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_config_files_parse_and_mean_what_was_asked(bake: Bake, answers: Answers) -> None:
    project = bake(answers)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    minimum = answers.get("python_version", "3.11")
    assert pyproject["project"]["requires-python"] == f">={minimum}"
    dependencies = " ".join(pyproject["project"]["dependencies"])
    uses_motor = answers.get("mongodb_driver") == "motor"
    assert ("motor>=" in dependencies) is uses_motor
    assert "pymongo>=" in dependencies
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + minimum.replace(".", "")
    scripts = pyproject["project"]["scripts"]
    assert scripts == {project.name: f"{project.name.replace('-', '_')}.__main__:cli"}

    yaml_files = [*project.rglob("*.yml"), *project.rglob("*.yaml")]
    for path in yaml_files:
        assert yaml.safe_load(path.read_text()), path
    if answers.get("ci", "github") == "github":
        workflow = yaml.safe_load((project / CI_FILES[0]).read_text())
        versions = workflow["jobs"]["test"]["strategy"]["matrix"]["python-version"]
        assert versions[0] == minimum
        assert versions[-1] == "3.14"
    if answers.get("use_docker", True):
        compose = yaml.safe_load((project / "compose.yaml").read_text())
        assert set(compose["services"]) == {"api", "mongodb"}
        assert f"\nFROM python:{minimum}-slim AS build\n" in (project / "Dockerfile").read_text()


def test_option_files_are_kept_or_pruned(bake: Bake, answers: Answers) -> None:
    project = bake(answers)
    use_docker = answers.get("use_docker", True)
    use_ci = answers.get("ci", "github") != "none"
    for name in DOCKER_FILES:
        assert (project / name).exists() is use_docker, name
    for name in KUBERNETES_FILES:
        assert (project / name).exists() is answers.get("kubernetes", False), name
    for name in CI_FILES:
        assert (project / name).exists() is use_ci, name
    assert (project / ".github").exists() is use_ci


def test_auth_files_are_kept_or_pruned(bake: Bake, answers: Answers) -> None:
    project = bake(answers)
    package = project.name.replace("-", "_")
    every = set().union(*AUTH_FILES.values())
    kept = {path for path in every if (project / path.format(package=package)).exists()}
    assert kept == AUTH_FILES[answers.get("auth", "api-key")]


def test_observability_options_keep_their_files_and_dependencies(
    bake: Bake, answers: Answers
) -> None:
    """metrics: prometheus-client, metrics.py, METRICS_PORT, deploy/prometheus; tracing: OTel."""
    project = bake(answers)
    package = project / "src" / project.name.replace("-", "_")
    metrics = answers.get("metrics", True)
    tracing = answers.get("opentelemetry", False)
    dependencies = tomllib.loads((project / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    names = {re.split(r"[\[<>=]", dependency)[0] for dependency in dependencies}
    assert "structlog" in names
    assert ("prometheus-client" in names) is metrics
    otel = {name for name in names if name.startswith("opentelemetry-")}
    assert otel == (OTEL_DEPENDENCIES if tracing else set())
    for path, kept in {
        package / "metrics.py": metrics,
        project / "tests" / "test_metrics.py": metrics,
        project / "deploy" / "prometheus" / "alerts.yml": metrics,
        project / "deploy": metrics or answers.get("kubernetes", False),
        package / "tracing.py": tracing,
        project / "tests" / "test_tracing.py": tracing,
    }.items():
        assert path.exists() is kept, path.relative_to(project)
    assert ("metrics_port" in _settings_fields(package / "settings.py")) is metrics
    sources = "\n".join(path.read_text() for path in package.glob("*.py"))
    assert ("prometheus_client" in sources) is metrics
    assert ("opentelemetry" in sources) is tracing
    readme = (project / "README.md").read_text()
    assert ("METRICS_PORT" in readme) is metrics
    assert ("OTEL_EXPORTER_OTLP_ENDPOINT" in readme) is tracing


@pytest.mark.parametrize("answers", [{}, LONG_NAMES], ids=answers_id)
def test_prometheus_files_pass_promtool(bake: Bake, promtool: Path, answers: Answers) -> None:
    """The scrape config and alert rules load, and each alert fires on its unit test."""
    deploy = bake(answers) / "deploy" / "prometheus"
    for command in (["check", "config", "prometheus.yml"], ["test", "rules", "alerts_test.yml"]):
        result = subprocess.run(
            [str(promtool), *command], cwd=deploy, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


def _settings_fields(settings: Path) -> set[str]:
    (cls,) = (
        node
        for node in ast.parse(settings.read_text()).body
        if isinstance(node, ast.ClassDef) and node.name == "Settings"
    )
    return {
        node.target.id
        for node in cls.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }


def test_auth_mode_has_its_settings_dependency_and_documentation(
    bake: Bake, answers: Answers
) -> None:
    """Each mode: its settings (all in .env.example), pyjwt only for jwt, its OpenAPI scheme."""
    project = bake(answers)
    auth = answers.get("auth", "api-key")
    package = project / "src" / project.name.replace("-", "_")
    fields = _settings_fields(package / "settings.py")
    every_mode = set().union(*AUTH_SETTINGS.values())
    assert fields & every_mode == AUTH_SETTINGS[auth]
    assert "cors_origins" in fields
    env_example = (project / ".env.example").read_text()
    undocumented = [name.upper() for name in fields if name.upper() not in env_example]
    assert not undocumented, f".env.example lacks {undocumented}"

    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    dependencies = " ".join(pyproject["project"]["dependencies"])
    assert ("pyjwt[crypto]>=" in dependencies) is (auth == "jwt")

    openapi = (package / "openapi.py").read_text()
    assert ('"securitySchemes"' in openapi) is (auth != "none")
    assert ('"bearerFormat": "JWT"' in openapi) is (auth == "jwt")
    assert ("new-api-key" in (package / "__main__.py").read_text()) is (auth == "api-key")

    readme = (project / "README.md").read_text()
    assert ("Authorization: Bearer" in readme) is (auth != "none")
    assert ("new-api-key" in readme) is (auth == "api-key")
    assert ("JWT_JWKS_URL" in readme) is (auth == "jwt")


@pytest.mark.parametrize(
    ("license_name", "first_line"),
    [
        ("MIT", "MIT License"),
        ("Apache-2.0", "Apache License"),
        ("BSD-3-Clause", "BSD 3-Clause License"),
        ("Proprietary", "Copyright (c)"),
    ],
)
def test_license_file_matches_the_choice(bake: Bake, license_name: str, first_line: str) -> None:
    project = bake({"license": license_name, "author_name": "Ada Lovelace"})
    text = (project / "LICENSE").read_text()
    assert text.lstrip().startswith(first_line)
    if license_name != "Apache-2.0":
        assert "Ada Lovelace" in text
    expected = "LicenseRef-Proprietary" if license_name == "Proprietary" else license_name
    assert tomllib.loads((project / "pyproject.toml").read_text())["project"]["license"] == expected


def test_driver_code_lives_in_one_module(bake: Bake, answers: Answers) -> None:
    project = bake(answers)
    driver = answers.get("mongodb_driver", "pymongo")
    importers = {
        path.relative_to(project).as_posix()
        for path in project.rglob("*.py")
        if "import motor" in path.read_text()
        or "from motor" in path.read_text()
        or "from pymongo import AsyncMongoClient" in path.read_text()
        or "pymongo.asynchronous" in path.read_text()
    }
    package = project.name.replace("-", "_")
    assert importers == {f"src/{package}/database.py"}
    database = (project / "src" / package / "database.py").read_text()
    assert ("motor" in database) is (driver == "motor")


def _assignments(module: ast.Module) -> dict[str, ast.expr]:
    """Module-level `NAME = value` and `NAME: type = value`."""
    found = {}
    for node in module.body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        else:
            continue
        found.update({t.id: node.value for t in targets if isinstance(t, ast.Name)})
    return found


def test_every_resource_is_declared_once_with_its_names_and_tested(
    bake: Bake, answers: Answers
) -> None:
    """resources.py declares each resource of the answer, in order; the tests list each."""
    project = bake(answers)
    package = project / "src" / project.name.replace("-", "_")
    resources = parse_resources({**DEFAULTS, **answers}["resources"])
    module = ast.parse((package / "resources.py").read_text())
    assigned = _assignments(module)
    classes = {node.name for node in module.body if isinstance(node, ast.ClassDef)}

    declared = assigned["RESOURCES"]
    assert isinstance(declared, ast.Tuple)
    assert [ast.unparse(item) for item in declared.elts] == [r.constant for r in resources]
    for resource in resources:
        call = assigned[resource.constant]
        assert isinstance(call, ast.Call)
        keywords = {k.arg: ast.unparse(k.value) for k in call.keywords}
        assert keywords["name"] == repr(resource.collection)
        assert keywords["singular"] == repr(resource.singular)
        for model in ("create", "replace", "patch", "public", "query"):
            assert keywords[model] == resource.pascal + model.capitalize()
            assert keywords[model] in classes

    support = _assignments(ast.parse((project / "tests" / "support.py").read_text()))
    cases = support["CASES"]
    assert isinstance(cases, ast.List)
    assert [ast.unparse(item) for item in cases.elts] == [r.constant for r in resources]
