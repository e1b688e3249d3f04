"""The `fields` prompt: parse `name:type` specs into `Field`s, with precise errors.

Grammar (whitespace around tokens is ignored):

    spec   := field ("," field)*
    field  := name ":" type ["?"]
    name   := [a-z][a-z0-9_]*          (not a keyword, not reserved)
    type   := "str" | "int" | "float" | "bool"

`?` makes the field optional: it may be absent or null.
"""

from __future__ import annotations

import json
import keyword
import re
from dataclasses import dataclass

SCALAR_TYPES = ("str", "int", "float", "bool")
# Names the generated API already uses for itself (document id, list query parameters).
RESERVED_NAMES = frozenset({"id", "_id", "limit", "after", "sort"})
DEFAULT_MAX_LENGTH = 1000

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_FIELD_RE = re.compile(r"^(?P<name>[^:]*):(?P<type>[^?]*)(?P<optional>\?)?$")


class FieldSpecError(ValueError):
    """A `fields` answer that does not parse; the message names the offending token."""


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    optional: bool = False

    @property
    def annotation(self) -> str:
        """The pydantic annotation of a request body value (never None: see `body_annotation`)."""
        if self.type == "str":
            return f"Annotated[str, StringConstraints(max_length={DEFAULT_MAX_LENGTH})]"
        return self.type

    @property
    def body_annotation(self) -> str:
        return f"{self.annotation} | None" if self.optional else self.annotation

    @property
    def public_annotation(self) -> str:
        return f"{self.type} | None" if self.optional else self.type

    @property
    def json_type(self) -> str:
        return {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}[self.type]

    @property
    def example(self) -> object:
        """A plausible JSON value for documentation."""
        return {"str": f"{self.name} 1", "int": 1, "float": 1.5, "bool": True}[self.type]

    def sample(self, n: str) -> str:
        """A Python expression of a valid value that differs for each integer `n`."""
        return {
            "str": f'f"{self.name}-{{{n}}}"',
            "int": f"{n} * 3 + 1",
            "float": f"{n} + 0.5",
            "bool": f"{n} % 2 == 0",
        }[self.type]

    @property
    def bad_filter(self) -> str:
        """A Python expression of a query-string value the field's filter must refuse."""
        if self.type == "str":
            return f'"x" * {DEFAULT_MAX_LENGTH + 1}'
        return '"not-a-value"'

    @property
    def wrong_type(self) -> str:
        """A JSON-able Python literal of the wrong type; strict validation must refuse it."""
        return {"str": "12345", "int": '"12"', "float": '"3.5"', "bool": '"yes"'}[self.type]


def _problem(token: str, expected: str) -> FieldSpecError:
    return FieldSpecError(f"{token.strip()!r}: {expected}")


def parse_field(token: str) -> Field:
    match = _FIELD_RE.match(token.strip())
    if not match:
        raise _problem(token, "expected name:type, e.g. 'gpa:float' or 'nickname:str?'")
    name = match["name"].strip()
    type_ = match["type"].strip()
    if name in RESERVED_NAMES:
        raise _problem(
            token, f"name {name!r} is reserved by the API ({', '.join(sorted(RESERVED_NAMES))})"
        )
    if name.startswith("$") or "." in name:
        raise _problem(token, f"name {name!r} must not start with '$' or contain '.'")
    if not _NAME_RE.match(name):
        raise _problem(
            token,
            f"name {name!r} must be a lowercase identifier (a-z, 0-9, _; starting with a letter)",
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise _problem(token, f"name {name!r} is a Python keyword")
    if type_ not in SCALAR_TYPES:
        raise _problem(token, f"unknown type {type_!r}; expected one of {', '.join(SCALAR_TYPES)}")
    return Field(name=name, type=type_, optional=bool(match["optional"]))


def parse_fields(spec: str) -> list[Field]:
    """Parse a whole `fields` answer; raise `FieldSpecError` naming the first bad token."""
    if not spec.strip():
        raise FieldSpecError("expected at least one field, e.g. 'name:str, gpa:float'")
    fields: list[Field] = []
    for token in spec.split(","):
        if not token.strip():
            raise FieldSpecError("empty field between commas")
        field = parse_field(token)
        if any(existing.name == field.name for existing in fields):
            raise _problem(token, f"duplicate field name {field.name!r}")
        fields.append(field)
    return fields


def check_fields(spec: str) -> str | None:
    """The rule the pre-generation hook applies: None, or what is wrong."""
    try:
        parse_fields(spec)
    except FieldSpecError as error:
        return str(error)
    return None


def example_json(spec: str, first_only: bool = False) -> str:
    """A JSON body for the README's curl examples."""
    fields = parse_fields(spec)[:1] if first_only else parse_fields(spec)
    return json.dumps({field.name: field.example for field in fields})
