"""HTTP handlers: validate the request, make one database call, return the public model."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from functools import cached_property
from http.client import responses
from types import TracebackType
from typing import Any, TypeVar

from bson import ObjectId
from pydantic import BaseModel, ValidationError
from tornado.http1connection import HTTP1Connection
from tornado.web import HTTPError, RequestHandler, stream_request_body

from {{ cookiecutter.package_name }}.context import ApiContext
from {{ cookiecutter.package_name }}.database import (
    Document,
    ping,
)
from {{ cookiecutter.package_name }}.errors import (
    ApiError,
    NotFound,
    Unprocessable,
)
from {{ cookiecutter.package_name }}.models import (
    {{ cookiecutter.resource_name | pascal }}Create,
    {{ cookiecutter.resource_name | pascal }}Patch,
    {{ cookiecutter.resource_name | pascal }}Public,
    {{ cookiecutter.resource_name | pascal }}Query,
    {{ cookiecutter.resource_name | pascal }}Replace,
    exact_decimals,
)
from {{ cookiecutter.package_name }}.pagination import (
    InvalidCursor,
    decode_cursor,
    encode_cursor,
)

log = logging.getLogger(__name__)

Body = TypeVar("Body", bound=BaseModel)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_JSON_MEDIA = re.compile(r"^application/(?:[\w.+-]+\+)?json$")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@stream_request_body
class ApiHandler(RequestHandler):
    """JSON in and out, problem+json errors, a request id, and bodies read within a size limit.

    Streaming the body lets `prepare` refuse an oversized or non-JSON body before reading it.
    """

    def initialize(self, context: ApiContext) -> None:
        self.context = context
        self._chunks: list[bytes] = []
        self._counted = False

    @cached_property
    def request_id(self) -> str:
        given = self.request.headers.get("X-Request-ID", "")
        return given if _REQUEST_ID.match(given) else uuid.uuid4().hex

    def set_default_headers(self) -> None:
        self.set_header("X-Request-ID", self.request_id)

    def prepare(self) -> None:
        self.context.in_flight.started()
        self._counted = True
        if self.request.method not in _BODY_METHODS:
            return
        limit = self.context.settings.max_body_bytes
        declared = self.request.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ApiError(413, f"The body is larger than the limit of {limit} bytes.")
        if isinstance(self.request.connection, HTTP1Connection):
            self.request.connection.set_max_body_size(limit)
        media_type = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not _JSON_MEDIA.match(media_type):
            raise ApiError(415, "Send the body as application/json.")

    def data_received(self, chunk: bytes) -> None:
        self._chunks.append(chunk)

    def on_finish(self) -> None:
        self._stop_counting()

    def on_connection_close(self) -> None:
        """A client that hangs up mid-request must not hold up shutdown."""
        self._stop_counting()
        super().on_connection_close()

    def _stop_counting(self) -> None:
        if self._counted:
            self._counted = False
            self.context.in_flight.finished()

    def parse_body(self, model: type[Body]) -> Body:
        try:
            text = b"".join(self._chunks).decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(400, "The body is not valid UTF-8.") from None
        try:
            return model.model_validate_json(exact_decimals(text))
        except ValidationError as error:
            if any(detail["type"] == "json_invalid" for detail in error.errors()):
                raise ApiError(400, "The body is not valid JSON.") from None
            raise Unprocessable.from_validation(error, "body") from None

    def parse_query(self, model: type[Body]) -> Body:
        arguments: dict[str, str] = {}
        for name, values in self.request.query_arguments.items():
            if len(values) > 1:
                raise Unprocessable(
                    "The query is invalid.",
                    [{"path": name, "message": "give this parameter once", "type": "repeated"}],
                )
            try:
                arguments[name] = values[0].decode("utf-8")
            except UnicodeDecodeError:
                raise ApiError(400, "The query string is not valid UTF-8.") from None
        try:
            return model.model_validate(arguments)
        except ValidationError as error:
            raise Unprocessable.from_validation(error, "query") from None

    def send_json(self, payload: BaseModel | dict[str, Any], status: int = 200) -> None:
        body = payload.model_dump_json() if isinstance(payload, BaseModel) else json.dumps(payload)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(body)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs["exc_info"][1] if "exc_info" in kwargs else None
        problem: dict[str, Any] = {
            "type": "about:blank",
            "title": responses.get(status_code, "Error"),
            "status": status_code,
        }
        if isinstance(error, ApiError):
            problem["detail"] = error.detail
            if error.errors:
                problem["errors"] = error.errors
        elif status_code == 405:
            allowed = ", ".join(self.SUPPORTED_METHODS)
            self.set_header("Allow", allowed)
            problem["detail"] = f"{self.request.method} is not allowed here; use {allowed}."
        elif status_code < 500:
            problem["detail"] = "The request could not be understood."
        else:
            problem["detail"] = "An unexpected error occurred; quote the request id to report it."
            problem["request_id"] = self.request_id
        self.set_header("Content-Type", "application/problem+json")
        self.finish(json.dumps(problem))

    def log_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(value, HTTPError):
            if value.status_code >= 500:
                log.warning(
                    "%s %s failed with %d (request_id=%s): %r",
                    self.request.method,
                    self.request.path,
                    value.status_code,
                    self.request_id,
                    value.__cause__ or value,
                )
            return
        log.error(
            "unexpected error in %s %s (request_id=%s)",
            self.request.method,
            self.request.path,
            self.request_id,
            exc_info=(typ, value, tb),  # type: ignore[arg-type]
        )


def _missing(id_text: str) -> NotFound:
    return NotFound(f"No {{ cookiecutter.resource_name }} with id {id_text!r}.")


def _object_id(id_text: str) -> ObjectId:
    """A path id; anything that is not 24 hex digits can match no document, hence 404."""
    if len(id_text) != 24 or not ObjectId.is_valid(id_text):
        raise _missing(id_text)
    return ObjectId(id_text)


def _public(document: Document) -> {{ cookiecutter.resource_name | pascal }}Public:
    return {{ cookiecutter.resource_name | pascal }}Public.from_document(document)


class {{ cookiecutter.collection_name | pascal }}Handler(ApiHandler):
    """`/{{ cookiecutter.collection_name }}`: list with filters and keyset pagination, or create."""

    SUPPORTED_METHODS = ("GET", "POST")

    async def get(self) -> None:
        query = self.parse_query({{ cookiecutter.resource_name | pascal }}Query)
        try:
            after = decode_cursor(query.after, query.sort) if query.after else None
        except InvalidCursor:
            raise Unprocessable(
                "The query is invalid.",
                [{"path": "after", "message": "not a cursor for this sort", "type": "cursor"}],
            ) from None
        # One extra document tells whether another page follows.
        documents = await self.context.{{ cookiecutter.collection_name }}.find_page(
            query.filters(),
            query.sort,
            query.limit + 1,
            after,
        )
        page = documents[: query.limit]
        more = len(documents) > query.limit
        items = [_public(document).model_dump(mode="json") for document in page]
        self.send_json(
            {
                "{{ cookiecutter.collection_name }}": items,
                "next": encode_cursor(query.sort, page[-1]) if more else None,
            }
        )

    async def post(self) -> None:
        document = self.parse_body({{ cookiecutter.resource_name | pascal }}Create).model_dump()
        document["_id"] = await self.context.{{ cookiecutter.collection_name }}.insert(document)
        self.set_header("Location", f"/{{ cookiecutter.collection_name }}/{document['_id']}")
        self.send_json(_public(document), status=201)


class {{ cookiecutter.resource_name | pascal }}Handler(ApiHandler):
    """`/{{ cookiecutter.collection_name }}/<id>`: read, replace, update or delete one {{ cookiecutter.resource_name }}."""

    SUPPORTED_METHODS = ("GET", "PUT", "PATCH", "DELETE")

    async def get(self, {{ cookiecutter.resource_name }}_id: str) -> None:
        document = await self.context.{{ cookiecutter.collection_name }}.get(_object_id({{ cookiecutter.resource_name }}_id))
        self.send_json(_public(self._found(document, {{ cookiecutter.resource_name }}_id)))

    async def put(self, {{ cookiecutter.resource_name }}_id: str) -> None:
        id_ = _object_id({{ cookiecutter.resource_name }}_id)
        replacement = self.parse_body({{ cookiecutter.resource_name | pascal }}Replace).model_dump()
        document = await self.context.{{ cookiecutter.collection_name }}.replace(id_, replacement)
        self.send_json(_public(self._found(document, {{ cookiecutter.resource_name }}_id)))

    async def patch(self, {{ cookiecutter.resource_name }}_id: str) -> None:
        id_ = _object_id({{ cookiecutter.resource_name }}_id)
        changes = self.parse_body({{ cookiecutter.resource_name | pascal }}Patch).changes()
        if not changes:
            raise Unprocessable(
                "The body is invalid.",
                [{"path": "(body)", "message": "name a field to change", "type": "empty"}],
            )
        document = await self.context.{{ cookiecutter.collection_name }}.update(id_, changes)
        self.send_json(_public(self._found(document, {{ cookiecutter.resource_name }}_id)))

    async def delete(self, {{ cookiecutter.resource_name }}_id: str) -> None:
        if not await self.context.{{ cookiecutter.collection_name }}.delete(_object_id({{ cookiecutter.resource_name }}_id)):
            raise _missing({{ cookiecutter.resource_name }}_id)
        self.set_status(204)
        self.finish()

    @staticmethod
    def _found(document: Document | None, {{ cookiecutter.resource_name }}_id: str) -> Document:
        if document is None:
            raise _missing({{ cookiecutter.resource_name }}_id)
        return document


class HealthHandler(ApiHandler):
    """Liveness: the process is up and its event loop answers."""

    SUPPORTED_METHODS = ("GET",)

    def get(self) -> None:
        self.send_json({"status": "ok"})


class ReadinessHandler(ApiHandler):
    """Readiness: the database answers a ping within a short timeout."""

    SUPPORTED_METHODS = ("GET",)

    async def get(self) -> None:
        readiness = self.context.readiness
        if readiness.draining:
            self.send_json({"status": "shutting down"}, status=503)
            return
        if not readiness.indexes_ready:
            self.send_json({"status": "creating indexes"}, status=503)
            return
        timeout = min(self.context.settings.mongodb_timeout_ms / 1000, 2.0)
        try:
            await asyncio.wait_for(ping(self.context.client), timeout)
        except Exception as error:  # any failure means "not ready"
            log.warning("readiness check failed (request_id=%s): %r", self.request_id, error)
            self.send_json({"status": "unavailable"}, status=503)
        else:
            self.send_json({"status": "ok"})


class OpenApiHandler(ApiHandler):
    SUPPORTED_METHODS = ("GET",)

    def initialize(self, context: ApiContext, document: dict[str, Any]) -> None:  # type: ignore[override]
        super().initialize(context)
        self.document = document

    def get(self) -> None:
        self.send_json(self.document)


class NotFoundHandler(ApiHandler):
    """Every path the route table does not know."""

    def prepare(self) -> None:
        super().prepare()
        raise NotFound(f"No route for {self.request.path}.")
