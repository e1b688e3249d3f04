"""The template's own Python: Jinja filters for cookiecutter and the rules the hooks enforce.

Cookiecutter loads `ServiceExtension` through `_extensions` in cookiecutter.json; the
pre-generation hook imports `rules`; the template's tests import both.
"""

from __future__ import annotations

from jinja2 import Environment
from jinja2.ext import Extension

from . import naming


class ServiceExtension(Extension):
    """Filters the prompts and the templates use to derive names from the answers."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["singular"] = naming.singular
        environment.filters["pascal"] = naming.pascal
        environment.filters["title_words"] = naming.title
        environment.filters["python_versions"] = supported_pythons


NEWEST_PYTHON = (3, 14)


def supported_pythons(minimum: str) -> list[str]:
    """`"3.12"` -> `["3.12", "3.13", "3.14"]`: the versions a generated project supports."""
    major, minor = (int(part) for part in minimum.split("."))
    return [f"{major}.{m}" for m in range(minor, NEWEST_PYTHON[1] + 1)]
