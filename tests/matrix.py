"""The option combinations the template is rendered with, and answers it must reject.

Every value of every option appears at least once; driver x docker x ci are crossed.
Each entry is only what differs from cookiecutter.json's defaults.
"""

from __future__ import annotations

import itertools
from typing import Any

Answers = dict[str, Any]

# Every prompt answered as cookiecutter.json's defaults render, for calling the rules directly.
DEFAULTS: Answers = {
    "project_name": "College API",
    "project_slug": "college-api",
    "package_name": "college_api",
    "author_name": "Jane Doe",
    "author_email": "jane@example.com",
    "database_name": "college_api",
    "collection_name": "students",
    "resource_name": "student",
    "fields": "name:str, email:str, course:str, gpa:float",
    "description": "A service",
    "mongodb_driver": "pymongo",
    "python_version": "3.11",
    "use_docker": True,
    "ci": "github",
    "license": "MIT",
}

_PYTHONS = ("3.11", "3.12", "3.13", "3.14")
_LICENSES = ("MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary")

CROSSED: list[Answers] = [
    {
        "mongodb_driver": driver,
        "use_docker": docker,
        "ci": ci,
        "python_version": _PYTHONS[index % len(_PYTHONS)],
        "license": _LICENSES[index % len(_LICENSES)],
    }
    for index, (driver, docker, ci) in enumerate(
        itertools.product(("pymongo", "motor"), (True, False), ("github", "none"))
    )
]

CUSTOM_NAMES: Answers = {
    "project_name": "People Directory",
    "collection_name": "people",
    "resource_name": "person",
    "database_name": "directory",
    "fields": "full_name:str, age:int, height:float?, active:bool, nickname:str?",
}

# The example: every modifier, and decimal (which FerretDB cannot store).
BOOKS: Answers = {
    "collection_name": "books",
    "resource_name": "book",
    "fields": (
        "title:str(1..200), isbn:str!unique, price:decimal(>=0), published:date?, "
        "tags:list[str], email:email!unique, site:url?, in_stock:bool=true, "
        "rating:int(1..5)?, created:datetime"
    ),
}
# Every other type and modifier; sortable fields and defaults of several types.
COURSES: Answers = {
    "collection_name": "courses",
    "resource_name": "course",
    "fields": (
        "code:str(2..12)!unique, credits:int(1..30)!index, "
        "term:enum(spring|summer|autumn)=spring!index, starts_on:date!index, fee:float(>=0)?, "
        "contact:email?, homepage:url?, ref:uuid!unique, opened_at:datetime=2024-01-01T00:00:00Z, "
        "labels:list[int](1..3), active:bool?, score:float(<100)?!index"
    ),
}

# Issue 7: optional unique, indexed list (filters only), int default and index.
EDGES: Answers = {
    "fields": "name:str, code:str?!unique, tags:list[str]!index, score:int=0!index",
}

# Long names push generated lines towards the line-length limit.
LONG_NAMES: Answers = {
    "project_name": "University Course Registration Service",
    "collection_name": "course_registrations",
    "resource_name": "course_registration",
    "mongodb_driver": "motor",
}

MATRIX: list[Answers] = [
    {},
    CUSTOM_NAMES,
    {**BOOKS, "mongodb_driver": "motor"},
    COURSES,
    {**LONG_NAMES, "fields": COURSES["fields"]},
    {**EDGES, "mongodb_driver": "motor"},
    *CROSSED,
]

_SHORT = {"mongodb_driver": "driver", "use_docker": "docker", "python_version": "py"}


def answers_id(answers: Answers) -> str:
    """`driver:motor-docker:False-ci:none` style ids, so a red run explains itself."""
    if not answers:
        return "defaults"
    return "-".join(
        f"{_SHORT.get(key, key)}:{str(value)[:24]}{'...' if len(str(value)) > 24 else ''}"
        for key, value in answers.items()
    )


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
        {"collection_name": "system.users"},
        "collection_name 'system.users' is invalid: MongoDB reserves names starting with 'system.'",
    ),
    ({"collection_name": "a$b"}, "collection_name 'a$b' is invalid: must not contain '$'"),
    ({"collection_name": ""}, "collection_name '' is invalid: must not be empty"),
    (
        {"collection_name": "my-items"},
        "collection_name 'my-items' is invalid: must be ASCII letters",
    ),
    ({"collection_name": "2024_items"}, "collection_name '2024_items' is invalid: must be ASCII"),
    (
        {"collection_name": "data"},
        "resource_name 'data' is invalid: must differ from collection_name",
    ),
    ({"resource_name": "a b"}, "resource_name 'a b' is invalid: must be ASCII letters"),
    ({"database_name": "my.db"}, "database_name 'my.db' is invalid: must not contain"),
    ({"database_name": "a/b"}, "database_name 'a/b' is invalid: must not contain"),
    (
        {"database_name": "d" * 64},
        f"database_name '{'d' * 64}' is invalid: must be at most 63 bytes",
    ),
    ({"author_email": "not-an-email"}, "author_email 'not-an-email' is invalid"),
    ({"project_name": 'Say "hi"'}, "project_name 'Say \"hi\"' is invalid: must not contain quotes"),
    ({"fields": ""}, "fields '' is invalid: expected at least one field"),
    ({"fields": "name"}, "fields 'name' is invalid: 'name': expected name:type"),
    (
        {"fields": "name:string"},
        "fields 'name:string' is invalid: 'name:string': unknown type 'string'",
    ),
    (
        {"fields": "a:int, a:str"},
        "fields 'a:int, a:str' is invalid: 'a:str': duplicate field name 'a'",
    ),
    (
        {"fields": "Name:str"},
        "fields 'Name:str' is invalid: 'Name:str': name 'Name' must be a lowercase",
    ),
    (
        {"fields": "class:str"},
        "fields 'class:str' is invalid: 'class:str': name 'class' is a Python keyword",
    ),
    ({"fields": "id:str"}, "fields 'id:str' is invalid: 'id:str': name 'id' is reserved"),
    ({"fields": "_id:str"}, "fields '_id:str' is invalid: '_id:str': name '_id' is reserved"),
    (
        {"fields": "$set:str"},
        "fields '$set:str' is invalid: '$set:str': name '$set' must not start with '$'",
    ),
    (
        {"fields": "a.b:str"},
        "fields 'a.b:str' is invalid: 'a.b:str': name 'a.b' must not start with '$'",
    ),
    ({"fields": "a:int,,b:int"}, "fields 'a:int,,b:int' is invalid: empty field between commas"),
    ({"fields": "a:list[dict]"}, "'a:list[dict]': list item type 'dict' is not one of"),
    ({"fields": "a:enum()"}, "'a:enum()': enum choices must be words"),
    ({"fields": "a:enum(x|x)"}, "'a:enum(x|x)': enum choices must be different"),
    ({"fields": "a:enum(x y|z)"}, "'a:enum(x y|z)': enum choices must be words"),
    ({"fields": "a:bool(1..2)"}, "'a:bool(1..2)': type 'bool' takes no constraint"),
    ({"fields": "a:int(5..1)"}, "'a:int(5..1)': range 5..1 is empty"),
    ({"fields": "a:int(..)"}, "'a:int(..)': a range needs at least one end"),
    ({"fields": "a:str(>=3)"}, "'a:str(>=3)': constraint (>=3) is not a length range"),
    ({"fields": "a:str(1.5..3)"}, "'a:str(1.5..3)': lengths must be whole numbers"),
    ({"fields": "a:int(1.5..3)"}, "'a:int(1.5..3)': int bounds must be whole numbers"),
    ({"fields": "a:int(abc)"}, "'a:int(abc)': constraint (abc) is not a range"),
    ({"fields": "a:int=x"}, "'a:int=x': default 'x' does not fit int"),
    ({"fields": "a:int(1..5)=9"}, "'a:int(1..5)=9': default '9' does not fit int: value above"),
    (
        {"fields": "a:bool=yes"},
        "'a:bool=yes': default 'yes' does not fit bool: expected true or false",
    ),
    (
        {"fields": "a:date=2024-02-30"},
        "'a:date=2024-02-30': default '2024-02-30' does not fit date",
    ),
    ({"fields": "a:datetime=2024-01-01T00:00"}, "does not fit datetime: expected a timezone"),
    (
        {"fields": "a:enum(x|y)=z"},
        "'a:enum(x|y)=z': default 'z' does not fit enum: expected one of x, y",
    ),
    (
        {"fields": "a:list[str]=x"},
        "'a:list[str]=x': default 'x' does not fit list: lists take no default",
    ),
    ({"fields": "a:str(..3)=toolong"}, "default 'toolong' does not fit str: length above"),
    ({"fields": "a:bool!unique"}, "'a:bool!unique': !unique on a bool field"),
    ({"fields": "a:str!unique!index"}, "'a:str!unique!index': !unique already creates an index"),
    ({"fields": "a:str??"}, "'a:str??': ? given twice"),
    ({"fields": "a:str!primary"}, "'a:str!primary': unexpected '!primary'; expected ?, =default"),
    ({"fields": "a:decimal(>=x)"}, "'a:decimal(>=x)': constraint (>=x) is not a range"),
    ({"fields": "a:enum(x|y)!unique"}, "'a:enum(x|y)!unique': !unique on an enum field"),
    ({"fields": "a:list[str]!unique"}, "'a:list[str]!unique': !unique on a list field"),
    (
        {"fields": "a:int(1..5)!unique"},
        "'a:int(1..5)!unique': !unique needs room for 100 different values",
    ),
    ({"fields": "a:str=x!unique"}, "'a:str=x!unique': !unique with a default"),
    (
        {"fields": "a:int=99999999999999999999"},
        "default '99999999999999999999' does not fit int: does not fit a 64-bit integer",
    ),
    ({"fields": "a:decimal=1" + "1" * 34}, "does not fit decimal: does not fit a Decimal128"),
    ({"fields": "a:decimal(..1" + "0" * 30 + ")"}, "keep decimal bounds below 10^30"),
]
