"""The OpenAPI 3.1 description of the API, built from the pydantic models.

It lists every status, header and parameter the service can produce or honour, so client
generators and schema fuzzers can hold the service to it.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from {{ cookiecutter.package_name }} import __version__
from {{ cookiecutter.package_name }}.models import (
    {{ cookiecutter.resource_name | pascal }}Create,
    {{ cookiecutter.resource_name | pascal }}Patch,
    {{ cookiecutter.resource_name | pascal }}Public,
    {{ cookiecutter.resource_name | pascal }}Query,
    {{ cookiecutter.resource_name | pascal }}Replace,
)
from {{ cookiecutter.package_name }}.repository import UNIQUE_FIELDS

_REF = "#/components/schemas/{model}"
_PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "message", "type"],
                "properties": {
                    "path": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}
_HEADERS = {
    "X-Request-ID": "The request's X-Request-ID if well formed, else a new id; quote it in reports",
    "ETag": "The version of this representation, for If-None-Match and If-Match",
    "Location": "The path of the new {{ cookiecutter.resource_name }}",
    "Retry-After": "Seconds to wait before trying again",
}
_ERROR_TEXT = {
    400: "Malformed request: HTTP framing, JSON, or UTF-8 in the body, path or query",
    404: "No such {{ cookiecutter.resource_name }}",
    409: "A unique field already has this value",
    412: "If-Match names no current version of the {{ cookiecutter.resource_name }}",
    413: "Body larger than MAX_BODY_BYTES",
    415: "Body is not application/json",
    422: "Validation failed; `errors` lists each problem",
    500: "Unexpected error; `request_id` identifies it in the logs",
    503: "Database unavailable, or (for writes) unique indexes not built yet",
}
_ERROR_HEADERS = {503: ("Retry-After",)}
# Any request can be malformed or declare too large a body; anything can fail unexpectedly.
_ALWAYS = (400, 413, 500)
# What a body can be refused for; 409 only when a unique field can clash.
_BODY_ERRORS = (*((409,) if UNIQUE_FIELDS else ()), 415, 422, 503)
_LIST_DESCRIPTION = (
    "Each field filters by exact value. `limit` and `after` page through the results in `sort`"
    " order: `next` is the `after` of the following page, valid only with the same `sort`."
    " Unknown parameters are refused with 422, except names starting with `_`"
    " (cache-busters such as `_=1700000000`), which are ignored."
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(model=name)}


def _response(
    description: str,
    schema: dict[str, Any] | None = None,
    *headers: str,
    media_type: str = "application/json",
) -> dict[str, Any]:
    """A response; every one carries X-Request-ID."""
    response: dict[str, Any] = {
        "description": description,
        "headers": {
            name: {"$ref": f"#/components/headers/{name}"} for name in ("X-Request-ID", *headers)
        },
    }
    if schema is not None:
        response["content"] = {media_type: {"schema": schema}}
    return response


def _errors(*statuses: int) -> dict[str, Any]:
    return {
        str(status): _response(
            _ERROR_TEXT[status],
            _ref("Problem"),
            *_ERROR_HEADERS.get(status, ()),
            media_type="application/problem+json",
        )
        for status in sorted({*_ALWAYS, *statuses})
    }


def _header_parameter(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "description": description,
        "schema": {"type": "string"},
    }


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`X | None` without the null: a query parameter is absent, never null."""
    kept = [branch for branch in schema.get("anyOf", []) if branch != {"type": "null"}]
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    if len(kept) == 1:
        rest.update(kept[0])
    elif kept:
        rest["anyOf"] = kept
    if "default" in rest and rest["default"] is None:
        del rest["default"]
    return rest


def _query_parameters() -> list[dict[str, Any]]:
    schema = {{ cookiecutter.resource_name | pascal }}Query.model_json_schema(ref_template=_REF)
    return [
        {"name": name, "in": "query", "required": False, "schema": _not_null(property_schema)}
        for name, property_schema in schema["properties"].items()
    ]


def build_openapi() -> dict[str, Any]:
    _, schemas = models_json_schema(
        [
            ({{ cookiecutter.resource_name | pascal }}Create, "validation"),
            ({{ cookiecutter.resource_name | pascal }}Replace, "validation"),
            ({{ cookiecutter.resource_name | pascal }}Patch, "validation"),
            ({{ cookiecutter.resource_name | pascal }}Public, "serialization"),
        ],
        ref_template=_REF,
    )
    components = {**schemas["$defs"], "Problem": _PROBLEM}
    # A PATCH that names no field is refused (422), which the model's schema cannot say.
    components[{{ cookiecutter.resource_name | pascal }}Patch.__name__]["minProperties"] = 1
    item_id = {
        "name": "{{ cookiecutter.resource_name }}_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9a-f]{24}$"},
    }
    if_match = _header_parameter("If-Match", "Change only this version (an ETag), else 412")
    if_none_match = _header_parameter("If-None-Match", "Answer 304 if this ETag is still current")
    one = _ref("{{ cookiecutter.resource_name | pascal }}Public")
    changed = _response("The {{ cookiecutter.resource_name }} as stored now", one, "ETag")
    not_modified = _response("Not modified: If-None-Match names the current version", None, "ETag")
    page = {
        "type": "object",
        "required": ["{{ cookiecutter.collection_name }}", "next"],
        "properties": {
            "{{ cookiecutter.collection_name }}": {"type": "array", "items": one},
            "next": {"type": ["string", "null"], "description": "`after` for the next page"},
        },
    }
    status = {"type": "object", "properties": {"status": {"type": "string"}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "{{ cookiecutter.project_name }}", "version": __version__},
        "paths": {
            "/{{ cookiecutter.collection_name }}": {
                "get": {
                    "operationId": "list_{{ cookiecutter.collection_name }}",
                    "summary": "List {{ cookiecutter.collection_name }}, filtered by exact field values",
                    "description": _LIST_DESCRIPTION,
                    "parameters": [*_query_parameters(), if_none_match],
                    "responses": {
                        "200": _response("One page", page, "ETag"),
                        "304": not_modified,
                        **_errors(422, 503),
                    },
                },
                "post": {
                    "operationId": "create_{{ cookiecutter.resource_name }}",
                    "summary": "Create a {{ cookiecutter.resource_name }}",
                    "requestBody": _body("{{ cookiecutter.resource_name | pascal }}Create"),
                    "responses": {
                        "201": _response("The new {{ cookiecutter.resource_name }}", one, "Location", "ETag"),
                        **_errors(*_BODY_ERRORS),
                    },
                },
            },
            "/{{ cookiecutter.collection_name }}/{{ cookiecutter.resource_name | path_parameter }}": {
                "parameters": [item_id],
                "get": {
                    "operationId": "read_{{ cookiecutter.resource_name }}",
                    "summary": "Read a {{ cookiecutter.resource_name }}",
                    "parameters": [if_none_match],
                    "responses": {
                        "200": _response("The {{ cookiecutter.resource_name }}", one, "ETag"),
                        "304": not_modified,
                        **_errors(404, 503),
                    },
                },
                "put": {
                    "operationId": "replace_{{ cookiecutter.resource_name }}",
                    "summary": "Replace a {{ cookiecutter.resource_name }}",
                    "parameters": [if_match],
                    "requestBody": _body("{{ cookiecutter.resource_name | pascal }}Replace"),
                    "responses": {"200": changed, **_errors(404, 412, *_BODY_ERRORS)},
                },
                "patch": {
                    "operationId": "update_{{ cookiecutter.resource_name }}",
                    "summary": "Change some fields of a {{ cookiecutter.resource_name }}",
                    "parameters": [if_match],
                    "requestBody": _body("{{ cookiecutter.resource_name | pascal }}Patch"),
                    "responses": {"200": changed, **_errors(404, 412, *_BODY_ERRORS)},
                },
                "delete": {
                    "operationId": "delete_{{ cookiecutter.resource_name }}",
                    "summary": "Delete a {{ cookiecutter.resource_name }}",
                    "parameters": [if_match],
                    "responses": {"204": _response("Deleted"), **_errors(404, 412, 503)},
                },
            },
            "/healthz": {
                "get": {
                    "operationId": "healthz",
                    "summary": "Liveness",
                    "responses": {"200": _response("The process is up", status), **_errors()},
                }
            },
            "/readyz": {
                "get": {
                    "operationId": "readyz",
                    "summary": "Readiness: indexes exist, not shutting down, the database answers",
                    "responses": {
                        "200": _response("Ready", status),
                        "503": _response("Not ready; `status` says why", status),
                        **_errors(),
                    },
                }
            },
        },
        "components": {
            "schemas": components,
            "headers": {
                name: {"description": text, "required": True, "schema": {"type": "string"}}
                for name, text in _HEADERS.items()
            },
        },
    }
