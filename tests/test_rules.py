"""The answer rules, called directly (test_reject.py runs them through cookiecutter)."""

from __future__ import annotations

import itertools
import json

import pytest

from local_extensions import naming, rules, supported_pythons
from local_extensions.resources import NAME_MAX_LENGTH
from matrix import BAD_ANSWERS, CROSSED, DEFAULTS, MATRIX, answers_id, bad_id
from mongodb_server import REPO


def test_defaults_break_no_rule() -> None:
    assert rules.problems(DEFAULTS) == []


def test_defaults_cover_every_prompt_in_cookiecutter_json() -> None:
    prompts = {key for key in json.loads((REPO / "cookiecutter.json").read_text()) if key[0] != "_"}
    assert prompts == set(DEFAULTS)


@pytest.mark.parametrize("answers", MATRIX, ids=answers_id)
def test_every_matrix_entry_breaks_no_rule(answers: dict[str, object]) -> None:
    context = {**DEFAULTS, **answers}
    if "project_name" in answers:  # as cookiecutter derives them
        context["package_name"] = str(answers["project_name"]).lower().replace(" ", "_")
    assert rules.problems(context) == []


@pytest.mark.parametrize(
    ("answers", "message"), BAD_ANSWERS, ids=[bad_id(answers) for answers, _ in BAD_ANSWERS]
)
def test_bad_answer_is_named_with_its_rule(answers: dict[str, object], message: str) -> None:
    found = rules.problems({**DEFAULTS, **answers})
    assert len(found) == 1, found
    assert found[0].startswith(message), found


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("mongodb_driver", "beanie"),
        ("auth", "oauth"),
        ("auth", "API-KEY"),
        ("python_version", "3.10"),
        ("ci", "gitlab"),
        ("license", "GPL"),
    ],
)
def test_choice_outside_the_list_is_rejected(name: str, value: str) -> None:
    assert rules.problems({**DEFAULTS, name: value}) == [
        f"{name} {value!r} is invalid: must be one of " + ", ".join(rules.CHOICES[name])
    ]


def test_crossed_entries_meet_every_pair_of_values() -> None:
    """auth x driver are crossed; docker, ci and metrics are spread so that any two meet."""
    values = {
        "auth": rules.CHOICES["auth"],
        "mongodb_driver": rules.CHOICES["mongodb_driver"],
        "use_docker": (True, False),
        "ci": rules.CHOICES["ci"],
        "metrics": (True, False),
    }
    for first, second in itertools.combinations(values, 2):
        met = {(answers[first], answers[second]) for answers in CROSSED}
        assert met == set(itertools.product(values[first], values[second])), (first, second)


def test_kubernetes_meets_every_auth_mode_and_metrics_value() -> None:
    rendered = [{**DEFAULTS, **answers} for answers in MATRIX if answers.get("kubernetes")]
    assert {answers["auth"] for answers in rendered} == set(rules.CHOICES["auth"])
    assert {answers["metrics"] for answers in rendered} == {True, False}


def test_tracing_meets_every_auth_driver_and_metrics_value() -> None:
    rendered = [{**DEFAULTS, **answers} for answers in MATRIX]
    for name, values in {
        "auth": rules.CHOICES["auth"],
        "mongodb_driver": rules.CHOICES["mongodb_driver"],
        "metrics": (True, False),
    }.items():
        met = {(answers["opentelemetry"], answers[name]) for answers in rendered}
        assert met == set(itertools.product((True, False), values)), name


@pytest.mark.parametrize("name", ["metrics", "opentelemetry", "use_docker", "kubernetes"])
def test_yes_no_answers_must_be_real_booleans(name: str) -> None:
    assert rules.problems({**DEFAULTS, name: "no"}) == [
        f"{name} 'no' is invalid: must be true or false"
    ]


def test_every_problem_is_reported_at_once() -> None:
    found = rules.problems({**DEFAULTS, "project_slug": "Bad Slug", "database_name": "my.db"})
    assert [problem.split()[0] for problem in found] == ["project_slug", "database_name"]


def test_no_answer_can_exceed_mongodb_namespace_limit() -> None:
    """`<database>.<collection>` is at most 255 bytes: the name rules keep it far below."""
    longest = rules.DATABASE_MAX_BYTES + len(".") + NAME_MAX_LENGTH
    assert longest <= 255


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
