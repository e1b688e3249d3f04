"""The application factory and its route table."""
{%- set auth = cookiecutter.auth != "none" %}

from __future__ import annotations

import logging
from typing import Any

from tornado.web import Application, RequestHandler

from {{ cookiecutter.package_name }} import handlers
{%- if cookiecutter.auth == "api-key" %}
from {{ cookiecutter.package_name }}.api_keys import ApiKeyAuthenticator
{%- endif %}
{%- if auth %}
from {{ cookiecutter.package_name }}.auth import Authenticator
{%- endif %}
from {{ cookiecutter.package_name }}.context import ApiContext
{%- if cookiecutter.auth == "jwt" %}
from {{ cookiecutter.package_name }}.jwks import JwtAuthenticator
{%- endif %}
from {{ cookiecutter.package_name }}.openapi import build_openapi
from {{ cookiecutter.package_name }}.resources import RESOURCES
{%- if auth %}
from {{ cookiecutter.package_name }}.settings import Settings
{%- endif %}

access_log = logging.getLogger("{{ cookiecutter.package_name }}.access")


def log_request(handler: RequestHandler) -> None:
    """One line per request: method, path, status, duration, request id{% if auth %} and caller{% endif %}."""
{%- if auth %}
    caller = getattr(handler, "caller", None)
{%- endif %}
    access_log.info(
        "%s %s %d %.1fms request_id=%s{% if auth %} caller=%s{% endif %}",
        handler.request.method,
        handler.request.path,
        handler.get_status(),
        handler.request.request_time() * 1000,
        getattr(handler, "request_id", "-"),
{%- if auth %}
        caller.identity if caller else "-",
{%- endif %}
    )
{%- if auth %}


def open_authenticator(settings: Settings) -> Authenticator:
{%- if cookiecutter.auth == "api-key" %}
    return ApiKeyAuthenticator(settings.api_keys)
{%- else %}
    return JwtAuthenticator(settings)
{%- endif %}
{%- endif %}


def make_app(context: ApiContext) -> Application:
    shared = {"context": context}
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
            (r"/openapi.json", handlers.OpenApiHandler, {**shared, "document": build_openapi()}),
        ],
        default_handler_class=handlers.NotFoundHandler,
        default_handler_args=shared,
        log_function=log_request,
    )
