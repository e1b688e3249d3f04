"""The `fields` language: examples, and properties checked by hypothesis."""

from __future__ import annotations

import keyword
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local_extensions import rules
from local_extensions.fields import (
    RESERVED_NAMES,
    SCALAR_TYPES,
    Bound,
    Field,
    FieldSpecError,
    check_fields,
    parse_fields,
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
    unique = kind not in ("bool", "list") and draw(st.booleans())
    return Field(
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
