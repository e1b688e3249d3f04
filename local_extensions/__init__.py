"""The template's own Python: Jinja filters for cookiecutter and the rules the hooks enforce.

Cookiecutter loads `ServiceExtension` through `_extensions` in cookiecutter.json; the
pre-generation hook imports `rules`; the template's tests import both.
"""

from __future__ import annotations

from jinja2 import Environment
from jinja2.ext import Extension

from . import naming
from .fields import example_json, parse_fields


class ServiceExtension(Extension):
    """Filters the prompts and the templates use to derive names from the answers."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["singular"] = naming.singular
        environment.filters["pascal"] = naming.pascal
        environment.filters["title_words"] = naming.title
        environment.filters["python_versions"] = supported_pythons
        environment.filters["parse_fields"] = parse_fields
        environment.filters["required_names"] = required_names
        environment.filters["path_parameter"] = path_parameter
        environment.filters["example_json"] = example_json


NEWEST_PYTHON = (3, 14)


def supported_pythons(minimum: str) -> list[str]:
    """`"3.12"` -> `["3.12", "3.13", "3.14"]`: the versions a generated project supports."""
    major, minor = (int(part) for part in minimum.split("."))
    return [f"{major}.{m}" for m in range(minor, NEWEST_PYTHON[1] + 1)]


def required_names(spec: str) -> list[str]:
    """Names of the fields a document must always have."""
    return [field.name for field in parse_fields(spec) if not field.optional]


def path_parameter(resource: str) -> str:
    """`student` -> `{student_id}`, the OpenAPI path template of one item."""
    return "{" + resource + "_id}"
