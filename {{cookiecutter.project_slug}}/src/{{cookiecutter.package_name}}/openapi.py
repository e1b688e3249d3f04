"""The OpenAPI 3.1 description of the API, built from the pydantic models."""

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
_ERROR_TEXT = {
    400: "Malformed JSON or non-UTF-8 body",
    404: "No such {{ cookiecutter.resource_name }} or route",
    405: "Method not allowed",
    409: "A unique field already has this value",
    413: "Body larger than MAX_BODY_BYTES",
    415: "Body is not application/json",
    422: "Validation failed; `errors` lists each field",
    500: "Unexpected error",
    503: "Database unavailable",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(model=name)}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {
            "description": _ERROR_TEXT[status],
            "content": {"application/problem+json": {"schema": _ref("Problem")}},
        }
        for status in (*statuses, 500)
    }


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _query_parameters() -> list[dict[str, Any]]:
    schema = {{ cookiecutter.resource_name | pascal }}Query.model_json_schema()
    return [
        {"name": name, "in": "query", "required": False, "schema": property_schema}
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
    item_id = {
        "name": "{{ cookiecutter.resource_name }}_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9a-f]{24}$"},
    }
    one = _json(_ref("{{ cookiecutter.resource_name | pascal }}Public"), "The {{ cookiecutter.resource_name }}")
    page = {
        "type": "object",
        "required": ["{{ cookiecutter.collection_name }}", "next"],
        "properties": {
            "{{ cookiecutter.collection_name }}": {"type": "array", "items": _ref("{{ cookiecutter.resource_name | pascal }}Public")},
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
                    "summary": "List {{ cookiecutter.collection_name }}, filtered by exact field values",
                    "parameters": _query_parameters(),
                    "responses": {"200": _json(page, "One page"), **_errors(422, 503)},
                },
                "post": {
                    "summary": "Create a {{ cookiecutter.resource_name }}",
                    "requestBody": _body("{{ cookiecutter.resource_name | pascal }}Create"),
                    "responses": {
                        "201": one,
                        **_errors(400, 409, 413, 415, 422, 503),
                    },
                },
            },
            "/{{ cookiecutter.collection_name }}/{{ cookiecutter.resource_name | path_parameter }}": {
                "parameters": [item_id],
                "get": {
                    "summary": "Read a {{ cookiecutter.resource_name }}",
                    "responses": {"200": one, **_errors(404, 503)},
                },
                "put": {
                    "summary": "Replace a {{ cookiecutter.resource_name }}",
                    "requestBody": _body("{{ cookiecutter.resource_name | pascal }}Replace"),
                    "responses": {"200": one, **_errors(400, 404, 409, 413, 415, 422, 503)},
                },
                "patch": {
                    "summary": "Change some fields of a {{ cookiecutter.resource_name }}",
                    "requestBody": _body("{{ cookiecutter.resource_name | pascal }}Patch"),
                    "responses": {"200": one, **_errors(400, 404, 409, 413, 415, 422, 503)},
                },
                "delete": {
                    "summary": "Delete a {{ cookiecutter.resource_name }}",
                    "responses": {"204": {"description": "Deleted"}, **_errors(404, 503)},
                },
            },
            "/healthz": {
                "get": {
                    "summary": "Liveness",
                    "responses": {"200": _json(status, "The process is up")},
                }
            },
            "/readyz": {
                "get": {
                    "summary": "Readiness: the database answers",
                    "responses": {
                        "200": _json(status, "Ready"),
                        "503": _json(status, "The database does not answer"),
                    },
                }
            },
        },
        "components": {"schemas": components},
    }
