"""The template's own Python: Jinja filters for cookiecutter and the rules the hooks enforce.

Cookiecutter loads `ServiceExtension` through `_extensions` in cookiecutter.json; the
pre-generation hook imports `rules`; the template's tests import both.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension

from . import naming
from .fields import example_json, model_imports, parse_fields, sort_options, types_used


class ServiceExtension(Extension):
    """Filters the prompts and the templates use to derive names from the answers."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        # Absolute, unlike `_repo_dir` after `cookiecutter .`; hooks run elsewhere and need it.
        environment.globals["template_dir"] = str(Path(__file__).resolve().parent.parent)
        environment.filters["singular"] = naming.singular
        environment.filters["pascal"] = naming.pascal
        environment.filters["python_versions"] = supported_pythons
        environment.filters["parse_fields"] = parse_fields
        environment.filters["path_parameter"] = path_parameter
        environment.filters["example_json"] = example_json
        environment.filters["model_imports"] = model_imports
        environment.filters["sort_options"] = sort_options
        environment.filters["types_used"] = types_used
        environment.filters["py_tuple"] = py_tuple
        environment.filters["py_list"] = py_list
        environment.filters["names_where"] = names_where


NEWEST_PYTHON = (3, 14)


def supported_pythons(minimum: str) -> list[str]:
    """`"3.12"` -> `["3.12", "3.13", "3.14"]`: the versions a generated project supports."""
    major, minor = (int(part) for part in minimum.split("."))
    return [f"{major}.{m}" for m in range(minor, NEWEST_PYTHON[1] + 1)]


def path_parameter(resource: str) -> str:
    """`student` -> `{student_id}`, the OpenAPI path template of one item."""
    return "{" + resource + "_id}"


def names_where(spec: str, attribute: str | None = None, value: object = True) -> list[str]:
    """Names of the fields whose `attribute` equals `value` (all fields without one)."""
    return [
        field.name
        for field in parse_fields(spec)
        if attribute is None or getattr(field, attribute) == value
    ]


def _literal(names: list[str], brackets: str, room: int) -> str:
    """Strings in `brackets`, laid out so that ruff format keeps them as they are.

    One line when it surely fits in `room` characters; otherwise one item a line with a
    trailing comma, which ruff never joins.
    """
    opening, closing = brackets
    items = [f'"{name}"' for name in names]
    single_comma = "," if opening == "(" and len(items) == 1 else ""
    one_line = opening + ", ".join(items) + single_comma + closing
    if len(one_line) <= room:
        return one_line
    return opening + "\n" + "".join(f"    {item},\n" for item in items) + closing


def py_tuple(names: list[str], room: int = 60) -> str:
    return _literal(list(names), "()", room)


def py_list(names: list[str], room: int = 60) -> str:
    return _literal(list(names), "[]", room)
