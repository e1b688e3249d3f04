"""The {{ cookiecutter.resource_name }} bodies the API accepts and returns, validated by pydantic."""

from __future__ import annotations

{{ cookiecutter.fields | model_imports }}

from {{ cookiecutter.package_name }}.errors import MalformedBody

{%- set fields = cookiecutter.fields | parse_fields %}
{%- set types = cookiecutter.fields | types_used %}
{%- set default_max_length = 1000 %}

Document = dict[str, Any]
{%- if "datetime" in types %}


def _utc_milliseconds(value: datetime) -> datetime:
    """MongoDB keeps UTC milliseconds: normalise so what we return is what we store."""
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59-01:00 is in the year 10000 in UTC
        raise ValueError("is outside the years 1 to 9999 in UTC") from None
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc_milliseconds)]
{%- endif %}
{%- if "url" in types %}
Url = Annotated[HttpUrl, PlainSerializer(str, return_type=str)]
{%- endif %}
{%- if "str" in types %}
Text = Annotated[str, StringConstraints(max_length={{ default_max_length }})]
{%- endif %}
{%- if "email" in types %}
# email-validator refuses special-use domains (RFC 6761) in any case; the schema says so
# too, spelling out both cases since JSON Schema patterns have no case-insensitive flag.
_SPECIAL_USE_DOMAINS = ("arpa", "invalid", "local", "localhost", "onion", "test")
_SPECIAL_USE = "|".join(
    "".join(f"[{letter.upper()}{letter}]" for letter in name) for name in _SPECIAL_USE_DOMAINS
)
# Addresses are stored lower-cased, so that a unique address is unique in any case.
Email = Annotated[
    EmailStr,
    AfterValidator(str.lower),
    Field(json_schema_extra={"not": {"pattern": f"[.@]({_SPECIAL_USE})$"}}),
]
{%- endif %}
{%- if "int" in types %}
# What BSON can store: MongoDB integers are at most 64 bits.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _whole_number(value: object) -> object:
    """JSON Schema counts 1.0 as an integer, so the API does; 1.5 and "1" are still refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX), BeforeValidator(_whole_number)]
{%- endif %}
{%- if "decimal" in types %}


def _fits_decimal128(value: Decimal) -> Decimal:
    """MongoDB stores Decimal128: refuse here (422) what its codec would refuse later (500)."""
    try:
        Decimal128(value)
    except DecimalException:
        raise ValueError(
            "does not fit a Decimal128: at most 34 significant digits, exponent -6176..6111"
        ) from None
    return value


# A decimal string is written as a JSON number is: Python's Decimal() would also take
# "1_000", " 1" or non-ASCII digits.
DECIMAL_STRING = r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$"


def _decimal_text(value: object) -> object:
    """A decimal from its exact text (the body pre-parse sends numbers as text too)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if not isinstance(value, str):
        return value  # refused by the Decimal validator, with its usual message
    if not re.match(DECIMAL_STRING, value):
        raise ValueError("must be written as a number, e.g. 19.99 or -1.5e3")
    return Decimal(value)


def _decimal_strings(schema: dict[str, Any]) -> None:
    """Say in the JSON schema which strings a decimal field takes."""
    for branch in schema.get("anyOf", []):
        if branch.get("type") == "string":
            branch["pattern"] = DECIMAL_STRING


StorableDecimal = Annotated[
    Decimal,
    Field(json_schema_extra=_decimal_strings),
    BeforeValidator(_decimal_text),
    AfterValidator(_fits_decimal128),
]
{%- endif %}
{%- for field in fields if field.alias %}
{{ field.alias_definition }}
{%- endfor %}

DECIMAL_FIELDS: tuple[str, ...] = {{ cookiecutter.fields | names_where("scalar", "decimal") | py_tuple }}


def json_body(raw: bytes) -> str:
    """The body as JSON text pydantic can validate strictly, after the checks it lacks.

    Refused here: invalid UTF-8, duplicate keys (a parser keeps the last, so
    `{"name": {"$gt": ""}, "name": "a"}` would hide what was sent), NaN and Infinity, and
    nesting deeper than the parser allows. Numbers in decimal fields are rewritten as
    strings, so that none is read through a float.
    """
    try:
        text = raw.decode("utf-8")
        data = json.loads(
            text,
            object_pairs_hook=_without_duplicate_keys,
            parse_constant=_no_constants,
            parse_float=Decimal if DECIMAL_FIELDS else float,
        )
    except UnicodeDecodeError:
        raise MalformedBody("The body is not valid UTF-8.") from None
    except RecursionError:
        raise MalformedBody("The body is nested too deeply.") from None
    except ValueError:
        raise MalformedBody("The body is not valid JSON.") from None
    if not DECIMAL_FIELDS or not isinstance(data, dict):
        return text
    for name in DECIMAL_FIELDS:
        if name in data:
            data[name] = _exact(data[name])
    try:
        return json.dumps(data, default=float)
    except RecursionError:
        raise MalformedBody("The body is nested too deeply.") from None


def _without_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise MalformedBody(f"The body repeats the key {key!r}.")
            seen.add(key)
    return data


def _no_constants(name: str) -> Any:
    raise MalformedBody(f"The body contains {name}, which is not JSON.")


def _exact(value: Any) -> Any:
    """A decimal field's value with its numbers as strings (list items included)."""
    if isinstance(value, list):
        return [_exact(item) for item in value]
    if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
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


# Fields a PATCH may change but not set to null (null unsets optional fields only).
NOT_NULL_FIELDS: tuple[str, ...] = {{ cookiecutter.fields | names_where("optional", False) | py_tuple }}


def _patch_schema(schema: dict[str, Any]) -> None:
    """The OpenAPI document says what PATCH does: no defaults, null for optional fields only."""
    for name, field_schema in schema["properties"].items():
        field_schema.pop("default", None)
        if name in NOT_NULL_FIELDS and "anyOf" in field_schema:
            choices = [c for c in field_schema.pop("anyOf") if c != {"type": "null"}]
            field_schema.update(choices[0] if len(choices) == 1 else {"anyOf": choices})


class {{ cookiecutter.resource_name | pascal }}Patch(_RequestBody):
    """PATCH body: only the fields to change; required fields may not be set to null."""

    model_config = ConfigDict(json_schema_extra=_patch_schema)
{% for field in fields %}
    {{ field.name }}: {{ field.annotation }} | None = None
{%- endfor %}
{%- if cookiecutter.fields | names_where("optional", False) %}

    @field_validator(*NOT_NULL_FIELDS)
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


# How a query value must be written. Pydantic alone would also read `?day=0` as 1970-01-01
# and `?flag=yes` as true; the README documents these forms and nothing else.
QUERY_FORMS: dict[str, tuple[re.Pattern[str], str]] = {
    "integer": (re.compile(r"-?[0-9]+"), "an integer, e.g. 42"),
    "number": (re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?"), "a number, e.g. -1.5"),
    "boolean": (re.compile(r"true|false"), "true or false"),
    "date": (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"), "a date as YYYY-MM-DD"),
    "date-time": (
        re.compile(
            r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
            r"(Z|[+-][0-9]{2}:[0-9]{2})"
        ),
        "an ISO 8601 date-time with a timezone, e.g. 2024-01-31T12:00:00Z",
    ),
}
# The form of each typed query parameter.
QUERY_PARAMETER_FORMS: dict[str, str] = {
    "limit": "integer",
{%- for field in fields if field.query_form %}
    "{{ field.name }}": "{{ field.query_form }}",
{%- endfor %}
}


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

    @field_validator("*", mode="before")
    @classmethod
    def _written_as_documented(cls, value: object, info: ValidationInfo) -> object:
        form = QUERY_PARAMETER_FORMS.get(info.field_name or "")
        if form is not None and isinstance(value, str):
            pattern, description = QUERY_FORMS[form]
            if not pattern.fullmatch(value):
                raise ValueError(f"expected {description}")
        return value

    def filters(self) -> Document:
        return self.model_dump(exclude_none=True, exclude={"limit", "after", "sort"})
