"""Liveness, readiness and the OpenAPI document, which describes every resource."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from bson import ObjectId
from pydantic import ValidationError
from support import CASES, Case, each, fetch

from {{ cookiecutter.package_name }}.openapi import build_openapi
from {{ cookiecutter.package_name }}.resources import RESOURCES

OBJECT_ID_PATTERN = "^[0-9a-f]{24}$"
SERVICE_OPERATIONS = {("/healthz", "get"): "healthz", ("/readyz", "get"): "readyz"}


def pascal(case: Case) -> str:
    """The prefix of the case's model and schema names: `course_section` -> `CourseSection`."""
    return "".join(part[:1].upper() + part[1:] for part in case.singular.split("_") if part)


def item_path(case: Case) -> str:
    return case.path + "/{" + case.singular + "_id}"


def operations(case: Case) -> dict[tuple[str, str], str]:
    """Each operation on the case's paths and the operationId a client generator names it by."""
    collection, item = case.path, item_path(case)
    return {
        (collection, "get"): f"list_{case.name}",
        (collection, "post"): f"create_{case.singular}",
        (item, "get"): f"read_{case.singular}",
        (item, "put"): f"replace_{case.singular}",
        (item, "patch"): f"update_{case.singular}",
        (item, "delete"): f"delete_{case.singular}",
    }


OPERATIONS = {
    **{key: name for case in CASES for key, name in operations(case).items()},
    **SERVICE_OPERATIONS,
}


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


async def test_openapi_is_served_with_every_resource_and_tag(base_url: str) -> None:
    response = await fetch(f"{base_url}/openapi.json")
    assert response.code == 200
    document = json.loads(response.body)
    assert document["openapi"] == "3.1.0"
    resource_paths = {path for case in CASES for path in (case.path, item_path(case))}
    assert set(document["paths"]) == {*resource_paths, "/healthz", "/readyz"}
    assert document["tags"] == [{"name": case.name} for case in CASES]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_openapi_describes_the_models_of_each_resource(case: Case) -> None:
    document = build_openapi()
    paths = document["paths"]
    assert set(paths[case.path]) == {"get", "post"}
    assert set(paths[item_path(case)]) == {"parameters", "get", "put", "patch", "delete"}
    schemas = document["components"]["schemas"]
    create = schemas[f"{pascal(case)}Create"]
    assert set(create["properties"]) == set(case.fields)
    assert create["additionalProperties"] is False
    assert set(create.get("required", [])) == set(case.required)
    for name, value in case.defaults.items():
        assert "default" in create["properties"][name], name
        assert json.dumps(create["properties"][name]["default"]) == json.dumps(value)
    assert set(schemas[f"{pascal(case)}Replace"]["properties"]) == set(case.fields)
    assert set(schemas[f"{pascal(case)}Public"]["properties"]) == {"id", *case.fields}
    page = paths[case.path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(page["properties"]) == {case.name, "next"}
    post_responses = paths[case.path]["post"]["responses"]
    assert {"201", "400", "413", "415", "422", "500", "503"} <= set(post_responses)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_openapi_tags_each_operation_with_its_resource(case: Case) -> None:
    document = build_openapi()
    for path, method in operations(case):
        assert document["paths"][path][method]["tags"] == [case.name], (path, method)


def operation(path: str, method: str) -> dict[str, Any]:
    return dict(build_openapi()["paths"][path][method])


def parameters(path: str, method: str, where: str) -> set[str]:
    return {p["name"] for p in operation(path, method).get("parameters", []) if p["in"] == where}


def headers(path: str, method: str, status: str) -> set[str]:
    return set(operation(path, method)["responses"][status].get("headers", {}))


def test_openapi_names_every_operation() -> None:
    document = build_openapi()
    named = {
        (path, method): spec["operationId"]
        for path, item in document["paths"].items()
        for method, spec in item.items()
        if method != "parameters"
    }
    assert named == OPERATIONS


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=OPERATIONS.values())
def test_openapi_documents_the_statuses_and_request_id_of_every_answer(
    path: str, method: str
) -> None:
    responses = operation(path, method)["responses"]
    assert {"400", "413", "500"} <= set(responses)
    for status, response in responses.items():
        assert "X-Request-ID" in response["headers"], status
        media_types = set(response.get("content", {}))
        assert media_types <= {"application/json", "application/problem+json"}, status
        if status.startswith(("4", "5")) and (path, status) != ("/readyz", "503"):
            assert media_types == {"application/problem+json"}, status


@pytest.mark.parametrize("case", CASES, ids=str)
def test_openapi_documents_list_parameters_and_revalidation(case: Case) -> None:
    assert parameters(case.path, "get", "query") == {"limit", "after", "sort", *case.fields}
    assert parameters(case.path, "get", "header") == {"If-None-Match"}
    assert {"200", "304", "422", "503"} <= set(operation(case.path, "get")["responses"])
    assert "`_`" in operation(case.path, "get")["description"]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_openapi_documents_the_location_and_version_of_a_new_document(case: Case) -> None:
    assert headers(case.path, "post", "201") == {"X-Request-ID", "Location", "ETag"}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_openapi_documents_conditional_reads(case: Case) -> None:
    item = item_path(case)
    assert parameters(item, "get", "header") == {"If-None-Match", "If-Match"}
    assert {"304", "412"} <= set(operation(item, "get")["responses"])
    assert headers(item, "get", "200") == {"X-Request-ID", "ETag"}
    assert headers(item, "get", "304") == {"X-Request-ID", "ETag"}
    assert "content" not in operation(item, "get")["responses"]["304"]


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_openapi_documents_conditional_writes(case: Case, method: str) -> None:
    item = item_path(case)
    assert parameters(item, method, "header") == {"If-Match", "If-None-Match"}
    responses = operation(item, method)["responses"]
    assert {"404", "412", "503"} <= set(responses)
    if method != "delete":
        assert headers(item, method, "200") == {"X-Request-ID", "ETag"}
        assert {"415", "422"} <= set(responses)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_openapi_patch_schema_asks_for_at_least_one_field(case: Case) -> None:
    schemas = build_openapi()["components"]["schemas"]
    assert schemas[f"{pascal(case)}Patch"]["minProperties"] == 1


@pytest.mark.parametrize("case", CASES, ids=str)
def test_openapi_503_says_when_to_retry(case: Case) -> None:
    document = build_openapi()
    assert "Retry-After" in document["components"]["headers"]
    assert headers(case.path, "post", "503") == {"X-Request-ID", "Retry-After"}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_openapi_documents_ids_as_object_ids(case: Case) -> None:
    document = build_openapi()
    [item_id] = document["paths"][item_path(case)]["parameters"]
    assert (item_id["name"], item_id["in"]) == (f"{case.singular}_id", "path")
    assert item_id["schema"] == {"type": "string", "pattern": OBJECT_ID_PATTERN}
    public = document["components"]["schemas"][f"{pascal(case)}Public"]
    assert public["properties"]["id"]["pattern"] == OBJECT_ID_PATTERN
    assert re.fullmatch(OBJECT_ID_PATTERN, str(ObjectId()))


def present(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema of a value that is there: `X | None` without its null branch."""
    kept = [branch for branch in schema.get("anyOf", [schema]) if branch != {"type": "null"}]
    assert len(kept) == 1, schema
    branch: dict[str, Any] = kept[0]
    return branch


@pytest.mark.parametrize(("case", "field"), each("references", "reference field"))
def test_openapi_documents_references_as_object_id_strings(case: Case, field: str) -> None:
    """Clients see a reference as the 24-hex id of the document it points to, everywhere."""
    document = build_openapi()
    schemas = document["components"]["schemas"]
    for role in ("Create", "Replace", "Patch", "Public"):
        value = present(schemas[f"{pascal(case)}{role}"]["properties"][field])
        if field in case.lists:
            assert value["type"] == "array", (role, value)
            value = value["items"]
        assert (value["type"], value["pattern"]) == ("string", OBJECT_ID_PATTERN), (role, value)
    [query] = [
        parameter
        for parameter in document["paths"][case.path]["get"]["parameters"]
        if parameter["name"] == field
    ]
    # A list of references is filtered by one of its items.
    assert (query["schema"]["type"], query["schema"]["pattern"]) == ("string", OBJECT_ID_PATTERN)


def documented_as_valid(schema: Any, value: str, refused: bool = False) -> bool:
    """What the `pattern`s in a JSON schema say of `value`: those under `not` must not match."""
    if isinstance(schema, list):
        return all(documented_as_valid(item, value, refused) for item in schema)
    if not isinstance(schema, dict):
        return True
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and bool(re.search(pattern, value)) == refused:
        return False
    return all(
        documented_as_valid(item, value, refused != (key == "not")) for key, item in schema.items()
    )


@pytest.mark.parametrize(
    "address", ["ada@example.com", "ada@uni.test", "ADA@UNI.LOCAL", "ada@x.onion", "a@test.org"]
)
@pytest.mark.parametrize(("case", "field"), each("emails", "email field"))
def test_openapi_email_pattern_agrees_with_the_model(case: Case, field: str, address: str) -> None:
    """email-validator refuses special-use domains; the document must say the same."""
    patch = build_openapi()["components"]["schemas"][f"{pascal(case)}Patch"]
    documented = documented_as_valid(patch["properties"][field], address)
    value = [address] if field in case.lists else address
    model = next(resource.patch for resource in RESOURCES if resource.name == case.name)
    try:
        model.model_validate({field: value})
    except ValidationError:
        accepted = False
    else:
        accepted = True
    assert documented == accepted
