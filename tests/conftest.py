"""Fixtures for the template's tests: rendering the template and a MongoDB to test against."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from matrix import Answers
from mongodb_server import REPO, ServerError, ferretdb

Bake = Callable[[Answers], Path]

# The longest tests, started first so that the two workers finish together rather than one
# waiting on the other's last suite (a drawn spec's suites take three minutes alone).
LONGEST_FIRST = (
    "test_spec_property.py::test_drawn_specs_pass_their_own_suites",
    "test_generated_suites.py::test_generated_suite_passes",
    "test_fuzz.py",
    "test_faults.py",
    "test_generated_suites.py",
    "test_docs_browser.py",
    "test_shipping.py::test_uv_sync",
    "test_update.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        found = (index for index, name in enumerate(LONGEST_FIRST) if name in item.nodeid)
        return next(found, len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: the order within each rank is pytest's


@pytest.fixture
def bake(tmp_path: Path) -> Bake:
    """Render the template with `answers` over the defaults; return the project directory."""

    def render(answers: Answers) -> Path:
        output = tmp_path / "out"
        return Path(
            cookiecutter(str(REPO), no_input=True, extra_context=answers, output_dir=str(output))
        )

    return render


@pytest.fixture(scope="session")
def mongodb_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`MONGODB_URI` when set; otherwise a FerretDB started for this session."""
    if uri := os.environ.get("MONGODB_URI"):
        yield uri
        return
    try:
        with ferretdb(tmp_path_factory.mktemp("ferretdb")) as uri:
            yield uri
    except ServerError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def promtool() -> Path:
    """Prometheus's checker: on PATH, or built by `make promtool` (needs Go)."""
    built = REPO / ".cache" / "bin" / "promtool"
    found = shutil.which("promtool")
    if found:
        return Path(found)
    if not built.exists():
        pytest.fail(f"{built} is missing: run `make promtool` (needs Go)", pytrace=False)
    return built
