"""The {{ cookiecutter.resource_name }} bodies the API accepts and returns, validated by pydantic."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Document = dict[str, Any]


class _RequestBody(BaseModel):
    """Unknown keys are refused and nothing is coerced: `"3.5"` is not a number."""

    model_config = ConfigDict(extra="forbid", strict=True)


class {{ cookiecutter.resource_name | pascal }}Create(_RequestBody):
    """POST body: a new {{ cookiecutter.resource_name }}."""
{% for field in cookiecutter.fields | parse_fields %}
    {{ field.name }}: {{ field.body_annotation }}{% if field.optional %} = None{% endif %}
{%- endfor %}


class {{ cookiecutter.resource_name | pascal }}Replace({{ cookiecutter.resource_name | pascal }}Create):
    """PUT body: the whole {{ cookiecutter.resource_name }}, validated exactly as on create."""


class {{ cookiecutter.resource_name | pascal }}Patch(_RequestBody):
    """PATCH body: only the fields to change; required fields may not be set to null."""
{% for field in cookiecutter.fields | parse_fields %}
    {{ field.name }}: {{ field.annotation }} | None = None
{%- endfor %}
{%- set required = cookiecutter.fields | required_names %}
{%- if required %}

    @field_validator(
{%- for name in required %}
        "{{ name }}",
{%- endfor %}
    )
    @classmethod
    def _required_fields_are_not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value
{%- endif %}

    def changes(self) -> Document:
        """Only the fields the client sent, ready for `$set`."""
        return self.model_dump(exclude_unset=True)


class {{ cookiecutter.resource_name | pascal }}Public(BaseModel):
    """A stored {{ cookiecutter.resource_name }} as the API returns it: `_id` becomes `id`."""

    model_config = ConfigDict(extra="ignore")

    id: Annotated[str, Field(pattern="^[0-9a-f]{24}$")]
{%- for field in cookiecutter.fields | parse_fields %}
    {{ field.name }}: {{ field.public_annotation }}{% if field.optional %} = None{% endif %}
{%- endfor %}

    @classmethod
    def from_document(cls, document: Document) -> Self:
        return cls.model_validate({**document, "id": str(document["_id"])})


class {{ cookiecutter.resource_name | pascal }}Query(BaseModel):
    """`GET /{{ cookiecutter.collection_name }}` query parameters: paging plus an exact-match filter per field."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=1000)
    after: str | None = None
{%- for field in cookiecutter.fields | parse_fields %}
    {{ field.name }}: {{ field.annotation }} | None = None
{%- endfor %}

    def filters(self) -> Document:
        return self.model_dump(exclude_none=True, exclude={"limit", "after"})
