"""The template's own Python: Jinja filters for cookiecutter and the rules the hooks enforce.

Cookiecutter loads `ServiceExtension` through `_extensions` in cookiecutter.json; the
pre-generation hook imports `rules`; the template's tests import both.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension

from . import naming
from .fields import example_json
from .imports import models_imports, query_forms, resources_imports, types_used
from .resources import parse_resources


class ServiceExtension(Extension):
    """Filters the prompts and the templates use to derive names from the answers."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        # Absolute, unlike `_repo_dir` after `cookiecutter .`; hooks run elsewhere and need it.
        environment.globals["template_dir"] = str(Path(__file__).resolve().parent.parent)
        environment.filters["singular"] = naming.singular
        environment.filters["pascal"] = naming.pascal
        environment.filters["python_versions"] = supported_pythons
        environment.filters["parse_resources"] = parse_resources
        environment.filters["example_json"] = example_json
        environment.filters["models_imports"] = models_imports
        environment.filters["resources_imports"] = resources_imports
        environment.filters["query_forms"] = query_forms
        environment.filters["types_used"] = types_used
        environment.filters["py_tuple"] = py_tuple
        environment.filters["py_list"] = py_list
        environment.filters["py_dict"] = py_dict
        environment.filters["collection_names"] = collection_names


NEWEST_PYTHON = (3, 14)


def collection_names(spec: str, code: bool = False) -> str:
    """`"students, courses and enrollments"`, for prose (in backticks with `code`)."""
    try:
        names = [resource.collection for resource in parse_resources(spec)]
    except ValueError:
        return "its resources"  # the pre-generation hook reports the answer
    if code:
        names = [f"`{name}`" for name in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def supported_pythons(minimum: str) -> list[str]:
    """`"3.12"` -> `["3.12", "3.13", "3.14"]`: the versions a generated project supports."""
    major, minor = (int(part) for part in minimum.split("."))
    return [f"{major}.{m}" for m in range(minor, NEWEST_PYTHON[1] + 1)]


def _literal(items: list[str], brackets: str, room: int, indent: int) -> str:
    """Items in `brackets`, laid out so that ruff format keeps them as they are.

    One line when it surely fits in `room` characters; otherwise one item a line with a
    trailing comma, which ruff never joins. `indent` is the indentation of the first line.
    """
    opening, closing = brackets
    single_comma = "," if opening == "(" and len(items) == 1 else ""
    one_line = opening + ", ".join(items) + single_comma + closing
    if len(one_line) <= room:
        return one_line
    inner = " " * (indent + 4)
    return opening + "\n" + "".join(f"{inner}{item},\n" for item in items) + " " * indent + closing


def py_tuple(names: list[str], room: int = 60, indent: int = 0, quoted: bool = True) -> str:
    return _literal([f'"{name}"' if quoted else name for name in names], "()", room, indent)


def py_list(names: list[str], room: int = 60, indent: int = 0, quoted: bool = True) -> str:
    return _literal([f'"{name}"' if quoted else name for name in names], "[]", room, indent)


def py_dict(pairs: dict[str, str], room: int = 60, indent: int = 0) -> str:
    return _literal([f'"{key}": "{value}"' for key, value in pairs.items()], "{}", room, indent)
