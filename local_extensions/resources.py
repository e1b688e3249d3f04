"""The `resources` prompt: every collection the service serves, with its fields.

    resources := resource (";" resource)*
    resource  := collection ["(" singular ")"] ":" fields     fields: see fields.py

For example `students: name:str, gpa:float?; people(person): name:str, tutor:ref(people)?`.
The singular is derived (`students` -> `student`) unless given in parentheses. A field of
type `ref(<collection>)` or `list[ref(<collection>)]` holds ids of another resource (or of
its own), which must be in the same answer.

Every error names the resource, the offending token and the rule.
"""

from __future__ import annotations

import dataclasses
import keyword
import re
from dataclasses import dataclass
from functools import cached_property

from . import naming
from .fields import Field, FieldSpecError, parse_fields

# Paths the service serves itself, which a collection would shadow.
RESERVED_COLLECTIONS = frozenset({"healthz", "readyz", "openapi"})
# Module-level names of the generated resources.py and tests that an upper-cased
# collection name must not take.
RESERVED_CONSTANTS = frozenset({"RESOURCES", "CASES", "INT64_MIN", "INT64_MAX", "OBJECT_ID"})
_HEAD_RE = re.compile(r"^(?P<collection>[^()]*?)\s*(?:\((?P<singular>[^()]*)\))?$")


class ResourceSpecError(ValueError):
    """A `resources` answer that does not parse; the message names resource and token."""


@dataclass(frozen=True)
class Resource:
    collection: str  # e.g. "students": the MongoDB collection and the URL segment
    singular: str  # e.g. "student": class names, messages, the item path parameter
    fields: tuple[Field, ...]

    @property
    def pascal(self) -> str:
        """`course_registration` -> `CourseRegistration`, the prefix of its classes."""
        return naming.pascal(self.singular)

    @property
    def constant(self) -> str:
        """`students` -> `STUDENTS`, the name of its declaration."""
        return self.collection.upper()

    def names_where(self, attribute: str | None = None, value: object = True) -> list[str]:
        """Names of the fields whose `attribute` equals `value` (all fields without one)."""
        return [
            field.name
            for field in self.fields
            if attribute is None or getattr(field, attribute) == value
        ]

    @cached_property
    def types(self) -> frozenset[str]:
        """Every scalar type the resource uses, plus "enum" and "list" when present."""
        return frozenset({f.scalar for f in self.fields} | {f.type for f in self.fields})

    @property
    def sort_fields(self) -> list[str]:
        """What the list can be sorted on: id and every sortable field."""
        return ["id", *self.names_where("sortable")]

    @property
    def sort_options(self) -> list[str]:
        """Values of the list's `sort` parameter: each sort field, both ways."""
        return [option for name in self.sort_fields for option in (name, f"-{name}")]

    @property
    def unique_fields(self) -> list[str]:
        return self.names_where("unique")

    @property
    def optional_fields(self) -> list[str]:
        return self.names_where("optional")

    @property
    def forms(self) -> dict[str, str]:
        """The QUERY_FORMS entry each typed filter must match."""
        return {field.name: field.query_form for field in self.fields if field.query_form}

    @property
    def references(self) -> list[Field]:
        return [field for field in self.fields if field.scalar == "ref"]


def parse_resources(spec: str) -> list[Resource]:
    """Parse a whole `resources` answer; raise `ResourceSpecError` naming the first problem."""
    if not spec.strip():
        raise ResourceSpecError("expected at least one resource, e.g. 'students: name:str'")
    resources: list[Resource] = []
    for position, segment in enumerate(spec.split(";"), start=1):
        if not segment.strip():
            after = f" (after {resources[-1].collection!r})" if resources else ""
            raise ResourceSpecError(
                f"resource {position} is empty{after}: resources are separated by ';', "
                "fields by ','"
            )
        resource = _parse_resource(segment)
        _check_distinct(resource, resources)
        resources.append(resource)
    resources = _distinct_aliases(resources)
    collections = [resource.collection for resource in resources]
    for resource in resources:
        for field in resource.references:
            if field.target not in collections:
                raise _problem(
                    resource.collection,
                    f"{field.spec!r}: ref({field.target}) names no resource of this answer "
                    f"(resources: {', '.join(collections)})",
                )
    return resources


def _distinct_aliases(resources: list[Resource]) -> list[Resource]:
    """Give a field's type alias its resource's name when another resource has a field of
    the same name: `PriceValue` becomes `BookPriceValue`, so each resource keeps its own.

    Where that name would be too long for a line, the resource's position stands in for it
    (`Price2Value`).
    """
    owners: dict[str, int] = {}
    for resource in resources:
        for field in resource.fields:
            if field.alias:
                owners[field.name] = owners.get(field.name, 0) + 1
    renamed = []
    for position, resource in enumerate(resources, start=1):
        fields = []
        for field in resource.fields:
            if field.alias and owners[field.name] > 1:
                stem = resource.pascal + naming.pascal(field.name)
                if len(stem) > ALIAS_STEM_MAX_LENGTH:
                    stem = f"{naming.pascal(field.name)}{position}"
                field = dataclasses.replace(field, alias_stem=stem)
            fields.append(field)
        renamed.append(dataclasses.replace(resource, fields=tuple(fields)))
    seen: dict[str, str] = {}
    for resource in renamed:
        for field in resource.fields:
            if not field.alias:
                continue
            if (first := seen.setdefault(field.alias, resource.collection)) != resource.collection:
                raise _problem(
                    resource.collection,
                    f"{field.spec!r}: its type alias {field.alias} is also one of {first!r}; "
                    "rename the field",
                )
    return renamed


def _parse_resource(segment: str) -> Resource:
    head, colon, body = segment.partition(":")
    match = _HEAD_RE.match(head.strip())
    if not colon or not match or not match["collection"] or " " in match["collection"]:
        raise ResourceSpecError(
            f"{segment.strip()!r}: expected 'collection: fields' or "
            "'collection(singular): fields', e.g. 'people(person): name:str'"
        )
    collection = match["collection"]
    given = match["singular"]
    singular = given.strip() if given is not None else naming.singular(collection)
    if problem := check_name(collection):
        raise _problem(collection, f"collection name {collection!r} {problem}")
    if collection in RESERVED_COLLECTIONS:
        raise _problem(collection, f"/{collection} is a path the service serves itself")
    if collection.upper() in RESERVED_CONSTANTS:
        raise _problem(collection, "the name is taken by the generated code; choose another")
    if problem := check_name(singular):
        hint = "" if given else f"; give one in parentheses, e.g. '{collection}(...)'"
        raise _problem(collection, f"singular {singular!r} {problem}{hint}")
    if singular == collection:
        raise _problem(
            collection,
            f"the singular must differ from the collection name; give it in parentheses, "
            f"e.g. '{collection}({collection}_item): ...'",
        )
    try:
        fields = parse_fields(body)
    except FieldSpecError as error:
        joined = [token for token in body.split(",") if token.count(":") > 1 and "=" not in token]
        hint = (
            f" ({joined[0].strip()!r} looks like another resource: end this one with ';')"
            if joined
            else ""
        )
        raise _problem(collection, f"{error}{hint}") from None
    return Resource(collection=collection, singular=singular, fields=tuple(fields))


def _check_distinct(resource: Resource, earlier: list[Resource]) -> None:
    for other in earlier:
        if resource.collection.lower() == other.collection.lower():
            raise _problem(resource.collection, "the collection name is given twice")
        if resource.singular == other.singular:
            raise _problem(
                resource.collection,
                f"the singular {resource.singular!r} is also that of {other.collection!r}; "
                "give one of them another in parentheses",
            )
        if resource.pascal == other.pascal:
            raise _problem(
                resource.collection,
                f"the singular {resource.singular!r} makes the same class names as "
                f"{other.singular!r} of {other.collection!r} ({resource.pascal}Create, ...); "
                "give one of them another in parentheses",
            )


# Collection names and singulars become class names such as `StudentReplace(StudentCreate)`.
NAME_MAX_LENGTH = 32
# With a field name of at most 32 characters, `    name: <Stem>Value | None = None` fits.
ALIAS_STEM_MAX_LENGTH = 40


def check_name(value: str) -> str | None:
    """Collection names and singulars are URL segments, Python names and MongoDB names."""
    if not value:
        return "must not be empty"
    if len(value) > NAME_MAX_LENGTH:
        return f"must be at most {NAME_MAX_LENGTH} characters long"
    if "$" in value:
        return "must not contain '$' (MongoDB reserves it)"
    if value.startswith("system."):
        return "must not start with 'system.' (MongoDB reserves it)"
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", value):
        return (
            "must be ASCII letters, digits and underscores, not starting with a digit "
            "(it becomes a URL segment and a Python identifier)"
        )
    if keyword.iskeyword(value):
        return "is a Python keyword"
    return None


def check_resources(spec: str) -> str | None:
    """The rule the pre-generation hook applies: None, or what is wrong."""
    try:
        parse_resources(spec)
    except ResourceSpecError as error:
        return str(error)
    return None


def _problem(collection: str, detail: str) -> ResourceSpecError:
    return ResourceSpecError(f"resource {collection!r}: {detail}")
