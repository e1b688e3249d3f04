from __future__ import annotations

import json
import time

from support import ServeApp, fetch

from {{ cookiecutter.package_name }}.database import close, connect
from {{ cookiecutter.package_name }}.settings import Settings


async def test_healthz_reports_ok(base_url: str) -> None:
    response = await fetch(f"{base_url}/healthz")
    assert response.code == 200
    assert json.loads(response.body) == {"status": "ok"}


async def test_readyz_reports_ok_when_the_database_answers(base_url: str) -> None:
    response = await fetch(f"{base_url}/readyz")
    assert response.code == 200
    assert json.loads(response.body) == {"status": "ok"}


async def test_readyz_reports_503_quickly_when_the_database_is_unreachable(
    serve_app: ServeApp, settings: Settings
) -> None:
    unreachable = settings.model_copy(
        update={
            "mongodb_uri": "mongodb://127.0.0.1:9/?directConnection=true",
            "mongodb_timeout_ms": 500,
        }
    )
    client = connect(unreachable)
    try:
        base_url = serve_app(unreachable, client)
        started = time.monotonic()
        response = await fetch(f"{base_url}/readyz")
        elapsed = time.monotonic() - started
    finally:
        await close(client)
    assert response.code == 503
    assert json.loads(response.body) == {"status": "unavailable"}
    assert elapsed < 5, f"readiness took {elapsed:.1f}s with a 0.5s database timeout"
