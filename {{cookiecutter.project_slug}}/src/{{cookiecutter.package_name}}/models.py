"""What every resource's models are built from: field types, base models, the body check."""
{%- set resources = cookiecutter.resources | parse_resources %}
{%- set types = resources | types_used %}
{%- set forms = resources | query_forms %}
{%- set default_max_length = 1000 %}
{%- set any_unique = resources | selectattr("unique_fields") | list %}

from __future__ import annotations

{{ resources | models_imports }}

from {{ cookiecutter.package_name }}.database import Document
from {{ cookiecutter.package_name }}.errors import MalformedBody

OBJECT_ID_PATTERN = "^[0-9a-f]{24}$"
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


def whole_number(value: object) -> object:
    """JSON Schema counts 1.0 as an integer, so the API does; 1.5 and "1" are still refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX), BeforeValidator(whole_number)]
{%- endif %}
{%- if "decimal" in types %}


def fits_decimal128(value: Decimal) -> Decimal:
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


def decimal_text(value: object) -> object:
    """A decimal from its exact text (the body pre-parse sends numbers as text too)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if not isinstance(value, str):
        return value  # refused by the Decimal validator, with its usual message
    if not re.match(DECIMAL_STRING, value):
        raise ValueError("must be written as a number, e.g. 19.99 or -1.5e3")
    return Decimal(value)


def decimal_strings(schema: dict[str, Any]) -> None:
    """Say in the JSON schema which strings a decimal field takes."""
    for branch in schema.get("anyOf", []):
        if branch.get("type") == "string":
            branch["pattern"] = DECIMAL_STRING


StorableDecimal = Annotated[
    Decimal,
    Field(json_schema_extra=decimal_strings),
    BeforeValidator(decimal_text),
    AfterValidator(fits_decimal128),
]
{%- endif %}
{%- if "ref" in types %}


def _object_id(value: object) -> ObjectId:
    """An id as MongoDB stores it, from itself or from its 24 lower-case hex digits."""
    if isinstance(value, ObjectId):
        return value
    if isinstance(value, str) and (id_ := parse_object_id(value)) is not None:
        return id_
    raise ValueError("expected the 24 lower-case hex digits of an id")


# The id of a document of another resource: 24 lower-case hex digits in JSON, an ObjectId
# in MongoDB. Only its shape is checked: MongoDB has no foreign keys.
Reference = Annotated[
    ObjectId,
    PlainValidator(_object_id),
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": OBJECT_ID_PATTERN}),
]
{%- endif %}


def parse_object_id(text: str) -> ObjectId | None:
    """`text` as an ObjectId if it is written as the API writes ids: 24 lower-case hex digits.

    ObjectId() itself also takes upper case and 12-byte strings.
    """
    return ObjectId(text) if re.fullmatch("[0-9a-f]{24}", text) else None


{% if "decimal" in types -%}
def json_body(raw: bytes, decimal_fields: tuple[str, ...] = ()) -> str:
{%- else -%}
def json_body(raw: bytes) -> str:
{%- endif %}
    """The body as JSON text pydantic can validate strictly, after the checks it lacks.

    Refused here: invalid UTF-8, duplicate keys (a parser keeps the last, so
    `{"name": {"$gt": ""}, "name": "a"}` would hide what was sent), NaN and Infinity, and
    nesting deeper than the parser allows.
{%- if "decimal" in types %} Numbers in `decimal_fields` are rewritten as
    strings, so that none is read through a float.
{%- endif %}
    """
    try:
        text = raw.decode("utf-8")
{%- if "decimal" in types %}
        data = json.loads(
{%- else %}
        json.loads(
{%- endif %}
            text,
            object_pairs_hook=_without_duplicate_keys,
            parse_constant=_no_constants,
{%- if "decimal" in types %}
            parse_float=Decimal if decimal_fields else float,
{%- endif %}
        )
    except UnicodeDecodeError:
        raise MalformedBody("The body is not valid UTF-8.") from None
    except RecursionError:
        raise MalformedBody("The body is nested too deeply.") from None
    except ValueError:
        raise MalformedBody("The body is not valid JSON.") from None
{%- if "decimal" in types %}
    if not decimal_fields or not isinstance(data, dict):
        return text
    for name in decimal_fields:
        if name in data:
            data[name] = _exact(data[name])
    try:
        return json.dumps(data, default=float)
    except RecursionError:
        raise MalformedBody("The body is nested too deeply.") from None
{%- else %}
    return text
{%- endif %}


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
{%- if "decimal" in types %}


def _exact(value: Any) -> Any:
    """A decimal field's value with its numbers as strings (list items included)."""
    if isinstance(value, list):
        return [_exact(item) for item in value]
    if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value)
    return value
{%- endif %}


class RequestBody(BaseModel):
    """POST and PUT bodies: unknown keys are refused, nothing is coerced (`"3.5"` is text)."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _patch_schema(schema: dict[str, Any], model: type[Any]) -> None:
    """The OpenAPI document says what PATCH does: no defaults, null for optional fields only."""
    for name, field_schema in schema["properties"].items():
        field_schema.pop("default", None)
        if name in model.NOT_NULL and "anyOf" in field_schema:
            choices = [c for c in field_schema.pop("anyOf") if c != {"type": "null"}]
            field_schema.update(choices[0] if len(choices) == 1 else {"anyOf": choices})


class PatchBody(RequestBody):
    """PATCH bodies: only the fields to change, each optional; null unsets an optional one."""

    model_config = ConfigDict(json_schema_extra=_patch_schema)

    # The fields a PATCH may change but not set to null: the required ones.
    NOT_NULL: ClassVar[tuple[str, ...]] = ()

    @field_validator("*")
    @classmethod
    def _only_optional_fields_may_be_null(cls, value: object, info: ValidationInfo) -> object:
        if value is None and info.field_name in cls.NOT_NULL:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value

    def changes(self) -> Document:
        """Only the fields the client sent, ready for `$set`."""
        return self.model_dump(exclude_unset=True)


class PublicBody(BaseModel):
    """A stored document as the API returns it: `_id` becomes `id`."""

    model_config = ConfigDict(extra="ignore")

    id: Annotated[str, Field(pattern=OBJECT_ID_PATTERN)]

    @classmethod
    def from_document(cls, document: Document) -> Self:
        return cls.model_validate(public_fields(document))


def public_fields(document: Document) -> Document:
    """A stored document's fields as the public models read them: `_id` becomes `id`."""
    return {**document, "id": str(document["_id"])}


# How a query value must be written. Pydantic alone would also read `?day=0` as 1970-01-01
# and `?flag=yes` as true; the README documents these forms and nothing else.
QUERY_FORMS: dict[str, tuple[re.Pattern[str], str]] = {
    "integer": (re.compile(r"-?[0-9]+"), "an integer, e.g. 42"),
{%- if "number" in forms %}
    "number": (re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?"), "a number, e.g. -1.5"),
{%- endif %}
{%- if "boolean" in forms %}
    "boolean": (re.compile(r"true|false"), "true or false"),
{%- endif %}
{%- if "date" in forms %}
    "date": (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"), "a date as YYYY-MM-DD"),
{%- endif %}
{%- if "date-time" in forms %}
    "date-time": (
        re.compile(
            r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
            r"(Z|[+-][0-9]{2}:[0-9]{2})"
        ),
        "an ISO 8601 date-time with a timezone, e.g. 2024-01-31T12:00:00Z",
    ),
{%- endif %}
}


class ListParameters(BaseModel):
    """List query parameters: paging and sorting; each resource adds a filter per field."""

    model_config = ConfigDict(extra="forbid")

    # The QUERY_FORMS entry of each typed filter.
    FORMS: ClassVar[dict[str, str]] = {}

    limit: int = Field(default=50, ge=1, le=1000)
    after: str | None = None
    sort: str = "id"

    @field_validator("*", mode="before")
    @classmethod
    def _written_as_documented(cls, value: object, info: ValidationInfo) -> object:
        name = info.field_name or ""
        form = "integer" if name == "limit" else cls.FORMS.get(name)
        if form is not None and isinstance(value, str):
            pattern, description = QUERY_FORMS[form]
            if not pattern.fullmatch(value):
                raise ValueError(f"expected {description}")
        return value

    def filters(self) -> Document:
        return self.model_dump(exclude_none=True, exclude={"limit", "after", "sort"})


@dataclass(frozen=True)
class Resource:
    """One collection the API serves, declared in resources.py: its names, models and indexes.

    The handlers, the repository and the OpenAPI document are written once for every
    resource; this is all that differs between them.
    """

    name: str  # the collection and its URL segment, e.g. "students"
    singular: str  # one of them, in messages and parameter names, e.g. "student"
    create: type[RequestBody]
    replace: type[RequestBody]
    patch: type[PatchBody]
    public: type[PublicBody]
    query: type[ListParameters]
{%- if any_unique %}
    # Fields no two documents may share; `sparse` ones may be left out by many.
    unique: tuple[str, ...] = ()
    sparse: tuple[str, ...] = ()
{%- endif %}
    # Fields with a (field, _id) index: every filter or sort option that must not scan.
    indexed: tuple[str, ...] = ()
{%- if "decimal" in types %}
    # Fields whose JSON numbers are read as exact decimals.
    decimal_fields: tuple[str, ...] = ()
{%- endif %}

    @cached_property
    def public_list(self) -> TypeAdapter[list[PublicBody]]:
        """A page of public documents, validated and written as JSON in one call each."""
        return TypeAdapter(list[self.public])  # type: ignore[name-defined]
