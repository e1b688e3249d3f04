"""The application factory and its route table."""

from __future__ import annotations

import logging

from tornado.web import Application, RequestHandler

from {{ cookiecutter.package_name }} import handlers
from {{ cookiecutter.package_name }}.context import ApiContext
from {{ cookiecutter.package_name }}.openapi import build_openapi
from {{ cookiecutter.package_name }}.resources import RESOURCES

access_log = logging.getLogger("{{ cookiecutter.package_name }}.access")


def log_request(handler: RequestHandler) -> None:
    """One line per request: method, path, status, duration and request id."""
    access_log.info(
        "%s %s %d %.1fms request_id=%s",
        handler.request.method,
        handler.request.path,
        handler.get_status(),
        handler.request.request_time() * 1000,
        getattr(handler, "request_id", "-"),
    )


def make_app(context: ApiContext) -> Application:
    shared = {"context": context}
    resource_routes = [
        route
        for resource in RESOURCES
        for route in (
            (rf"/{resource.name}", handlers.CollectionHandler, {**shared, "resource": resource}),
            (rf"/{resource.name}/([^/]+)", handlers.ItemHandler, {**shared, "resource": resource}),
        )
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
