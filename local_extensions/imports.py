"""The import blocks of the generated models.py and resources.py, laid out as ruff would.

What a module imports depends on the field types the answer uses; writing the block here
keeps `{% if %}` chains out of the templates and unused imports out of the projects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .resources import Resource

LINE_LENGTH = 100  # the generated project's ruff line-length


def types_used(resources: Iterable[Resource]) -> set[str]:
    """Every scalar type any resource uses, plus "enum" and "list" when present."""
    return {kind for resource in resources for kind in resource.types}


def query_forms(resources: Iterable[Resource]) -> set[str]:
    """The QUERY_FORMS entries some filter uses."""
    return {field.query_form for r in resources for field in r.fields if field.query_form}


def from_import(module: str, names: Iterable[str]) -> str:
    """One `from module import ...`, wrapped the way ruff format wraps it."""
    ordered = sorted(set(names), key=_isort_key)
    line = f"from {module} import {', '.join(ordered)}"
    if len(line) <= LINE_LENGTH:
        return line
    return f"from {module} import (\n" + "".join(f"    {name},\n" for name in ordered) + ")"


def _isort_key(name: str) -> tuple[int, str]:
    """ruff's default order inside an import: CONSTANTS, Classes, then functions."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name.lower()


def _block(modules: dict[str, set[str]], plain: Iterable[str] = ()) -> str:
    lines = [f"import {module}" for module in sorted(plain)]
    lines += [from_import(module, names) for module, names in sorted(modules.items()) if names]
    return "\n".join(lines)


def models_imports(resources: list[Resource]) -> str:
    """The import block of the generated models.py."""
    used = types_used(resources)
    stdlib: dict[str, set[str]] = {
        "dataclasses": {"dataclass"},
        "functools": {"cached_property"},
        "typing": {"Annotated", "Any", "ClassVar", "Self"},
    }
    pydantic = {
        "BaseModel", "ConfigDict", "Field", "TypeAdapter", "ValidationInfo", "field_validator",
    }  # fmt: skip
    third_party: dict[str, set[str]] = {"bson": {"ObjectId"}, "pydantic": pydantic}
    if "int" in used:
        pydantic.add("BeforeValidator")
    if "decimal" in used:
        stdlib["decimal"] = {"Decimal", "DecimalException"}
        pydantic.update({"AfterValidator", "BeforeValidator"})
        third_party["bson"].add("Decimal128")
    if "ref" in used:
        pydantic.update({"PlainSerializer", "PlainValidator", "WithJsonSchema"})
    if "email" in used:
        pydantic.update({"AfterValidator", "EmailStr"})
    if "datetime" in used:
        stdlib["datetime"] = {"UTC", "datetime"}
        pydantic.update({"AfterValidator", "AwareDatetime"})
    if "str" in used:
        pydantic.add("StringConstraints")
    if "url" in used:
        pydantic.update({"HttpUrl", "PlainSerializer"})
    return _block(stdlib, plain=("json", "re")) + "\n\n" + _block(third_party)


# Names resources.py may use, by module; each is imported when the module's text names it.
_CANDIDATES = {
    "datetime": ("date", "datetime"),
    "decimal": ("Decimal",),
    "typing": ("Annotated", "ClassVar", "Literal"),
    "uuid": ("UUID",),
    "pydantic": ("AfterValidator", "BeforeValidator", "Field", "StringConstraints"),
    "models": (
        "INT64_MAX", "INT64_MIN", "Email", "Int64", "Reference", "StorableDecimal", "Text",
        "Url", "UtcDatetime", "decimal_strings", "decimal_text", "fits_decimal128",
        "whole_number",
    ),
}  # fmt: skip
_BASES = ("ListParameters", "PatchBody", "PublicBody", "RequestBody", "Resource")


def resources_imports(resources: list[Resource], package: str) -> str:
    """The import block of the generated resources.py: what its annotations name."""
    text = "\n".join(
        piece
        for resource in resources
        for field in resource.fields
        for piece in (
            field.alias_definition if field.alias else "",
            field.body_field,
            field.public_annotation,
            field.filter_annotation,
        )
    )
    words = set(re.findall(r"\w+", text)) | {"Literal"}  # every query has a `sort` Literal
    if any(resource.forms for resource in resources):
        words.add("ClassVar")
    found = {
        module: {name for name in names if name in words} for module, names in _CANDIDATES.items()
    }
    models = found.pop("models") | set(_BASES)
    stdlib = {module: names for module, names in found.items() if module != "pydantic"}
    third_party = {"pydantic": found["pydantic"]}
    blocks = [_block(stdlib), _block(third_party), from_import(f"{package}.models", models)]
    return "\n\n".join(block for block in blocks if block)
