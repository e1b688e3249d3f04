"""The update path: a project made with cruft follows later changes of the template.

The template is copied (as it is in this checkout) into a git repository of its own; a
project is created from it with cruft and committed; then the template changes, and
`cruft update` must bring the change in cleanly, or, where the project changed the same
lines, report the conflict and keep both sides.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mongodb_server import REPO

CRUFT = str(Path(sys.executable).parent / "cruft")
README = "{{cookiecutter.project_slug}}/README.md"


def git(directory: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def cruft(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CRUFT, *args],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )


@pytest.fixture
def template(tmp_path: Path) -> Path:
    """This checkout's template (committed or not) as a git repository of its own."""
    copy = tmp_path / "template"
    files = git(REPO, "ls-files", "--cached", "--others", "--exclude-standard").splitlines()
    for name in files:
        if (REPO / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, copy / name)
    git(copy, "init", "--quiet")
    git(copy, "add", "--all")
    git(copy, "commit", "--quiet", "--message", "the template")
    return copy


@pytest.fixture
def project(template: Path, tmp_path: Path) -> Path:
    """A project made from `template` with `cruft create`, committed in its own repository."""
    created = cruft(tmp_path, "create", "--no-input", str(template), "--output-dir", "projects")
    assert created.returncode == 0, created.stdout + created.stderr
    directory = tmp_path / "projects" / "college-api"
    state = json.loads((directory / ".cruft.json").read_text())
    assert state["commit"] == git(template, "rev-parse", "HEAD").strip()
    git(directory, "init", "--quiet")
    git(directory, "add", "--all")
    git(directory, "commit", "--quiet", "--message", "generated")
    return directory


def change_template(template: Path, line: str) -> None:
    with (template / README).open("a") as readme:
        readme.write(f"\n{line}\n")
    git(template, "commit", "--quiet", "--all", "--message", "a template change")


def test_a_template_change_arrives_with_cruft_update(template: Path, project: Path) -> None:
    assert cruft(project, "check").returncode == 0
    change_template(template, "A line the template added.")
    assert cruft(project, "check").returncode != 0  # the project knows it is behind

    updated = cruft(project, "update", "--skip-apply-ask")

    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert "conflict" not in updated.stdout.lower()
    assert (project / "README.md").read_text().endswith("A line the template added.\n")
    assert cruft(project, "check").returncode == 0
    changed = git(project, "status", "--porcelain").splitlines()
    assert sorted(line[3:] for line in changed) == [".cruft.json", "README.md"]


def test_a_conflicting_local_change_is_reported_and_kept(template: Path, project: Path) -> None:
    with (project / "README.md").open("a") as readme:
        readme.write("\nA line of our own.\n")
    git(project, "commit", "--quiet", "--all", "--message", "our change")
    change_template(template, "A line the template added.")

    updated = cruft(project, "update", "--skip-apply-ask")

    assert "with conflicts" in updated.stdout + updated.stderr, updated.stdout + updated.stderr
    readme = (project / "README.md").read_text()
    assert "<<<<<<<" in readme
    assert "A line of our own." in readme  # nothing of ours is lost
    assert "A line the template added." in readme
    assert "UU README.md" in git(project, "status", "--porcelain").splitlines()


def test_rendering_is_deterministic(template: Path, tmp_path: Path) -> None:
    """Two renders of the same answers are the same bytes: nothing from the clock or chance."""
    trees = []
    for name in ("first", "second"):
        created = cruft(tmp_path, "create", "--no-input", str(template), "--output-dir", name)
        assert created.returncode == 0, created.stdout + created.stderr
        root = tmp_path / name / "college-api"
        trees.append(
            {
                path.relative_to(root): path.read_bytes()
                for path in root.rglob("*")
                if path.is_file()
            }
        )
    assert trees[0] == trees[1]
