"""Liveness, readiness and the OpenAPI document."""

from __future__ import annotations

import json
import time

from support import DEFAULTS, FIELDS, REQUIRED, fetch


async def test_healthz_reports_ok(base_url: str) -> None:
    response = await fetch(f"{base_url}/healthz")
    assert response.code == 200
    assert json.loads(response.body) == {"status": "ok"}


async def test_readyz_reports_ok_when_the_database_answers(base_url: str) -> None:
    response = await fetch(f"{base_url}/readyz")
    assert response.code == 200
    assert json.loads(response.body) == {"status": "ok"}


async def test_readyz_reports_503_quickly_when_the_database_is_unreachable(
    unresponsive_base_url: str,
) -> None:
    started = time.monotonic()
    response = await fetch(f"{unresponsive_base_url}/readyz")
    elapsed = time.monotonic() - started
    assert response.code == 503
    assert json.loads(response.body) == {"status": "unavailable"}
    assert elapsed < 5, f"readiness took {elapsed:.1f}s with a 0.5s database timeout"


async def test_openapi_describes_every_route_and_the_model(base_url: str) -> None:
    response = await fetch(f"{base_url}/openapi.json")
    assert response.code == 200
    document = json.loads(response.body)
    assert document["openapi"] == "3.1.0"
    paths = document["paths"]
    assert set(paths) == {
        "/{{ cookiecutter.collection_name }}",
        "/{{ cookiecutter.collection_name }}/{{ cookiecutter.resource_name | path_parameter }}",
        "/healthz",
        "/readyz",
    }
    assert set(paths["/{{ cookiecutter.collection_name }}"]) == {"get", "post"}
    assert set(paths["/{{ cookiecutter.collection_name }}/{{ cookiecutter.resource_name | path_parameter }}"]) == {
        "parameters",
        "get",
        "put",
        "patch",
        "delete",
    }
    schemas = document["components"]["schemas"]
    create = schemas["{{ cookiecutter.resource_name | pascal }}Create"]
    assert set(create["properties"]) == set(FIELDS)
    assert create["additionalProperties"] is False
    assert set(create.get("required", [])) == set(REQUIRED)
    for name, value in DEFAULTS.items():
        assert "default" in create["properties"][name], name
        assert json.dumps(create["properties"][name]["default"]) == json.dumps(value)
    assert set(schemas["{{ cookiecutter.resource_name | pascal }}Public"]["properties"]) == {"id", *FIELDS}
    post_responses = paths["/{{ cookiecutter.collection_name }}"]["post"]["responses"]
    assert {"201", "400", "413", "415", "422", "500", "503"} <= set(post_responses)
    list_parameters = {p["name"] for p in paths["/{{ cookiecutter.collection_name }}"]["get"]["parameters"]}
    assert list_parameters == {"limit", "after", "sort", *FIELDS}
