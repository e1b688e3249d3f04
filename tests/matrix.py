"""The option combinations the template is rendered with, and answers it must reject.

Every value of every option appears at least once; auth x driver are crossed, and docker, ci
and metrics are spread over those six so that every pair of values of any two options meets.
OpenTelemetry is on in a second auth x driver cross, where metrics are spread again. The
`resources` answers have one, two, three and five resources and between them use every
field type and modifier, derived and given singulars, and references in every position
(required, optional, indexed, unique, a list of them, to their own collection).
Each entry is only what differs from cookiecutter.json's defaults.
"""

from __future__ import annotations

import itertools
from typing import Any

from local_extensions.resources import parse_resources

Answers = dict[str, Any]

# Every prompt answered as cookiecutter.json's defaults render, for calling the rules directly.
DEFAULTS: Answers = {
    "project_name": "College API",
    "project_slug": "college-api",
    "package_name": "college_api",
    "author_name": "Jane Doe",
    "author_email": "jane@example.com",
    "copyright_year": "2026",
    "database_name": "college_api",
    "resources": "students: name:str, email:str, course:str, gpa:float",
    "description": "A service",
    "mongodb_driver": "pymongo",
    "auth": "api-key",
    "metrics": True,
    "opentelemetry": False,
    "python_version": "3.11",
    "use_docker": True,
    "kubernetes": False,
    "ci": "github",
    "license": "MIT",
}

_PYTHONS = ("3.11", "3.12", "3.13", "3.14")
_LICENSES = ("MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary")

_AUTHS = ("api-key", "jwt", "none")
_DRIVERS = ("pymongo", "motor")
# (use_docker, ci, metrics) for each (auth, driver) in order: each auth and each driver meets
# both values of each, and every pair of values of any two of the three occurs.
_SPREAD = (
    (True, "github", True),
    (False, "none", False),
    (False, "github", False),
    (True, "none", True),
    (True, "none", False),
    (False, "github", True),
)

CROSSED: list[Answers] = [
    {
        "auth": auth,
        "mongodb_driver": driver,
        "use_docker": docker,
        "ci": ci,
        "metrics": metrics,
        "python_version": _PYTHONS[index % len(_PYTHONS)],
        "license": _LICENSES[index % len(_LICENSES)],
        "kubernetes": docker,  # it runs the image: with each auth mode, metrics on and off
    }
    for index, ((auth, driver), (docker, ci, metrics)) in enumerate(
        zip(itertools.product(_AUTHS, _DRIVERS), _SPREAD, strict=True)
    )
]

# Tracing on, crossed with auth and driver; metrics on and off for each auth and driver.
TRACED: list[Answers] = [
    {"auth": auth, "mongodb_driver": driver, "opentelemetry": True, "metrics": spread[2]}
    for (auth, driver), spread in zip(itertools.product(_AUTHS, _DRIVERS), _SPREAD, strict=True)
]

CUSTOM_NAMES: Answers = {
    "project_name": "People Directory",
    "database_name": "directory",
    "resources": (
        "people(person): full_name:str, age:int, height:float?, active:bool, nickname:str?"
    ),
}

# The example: every modifier, and decimal (which FerretDB cannot store).
BOOKS: Answers = {
    "resources": (
        "books: title:str(1..200), isbn:str!unique, price:decimal(>=0), published:date?, "
        "tags:list[str], email:email!unique, site:url?, in_stock:bool=true, "
        "rating:int(1..5)?, created:datetime"
    ),
}
# Every other type and modifier; sortable fields and defaults of several types.
_COURSE = (
    "courses: code:str(2..12)!unique, credits:int(1..30)!index, "
    "term:enum(spring|summer|autumn)=spring!index, starts_on:date!index, fee:float(>=0)?, "
    "contact:email?, homepage:url?, ref:uuid!unique, opened_at:datetime=2024-01-01T00:00:00Z, "
    "labels:list[int](1..3), active:bool?, score:float(<100)?!index"
)
COURSES: Answers = {"resources": _COURSE}

# Issue 7: optional unique, indexed list (filters only), int default and index.
EDGES: Answers = {
    "resources": "students: name:str, code:str?!unique, tags:list[str]!index, score:int=0!index",
}

# Two resources: every COURSES field, and references to them (required and indexed, and a
# bounded list of them), on the spec whose suite proves the declared lower bounds.
TWO: Answers = {
    "resources": (
        f"{_COURSE}; prerequisites: course:ref(courses)!index, "
        "requires:list[ref(courses)](1..3), note:str?"
    ),
}

# The three resources: references required, optional, indexed, and a list of them.
THREE: Answers = {
    "resources": (
        "students: name:str(1..100), email:email!unique, gpa:float(0..4)?; "
        "courses: title:str!unique, credits:int(1..10)!index, starts:date?; "
        "enrollments: student:ref(students), course:ref(courses)!index, "
        "grade:enum(A|B|C|D|F)?, tags:list[ref(courses)]?, mentor:ref(students)?"
    ),
}

# Five resources: a singular that must be given (staff), derived irregular ones
# (categories, boxes), references to their own collection, a unique reference (one box per
# shipment), a required list of references, and a defaulted enum next to references.
FIVE: Answers = {
    "resources": (
        "staff(staff_member): name:str(1..80), email:email!unique, mentor:ref(staff)?; "
        "categories: label:str!unique, parent:ref(categories)?!index; "
        "products: title:str, category:ref(categories)!index, price:float(>=0), tags:list[str]?; "
        "boxes: label:str?, contents:list[ref(products)](1..20), packed_by:ref(staff)?; "
        "shipments: box:ref(boxes)!unique, recipient:ref(staff), sent:datetime, "
        "status:enum(queued|sent|lost)=queued!index"
    ),
}

# The longest names the rules allow push generated lines towards the line-length limit: a
# 40-character package, 32-character collection, singular and field names, references
# between them, and one field name in both resources with different types.
LONG_NAMES: Answers = {
    "project_name": "Regional University Course Registrations",
    "mongodb_driver": "motor",
    "resources": (
        "course_registration_office_staff(course_registration_staff_member): "
        + _COURSE.partition(": ")[2]
        + ", supervising_registration_officer:ref(course_registration_office_staff)?!index, "
        "preferred_registration_fee_limit:float(0..500)?; "
        "international_student_applicants: full_name:str, "
        "adviser:ref(course_registration_office_staff)!index, "
        "reviewers:list[ref(course_registration_office_staff)](1..3), "
        "previous_application:ref(international_student_applicants)?!unique, applied_on:date, "
        "preferred_registration_fee_limit:int(0..500)?"
    ),
}

MATRIX: list[Answers] = [
    {},
    CUSTOM_NAMES,
    {**BOOKS, "mongodb_driver": "motor"},
    COURSES,
    LONG_NAMES,
    {**EDGES, "mongodb_driver": "motor"},
    TWO,
    {**THREE, "mongodb_driver": "motor", "auth": "jwt"},  # a scope pair per resource
    {**FIVE, "auth": "none"},
    {**LONG_NAMES, "auth": "jwt", "opentelemetry": True},  # the longest jwt, tracing lines
    *CROSSED,
    *TRACED,
]

_SHORT = {
    "mongodb_driver": "driver",
    "use_docker": "docker",
    "python_version": "py",
    "opentelemetry": "otel",
}


def _shown(key: str, value: object) -> str:
    if key == "resources":  # the collections say which spec it is
        return ",".join(resource.collection for resource in parse_resources(str(value)))
    text = str(value)
    return text[:24] + ("..." if len(text) > 24 else "")


def answers_id(answers: Answers) -> str:
    """`driver:motor-docker:False-ci:none` style ids, so a red run explains itself."""
    if not answers:
        return "defaults"
    return "-".join(
        f"{_SHORT.get(key, key)}:{_shown(key, value)}" for key, value in answers.items()
    )


def bad_id(answers: Answers) -> str:
    """`resources='students: a:ref(x)'`: the rejected answer itself, cut to a readable length."""
    text = "-".join(f"{key}={value!r}" for key, value in answers.items())
    return text[:60] + ("..." if len(text) > 60 else "")


def _resources(answer: str, detail: str) -> tuple[Answers, str]:
    """A rejected `resources` answer and the start of the one line the hook must print."""
    return {"resources": answer}, f"resources {answer!r} is invalid: {detail}"


def _field(token: str, rule: str) -> tuple[Answers, str]:
    """A rejected field of a one-resource answer: the message names the resource and token."""
    return _resources(f"students: {token}", f"resource 'students': {token!r}: {rule}")


_IDENTIFIER_RULE = "must be ASCII letters, digits and underscores, not starting with a digit"

# (answers, the message the pre-generation hook must print)
BAD_ANSWERS: list[tuple[Answers, str]] = [
    ({"project_slug": "Bad Slug"}, "project_slug 'Bad Slug' is invalid: must be lowercase"),
    ({"project_slug": "9lives"}, "project_slug '9lives' is invalid: must be lowercase"),
    ({"project_slug": "double--hyphen"}, "project_slug 'double--hyphen' is invalid"),
    ({"package_name": "class"}, "package_name 'class' is invalid: is a Python keyword"),
    ({"package_name": "tornado"}, "package_name 'tornado' is invalid: would shadow a module"),
    ({"package_name": "json"}, "package_name 'json' is invalid: would shadow a module"),
    ({"package_name": "asyncio"}, "package_name 'asyncio' is invalid: would shadow a module"),
    ({"package_name": "tests"}, "package_name 'tests' is invalid: would shadow a module"),
    (
        {"package_name": "my-app"},
        "package_name 'my-app' is invalid: must be a valid Python identifier",
    ),
    ({"package_name": "MyApp"}, "package_name 'MyApp' is invalid: must be lowercase"),
    (
        {"package_name": "p" * 41},
        f"package_name '{'p' * 41}' is invalid: must be at most 40 characters long",
    ),
    ({"database_name": "my.db"}, "database_name 'my.db' is invalid: must not contain"),
    ({"database_name": "a/b"}, "database_name 'a/b' is invalid: must not contain"),
    (
        {"database_name": "d" * 64},
        f"database_name '{'d' * 64}' is invalid: must be at most 63 bytes",
    ),
    ({"author_email": "not-an-email"}, "author_email 'not-an-email' is invalid"),
    (
        {"kubernetes": True, "use_docker": False},
        "kubernetes True is invalid: needs use_docker, since the manifests run the image",
    ),
    ({"copyright_year": "20x6"}, "copyright_year '20x6' is invalid: must be a year of four"),
    ({"copyright_year": "1066"}, "copyright_year '1066' is invalid: must be a year of four"),
    ({"project_name": 'Say "hi"'}, "project_name 'Say \"hi\"' is invalid: must not contain quotes"),
    # The answer as a whole: separators, heads, names shared between resources.
    _resources("", "expected at least one resource, e.g. 'students: name:str'"),
    _resources(
        "students: name:str;; courses: title:str",
        "resource 2 is empty (after 'students'): resources are separated by ';', fields by ','",
    ),
    _resources(
        "students: name:str;",
        "resource 2 is empty (after 'students'): resources are separated by ';', fields by ','",
    ),
    _resources(
        "a: x:str;;",
        "resource 'a': the singular must differ from the collection name; give it in "
        "parentheses, e.g. 'a(a_item): ...'",
    ),
    _resources(
        "students: name:str, courses: title:str",
        "resource 'students': 'courses: title:str': unknown type 'title'; expected one of str, "
        "int, float, bool, decimal, date, datetime, email, url, uuid, list[...], enum(...), "
        "ref(...) ('courses: title:str' looks like another resource: end this one with ';')",
    ),
    _resources(
        "students: name:str; courses title:str",
        "'courses title:str': expected 'collection: fields' or 'collection(singular): fields'",
    ),
    _resources(
        ": name:str",
        "': name:str': expected 'collection: fields' or 'collection(singular): fields'",
    ),
    _resources(
        "people(person: name:str",
        "'people(person: name:str': expected 'collection: fields' or "
        "'collection(singular): fields', e.g. 'people(person): name:str'",
    ),
    _resources(
        "students:",
        "resource 'students': expected at least one field, e.g. 'name:str, gpa:float'",
    ),
    _resources(
        "students: name:str; students: title:str",
        "resource 'students': the collection name is given twice",
    ),
    _resources(
        "students: name:str; Students: title:str",
        "resource 'Students': the collection name is given twice",
    ),
    _resources(
        "people(person): name:str; persons: name:str",
        "resource 'persons': the singular 'person' is also that of 'people'; give one of them "
        "another in parentheses",
    ),
    _resources(
        "enrollments: student:ref(students)",
        "resource 'enrollments': 'student:ref(students)': ref(students) names no resource of "
        "this answer (resources: enrollments)",
    ),
    _resources(
        "courses: title:str; students: taken:list[ref(course)]",
        "resource 'students': 'taken:list[ref(course)]': ref(course) names no resource of this "
        "answer (resources: courses, students)",
    ),
    _resources(
        "students: name:str; courses: title:strr",
        "resource 'courses': 'title:strr': unknown type 'strr'",
    ),
    _resources(
        "students: name:str; courses: code:int(1..5)!unique",
        "resource 'courses': 'code:int(1..5)!unique': !unique needs room for 100 different values",
    ),
    # Names of collections and singulars.
    _resources(
        "system.users: name:str",
        "resource 'system.users': collection name 'system.users' must not start with "
        "'system.' (MongoDB reserves it)",
    ),
    _resources(
        "a$b: name:str",
        "resource 'a$b': collection name 'a$b' must not contain '$' (MongoDB reserves it)",
    ),
    _resources(
        "my-items: name:str", f"resource 'my-items': collection name 'my-items' {_IDENTIFIER_RULE}"
    ),
    _resources(
        "2024_items: name:str",
        f"resource '2024_items': collection name '2024_items' {_IDENTIFIER_RULE}",
    ),
    _resources("class: name:str", "resource 'class': collection name 'class' is a Python keyword"),
    _resources(
        "c" * 33 + ": name:str",
        f"resource '{'c' * 33}': collection name '{'c' * 33}' must be at most 32 characters long",
    ),
    _resources(
        "students(" + "s" * 33 + "): name:str",
        f"resource 'students': singular '{'s' * 33}' must be at most 32 characters long",
    ),
    _resources(
        "data: name:str",
        "resource 'data': the singular must differ from the collection name; give it in "
        "parentheses, e.g. 'data(data_item): ...'",
    ),
    _resources(
        "students(a b): name:str", f"resource 'students': singular 'a b' {_IDENTIFIER_RULE}"
    ),
    _resources("classes: name:str", "resource 'classes': singular 'class' is a Python keyword"),
    _resources(
        "healthz: status:str",
        "resource 'healthz': /healthz is a path the service serves itself",
    ),
    _resources(
        "openapi: name:str", "resource 'openapi': /openapi is a path the service serves itself"
    ),
    _resources(
        "cases: name:str",
        "resource 'cases': the name is taken by the generated code; choose another",
    ),
    # References.
    _field("a:ref(students)=x", "default 'x' does not fit ref: references take no default"),
    _field("a:ref(students)(1..2)", "type 'ref' takes no constraint in parentheses"),
    _field(
        "a:list[ref(students)]!unique",
        "!unique on a list field cannot hold more than a few documents",
    ),
    _field("a:list[ref(students)]=x", "default 'x' does not fit list: lists take no default"),
    _field("a:ref()", "ref(...) takes the collection name of a resource, e.g. ref(courses)"),
    _field("a:ref(1st)", "ref(...) takes the collection name of a resource, e.g. ref(courses)"),
    _field("a:ref(students)!unique!index", "!unique already creates an index; drop !index"),
    # Fields, inside a resource.
    _field("name", "expected name:type, e.g. 'gpa:float' or 'nickname:str?'"),
    _field("name:string", "unknown type 'string'"),
    _resources("students: a:int, a:str", "resource 'students': 'a:str': duplicate field name 'a'"),
    _field("Name:str", "name 'Name' must be a lowercase identifier"),
    _field("class:str", "name 'class' is a Python keyword"),
    _field("id:str", "name 'id' is reserved by the API"),
    _field("_id:str", "name '_id' is reserved by the API"),
    _field("$set:str", "name '$set' must not start with '$' or contain '.'"),
    _field("a.b:str", "name 'a.b' must not start with '$' or contain '.'"),
    _resources("students: a:int,,b:int", "resource 'students': empty field between commas"),
    _field("a:list[dict]", "list item type 'dict' is not one of"),
    _field("a:enum()", "enum choices must be words"),
    _field("a:enum(x|x)", "enum choices must be different"),
    _field("a:enum(x y|z)", "enum choices must be words"),
    _field("a:bool(1..2)", "type 'bool' takes no constraint"),
    _field("a:int(5..1)", "range 5..1 is empty"),
    _field("a:int(..)", "a range needs at least one end"),
    _field("a:str(>=3)", "constraint (>=3) is not a length range"),
    _field("a:str(1.5..3)", "lengths must be whole numbers"),
    _field("a:int(1.5..3)", "int bounds must be whole numbers"),
    _field("a:int(abc)", "constraint (abc) is not a range"),
    _field("a:int=x", "default 'x' does not fit int"),
    _field("a:int(1..5)=9", "default '9' does not fit int: value above the constraint"),
    _field("a:bool=yes", "default 'yes' does not fit bool: expected true or false"),
    _field("a:date=2024-02-30", "default '2024-02-30' does not fit date"),
    _field(
        "a:datetime=2024-01-01T00:00",
        "default '2024-01-01T00:00' does not fit datetime: expected a timezone",
    ),
    _field("a:enum(x|y)=z", "default 'z' does not fit enum: expected one of x, y"),
    _field("a:list[str]=x", "default 'x' does not fit list: lists take no default"),
    _field("a:str(..3)=toolong", "default 'toolong' does not fit str: length above"),
    _field("a:bool!unique", "!unique on a bool field"),
    _field("a:str!unique!index", "!unique already creates an index"),
    _field("a:str??", "? given twice"),
    _field("a:str!primary", "unexpected '!primary'; expected ?, =default, !unique or !index"),
    _field("a:decimal(>=x)", "constraint (>=x) is not a range"),
    _field("a:enum(x|y)!unique", "!unique on an enum field"),
    _field("a:list[str]!unique", "!unique on a list field"),
    _field("a:int(1..5)!unique", "!unique needs room for 100 different values"),
    _field("a:str=x!unique", "!unique with a default"),
    _field(
        "a:int=99999999999999999999",
        "default '99999999999999999999' does not fit int: does not fit a 64-bit integer",
    ),
    _field(
        "a:decimal=1" + "1" * 34,
        f"default '1{'1' * 34}' does not fit decimal: does not fit a Decimal128",
    ),
    _field(
        "a:decimal(..1" + "0" * 30 + ")",
        f"bound 1{'0' * 30} is too large: keep decimal bounds below 10^30",
    ),
]
