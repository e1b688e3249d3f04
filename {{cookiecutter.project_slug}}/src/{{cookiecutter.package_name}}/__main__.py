"""Entry point of the service.

Both `python -m {{ cookiecutter.package_name }}`
and the `{{ cookiecutter.project_slug }}` command run `cli()`.
{%- if cookiecutter.auth == "api-key" %}
With `new-api-key --name NAME` they mint an API key instead.
{%- endif %}
"""

from __future__ import annotations

{% if cookiecutter.auth == "api-key" -%}
import argparse
{% endif -%}
{% if cookiecutter.metrics -%}
import atexit
import os
import shutil
{% endif -%}
import sys
{%- if cookiecutter.metrics %}
import tempfile
from pathlib import Path
{%- endif %}

{% if cookiecutter.auth == "api-key" -%}
from {{ cookiecutter.package_name }}.api_keys import ApiKey, new_api_key
from {{ cookiecutter.package_name }}.auth import scopes_of
{% endif -%}
from {{ cookiecutter.package_name }}.logs import configure_logging
from {{ cookiecutter.package_name }}.settings import ConfigError, load_settings

# The service's other modules are imported once the settings are read{% if cookiecutter.metrics %}: prometheus-client
# must not be imported before PROMETHEUS_MULTIPROC_DIR is set{% endif %}.


def main() -> int:
{%- if cookiecutter.auth == "api-key" %}
    if sys.argv[1:2] == ["new-api-key"]:
        return mint(sys.argv[2:])
{%- endif %}
    try:
        settings = load_settings()
{%- if cookiecutter.metrics %}
        if settings.metrics_port and (
            settings.workers > 1 or "PROMETHEUS_MULTIPROC_DIR" in os.environ
        ):
            share_metrics_between_processes()
{%- endif %}
    except ConfigError as error:
        print(f"{{ cookiecutter.project_slug }}: {error}", file=sys.stderr)
        return 2
    configure_logging(settings)
    from {{ cookiecutter.package_name }}.server import run

    return run(settings)
{%- if cookiecutter.metrics %}


def share_metrics_between_processes() -> None:
    """Let every worker record its metrics in PROMETHEUS_MULTIPROC_DIR, emptied first.

    Without that variable, a directory is made for this run and removed at exit.
    """
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        try:
            Path(given).mkdir(parents=True, exist_ok=True)
            for stale in Path(given).glob("*.db"):  # from a previous run: they would add up
                stale.unlink()
        except OSError as error:
            raise ConfigError(f"invalid configuration: PROMETHEUS_MULTIPROC_DIR: {error}") from None
        return
    directory = tempfile.mkdtemp(prefix="{{ cookiecutter.project_slug }}-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
{%- endif %}
{%- if cookiecutter.auth == "api-key" %}


def mint(arguments: list[str]) -> int:
    """Print a new API key on the first line and its `API_KEYS` entry on the second."""
    from {{ cookiecutter.package_name }}.resources import RESOURCES

    scopes = scopes_of([resource.name for resource in RESOURCES])
    parser = argparse.ArgumentParser(
        prog="{{ cookiecutter.project_slug }} new-api-key",
        description="Mint an API key. Only its digest goes into API_KEYS; keep the key secret.",
    )
    parser.add_argument(
        "--name", required=True, type=_key_name, help="who holds the key; shown in the access log"
    )
    parser.add_argument(
        "--scope",
        action="append",
        choices=scopes,
        help="a scope the key grants; repeat for several (default: every scope)",
    )
    options = parser.parse_args(arguments)
    key, entry = new_api_key(options.name, options.scope or scopes)
    print(key)
    print(entry)
    return 0


def _key_name(value: str) -> str:
    try:
        ApiKey.model_validate({"name": value, "sha256": "0" * 64})
    except ValueError:
        raise argparse.ArgumentTypeError(
            "use 1 to 100 letters, digits and . _ @ -, e.g. ci-bot"
        ) from None
    return value
{%- endif %}


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    cli()
