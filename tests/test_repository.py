"""Promises the repository makes to a newcomer, checked against its own files."""

from __future__ import annotations

import re

from mongodb_server import REPO


def shell_blocks(markdown: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", markdown, flags=re.S)


def test_ci_runs_the_readme_test_command() -> None:
    readme_commands = [block.strip() for block in shell_blocks((REPO / "README.md").read_text())]
    ci_commands = [
        line.strip()
        for line in (REPO / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "set ", "cd "))
    ]
    assert ci_commands == ["make test"]
    assert "make test" in readme_commands


def test_readme_generate_command_uses_this_template() -> None:
    blocks = shell_blocks((REPO / "README.md").read_text())
    assert "make install && .venv/bin/cookiecutter ." in [block.strip() for block in blocks]
