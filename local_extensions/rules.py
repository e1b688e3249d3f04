"""Rules every answer must satisfy before a project is generated.

The pre-generation hook calls `problems(context)`; the template's tests call it and the
individual checks directly. Each problem is one line naming the variable, the value
and the rule it breaks.
"""

from __future__ import annotations

import keyword
import re
import sys
from collections.abc import Callable, Iterator, Mapping

from local_extensions.resources import check_resources

# Modules the generated project imports (or that would shadow them on sys.path).
_PROJECT_IMPORTS = frozenset(
    {
        "bson",
        "conftest",
        "email_validator",
        "gridfs",
        "motor",
        "pydantic",
        "pydantic_core",
        "pymongo",
        "pytest",
        "setuptools",
        "test",
        "tests",
        "tornado",
        "typing_extensions",
    }
)
RESERVED_PACKAGE_NAMES = _PROJECT_IMPORTS | frozenset(sys.stdlib_module_names)

# Long enough for any real name, short enough that generated lines stay within 100 columns.
PACKAGE_MAX_LENGTH = 40
SLUG_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
PACKAGE_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
DATABASE_FORBIDDEN = set('/\\. "$*<>:|?')
DATABASE_MAX_BYTES = 63
# MongoDB limits a namespace (`<database>.<collection>`) to 255 bytes; database and
# collection names are short enough (63 and 32) that no answer comes near it.
CHOICES = {
    "mongodb_driver": ("pymongo", "motor"),
    "auth": ("api-key", "jwt", "none"),
    "python_version": ("3.11", "3.12", "3.13", "3.14"),
    "ci": ("github", "none"),
    "license": ("MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary"),
}


def check_project_slug(value: str) -> str | None:
    if not SLUG_RE.match(value):
        return (
            "must be lowercase letters, digits and single hyphens, starting with a letter "
            "(e.g. 'college-api')"
        )
    return None


def check_package_name(value: str) -> str | None:
    if not value.isidentifier():
        return "must be a valid Python identifier (letters, digits, underscores)"
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        return "is a Python keyword"
    if not PACKAGE_RE.match(value):
        return "must be lowercase ASCII (PEP 8 package name)"
    if value in RESERVED_PACKAGE_NAMES:
        return "would shadow a module the project imports (standard library or a dependency)"
    if len(value) > PACKAGE_MAX_LENGTH:
        return f"must be at most {PACKAGE_MAX_LENGTH} characters long"
    return None


def check_database_name(value: str) -> str | None:
    if not value:
        return "must not be empty"
    bad = sorted(set(value) & DATABASE_FORBIDDEN) + (["NUL"] if "\0" in value else [])
    if bad:
        return (
            'must not contain any of / \\ . space " $ * < > : | ? or NUL (found '
            + " ".join(repr(c) for c in bad)
            + ")"
        )
    if len(value.encode()) > DATABASE_MAX_BYTES:
        return f"must be at most {DATABASE_MAX_BYTES} bytes long"
    return None


def check_author_email(value: str) -> str | None:
    if not EMAIL_RE.match(value):
        return "must be an email address like 'jane@example.com'"
    return None


def check_copyright_year(value: str) -> str | None:
    if not re.fullmatch(r"(19[7-9][0-9]|2[0-9]{3})", value):
        return "must be a year of four digits, 1970 or later (e.g. '2026')"
    return None


def check_text(value: str) -> str | None:
    if not value.strip():
        return "must not be empty"
    if any(c in value for c in '"\\\n\r'):
        return "must not contain quotes, backslashes or line breaks"
    return None


def check_bool(value: object) -> str | None:
    if not isinstance(value, bool):
        return "must be true or false"
    return None


def _checks(context: Mapping[str, object]) -> Iterator[tuple[str, Callable[[], str | None]]]:
    """Pairs of (variable, deferred check) in prompt order."""
    text = {key: str(value) for key, value in context.items()}
    yield "project_name", lambda: check_text(text["project_name"])
    yield "project_slug", lambda: check_project_slug(text["project_slug"])
    yield "package_name", lambda: check_package_name(text["package_name"])
    yield "description", lambda: check_text(text["description"])
    yield "author_name", lambda: check_text(text["author_name"])
    yield "author_email", lambda: check_author_email(text["author_email"])
    yield "copyright_year", lambda: check_copyright_year(text["copyright_year"])
    yield "database_name", lambda: check_database_name(text["database_name"])
    yield "resources", lambda: check_resources(text["resources"])
    for name, allowed in CHOICES.items():
        yield (
            name,
            lambda allowed=allowed, name=name: (
                None if text[name] in allowed else "must be one of " + ", ".join(allowed)
            ),
        )
    for name in ("metrics", "opentelemetry", "use_docker", "kubernetes"):
        yield name, lambda name=name: check_bool(context[name])


def problems(context: Mapping[str, object]) -> list[str]:
    """One message per answer that breaks a rule, in prompt order; empty when all is well."""
    found = []
    for name, check in _checks(context):
        problem = check()
        if problem:
            found.append(f"{name} {context[name]!r} is invalid: {problem}")
    if context.get("kubernetes") is True and context.get("use_docker") is False:
        found.append(
            "kubernetes True is invalid: needs use_docker, since the manifests run the image "
            "the Dockerfile builds"
        )
    return found
