"""Helpers the tests share: an HTTP call that never raises on a status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPResponse

from {{ cookiecutter.package_name }}.database import AsyncMongoClient, Document
from {{ cookiecutter.package_name }}.settings import Settings

ServeApp = Callable[[Settings, AsyncMongoClient[Document]], str]


async def fetch(url: str, method: str = "GET", **kwargs: Any) -> HTTPResponse:
    """One request that returns the response whatever its status."""
    return await AsyncHTTPClient().fetch(url, method=method, raise_error=False, **kwargs)
