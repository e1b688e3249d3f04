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


def remove_docker_files() -> None:
    remove("Dockerfile", ".dockerignore", "compose.yaml")


def remove_github_ci() -> None:
    remove(".github")


def remove_reference_tests() -> None:
    remove("tests/test_references.py")


def print_next_steps() -> None:
    mongodb = (
        "docker compose up -d mongodb"
        if ANSWERS["use_docker"]
        else "docker run -d -p 27017:27017 mongo:8   # or export MONGODB_URI=..."
    )
    print(
        f"""
Created {PROJECT.name}/. Next steps:

    cd {PROJECT.name}
    python -m venv .venv && . .venv/bin/activate
    pip install -e '.[dev]'
    {mongodb}
    python -m {ANSWERS["package_name"]}      # serves on http://127.0.0.1:8000
    pytest
"""
    )


def main() -> None:
    if not ANSWERS["use_docker"]:
        remove_docker_files()
    if ANSWERS["ci"] == "none":
        remove_github_ci()
    if not USES_REFERENCES:
        remove_reference_tests()
    print_next_steps()


if __name__ == "__main__":
    main()
