"""The `fields` prompt: one parser for the little language that describes a document.

    spec       := field ("," field)*                  whitespace around tokens is ignored
    field      := name ":" type [constraint] modifier*
    type       := scalar | "list[" scalar "]" | "enum(" word ("|" word)* ")"
    scalar     := str | int | float | bool | decimal | date | datetime | email | url | uuid
                | "ref(" collection ")"              the id of a document of another resource
    constraint := "(" range ")"                       lengths for str and list, values for numbers
    range      := [n] ".." [n] | ">=" n | ">" n | "<=" n | "<" n
    modifier   := "?"                                 optional: may be absent or null
                | "=" value                           default when absent (checked against the type)
                | "!unique" | "!index"                a unique or a plain index

Every error names the offending token and what was expected. `Field` carries what the
templates need to write models, OpenAPI, documentation and test data for each field.

A spec that parses is one the generated service can serve and its own tests can prove:
values must fit what MongoDB stores (int64, Decimal128, finite doubles), and a `!unique`
field must have room for the distinct documents the generated tests create.
"""

from __future__ import annotations

import datetime as dt
import json
import keyword
import math
import re
import uuid
from dataclasses import dataclass
from decimal import Context, Decimal, DecimalException, Inexact, InvalidOperation, Overflow
from typing import NamedTuple

SCALAR_TYPES = (
    "str", "int", "float", "bool", "decimal", "date", "datetime", "email", "url", "uuid",
)  # fmt: skip
NUMERIC_TYPES = ("int", "float", "decimal")
# After the bounds of a generated decimal annotation: its written form, then what BSON holds.
DECIMAL_VALIDATORS = "BeforeValidator(decimal_text), AfterValidator(fits_decimal128)"
# A reference is stored as an ObjectId; the API reads and writes it as 24 hex digits.
_REF_RE = re.compile(r"^ref\s*\(\s*([^()]*?)\s*\)$")
# Names the generated API uses for itself (document id, list query parameters).
RESERVED_NAMES = frozenset({"id", "_id", "limit", "after", "sort"})
DEFAULT_MAX_LENGTH = 1000
NAME_MAX_LENGTH = 32  # so that generated lines fit within LINE_LENGTH
DEFAULT_MAX_ITEMS = 100
LINE_LENGTH = 100  # the generated project's ruff line-length
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
DECIMAL_BOUND_LIMIT = Decimal(10) ** 30
# The generated tests create up to 51 documents whose unique fields must all differ.
UNIQUE_MIN_VALUES = 100
# Types whose `!unique` would let only a handful of documents exist.
FEW_VALUED_TYPES = ("bool", "enum", "list")
# How a query-string value of each type must be written (see QUERY_FORMS in models.py).
QUERY_FORMS = {
    "int": "integer", "float": "number", "decimal": "number", "bool": "boolean",
    "date": "date", "datetime": "date-time",
}  # fmt: skip

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_WORD_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FIELD_RE = re.compile(
    r"""^(?P<name>[^:]*):\s*
    (?P<type>list\s*\[[^\]]*\]|enum\s*\([^)]*\)|ref\s*\([^)]*\)|[A-Za-z0-9_]*)\s*
    (?:\((?P<constraint>[^)]*)\))?
    (?P<modifiers>.*)$""",
    re.X | re.S,
)
_MODIFIER_RE = re.compile(r"\s*(\?|!unique\b|!index\b|=[^!?]*)")
_NUMBER = r"-?\d+(?:\.\d+)?"
_RANGE_RE = re.compile(rf"^(?P<low>{_NUMBER})?\s*\.\.\s*(?P<high>{_NUMBER})?$")
_COMPARISON_RE = re.compile(rf"^(?P<op>>=|>|<=|<)\s*(?P<value>{_NUMBER})$")


class FieldSpecError(ValueError):
    """A `fields` answer that does not parse; the message names the offending token."""


@dataclass(frozen=True)
class Bound:
    value: Decimal
    inclusive: bool = True


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # a scalar type, "list" or "enum"
    item: str | None = None  # the scalar type of a list's items
    target: str | None = None  # the collection a `ref` (or a list of them) points to
    choices: tuple[str, ...] = ()
    optional: bool = False
    default: str | None = None  # the default as a Python literal
    default_text: str | None = None  # the default as written in the spec
    unique: bool = False
    index: bool = False
    low: Bound | None = None  # value bounds for numbers, length bounds for str and list
    high: Bound | None = None
    # The alias's name without the "Value" suffix, when the default (the field's name in
    # PascalCase) is taken by another resource's field of the same name: see resources.py.
    alias_stem: str = ""

    @property
    def spec(self) -> str:
        """The field written back in the spec language (canonical spacing)."""
        scalar = f"ref({self.target})" if self.scalar == "ref" else self.scalar
        if self.type == "list":
            text = f"{self.name}:list[{scalar}]"
        elif self.type == "ref":
            text = f"{self.name}:{scalar}"
        elif self.type == "enum":
            text = f"{self.name}:enum({'|'.join(self.choices)})"
        else:
            text = f"{self.name}:{self.type}"
        if self.low or self.high:
            low, high = self.low, self.high
            if low and high:
                text += f"({low.value}..{high.value})"
            elif low:
                text += f"({low.value}..)" if low.inclusive else f"(>{low.value})"
            elif high:
                text += f"(..{high.value})" if high.inclusive else f"(<{high.value})"
        text += "?" if self.optional else ""
        text += f"={self.default_text}" if self.default_text is not None else ""
        text += "!unique" if self.unique else "!index" if self.index else ""
        return text

    @property
    def scalar(self) -> str:
        """The type of one value: the item type for lists."""
        return self.item if self.type == "list" else self.type

    @property
    def required(self) -> bool:
        return not self.optional and self.default is None

    @property
    def indexed(self) -> bool:
        """Marked, or a reference: `?student=<id>` must not scan the collection."""
        return self.unique or self.index or self.scalar == "ref"

    @property
    def sortable(self) -> bool:
        """Marked scalars sort; a list's index is multikey, so it serves filters only."""
        return (self.unique or self.index) and self.type != "list"

    @property
    def multikey(self) -> bool:
        """An indexed list: MongoDB indexes each item, which serves "contains" filters."""
        return self.indexed and self.type == "list"

    @property
    def optional_unique(self) -> bool:
        """Stored absent when not given, so its unique index is sparse."""
        return self.unique and self.optional

    @property
    def calendar(self) -> bool:
        """A date or datetime (or a list of them): a number must not pass for one."""
        return self.scalar in ("date", "datetime")

    @property
    def query_form(self) -> str | None:
        """The QUERY_FORMS entry a filter value of this field must match, if any."""
        return QUERY_FORMS.get(self.scalar or self.type)

    # -- generated model code -------------------------------------------------------------

    def _scalar_annotation(self, scalar: str, bounded: bool) -> str:
        low, high = (self.low, self.high) if bounded else (None, None)
        if scalar == "str":
            if not (low or high):
                return "Text"
            minimum = f"min_length={int(low.value)}, " if low else ""
            maximum = int(high.value) if high else DEFAULT_MAX_LENGTH
            return f"Annotated[str, StringConstraints({minimum}max_length={maximum})]"
        if scalar in NUMERIC_TYPES:
            if not (low or high) and scalar != "float":
                return {"int": "Int64", "decimal": "StorableDecimal"}[scalar]
            limits = []
            if low:
                limits.append(f"{'ge' if low.inclusive else 'gt'}={self._number(low.value)}")
            elif scalar == "int":
                limits.append("ge=INT64_MIN")
            if high:
                limits.append(f"{'le' if high.inclusive else 'lt'}={self._number(high.value)}")
            elif scalar == "int":
                limits.append("le=INT64_MAX")
            if scalar == "float":
                limits.append("allow_inf_nan=False")
            if scalar == "decimal":
                limits.append("json_schema_extra=decimal_strings")
            if scalar == "float" and not (low or high):
                return "Annotated[float, Field(allow_inf_nan=False)]"
            python, validator = {
                "int": ("int", "BeforeValidator(whole_number)"),
                "float": ("float", None),
                "decimal": ("Decimal", DECIMAL_VALIDATORS),
            }[scalar]
            extra = f", {validator}" if validator else ""
            return f"Annotated[{python}, Field({', '.join(limits)}){extra}]"
        if scalar == "enum":
            choices = [json.dumps(choice) for choice in self.choices]
            if sum(len(choice) + 2 for choice in choices) > 60:
                return "Literal[\n" + "".join(f"    {choice},\n" for choice in choices) + "]"
            return "Literal[" + ", ".join(choices) + "]"
        return {
            "bool": "bool",
            "date": "date",
            "datetime": "UtcDatetime",
            "email": "Email",
            "url": "Url",
            "uuid": "UUID",
            "ref": "Reference",
        }[scalar]

    def _number(self, value: Decimal) -> str:
        if self.scalar == "int":
            return str(int(value))
        if self.scalar == "decimal":
            return f'Decimal("{value}")'
        return repr(float(value))

    @property
    def alias(self) -> str | None:
        """A module-level name for an annotation too long to repeat in every model."""
        if "[" not in self._full_annotation:
            return None
        stem = self.alias_stem or "".join(part.capitalize() for part in self.name.split("_"))
        return stem + "Value"

    @property
    def alias_definition(self) -> str:
        """`Alias = Annotated[...]`, one argument a line (as ruff format would) when long."""
        line = f"{self.alias} = {self._full_annotation}"
        if len(line) <= LINE_LENGTH or "\n" in line:
            return line
        head, inner = self._full_annotation.split("[", 1)
        arguments = "".join(f"    {argument},\n" for argument in _split_arguments(inner[:-1]))
        return f"{self.alias} = {head}[\n{arguments}]"

    @property
    def annotation(self) -> str:
        """The pydantic annotation of a value in a request body (without None)."""
        return self.alias or self._full_annotation

    @property
    def _full_annotation(self) -> str:
        if self.type == "list":
            item = self._scalar_annotation(self.scalar, bounded=False)
            limits = f"min_length={int(self.low.value)}, " if self.low else ""
            maximum = int(self.high.value) if self.high else DEFAULT_MAX_ITEMS
            return f"Annotated[list[{item}], Field({limits}max_length={maximum})]"
        return self._scalar_annotation(self.type, bounded=True)

    @property
    def filter_annotation(self) -> str:
        """A query-string filter: one value; for a list, one item it must contain."""
        if self.type == "list":
            return self._scalar_annotation(self.scalar, bounded=False)
        return self.annotation

    @property
    def create_line(self) -> str:
        """The field's line in the create model."""
        annotation = f"{self.annotation} | None" if self.optional else self.annotation
        default = self.default if self.default is not None else "None" if self.optional else None
        return model_field(self.name, annotation, default)

    @property
    def patch_line(self) -> str:
        return model_field(self.name, f"{self.annotation} | None", "None")

    @property
    def public_line(self) -> str:
        return model_field(self.name, self.public_annotation, "None" if self.optional else None)

    @property
    def query_line(self) -> str:
        return model_field(self.name, f"{self.filter_annotation} | None", "None")

    @property
    def body_field(self) -> str:
        """`annotation = default` for the create model."""
        annotation = f"{self.annotation} | None" if self.optional else self.annotation
        if self.default is not None:
            return f"{annotation} = {self.default}"
        return f"{annotation} = None" if self.optional else annotation

    @property
    def public_annotation(self) -> str:
        python = {
            "str": "str", "int": "int", "float": "float", "bool": "bool", "decimal": "Decimal",
            "date": "date", "datetime": "datetime", "email": "str", "url": "str", "uuid": "UUID",
            "ref": "Reference",
        }  # fmt: skip
        if self.type == "enum":
            core = self.annotation
        elif self.type == "list":
            core = f"list[{python[self.scalar]}]"
        else:
            core = python[self.type]
        return f"{core} | None" if self.optional else core

    @property
    def json_type(self) -> str:
        names = {
            "str": "string", "int": "integer", "float": "number", "bool": "boolean",
            "decimal": "decimal string", "date": "date (YYYY-MM-DD)",
            "datetime": "date-time (ISO 8601, UTC)", "email": "email", "url": "URL",
            "uuid": "UUID", "enum": " \\| ".join(f"`{c}`" for c in self.choices),
            "ref": f"reference to `{self.target}`",
        }  # fmt: skip
        if self.type == "list":
            return f"list of {names[self.scalar]}"
        return names[self.type]

    @property
    def rules(self) -> str:
        """The constraints and modifiers, in words, for the generated README."""
        words = []
        unit = "length" if self.type in ("str", "list") else "value"
        if self.low:
            words.append(f"{unit} {'≥' if self.low.inclusive else '>'} {self.low.value}")
        if self.high:
            words.append(f"{unit} {'≤' if self.high.inclusive else '<'} {self.high.value}")
        if self.default is not None:
            words.append(f"default {self.default}")
        if self.scalar == "email":
            words.append("stored in lower case")
        if self.unique:
            words.append("unique (any case)" if self.scalar == "email" else "unique")
            words.append("sortable")
        elif self.indexed:
            words.append("indexed, sortable" if self.sortable else "indexed (filters only)")
        return ", ".join(words)

    # -- generated test data ----------------------------------------------------------------

    def _sample_limits(self) -> tuple[Bound | None, Bound | None]:
        """The bounds sample values keep to: an int's range closed at the int64 edge."""
        low, high = self.low, self.high
        if self.type == "int" and low and not high and low.value > INT64_MAX - 1000:
            high = Bound(Decimal(INT64_MAX))
        if self.type == "int" and high and not low and high.value < INT64_MIN + 1000:
            low = Bound(Decimal(INT64_MIN))
        return low, high

    def sample(self, n: str) -> str:
        """A Python expression of a valid JSON value for document number `n`."""
        low, high = self._sample_limits()
        if self.type in ("str", "list") and high and not low:
            low = Bound(Decimal(0))  # text() and items() take lengths, never None
        bounds = _trailing_args(self._sample_bound(low, 1), self._sample_bound(high, -1))
        if self.type == "list":
            item = _SAMPLES[self.scalar].format(n="m", name=self.name, bounds="")
            function = bare[1] if (bare := re.fullmatch(r"(\w+)\(m\)", item)) else None
            return f"items({function or f'lambda m: {item}'}, {n}{bounds})"
        if self.type == "enum":
            return f"{json.dumps(list(self.choices))}[{n} % {len(self.choices)}]"
        if self.type in ("float", "decimal") and self.low and self.high and self.sample_span < 1:
            # Too narrow for `number() + 0.5`: every document gets the middle of the range.
            middle = (self.low.value + self.high.value) / 2
            return repr(float(middle)) if self.type == "float" else f'"{middle}"'
        return _SAMPLES[self.type].format(n=n, name=self.name, bounds=bounds)

    def _sample_bound(self, bound: Bound | None, inward: int) -> str:
        """A bound for sample values as a Python literal, moved inside when exclusive."""
        if bound is None:
            return "None"
        value = bound.value if bound.inclusive else bound.value + inward
        return str(int(value)) if value == value.to_integral_value() else str(float(value))

    @property
    def sample_span(self) -> float:
        """How many different values `sample` gives (as support.number() counts them)."""
        if self.type == "str":
            return math.inf if not self.high else 10 ** int(self.high.value)
        limits = self._sample_limits()
        if self.type not in NUMERIC_TYPES or not (limits[0] and limits[1]):
            return math.inf
        room = 0 if self.type == "int" else 1
        low = Decimal(self._sample_bound(limits[0], 1))
        high = Decimal(self._sample_bound(limits[1], -1))
        return math.floor(high) - room - math.ceil(low) + 1

    @property
    def default_json(self) -> str:
        """The default as the API returns it in JSON, as a Python literal."""
        assert self.default is not None
        if self.type == "decimal":
            return f'"{self.default[len("Decimal(") + 1 : -2]}"'
        if self.type in ("date", "uuid"):
            return self.default[self.default.index("(") + 1 : -1]
        if self.type == "datetime":
            inner = self.default[self.default.index("(") + 2 : -2]
            return json.dumps(inner.replace("+00:00", "Z"))
        return self.default

    @property
    def bad_filter(self) -> str:
        """A Python expression of a query-string value this field's filter must refuse."""
        if self.scalar == "str":
            return f'"x" * {DEFAULT_MAX_LENGTH + 1}'
        if self.type in NUMERIC_TYPES and (self.low or self.high):
            value = self.violations[0].strip('"')
            return f'"{value}"'
        return {
            "date": '"2024-13-01"', "datetime": '"yesterday"', "email": '"nobody"',
            "url": '"not a url"', "uuid": '"not-a-uuid"', "enum": '"not-a-choice"',
            "ref": '"not-an-id"',
        }.get(self.scalar or self.type, '"not-a-value"')  # fmt: skip

    @property
    def miswritten_filters(self) -> list[str]:
        """Python literals of query values a lax parser reads, but not in the documented form."""
        return {
            "integer": ['"1_0"', '" 1"', '"1.5"', '"+1"'],
            "number": ['"1_0"', '" 1.5"', '"0x10"'],
            "boolean": ['"yes"', '"1"', '"True"'],
            "date": ['"0"', '"20240131"', '"1706659200"'],
            "date-time": ['"0"', '"1706659200"', '"2024-01-31"'],
        }.get(self.query_form or "", [])

    @property
    def wrong_type(self) -> str:
        """A JSON value (as a Python literal) that validation must refuse for this field."""
        if self.type == "list":
            return '"not-a-list"'
        return _WRONG[self.type]

    @property
    def violations(self) -> list[str]:
        """Python literals of JSON values that break this field's constraint, if it has one."""
        found = []
        if self.type in ("str", "list"):

            def of_length(length: int) -> str:
                if self.type == "str":
                    return {0: '""', 1: '"x"'}.get(length, f'"x" * {length}')
                item = _SAMPLES[self.scalar].format(n="0", name=self.name, bounds="")
                return {0: "[]", 1: f"[{item}]"}.get(length, f"[{item}] * {length}")

            if self.low and self.low.value > 0:
                found.append(of_length(int(self.low.value) - 1))
            found.append(
                of_length(
                    int(self.high.value) + 1
                    if self.high
                    else (DEFAULT_MAX_LENGTH + 1 if self.type == "str" else DEFAULT_MAX_ITEMS + 1)
                )
            )
        elif self.type in NUMERIC_TYPES:
            step = Decimal(1) if self.type == "int" else Decimal("0.5")
            for bound, direction in ((self.low, -1), (self.high, 1)):
                if bound:
                    value = bound.value if not bound.inclusive else bound.value + direction * step
                    found.append(f'"{value}"' if self.type == "decimal" else self._number(value))
        return found


def model_field(name: str, annotation: str, default: str | None = None) -> str:
    """`    name: annotation = default` in a class body, wrapped as ruff format wraps it."""
    tail = f" = {default}" if default is not None else ""
    line = f"    {name}: {annotation}{tail}"
    if len(line) <= LINE_LENGTH or "\n" in annotation:
        return line
    return f"    {name}: (\n        {annotation}\n    ){tail}"


def _split_arguments(text: str) -> list[str]:
    """`a, f(b, c), d[e, f]` -> `["a", "f(b, c)", "d[e, f]"]`: commas outside brackets."""
    parts, depth, start = [], 0, 0
    for position, char in enumerate(text):
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            parts.append(text[start:position].strip())
            start = position + 1
    return [*parts, text[start:].strip()]


def _trailing_args(*values: str) -> str:
    """`, low, high` for a helper call, leaving out trailing Nones."""
    values_list = list(values)
    while values_list and values_list[-1] == "None":
        values_list.pop()
    return "".join(f", {value}" for value in values_list)


_SAMPLES = {
    "str": 'text("{name}", {n}{bounds})',
    "int": "number({n}{bounds})",
    "float": "number({n}{bounds}, room=1) + 0.5",
    "decimal": 'f"{{number({n}{bounds}, room=1)}}.25"',
    "bool": "{n} % 2 == 0",
    "date": "day({n})",
    "datetime": "instant({n})",
    "email": 'f"user{{{n}}}@example.com"',
    "url": 'f"https://example.com/{name}/{{{n}}}"',
    "uuid": "uuid_text({n})",
    "ref": "reference({n})",
}
_WRONG = {
    "str": "12345",
    "int": '"12"',
    "float": '"3.5"',
    "decimal": "[1]",
    "bool": '"yes"',
    "date": '"2024-02-30"',
    "datetime": '"2024-01-01T00:00:00"',
    "email": '"not-an-email"',
    "url": '"not a url"',
    "uuid": '"not-a-uuid"',
    "enum": '"not-a-choice"',
    "ref": "12345",
}


def _problem(token: str, expected: str) -> FieldSpecError:
    return FieldSpecError(f"{token.strip()!r}: {expected}")


class _Type(NamedTuple):
    type: str
    item: str | None = None
    choices: tuple[str, ...] = ()
    target: str | None = None


def _parse_type(token: str, text: str) -> _Type:
    compact = re.sub(r"\s+", "", text)
    if compact.startswith("list["):
        item = compact[5:-1]
        inner = text.strip()[text.strip().index("[") + 1 : -1].strip()
        if reference := _REF_RE.match(inner):
            return _Type("list", "ref", target=_parse_target(token, reference[1]))
        if item not in SCALAR_TYPES:
            raise _problem(
                token,
                f"list item type {item!r} is not one of {', '.join(SCALAR_TYPES)}, ref(...)",
            )
        return _Type("list", item)
    if compact.startswith("enum("):
        inner = text.strip()[len("enum") :].strip()[1:-1]
        choices = tuple(choice.strip() for choice in inner.split("|"))
        bad = [choice for choice in choices if not _WORD_RE.match(choice)]
        if bad or not choices:
            raise _problem(
                token, "enum choices must be words (letters, digits, _ or -) separated by |"
            )
        if len(set(choices)) != len(choices):
            raise _problem(token, "enum choices must be different")
        return _Type("enum", choices=choices)
    if reference := _REF_RE.match(text.strip()):
        return _Type("ref", target=_parse_target(token, reference[1]))
    if compact not in SCALAR_TYPES:
        raise _problem(
            token,
            f"unknown type {compact!r}; expected one of {', '.join(SCALAR_TYPES)}, "
            "list[...], enum(...), ref(...)",
        )
    return _Type(compact)


def _parse_target(token: str, target: str) -> str:
    """The collection a reference names; the resources parser checks that it exists."""
    if not _IDENTIFIER_RE.match(target):
        raise _problem(token, "ref(...) takes the collection name of a resource, e.g. ref(courses)")
    return target


def _parse_constraint(token: str, type_: str, text: str) -> tuple[Bound | None, Bound | None]:
    text = text.strip()
    if type_ not in ("str", "list", *NUMERIC_TYPES):
        raise _problem(token, f"type {type_!r} takes no constraint in parentheses")
    low = high = None
    if match := _RANGE_RE.match(text):
        low = Bound(Decimal(match["low"])) if match["low"] else None
        high = Bound(Decimal(match["high"])) if match["high"] else None
        if not (low or high):
            raise _problem(token, "a range needs at least one end, e.g. 1..5, ..50 or 0..")
    elif (match := _COMPARISON_RE.match(text)) and type_ in NUMERIC_TYPES:
        value, op = Decimal(match["value"]), match["op"]
        if op.startswith(">"):
            low = Bound(value, inclusive=op == ">=")
        else:
            high = Bound(value, inclusive=op == "<=")
    else:
        expected = (
            "a length range such as 1..200 or ..50"
            if type_ in ("str", "list")
            else ("a range such as 1..5, or >=0, >0, <=100, <100")
        )
        raise _problem(token, f"constraint ({text}) is not {expected}")
    if type_ in ("str", "list", "int"):
        for bound in (low, high):
            if bound and (
                bound.value != bound.value.to_integral_value()
                or (type_ != "int" and bound.value < 0)
            ):
                raise _problem(
                    token,
                    f"{'lengths' if type_ != 'int' else 'int bounds'} must be whole numbers"
                    + ("" if type_ == "int" else " >= 0"),
                )
    if low and high and low.value > high.value:
        raise _problem(token, f"range {low.value}..{high.value} is empty")
    for bound in (low, high):
        if bound and type_ in NUMERIC_TYPES and (problem := _unstorable(type_, bound.value)):
            raise _problem(token, f"bound {bound.value} {problem}")
        if bound and type_ == "decimal" and abs(bound.value) >= DECIMAL_BOUND_LIMIT:
            raise _problem(
                token,
                f"bound {bound.value} is too large: keep decimal bounds below 10^30, so that "
                "values with a fraction fit Decimal128's 34 digits",
            )
    if type_ == "int" and (
        (low and not low.inclusive and low.value >= INT64_MAX)
        or (high and not high.inclusive and high.value <= INT64_MIN)
    ):
        raise _problem(token, "the range holds no 64-bit integer")
    return low, high


def _unstorable(kind: str, number: Decimal) -> str | None:
    """Why MongoDB cannot store `number` as a `kind`, or None when it can."""
    if kind == "int" and not INT64_MIN <= number <= INT64_MAX:
        return "does not fit a 64-bit integer (BSON int64)"
    if kind == "float" and math.isinf(float(number)):
        return "does not fit a 64-bit float"
    if kind == "decimal":
        try:
            _DECIMAL128.create_decimal(number)
        except DecimalException:
            return "does not fit a Decimal128 (34 significant digits, exponent -6176..6111)"
    return None


# bson.decimal128.create_decimal128_context(), without making the hooks import pymongo.
_DECIMAL128 = Context(
    prec=34, Emin=-6143, Emax=6144, clamp=1, traps=[InvalidOperation, Overflow, Inexact]
)


def _parse_default(token: str, partial: Field, text: str) -> str:
    """The default as a Python literal, after checking it fits the type and constraint."""
    text = text.strip()
    kind = partial.type
    try:
        if kind == "list":
            raise ValueError("lists take no default")
        if kind == "ref":
            raise ValueError("references take no default")
        if kind == "bool":
            if text not in ("true", "false"):
                raise ValueError("expected true or false")
            return "True" if text == "true" else "False"
        if kind == "enum":
            if text not in partial.choices:
                raise ValueError(f"expected one of {', '.join(partial.choices)}")
            return json.dumps(text)
        if kind in NUMERIC_TYPES:
            number = Decimal(text)
            if not number.is_finite() or (kind == "int" and number != number.to_integral_value()):
                raise ValueError(f"expected a finite {kind}")
            if problem := _unstorable(kind, number):
                raise ValueError(problem)
            _check_bounds(partial, number, "value")
            return partial._number(number)
        if kind == "date":
            return f'date.fromisoformat("{dt.date.fromisoformat(text).isoformat()}")'
        if kind == "datetime":
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise ValueError("expected a timezone, e.g. 2024-01-01T00:00:00Z")
            utc = moment.astimezone(dt.UTC).isoformat()
            return f'datetime.fromisoformat("{utc}")'
        if kind == "uuid":
            return f'UUID("{uuid.UUID(text)}")'
        if kind == "email" and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$", text):
            raise ValueError("expected an email address")
        if kind == "email":
            return json.dumps(text.lower())  # the service stores every address in lower case
        if kind == "url" and not re.match(r"^https?://[^\s/]+", text):
            raise ValueError("expected an http(s) URL")
        if kind == "str":
            _check_bounds(partial, Decimal(len(text)), "length")
        return json.dumps(text)
    except (ValueError, InvalidOperation) as error:
        detail = str(error) if not isinstance(error, InvalidOperation) else f"expected a {kind}"
        raise _problem(token, f"default {text!r} does not fit {kind}: {detail}") from None


def _check_bounds(partial: Field, value: Decimal, what: str) -> None:
    low, high = partial.low, partial.high
    if low and (value < low.value or (value == low.value and not low.inclusive)):
        raise ValueError(f"{what} below the constraint")
    if high and (value > high.value or (value == high.value and not high.inclusive)):
        raise ValueError(f"{what} above the constraint")


def parse_field(token: str) -> Field:
    match = _FIELD_RE.match(token.strip())
    if not match:
        raise _problem(token, "expected name:type, e.g. 'gpa:float' or 'nickname:str?'")
    name = match["name"].strip()
    if name in RESERVED_NAMES:
        reserved = ", ".join(sorted(RESERVED_NAMES))
        raise _problem(token, f"name {name!r} is reserved by the API ({reserved})")
    if name.startswith("$") or "." in name:
        raise _problem(token, f"name {name!r} must not start with '$' or contain '.'")
    if len(name) > NAME_MAX_LENGTH:
        raise _problem(token, f"name {name!r} is longer than {NAME_MAX_LENGTH} characters")
    if not _NAME_RE.match(name):
        raise _problem(
            token,
            f"name {name!r} must be a lowercase identifier (a-z, 0-9, _; starting with a letter)",
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise _problem(token, f"name {name!r} is a Python keyword")
    type_, item, choices, target = _parse_type(token, match["type"])
    low = high = None
    if match["constraint"] is not None:
        low, high = _parse_constraint(token, type_, match["constraint"])
    partial = Field(
        name=name, type=type_, item=item, choices=choices, target=target, low=low, high=high
    )

    modifiers = match["modifiers"]
    flags: dict[str, object] = {}
    default_text = None
    position = 0
    while position < len(modifiers.rstrip()):
        found = _MODIFIER_RE.match(modifiers, position)
        if not found:
            rest = modifiers[position:].strip()
            raise _problem(token, f"unexpected {rest!r}; expected ?, =default, !unique or !index")
        text = found[1]
        key = "default" if text.startswith("=") else text
        if key in flags:
            raise _problem(token, f"{key if key != 'default' else '='} given twice")
        flags[key] = _parse_default(token, partial, text[1:]) if key == "default" else True
        if key == "default":
            default_text = text[1:].strip()
        position = found.end()
    unique = "!unique" in flags
    if unique and type_ in FEW_VALUED_TYPES:
        article = "an" if type_ == "enum" else "a"
        raise _problem(
            token, f"!unique on {article} {type_} field cannot hold more than a few documents"
        )
    if unique and "!index" in flags:
        raise _problem(token, "!unique already creates an index; drop !index")
    if unique and "default" in flags:
        raise _problem(token, "!unique with a default: only one document could leave it out")
    field = Field(
        name=name,
        type=type_,
        item=item,
        choices=choices,
        target=target,
        optional="?" in flags,
        default=flags.get("default"),  # type: ignore[arg-type]
        default_text=default_text,
        unique=unique,
        index="!index" in flags,
        low=low,
        high=high,
    )
    if unique and field.sample_span < UNIQUE_MIN_VALUES:
        room = "a maximum length of at least 2" if type_ == "str" else "a wider range"
        raise _problem(
            token,
            f"!unique needs room for {UNIQUE_MIN_VALUES} different values (the generated tests "
            f"create that many distinct documents); give it {room}",
        )
    return field


def parse_fields(spec: str) -> list[Field]:
    """Parse a whole `fields` answer; raise `FieldSpecError` naming the first bad token."""
    if not spec.strip():
        raise FieldSpecError("expected at least one field, e.g. 'name:str, gpa:float'")
    fields: list[Field] = []
    for token in spec.split(","):
        if not token.strip():
            raise FieldSpecError("empty field between commas")
        parsed = parse_field(token)
        if any(existing.name == parsed.name for existing in fields):
            raise _problem(token, f"duplicate field name {parsed.name!r}")
        fields.append(parsed)
    return fields


def example_json(fields: list[Field], first_only: bool = False) -> str:
    """A JSON body for the README's curl examples."""
    return json.dumps(
        {item.name: example_value(item) for item in fields[: 1 if first_only else None]}
    )


def example_value(item: Field) -> object:
    if item.type == "enum":
        return item.choices[0]
    value: object = {
        "str": f"{item.name} 1", "int": 1, "float": 1.5, "bool": True, "decimal": "19.99",
        "date": "2024-01-31", "datetime": "2024-01-31T12:00:00Z", "email": "ada@example.com",
        "url": "https://example.com/", "uuid": "00000000-0000-4000-8000-000000000001",
        "ref": "6650f1c2a3b4c5d6e7f80912",
    }[item.scalar]  # fmt: skip
    if item.type in NUMERIC_TYPES and (item.low or item.high):
        low, high = item.low, item.high
        number = low.value if low else high.value  # type: ignore[union-attr]
        if low and not low.inclusive:
            number += 1
        elif high and not high.inclusive and not low:
            number -= 1
        value = int(number) if item.type == "int" else f"{number}"
        value = float(value) if item.type == "float" else value
    return [value] if item.type == "list" else value
