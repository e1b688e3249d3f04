"""The `resources` language: its fields (fields.py) and resources (resources.py), by example
and by properties checked with hypothesis."""

from __future__ import annotations

import keyword
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local_extensions import collection_names, rules
from local_extensions.fields import (
    FEW_VALUED_TYPES,
    RESERVED_NAMES,
    SCALAR_TYPES,
    UNIQUE_MIN_VALUES,
    Bound,
    Field,
    FieldSpecError,
    parse_field,
    parse_fields,
)
from local_extensions.resources import ResourceSpecError, check_resources, parse_resources
from matrix import DEFAULTS, FIVE, THREE

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
    kind = draw(st.sampled_from([*SCALAR_TYPES, "list", "enum", "ref"]))
    item = draw(st.sampled_from([*SCALAR_TYPES, "ref"])) if kind == "list" else None
    target = draw(names) if "ref" in (kind, item) else None
    choices = (
        tuple(draw(st.lists(words, min_size=1, max_size=4, unique=True))) if kind == "enum" else ()
    )
    low = high = None
    if kind in ("str", "list", "int") and draw(st.booleans()):  # never on a ref
        low = Bound(Decimal(draw(st.integers(0, 5))))
        high = Bound(low.value + draw(st.integers(0, 50)))
    elif kind in ("float", "decimal") and draw(st.booleans()):
        low = Bound(Decimal(draw(st.integers(-5, 5))), inclusive=draw(st.booleans()))
    unique = kind not in FEW_VALUED_TYPES and draw(st.booleans())
    field = Field(
        name=name,
        type=kind,
        item=item,
        target=target,
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


# Text made of the language's own punctuation and words reaches deeper than random text.
junk_answers = st.one_of(
    st.text(max_size=80),
    st.lists(
        st.sampled_from(
            [*"abs_:;,()[]?=!.|$ ", "ref(", "list[", "enum(", "str", "int", "students", "..", "1"]
        ),
        max_size=30,
    ).map("".join),
)


@settings(max_examples=500, deadline=None)
@given(junk_answers)
def test_junk_is_rejected_with_a_message_never_a_crash(junk: str) -> None:
    problem = check_resources(junk)
    if problem is not None:
        assert problem.strip()
        assert "\n" not in problem
        with pytest.raises(ResourceSpecError):
            parse_resources(junk)
    found = rules.problems({**DEFAULTS, "resources": junk})
    assert found == ([] if problem is None else [f"resources {junk!r} is invalid: {problem}"])


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
    with pytest.raises(FieldSpecError) as refused:
        parse_fields(token)
    assert str(refused.value).startswith(repr(token))
    assert rule in str(refused.value)


def test_unique_fields_with_room_are_accepted() -> None:
    parse_fields("a:int(1..100)!unique, b:str(..2)!unique, c:int(9223372036854775000..)!unique")


def test_an_indexed_list_filters_but_does_not_sort() -> None:
    (students,) = parse_resources(
        "students: tags:list[str]!index, score:int!index, code:str!unique"
    )
    assert students.sort_options == ["id", "-id", "score", "-score", "code", "-code"]
    tags = students.fields[0]
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
        ("a:list[int](..3)", "items(number, n, 0, 3)"),
        ("a:int(9223372036854775000..)", "number(n, 9223372036854775000, 9223372036854775807)"),
    ],
)
def test_samples_fit_narrow_and_extreme_ranges(token: str, sample: str) -> None:
    assert parse_field(token).sample("n") == sample


# -- references ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "kind", "item", "target", "spec"),
    [
        ("student:ref(students)", "ref", None, "students", "student:ref(students)"),
        (" mentor : ref ( people ) ? ", "ref", None, "people", "mentor:ref(people)?"),
        ("tags:list[ref(courses)]", "list", "ref", "courses", "tags:list[ref(courses)]"),
        (
            "tags : list [ ref ( courses ) ] ( 1 .. 3 ) ?",
            "list",
            "ref",
            "courses",
            "tags:list[ref(courses)](1..3)?",
        ),
    ],
)
def test_a_reference_names_its_target_collection(
    token: str, kind: str, item: str | None, target: str, spec: str
) -> None:
    field = parse_field(token)
    assert (field.type, field.item, field.target, field.scalar) == (kind, item, target, "ref")
    assert field.spec == spec
    assert parse_field(field.spec) == field


@pytest.mark.parametrize(
    ("token", "sortable", "multikey"),
    [
        ("a:ref(students)", False, False),
        ("a:ref(students)?", False, False),
        ("a:ref(students)!index", True, False),
        ("a:ref(students)?!unique", True, False),
        ("a:list[ref(students)]", False, True),
        ("a:list[ref(students)]!index", False, True),
    ],
)
def test_a_reference_is_always_indexed_and_sorts_only_when_marked(
    token: str, sortable: bool, multikey: bool
) -> None:
    """`?student=<id>` must not scan the collection, so every reference has an index."""
    field = parse_field(token)
    assert field.indexed
    assert (field.sortable, field.multikey) == (sortable, multikey)
    assert ("filters only" in field.rules) is not sortable


@pytest.mark.parametrize(
    ("token", "rule"),
    [
        ("a:ref(students)=x", "default 'x' does not fit ref: references take no default"),
        ("a:list[ref(students)]=x", "lists take no default"),
        ("a:ref(students)(1..2)", "type 'ref' takes no constraint in parentheses"),
        ("a:ref(students)(>=1)", "type 'ref' takes no constraint in parentheses"),
        ("a:list[ref(students)]!unique", "!unique on a list field"),
        ("a:ref()", "ref(...) takes the collection name of a resource, e.g. ref(courses)"),
        ("a:ref(my-items)", "ref(...) takes the collection name of a resource"),
        ("a:list[ref(a b)]", "ref(...) takes the collection name of a resource"),
        ("a:list[list[ref(x)]]", "list item type"),
    ],
)
def test_a_reference_takes_no_default_constraint_or_bad_target(token: str, rule: str) -> None:
    with pytest.raises(FieldSpecError) as refused:
        parse_field(token)
    assert str(refused.value).startswith(repr(token))
    assert rule in str(refused.value)


def test_a_required_list_of_references_may_be_bounded_and_unique_references_have_room() -> None:
    contents, box = parse_fields("contents:list[ref(products)](1..20), box:ref(boxes)!unique")
    assert (contents.low, contents.high) == (Bound(Decimal(1)), Bound(Decimal(20)))
    assert contents.required
    assert box.unique
    assert box.sample_span >= UNIQUE_MIN_VALUES


# -- resources ------------------------------------------------------------------------------


def test_the_three_resource_example_parses_to_what_it_says() -> None:
    students, courses, enrollments = parse_resources(THREE["resources"])
    assert [r.collection for r in (students, courses, enrollments)] == [
        "students",
        "courses",
        "enrollments",
    ]
    assert [r.singular for r in (students, courses, enrollments)] == [
        "student",
        "course",
        "enrollment",
    ]
    assert [r.pascal for r in (students, courses, enrollments)] == [
        "Student",
        "Course",
        "Enrollment",
    ]
    assert enrollments.constant == "ENROLLMENTS"
    assert {field.name: field.target for field in enrollments.references} == {
        "student": "students",
        "course": "courses",
        "tags": "courses",
        "mentor": "students",
    }
    assert students.references == []
    assert enrollments.sort_options == ["id", "-id", "course", "-course"]
    assert courses.sort_options == ["id", "-id", "title", "-title", "credits", "-credits"]
    assert enrollments.names_where("multikey") == ["tags"]
    assert enrollments.names_where("optional") == ["grade", "tags", "mentor"]
    assert courses.forms == {"credits": "integer", "starts": "date"}
    assert "ref" in enrollments.types
    assert "ref" not in courses.types


@pytest.mark.parametrize(
    ("head", "singular", "pascal", "constant"),
    [
        ("students", "student", "Student", "STUDENTS"),
        ("categories", "category", "Category", "CATEGORIES"),
        ("boxes", "box", "Box", "BOXES"),
        ("branches", "branch", "Branch", "BRANCHES"),
        (
            "course_registrations",
            "course_registration",
            "CourseRegistration",
            "COURSE_REGISTRATIONS",
        ),
        ("people(person)", "person", "Person", "PEOPLE"),
        ("staff(staff_member)", "staff_member", "StaffMember", "STAFF"),
        ("analyses ( analysis )", "analysis", "Analysis", "ANALYSES"),
        ("children(Child)", "Child", "Child", "CHILDREN"),
    ],
)
def test_the_singular_is_derived_or_given_in_parentheses(
    head: str, singular: str, pascal: str, constant: str
) -> None:
    (resource,) = parse_resources(f"{head}: name:str")
    assert (resource.singular, resource.pascal, resource.constant) == (singular, pascal, constant)


def test_whitespace_around_heads_and_separators_is_forgiven() -> None:
    spaced = parse_resources("  people ( person ) :name:str ;courses :  title:str!unique  ")
    assert [(r.collection, r.singular) for r in spaced] == [
        ("people", "person"),
        ("courses", "course"),
    ]
    assert [field.spec for r in spaced for field in r.fields] == ["name:str", "title:str!unique"]


def test_references_may_point_forwards_backwards_and_to_their_own_collection() -> None:
    resources = parse_resources(
        "enrollments: student:ref(students), course:ref(courses); "
        "students: mentor:ref(students)?, name:str; courses: requires:list[ref(courses)]?"
    )
    targets = {r.collection: [f.target for f in r.references] for r in resources}
    assert targets == {
        "enrollments": ["students", "courses"],
        "students": ["students"],
        "courses": ["courses"],
    }


def test_five_resources_keep_their_order_and_names() -> None:
    resources = parse_resources(FIVE["resources"])
    assert [(r.collection, r.singular) for r in resources] == [
        ("staff", "staff_member"),
        ("categories", "category"),
        ("products", "product"),
        ("boxes", "box"),
        ("shipments", "shipment"),
    ]
    assert collection_names(FIVE["resources"]) == (
        "staff, categories, products, boxes and shipments"
    )
    assert collection_names("students: name:str") == "students"
    assert collection_names("students") == "its resources"  # the hook reports the answer


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            "students: a:str; Students: b:str",
            "resource 'Students': the collection name is given twice",
        ),
        (
            "people(person): a:str; persons: b:str",
            "resource 'persons': the singular 'person' is also that of 'people'",
        ),
        # Different singulars, one class name: both would declare `CourseItemCreate`.
        (
            "course_items(course_item): a:str; courseitems(courseItem): b:str",
            "resource 'courseitems': ",
        ),
        ("students: a:ref(student)", "ref(student) names no resource of this answer"),
        (
            "students: a:str; courses: b:list[ref(teachers)]?",
            "resource 'courses': 'b:list[ref(teachers)]?': ref(teachers) names no resource of "
            "this answer (resources: students, courses)",
        ),
        ("students: a:str; resources: b:str", "resource 'resources': the name is taken"),
        ("readyz: a:str", "resource 'readyz': /readyz is a path the service serves itself"),
    ],
)
def test_names_a_person_reads_must_be_distinct_and_targets_must_exist(
    answer: str, message: str
) -> None:
    with pytest.raises(ResourceSpecError) as refused:
        parse_resources(answer)
    assert message in str(refused.value)
    assert check_resources(answer) == str(refused.value)


def test_one_field_name_in_two_resources_gets_one_type_name_per_type() -> None:
    """`name:str(1..100)` in two resources is common; each alias names one annotation."""
    for answer in (
        "students: name:str(1..100); teachers: name:str(1..100)",
        "students: name:str(1..100); teachers: name:str(1..50)",
        "books: price:float(0..10); toys: price:int(0..10); games: price:float(0..10)",
    ):
        definitions: dict[str | None, set[str]] = {}
        for resource in parse_resources(answer):
            for field in resource.fields:
                definitions.setdefault(field.alias, set()).add(field.alias_definition)
        assert None not in definitions, answer
        assert all(len(found) == 1 for found in definitions.values()), definitions
