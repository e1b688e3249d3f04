"""Deep tier: install generated projects and run their own suites against the session's server."""

from __future__ import annotations

import re

import pytest
from generated import install, run_pytest

from conftest import Bake
from matrix import Answers, answers_id

DEEP: list[Answers] = [
    {"mongodb_driver": "pymongo"},
    {"mongodb_driver": "motor"},
]


@pytest.mark.parametrize("answers", DEEP, ids=answers_id)
def test_generated_suite_passes(bake: Bake, mongodb_uri: str, answers: Answers) -> None:
    project = bake(answers)
    python = install(project)
    result = run_pytest(python, project, mongodb_uri)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    summary = result.stdout.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed, summary
    assert int(passed.group(1)) >= 3, summary
    assert "failed" not in summary
    assert "error" not in summary
