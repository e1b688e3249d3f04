"""The application factory and its route table."""
{%- set auth = cookiecutter.auth != "none" %}

from __future__ import annotations

from typing import Any

import orjson
from tornado.web import Application, RequestHandler

from {{ cookiecutter.package_name }} import handlers
{%- if cookiecutter.auth == "api-key" %}
from {{ cookiecutter.package_name }}.api_keys import ApiKeyAuthenticator
{%- endif %}
{%- if auth %}
from {{ cookiecutter.package_name }}.auth import Authenticator
{%- endif %}
from {{ cookiecutter.package_name }}.context import ApiContext
from {{ cookiecutter.package_name }}.docs import docs_routes
{%- if cookiecutter.auth == "jwt" %}
from {{ cookiecutter.package_name }}.jwks import JwtAuthenticator
{%- endif %}
from {{ cookiecutter.package_name }}.logs import AccessLog
{%- if cookiecutter.metrics %}
from {{ cookiecutter.package_name }}.metrics import observe_request
{%- endif %}
from {{ cookiecutter.package_name }}.openapi import build_openapi
from {{ cookiecutter.package_name }}.resources import RESOURCES
{%- if auth %}
from {{ cookiecutter.package_name }}.settings import Settings
{%- endif %}

{%- if auth %}


def open_authenticator(settings: Settings) -> Authenticator:
{%- if cookiecutter.auth == "api-key" %}
    return ApiKeyAuthenticator(settings.api_keys)
{%- else %}
    return JwtAuthenticator(settings)
{%- endif %}
{%- endif %}


def make_app(context: ApiContext) -> Application:
    access_log = AccessLog(context.settings)
{%- if cookiecutter.metrics %}

    def finished(handler: RequestHandler) -> None:
        observe_request(handler)
        access_log(handler)
{%- endif %}

    shared = {"context": context}
    openapi = orjson.dumps(build_openapi())  # the same bytes for every request
{%- if auth %}
    # One authenticator for the application: it holds what it learns (such as keys).
    protected = {**shared, "authenticator": open_authenticator(context.settings)}
{%- else %}
    protected = shared  # AUTH=none: whatever is in front of the service authenticates
{%- endif %}
    resource_routes: list[tuple[str, type[RequestHandler], dict[str, Any]]] = []
    for resource in RESOURCES:
        served = {**protected, "resource": resource}
        resource_routes += [
            (rf"/{resource.name}", handlers.CollectionHandler, served),
            (rf"/{resource.name}/([^/]+)", handlers.ItemHandler, served),
        ]
    return Application(
        [
            *resource_routes,
            (r"/healthz", handlers.HealthHandler, shared),
            (r"/readyz", handlers.ReadinessHandler, shared),
            (r"/openapi.json", handlers.OpenApiHandler, {**shared, "document": openapi}),
            *(docs_routes(context) if context.settings.api_docs else []),
        ],
        default_handler_class=handlers.NotFoundHandler,
        default_handler_args=shared,
        log_function={{ "finished" if cookiecutter.metrics else "access_log" }},
    )
