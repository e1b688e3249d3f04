"""The answer rules, called directly (test_reject.py runs them through cookiecutter)."""

from __future__ import annotations

import json

import pytest

from local_extensions import naming, rules, supported_pythons
from matrix import BAD_ANSWERS, DEFAULTS
from mongodb_server import REPO


def test_defaults_break_no_rule() -> None:
    assert rules.problems(DEFAULTS) == []


def test_defaults_cover_every_prompt_in_cookiecutter_json() -> None:
    prompts = {key for key in json.loads((REPO / "cookiecutter.json").read_text()) if key[0] != "_"}
    assert prompts == set(DEFAULTS)


@pytest.mark.parametrize(
    ("answers", "message"), BAD_ANSWERS, ids=[next(iter(a.items()))[0] for a, _ in BAD_ANSWERS]
)
def test_bad_answer_is_named_with_its_rule(answers: dict[str, object], message: str) -> None:
    context = {**DEFAULTS, **answers}
    if "collection_name" in answers and "resource_name" not in answers:
        context["resource_name"] = naming.singular(str(answers["collection_name"]))
    found = rules.problems(context)
    assert any(message in problem for problem in found), found


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("mongodb_driver", "beanie"),
        ("python_version", "3.10"),
        ("ci", "gitlab"),
        ("license", "GPL"),
    ],
)
def test_choice_outside_the_list_is_rejected(name: str, value: str) -> None:
    assert rules.problems({**DEFAULTS, name: value}) == [
        f"{name} {value!r} is invalid: must be one of " + ", ".join(rules.CHOICES[name])
    ]


def test_use_docker_must_be_a_real_boolean() -> None:
    assert rules.problems({**DEFAULTS, "use_docker": "no"}) == [
        "use_docker 'no' is invalid: must be true or false"
    ]


def test_every_problem_is_reported_at_once() -> None:
    found = rules.problems({**DEFAULTS, "project_slug": "Bad Slug", "database_name": "my.db"})
    assert [problem.split()[0] for problem in found] == ["project_slug", "database_name"]


def test_namespace_length_is_bounded() -> None:
    assert rules.check_collection_name("c" * 250, "d" * 10) == (
        "makes the namespace '<database>.<collection>' longer than 255 bytes"
    )
    assert rules.check_collection_name("c" * 200, "d" * 10) is None


@pytest.mark.parametrize(
    ("collection", "resource"),
    [
        ("students", "student"),
        ("categories", "category"),
        ("boxes", "box"),
        ("classes", "class"),
        ("branches", "branch"),
        ("books", "book"),
        ("data", "data"),
    ],
)
def test_singular(collection: str, resource: str) -> None:
    assert naming.singular(collection) == resource


def test_pascal() -> None:
    assert naming.pascal("student_record") == "StudentRecord"


def test_supported_pythons_run_from_the_minimum_to_the_newest() -> None:
    assert supported_pythons("3.12") == ["3.12", "3.13", "3.14"]
    assert supported_pythons("3.14") == ["3.14"]
