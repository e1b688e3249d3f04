"""Entry point of the service.

Both `python -m {{ cookiecutter.package_name }}`
and the `{{ cookiecutter.project_slug }}` command run `cli()`.
"""

from __future__ import annotations

import logging
import sys

from {{ cookiecutter.package_name }}.server import run
from {{ cookiecutter.package_name }}.settings import ConfigError, load_settings


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"{{ cookiecutter.project_slug }}: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    return run(settings)


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    cli()
