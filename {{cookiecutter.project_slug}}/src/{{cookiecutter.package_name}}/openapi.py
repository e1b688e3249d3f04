"""The OpenAPI 3.1 description of the API, built from the pydantic models.
{%- set any_unique = cookiecutter.resources | parse_resources | selectattr("unique_fields") | list %}
{%- set auth = cookiecutter.auth != "none" %}

It lists every status, header and parameter the service can produce or honour, so client
generators and schema fuzzers can hold the service to it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from {{ cookiecutter.package_name }} import __version__
from {{ cookiecutter.package_name }}.models import ListParameters, Resource
from {{ cookiecutter.package_name }}.resources import RESOURCES

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
    "Location": "The path of the new document",
    "Retry-After": "Seconds to wait before trying again",
{%- if auth %}
    "WWW-Authenticate": "The Bearer challenge: what was wrong with the credential (RFC 6750)",
{%- endif %}
}
_ERROR_TEXT = {
    400: "Malformed request: HTTP framing, JSON, or UTF-8 in the body, path or query",
{%- if auth %}
    401: "No credential, or one that is not valid",
    403: "The credential lacks the scope the operation needs",
{%- endif %}
    404: "No document with this id",
{%- if any_unique %}
    409: "A unique field already has this value",
{%- endif %}
    412: "If-Match names no current version, or a write's If-None-Match names it",
    413: "Body larger than MAX_BODY_BYTES",
    415: "Body is not application/json",
    422: "Validation failed; `errors` lists each problem",
    500: "Unexpected error; `request_id` identifies it in the logs",
{%- if any_unique %}
    503: "Database unavailable, or (for writes) unique indexes not built yet",
{%- else %}
    503: "Database unavailable",
{%- endif %}
}
{%- if auth %}
_ERROR_HEADERS = {
    401: ("WWW-Authenticate",),
    403: ("WWW-Authenticate",),
    503: ("Retry-After",),
}
{%- else %}
_ERROR_HEADERS = {503: ("Retry-After",)}
{%- endif %}
# Any request can be malformed or declare too large a body; anything can fail unexpectedly.
_ALWAYS = (400, 413, 500)
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


def _query_parameters(query: type[ListParameters]) -> list[dict[str, Any]]:
    schema = query.model_json_schema(ref_template=_REF)
    return [
        {"name": name, "in": "query", "required": False, "schema": _not_null(property_schema)}
        for name, property_schema in schema["properties"].items()
    ]


def _body_errors(resource: Resource) -> tuple[int, ...]:
{%- if any_unique %}
    """What a body can be refused for; 409 only when a unique field can clash."""
    return (*((409,) if resource.unique else ()), 415, 422, 503)
{%- else %}
    """What a body can be refused for."""
    return (415, 422, 503)
{%- endif %}


def _resource_paths(resource: Resource) -> dict[str, Any]:
    """The collection and item paths of one resource, tagged with its name."""
    name, singular = resource.name, resource.singular
    parameter = f"{singular}_id"
    item_id = {
        "name": parameter,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9a-f]{24}$"},
    }
    if_match = _header_parameter("If-Match", "Act only on these versions (ETags), else 412")
    if_none_match = _header_parameter(
        "If-None-Match", "Read: 304 if this ETag is still current; write: 412 if it is"
    )
    write_conditions = [if_match, if_none_match]
    one = _ref(resource.public.__name__)
    changed = _response(f"The {singular} as stored now", one, "ETag")
    not_modified = _response("Not modified: If-None-Match names the current version", None, "ETag")
    page = {
        "type": "object",
        "required": [name, "next"],
        "properties": {
            name: {"type": "array", "items": one},
            "next": {"type": ["string", "null"], "description": "`after` for the next page"},
        },
    }
    body_errors = _body_errors(resource)
    tags = [name]
    paths: dict[str, Any] = {
        f"/{name}": {
            "get": {
                "tags": tags,
                "operationId": f"list_{name}",
                "summary": f"List {name}, filtered by exact field values",
                "description": _LIST_DESCRIPTION,
                "parameters": [*_query_parameters(resource.query), if_none_match],
                "responses": {
                    "200": _response("One page", page, "ETag"),
                    "304": not_modified,
                    **_errors(422, 503),
                },
            },
            "post": {
                "tags": tags,
                "operationId": f"create_{singular}",
                "summary": f"Create one {singular}",
                "requestBody": _body(resource.create.__name__),
                "responses": {
                    "201": _response(f"The new {singular}", one, "Location", "ETag"),
                    **_errors(*body_errors),
                },
            },
        },
        f"/{name}/" + "{" + parameter + "}": {
            "parameters": [item_id],
            "get": {
                "tags": tags,
                "operationId": f"read_{singular}",
                "summary": f"Read one {singular}",
                "parameters": [if_none_match, if_match],
                "responses": {
                    "200": _response(f"The {singular}", one, "ETag"),
                    "304": not_modified,
                    **_errors(404, 412, 503),
                },
            },
            "put": {
                "tags": tags,
                "operationId": f"replace_{singular}",
                "summary": f"Replace one {singular}",
                "parameters": write_conditions,
                "requestBody": _body(resource.replace.__name__),
                "responses": {"200": changed, **_errors(404, 412, *body_errors)},
            },
            "patch": {
                "tags": tags,
                "operationId": f"update_{singular}",
                "summary": f"Change some fields of one {singular}",
                "parameters": write_conditions,
                "requestBody": _body(resource.patch.__name__),
                "responses": {"200": changed, **_errors(404, 412, *body_errors)},
            },
            "delete": {
                "tags": tags,
                "operationId": f"delete_{singular}",
                "summary": f"Delete one {singular}",
                "parameters": write_conditions,
                "responses": {"204": _response("Deleted"), **_errors(404, 412, 503)},
            },
        },
    }
{%- if auth %}
    for operations in paths.values():
        for method, operation in operations.items():
            if method != "parameters":
                scope = f"{name}:{'read' if method == 'get' else 'write'}"
                operation["security"] = [{"bearer": [scope]}]
                operation["responses"].update(_errors(401, 403))
{%- endif %}
    return paths


def build_openapi() -> dict[str, Any]:
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    for resource in RESOURCES:
        models += [
            (resource.create, "validation"),
            (resource.replace, "validation"),
            (resource.patch, "validation"),
            (resource.public, "serialization"),
        ]
    _, schemas = models_json_schema(models, ref_template=_REF)
    components = {**schemas["$defs"], "Problem": _PROBLEM}
    for resource in RESOURCES:
        # A PATCH that names no field is refused (422), which the model's schema cannot say.
        components[resource.patch.__name__]["minProperties"] = 1
    status = {"type": "object", "properties": {"status": {"type": "string"}}}
    resource_paths = {
        path: operations
        for resource in RESOURCES
        for path, operations in _resource_paths(resource).items()
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "{{ cookiecutter.project_name }}", "version": __version__},
        "tags": [{"name": resource.name} for resource in RESOURCES],
        "paths": {
            **resource_paths,
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
{%- if auth %}
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
{%- if cookiecutter.auth == "jwt" %}
                    "bearerFormat": "JWT",
                    "description": "A JWT from the identity provider, with the scopes in `scope`",
{%- else %}
                    "description": "An API key (`new-api-key`); its scopes are in API_KEYS",
{%- endif %}
                }
            },
{%- endif %}
            "schemas": components,
            "headers": {
                name: {"description": text, "required": True, "schema": {"type": "string"}}
                for name, text in _HEADERS.items()
            },
        },
    }
