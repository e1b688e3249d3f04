"""The {{ cookiecutter.resource_name }} bodies the API accepts and returns, validated by pydantic."""

from __future__ import annotations

{{ cookiecutter.fields | model_imports }}

{%- set fields = cookiecutter.fields | parse_fields %}
{%- set types = cookiecutter.fields | types_used %}
{%- set default_max_length = 1000 %}

Document = dict[str, Any]
{%- if "datetime" in types %}


def _utc_milliseconds(value: datetime) -> datetime:
    """MongoDB keeps UTC milliseconds: normalise so what we return is what we store."""
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc_milliseconds)]
{%- endif %}
{%- if "url" in types %}
Url = Annotated[HttpUrl, PlainSerializer(str, return_type=str)]
{%- endif %}
{%- if "str" in types %}
Text = Annotated[str, StringConstraints(max_length={{ default_max_length }})]
{%- endif %}
{%- for field in fields if field.alias %}
{{ field.alias_definition }}
{%- endfor %}

DECIMAL_FIELDS: tuple[str, ...] = {{ cookiecutter.fields | names_where("scalar", "decimal") | py_tuple }}


def exact_decimals(body: str) -> str:
    """Rewrite JSON numbers in decimal fields as strings, so none is read through a float."""
    if not DECIMAL_FIELDS:
        return body
    try:
        data = json.loads(body, parse_float=Decimal)
    except ValueError:
        return body  # validation reports the malformed JSON
    if not isinstance(data, dict):
        return body
    exact = {key: _json_value(value, key in DECIMAL_FIELDS) for key, value in data.items()}
    return json.dumps(exact)


def _json_value(value: Any, exact: bool) -> Any:
    if isinstance(value, list):
        return [_json_value(item, exact) for item in value]
    if isinstance(value, dict):
        return {key: _json_value(item, exact=False) for key, item in value.items()}
    if isinstance(value, Decimal):
        return str(value) if exact else float(value)
    if exact and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


class _RequestBody(BaseModel):
    """Unknown keys are refused and nothing is coerced: `"3.5"` is not a number."""

    model_config = ConfigDict(extra="forbid", strict=True)


class {{ cookiecutter.resource_name | pascal }}Create(_RequestBody):
    """POST body: a new {{ cookiecutter.resource_name }}."""
{% for field in fields %}
    {{ field.name }}: {{ field.body_field }}
{%- endfor %}


class {{ cookiecutter.resource_name | pascal }}Replace({{ cookiecutter.resource_name | pascal }}Create):
    """PUT body: the whole {{ cookiecutter.resource_name }}, validated exactly as on create."""


class {{ cookiecutter.resource_name | pascal }}Patch(_RequestBody):
    """PATCH body: only the fields to change; required fields may not be set to null."""
{% for field in fields %}
    {{ field.name }}: {{ field.annotation }} | None = None
{%- endfor %}
{%- set not_null = cookiecutter.fields | names_where("optional", False) %}
{%- if not_null %}

    @field_validator(
{%- for name in not_null %}
        "{{ name }}",
{%- endfor %}
    )
    @classmethod
    def _only_optional_fields_may_be_null(cls, value: object) -> object:
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
{%- for field in fields %}
    {{ field.name }}: {{ field.public_annotation }}{% if field.optional %} = None{% endif %}
{%- endfor %}

    @classmethod
    def from_document(cls, document: Document) -> Self:
        return cls.model_validate({**document, "id": str(document["_id"])})


class {{ cookiecutter.resource_name | pascal }}Query(BaseModel):
    """List query parameters: paging, sorting, and an exact-match filter per field."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=1000)
    after: str | None = None
    sort: Literal[
{%- for option in cookiecutter.fields | sort_options %}
        "{{ option }}",
{%- endfor %}
    ] = "id"
{%- for field in fields %}
    {{ field.name }}: {{ field.filter_annotation }} | None = None
{%- endfor %}

    def filters(self) -> Document:
        return self.model_dump(exclude_none=True, exclude={"limit", "after", "sort"})
