"""Remove what the chosen options turn off, then print the next steps. Offline and fast."""

import json
import shutil
from pathlib import Path

# Jinja's tojson escapes single quotes, so the raw literal holds any answer safely.
ANSWERS = json.loads(r'{{ cookiecutter | tojson }}')
PROJECT = Path.cwd()
# Whether any resource has a `ref(...)` field, as the template's Jinja extension parses it.
USES_REFERENCES = "{{ 'ref' in (cookiecutter.resources | parse_resources | types_used) }}" == "True"


def remove(*relative_paths: str) -> None:
    for relative in relative_paths:
        path = PROJECT / relative
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def remove_empty(relative: str) -> None:
    path = PROJECT / relative
    if path.is_dir() and not any(path.iterdir()):
        path.rmdir()


def remove_docker_files() -> None:
    remove("Dockerfile", ".dockerignore", "compose.yaml")


def remove_kubernetes() -> None:
    remove("deploy/kubernetes")


def remove_github_ci() -> None:
    remove(".github")


def remove_reference_tests() -> None:
    remove("tests/test_references.py")


def remove_auth(keep: str | None = None) -> None:
    """Drop the authentication modules and tests, but those of the mode `keep`."""
    modes = {
        "api-key": ("src/{package}/api_keys.py", "tests/test_auth_api_key.py"),
        "jwt": ("src/{package}/jwks.py", "tests/test_auth_jwt.py"),
    }
    for mode, paths in modes.items():
        if mode != keep:
            remove(*(path.format(package=ANSWERS["package_name"]) for path in paths))
    if keep is None:
        remove(f"src/{ANSWERS['package_name']}/auth.py", "tests/test_auth.py")


def remove_metrics() -> None:
    package = ANSWERS["package_name"]
    remove(f"src/{package}/metrics.py", "tests/test_metrics.py", "deploy/prometheus")


def remove_tracing() -> None:
    remove(f"src/{ANSWERS['package_name']}/tracing.py", "tests/test_tracing.py")


def print_next_steps() -> None:
    package = ANSWERS["package_name"]
    mongodb = (
        "docker compose up -d mongodb"
        if ANSWERS["use_docker"]
        else "docker run -d -p 127.0.0.1:27017:27017 mongo:8.0   # or export MONGODB_URI=..."
    )
    credentials = {
        "api-key": [
            f"uv run python -m {package} new-api-key --name dev > .api-key   # line 1: the key",
            'echo "API_KEYS=[$(tail -n 1 .api-key)]" >> .env',
        ],
        "jwt": ["cp .env.example .env   # then set JWT_JWKS_URL, JWT_ISSUER, JWT_AUDIENCE"],
        "none": [],
    }[ANSWERS["auth"]]
    steps = "".join(f"    {step}\n" for step in credentials)
    print(
        f"""
Created {PROJECT.name}/. Next steps:

    cd {PROJECT.name}
    uv sync      # the environment, and uv.lock: commit it
    {mongodb}
{steps}    uv run python -m {package}      # serves on http://127.0.0.1:8000 (docs at /docs)
    make test
"""
    )


def main() -> None:
    if not ANSWERS["use_docker"]:
        remove_docker_files()
    if not ANSWERS["kubernetes"]:
        remove_kubernetes()
    if ANSWERS["ci"] == "none":
        remove_github_ci()
    if not USES_REFERENCES:
        remove_reference_tests()
    remove_auth(keep=None if ANSWERS["auth"] == "none" else ANSWERS["auth"])
    if not ANSWERS["metrics"]:
        remove_metrics()
    if not ANSWERS["opentelemetry"]:
        remove_tracing()
    remove_empty("deploy")
    print_next_steps()


if __name__ == "__main__":
    main()
