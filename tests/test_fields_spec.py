"""The `fields` language: examples, and properties checked by hypothesis."""

from __future__ import annotations

import keyword
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local_extensions import rules
from local_extensions.fields import (
    FEW_VALUED_TYPES,
    RESERVED_NAMES,
    SCALAR_TYPES,
    UNIQUE_MIN_VALUES,
    Bound,
    Field,
    FieldSpecError,
    check_fields,
    parse_field,
    parse_fields,
    sort_options,
)
from matrix import DEFAULTS

ISSUE_EXAMPLE = (
    "title:str(1..200), isbn:str!unique, price:decimal(>=0), published:date?, tags:list[str], "
    "email:email!unique, site:url?, in_stock:bool=true, rating:int(1..5)?, created:datetime"
)


def test_the_documented_example_parses_to_what_it_says() -> None:
    fields = {field.name: field for field in parse_fields(ISSUE_EXAMPLE)}
    assert fields["title"].low == Bound(Decimal(1))
    assert fields["title"].high == Bound(Decimal(200))
    assert fields["isbn"].unique
    assert not fields["isbn"].optional
    assert fields["price"].type == "decimal"
    assert fields["price"].low == Bound(Decimal(0))
    assert fields["published"].optional
    assert fields["published"].type == "date"
    assert fields["tags"].type == "list"
    assert fields["tags"].item == "str"
    assert fields["in_stock"].default == "True"
    assert not fields["in_stock"].required
    assert fields["rating"].optional
    assert fields["rating"].high == Bound(Decimal(5))
    assert next(field.name for field in parse_fields(ISSUE_EXAMPLE)) == "title"


def test_whitespace_around_tokens_is_forgiven() -> None:
    spaced = parse_fields(" s : enum( a | b ) !index ,  t : list [ int ] ( 1 .. 3 ) ? ")
    assert [field.spec for field in spaced] == ["s:enum(a|b)!index", "t:list[int](1..3)?"]


@pytest.mark.parametrize(
    ("spec", "low", "high"),
    [
        ("n:int(>=0)", Bound(Decimal(0)), None),
        ("n:int(>0)", Bound(Decimal(0), inclusive=False), None),
        ("n:float(<=1.5)", None, Bound(Decimal("1.5"))),
        ("n:decimal(<100)", None, Bound(Decimal(100), inclusive=False)),
        ("n:str(..50)", None, Bound(Decimal(50))),
        ("n:list[int](2..)", Bound(Decimal(2)), None),
    ],
)
def test_every_constraint_form(spec: str, low: Bound | None, high: Bound | None) -> None:
    (field,) = parse_fields(spec)
    assert (field.low, field.high) == (low, high)


names = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True).filter(
    lambda name: (
        not keyword.iskeyword(name)
        and not keyword.issoftkeyword(name)
        and name not in RESERVED_NAMES
    )
)
words = st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True)
spaces = st.sampled_from(["", " ", "  ", "\t"])


@st.composite
def fields(draw: st.DrawFn) -> Field:
    name = draw(names)
    kind = draw(st.sampled_from([*SCALAR_TYPES, "list", "enum"]))
    item = draw(st.sampled_from(SCALAR_TYPES)) if kind == "list" else None
    choices = (
        tuple(draw(st.lists(words, min_size=1, max_size=4, unique=True))) if kind == "enum" else ()
    )
    low = high = None
    if kind in ("str", "list", "int") and draw(st.booleans()):
        low = Bound(Decimal(draw(st.integers(0, 5))))
        high = Bound(low.value + draw(st.integers(0, 50)))
    elif kind in ("float", "decimal") and draw(st.booleans()):
        low = Bound(Decimal(draw(st.integers(-5, 5))), inclusive=draw(st.booleans()))
    unique = kind not in FEW_VALUED_TYPES and draw(st.booleans())
    field = Field(
        name=name,
        type=kind,
        item=item,
        choices=choices,
        optional=draw(st.booleans()),
        unique=unique,
        index=not unique and draw(st.booleans()),
        low=low,
        high=high,
    )
    if unique and field.sample_span < UNIQUE_MIN_VALUES:
        return replace(field, unique=False, index=True)
    return field


@settings(max_examples=300, deadline=None)
@given(st.lists(fields(), min_size=1, max_size=6, unique_by=lambda field: field.name), spaces)
def test_valid_specs_round_trip(generated: list[Field], space: str) -> None:
    spec = f"{space},{space}".join(field.spec for field in generated)
    parsed = parse_fields(spec)
    assert parsed == generated
    assert parse_fields(", ".join(field.spec for field in parsed)) == parsed


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=80))
def test_junk_is_rejected_with_a_message_never_a_crash(junk: str) -> None:
    problem = check_fields(junk)
    if problem is not None:
        assert problem.strip()
        with pytest.raises(FieldSpecError):
            parse_fields(junk)
    context = {**DEFAULTS, "fields": junk}
    found = rules.problems(context)
    assert all(line.startswith(("fields ", "resource_name ")) for line in found) or not found


@pytest.mark.parametrize(
    ("token", "rule"),
    [
        ("a:int(1..5)!unique", "!unique needs room for 100 different values"),
        ("a:float(0..10)!unique", "give it a wider range"),
        ("a:str(..1)!unique", "give it a maximum length of at least 2"),
        ("a:enum(x|y)!unique", "!unique on an enum field cannot hold more than a few"),
        ("a:list[int]!unique", "!unique on a list field"),
        ("a:str=x!unique", "!unique with a default: only one document could leave it out"),
        ("a:int(..9223372036854775808)", "does not fit a 64-bit integer (BSON int64)"),
        ("a:int=-9223372036854775809", "does not fit a 64-bit integer"),
        ("a:int(>9223372036854775807)", "the range holds no 64-bit integer"),
        ("a:float=1" + "0" * 400, "does not fit a 64-bit float"),
        ("a:decimal=1" + "1" * 34, "does not fit a Decimal128"),
        ("a:decimal(..1" + "0" * 30 + ")", "keep decimal bounds below 10^30"),
    ],
)
def test_a_spec_the_service_cannot_serve_is_refused_naming_the_rule(token: str, rule: str) -> None:
    problem = check_fields(token)
    assert problem is not None
    assert problem.startswith(repr(token))
    assert rule in problem


def test_unique_fields_with_room_are_accepted() -> None:
    assert (
        check_fields("a:int(1..100)!unique, b:str(..2)!unique, c:int(9223372036854775000..)!unique")
        is None
    )


def test_an_indexed_list_filters_but_does_not_sort() -> None:
    spec = "tags:list[str]!index, score:int!index, code:str!unique"
    assert sort_options(spec) == ["id", "-id", "score", "-score", "code", "-code"]
    (tags,) = parse_fields(spec)[:1]
    assert tags.multikey
    assert not tags.sortable
    assert "filters only" in tags.rules


def test_an_email_default_is_lower_cased_like_every_stored_address() -> None:
    field = parse_field("contact:email=Ada@Example.com")
    assert field.default == '"ada@example.com"'
    assert "stored in lower case" in field.rules


@pytest.mark.parametrize(
    ("token", "sample"),
    [
        ("a:float(0.1..0.2)", "0.15"),
        ("a:decimal(0.5..1)", '"0.75"'),
        ("a:int(..-5)", "number(n, None, -5)"),
        ("a:str(..50)", 'text("a", n, 0, 50)'),
        ("a:list[int](..3)", "items(lambda m: number(m), n, 0, 3)"),
        ("a:int(9223372036854775000..)", "number(n, 9223372036854775000, 9223372036854775807)"),
    ],
)
def test_samples_fit_narrow_and_extreme_ranges(token: str, sample: str) -> None:
    assert parse_field(token).sample("n") == sample
