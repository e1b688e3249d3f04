"""Install a rendered project into its own virtual environment and run things in it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from uv import find_uv_bin

from mongodb_server import REPO

UV_CACHE = REPO / ".cache" / "uv"


def install(project: Path, resolution: str = "highest") -> Path:
    """Create `project/.venv` with the project (editable) and its dev extra; return its python.

    `resolution="lowest-direct"` installs every declared lower bound, to prove them.
    """
    env = {**os.environ, "UV_CACHE_DIR": str(UV_CACHE)}
    venv = project / ".venv"
    uv = find_uv_bin()
    for command in (
        [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
        [
            *(uv, "pip", "install", "--quiet", "--python", str(venv)),
            *("--resolution", resolution, "-e", f"{project}[dev]"),
        ],
    ):
        subprocess.run(command, check=True, env=env, cwd=project, stdin=subprocess.DEVNULL)
    return venv / "bin" / "python"


def run_in(python: Path, project: Path, *module_args: str) -> subprocess.CompletedProcess[str]:
    """`python -m <module_args>` inside the project's environment."""
    return subprocess.run(
        [str(python), "-m", *module_args],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )


def mint_api_key(python: Path, project: Path, name: str, *scopes: str) -> tuple[str, str]:
    """`python -m <package> new-api-key`, as the generated README says: (key, API_KEYS entry).

    No scope means every scope of every resource.
    """
    (package,) = (path.parent.name for path in (project / "src").glob("*/__main__.py"))
    arguments = [f"--scope={scope}" for scope in scopes]
    result = run_in(python, project, package, "new-api-key", "--name", name, *arguments)
    assert result.returncode == 0, result.stderr
    key, entry = result.stdout.splitlines()
    return key, entry


def api_keys(*entries: str) -> str:
    """The `API_KEYS` value (a JSON list) holding the entries `mint_api_key` printed."""
    return "[" + ", ".join(entries) + "]"


def run_pytest(python: Path, project: Path, mongodb_uri: str) -> subprocess.CompletedProcess[str]:
    """The generated suite, as its README says to run it, with warnings as errors."""
    return subprocess.run(
        [str(python), "-m", "pytest", "-q", "-rsx", "-W", "error", "-p", "no:cacheprovider"],
        cwd=project,
        env={**os.environ, "MONGODB_URI": mongodb_uri},
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
