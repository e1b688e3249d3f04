"""`python -m {{ cookiecutter.package_name }}` and the `{{ cookiecutter.project_slug }}` command."""

from __future__ import annotations

import asyncio
import logging
import sys

from {{ cookiecutter.package_name }}.server import serve
from {{ cookiecutter.package_name }}.settings import ConfigError, load_settings


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"{{ cookiecutter.project_slug }}: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    asyncio.run(serve(settings))
    return 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
