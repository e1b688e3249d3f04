"""Swagger UI at /docs: the page, every file it loads from the service itself, the switch."""

from __future__ import annotations

import re

from support import ServeApp, fetch, with_settings

from {{ cookiecutter.package_name }}.context import ApiContext


async def test_the_page_loads_swagger_ui_from_the_service_itself(base_url: str) -> None:
    response = await fetch(f"{base_url}/docs", authorized=False)

    assert response.code == 200
    assert response.headers["Content-Type"] == "text/html"
    assert "script-src 'self';" in response.headers["Content-Security-Policy"]
    page = response.body.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert "/docs/static/swagger-ui-bundle.js" in assets
    assert all(asset.startswith("/docs/") for asset in assets), assets  # no CDN
    assert "<script>" not in page  # no inline script: the policy forbids it
    for asset in assets:
        loaded = await fetch(f"{base_url}{asset}", authorized=False)
        assert loaded.code == 200, asset
        assert loaded.headers["X-Content-Type-Options"] == "nosniff"
        assert "Server" not in loaded.headers
        kind = {"css": "text/css", "js": "javascript", "png": "image/png"}[asset.rsplit(".")[-1]]
        assert kind in loaded.headers["Content-Type"], asset


async def test_swagger_ui_reads_the_openapi_document(base_url: str) -> None:
    script = await fetch(f"{base_url}/docs/start.js", authorized=False)

    assert script.code == 200
    assert 'url: "/openapi.json"' in script.body.decode()
    assert (await fetch(f"{base_url}/openapi.json", authorized=False)).code == 200


async def test_api_docs_false_serves_no_documentation(
    serve_app: ServeApp, context: ApiContext
) -> None:
    base_url = serve_app(with_settings(context, api_docs=False))

    for path in ("/docs", "/docs/start.js", "/docs/static/swagger-ui-bundle.js"):
        assert (await fetch(f"{base_url}{path}", authorized=False)).code == 404, path
    assert (await fetch(f"{base_url}/openapi.json", authorized=False)).code == 200
