"""Bad answers stop cookiecutter in the pre-generation hook and leave nothing behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

from matrix import BAD_ANSWERS, Answers, bad_id
from mongodb_server import REPO


@pytest.mark.parametrize(
    ("answers", "message"), BAD_ANSWERS, ids=[bad_id(answers) for answers, _ in BAD_ANSWERS]
)
def test_bad_answer_fails_the_hook_and_leaves_no_directory(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], answers: Answers, message: str
) -> None:
    with pytest.raises(FailedHookException):
        cookiecutter(str(REPO), no_input=True, extra_context=answers, output_dir=str(tmp_path))
    errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("error: ")]
    assert any(message in line for line in errors), errors
    assert list(tmp_path.iterdir()) == []


def cli(tmp_path: Path, *answers: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            str(REPO),
            "-o",
            str(tmp_path),
            *answers,
        ],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_command_line_reports_every_problem_and_exits_non_zero(tmp_path: Path) -> None:
    result = cli(tmp_path, "project_slug=Bad Slug", "resources=students: a:int; courses: b:ref(x)")
    assert result.returncode != 0
    assert "error: project_slug 'Bad Slug' is invalid" in result.stderr
    assert (
        "error: resources 'students: a:int; courses: b:ref(x)' is invalid: resource 'courses': "
        "'b:ref(x)': ref(x) names no resource of this answer (resources: students, courses)"
    ) in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_readme_generate_command_works_from_the_repository_root(tmp_path: Path) -> None:
    """`cookiecutter .` makes `_repo_dir` relative; the hooks must still find the rules."""
    result = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", ".", "-o", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "college-api" / "pyproject.toml").is_file()
    assert "python -m college_api" in result.stdout


def test_command_line_yes_no_answers_are_booleans(tmp_path: Path) -> None:
    result = cli(tmp_path, "use_docker=no", "ci=none")
    assert result.returncode == 0, result.stderr
    project = tmp_path / "college-api"
    assert project.is_dir()
    assert not (project / "Dockerfile").exists()
    assert not (project / ".github").exists()
