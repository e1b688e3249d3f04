"""Promises the repository makes to a newcomer, checked against its own files."""

from __future__ import annotations

import json
import re

from local_extensions import rules
from local_extensions.resources import check_resources
from matrix import DEFAULTS
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


def readme_section(title: str) -> str:
    """The text of one `## title` section of the README, up to the next `## ` heading."""
    text = (REPO / "README.md").read_text()
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_readme_answer_examples_are_accepted() -> None:
    answers_table = readme_section("Resources").split("### ", 1)[0]
    examples = [
        cell.replace("\\|", "|")  # a pipe inside a Markdown table cell is escaped
        for cell in re.findall(r"^\| `(.+?)` \|", answers_table, flags=re.M)
    ]
    assert len(examples) >= 5
    assert any(example.count(";") >= 2 and "ref(" in example for example in examples)
    for example in examples:
        assert check_resources(example) is None, example


def test_readme_error_examples_are_what_the_hook_prints() -> None:
    lines = [
        line.removeprefix("error: ")
        for block in re.findall(r"```text\n(.*?)```", (REPO / "README.md").read_text(), re.S)
        for line in block.splitlines()
        if line.startswith("error: ")
    ]
    assert len(lines) >= 2
    for line in lines:
        name, value = re.match(r"(\w+) '(.*?)' is invalid: ", line).groups()  # type: ignore[union-attr]
        assert line in rules.problems({**DEFAULTS, name: value})


def test_readme_prompt_table_lists_every_prompt_in_order() -> None:
    prompts = [key for key in json.loads((REPO / "cookiecutter.json").read_text()) if key[0] != "_"]
    rows = re.findall(r"^\| `(\w+)` \|", readme_section("Prompts"), flags=re.M)
    assert rows == prompts
