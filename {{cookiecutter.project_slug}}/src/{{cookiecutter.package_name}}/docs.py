"""Interactive API documentation: Swagger UI at /docs, for the OpenAPI document at /openapi.json.

The assets are the ones swagger-ui-py bundles, served by the service itself: the page works
without a CDN and under a Content-Security-Policy that allows no script but these files.
API_DOCS=false leaves the routes out.
"""

from __future__ import annotations

from typing import Any

from swagger_ui.utils import SWAGGER_UI_PY_ROOT
from tornado.web import RequestHandler, StaticFileHandler

from {{ cookiecutter.package_name }}.context import ApiContext
from {{ cookiecutter.package_name }}.handlers import ApiHandler

ASSETS = SWAGGER_UI_PY_ROOT / "static"
# Swagger UI sets inline styles and draws its icons as data: images; nothing else is needed.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)

PAGE = """\
<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>{{ cookiecutter.project_name | e }}: API documentation</title>
    <link rel="stylesheet" href="/docs/static/swagger-ui.css">
    <link rel="icon" type="image/png" href="/docs/static/favicon-32x32.png">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/static/swagger-ui-bundle.js"></script>
    <script src="/docs/start.js"></script>
  </body>
</html>
"""

START = """\
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
"""


class DocsHandler(ApiHandler):
    """The page (`/docs`) and the script that points Swagger UI at /openapi.json."""

    SUPPORTED_METHODS = ("GET", "HEAD", "OPTIONS")

    def initialize(  # type: ignore[override]
        self, context: ApiContext, route: str, body: str, media_type: str
    ) -> None:
        super().initialize(context)
        self._route = route
        self.body = body
        self.media_type = media_type

    @property
    def route(self) -> str:
        return self._route

    def get(self) -> None:
        self.set_header("Content-Type", self.media_type)
        self.set_header("Content-Security-Policy", POLICY)
        self.set_header("Cache-Control", "no-cache")
        self.finish(self.body)


class AssetHandler(StaticFileHandler):
    """Swagger UI's files, with the headers every response of the service carries."""

    route = "/docs/static/{file}"

    def set_default_headers(self) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")
        self.clear_header("Server")


def docs_routes(context: ApiContext) -> list[tuple[str, type[RequestHandler], dict[str, Any]]]:
    """The routes of the documentation, for the route table."""
    page = {"context": context, "route": "/docs", "body": PAGE, "media_type": "text/html"}
    start = {**page, "route": "/docs/start.js", "body": START, "media_type": "text/javascript"}
    return [
        (r"/docs/?", DocsHandler, page),
        (r"/docs/start\.js", DocsHandler, start),
        (r"/docs/static/(.+)", AssetHandler, {"path": str(ASSETS)}),
    ]
