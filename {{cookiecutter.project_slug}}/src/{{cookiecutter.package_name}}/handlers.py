"""HTTP handlers: validate the request, make one database call, return the public model.

`CollectionHandler` and `ItemHandler` serve every resource; the resource they are given in
the route table supplies its models and names.
"""
{%- set resources = cookiecutter.resources | parse_resources %}
{%- set decimals = "decimal" in (resources | types_used) %}
{%- set any_unique = resources | selectattr("unique_fields") | list %}
{%- set auth = cookiecutter.auth != "none" %}

from __future__ import annotations

import asyncio
import logging
import random
import re
from functools import cached_property
from http.client import responses
from types import TracebackType
from typing import Any, TypeVar

import orjson
from bson import ObjectId
from pydantic import BaseModel, ValidationError
from tornado.http1connection import HTTP1Connection
from tornado.web import HTTPError, RequestHandler, stream_request_body

{% if auth -%}
from {{ cookiecutter.package_name }}.auth import (
    Authenticator,
    Caller,
    Forbidden,
    bearer_credential,
    required_scope,
)
{% endif -%}
from {{ cookiecutter.package_name }}.context import ApiContext
from {{ cookiecutter.package_name }}.database import Document, ping
from {{ cookiecutter.package_name }}.errors import ApiError, NotFound, Unprocessable
from {{ cookiecutter.package_name }}.logs import bind_contextvars, clear_contextvars
from {{ cookiecutter.package_name }}.models import (
    PublicBody,
    Resource,
    json_body,
    parse_object_id,
    public_fields,
)
from {{ cookiecutter.package_name }}.pagination import (
    InvalidCursor,
    decode_cursor,
    encode_cursor,
    signing_keys,
)
from {{ cookiecutter.package_name }}.repository import (
    UNCONDITIONAL,
    Precondition,
    Repository,
    version_tag,
)
{%- if cookiecutter.opentelemetry %}
from {{ cookiecutter.package_name }}.tracing import RequestSpan
{%- endif %}

log = logging.getLogger(__name__)

Body = TypeVar("Body", bound=BaseModel)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_JSON_MEDIA = re.compile(r"^application/(?:[\w.+-]+\+)?json$")
_DIGITS = re.compile(r"^[0-9]+$")
_ENTITY_TAG = re.compile(r'(W/)?"([^"]*)"')
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# What a browser may send and read across origins (CORS_ORIGINS).
_CORS_REQUEST_HEADERS = "Authorization, Content-Type, If-Match, If-None-Match, X-Request-ID"
_CORS_EXPOSED_HEADERS = "ETag, Location, X-Request-ID"
# A body over MAX_BODY_BYTES is read and thrown away up to this size, so that a client that
# sends all of it before reading (no `Expect: 100-continue`) gets the 413, not a reset.
_DISCARD_LIMIT = 64 * 1024 * 1024


@stream_request_body
class ApiHandler(RequestHandler):
    """JSON in and out, problem+json errors, a request id, and bodies read within a size limit.

    Streaming the body lets `prepare` check its framing, size and type before reading it.
    A refused body is still read (and dropped) unless the client waits for `100 Continue`,
    because closing a connection with unread data resets it before the client reads why.
    """

    # The route template, in logs and metrics; "" where no route matched.
    ROUTE = ""

    def initialize(self, context: ApiContext) -> None:
        self.context = context
        self._chunks: list[bytes] = []
        self._received = 0
        self._refusal: ApiError | None = None
        self._counted = False
{%- if cookiecutter.opentelemetry %}
        self._span: RequestSpan | None = None
{%- endif %}

    @property
    def route(self) -> str:
        return self.ROUTE

    @cached_property
    def request_id(self) -> str:
        """The client's X-Request-ID, or 32 random hex digits (unique, not secret).

        `random` reseeds in each forked worker; it makes them without a system call a
        request, which `uuid4` costs.
        """
        given = self.request.headers.get("X-Request-ID", "")
        return given if _REQUEST_ID.match(given) else f"{random.getrandbits(128):032x}"

    def set_default_headers(self) -> None:
        self.set_header("X-Request-ID", self.request_id)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.clear_header("Server")  # no framework name and version for scanners

    def _allow_origin(self) -> bool:
        """Add the CORS headers if the request comes from an allowed origin."""
        origins = self.context.settings.cors_origins
        if not origins:
            return False
        self.add_header("Vary", "Origin")
        origin = self.request.headers.get("Origin")
        if origin not in origins:
            return False
        self.set_header("Access-Control-Allow-Origin", origin)
        self.set_header("Access-Control-Expose-Headers", _CORS_EXPOSED_HEADERS)
        return True

    def prepare(self) -> None:
        # Every line logged for this request carries these (the request runs in its own task).
        clear_contextvars()
        bind_contextvars(request_id=self.request_id, http_route=self.route)
{%- if cookiecutter.opentelemetry %}
        self._span = RequestSpan.start(self.request, self.route)
{%- endif %}
        self._allow_origin()
        self.context.in_flight.started()
        self._counted = True
        if self.context.readiness.draining:
            self.set_header("Connection", "close")  # the client reconnects elsewhere
        declared = self._declared_length()
        limit = self.context.settings.max_body_bytes
        if self.request.method not in _BODY_METHODS:
            if declared is not None and declared > limit:
                raise _too_large(limit)
            return
        discard_limit = max(limit, _DISCARD_LIMIT)
        if declared is not None and declared > discard_limit:
            raise _too_large(limit)
        connection = self.request.connection
        if (declared is None or declared > limit) and isinstance(connection, HTTP1Connection):
            connection.set_max_body_size(discard_limit)
        media_type = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if declared is not None and declared > limit:
            self._refuse(_too_large(limit))
        elif not _JSON_MEDIA.match(media_type):
            self._refuse(ApiError(415, "Send the body as application/json."))
{%- if any_unique %}
        elif self._building_unique_indexes:
            self._refuse(ApiError(503, "The unique indexes are being built; try again shortly."))
{%- endif %}

{%- if any_unique %}

    @property
    def _building_unique_indexes(self) -> bool:
        """Whether a write here needs a unique index that does not exist yet."""
        return False
{%- endif %}

    def _declared_length(self) -> int | None:
        """The body's Content-Length; a 400 for framing headers Tornado would refuse."""
        headers = self.request.headers
        encoding = headers.get("Transfer-Encoding")
        length = headers.get("Content-Length")
        # Tornado accepts a repeated, identical Content-Length ("5, 5"), so this does too.
        lengths = {piece.strip() for piece in (length or "").split(",")}
        bad_length = length is not None and (
            len(lengths) != 1 or not _DIGITS.match(next(iter(lengths)))
        )
        bad_encoding = encoding is not None and (
            encoding.strip().lower() != "chunked" or length is not None
        )
        if bad_length or bad_encoding:
            # Answer here, and keep Tornado from reading a body it cannot delimit.
            headers.pop("Content-Length", None)
            headers.pop("Transfer-Encoding", None)
            raise ApiError(400, "The Content-Length or Transfer-Encoding header is malformed.")
        if length is None:
            return None
        digits = length.split(",")[0].strip()
        return int(digits) if len(digits) <= 18 else 10**18  # beyond any limit

    def _refuse(self, error: ApiError) -> None:
        """Answer `error` once the body is in, or now if there is none to wait for.

        A body is read (and dropped) first unless the client awaits `100 Continue`: closing
        a connection with unread data resets it before the client reads why.
        """
        expects_continue = self.request.headers.get("Expect", "").lower() == "100-continue"
        if self.request.method not in _BODY_METHODS or expects_continue:
            raise error
        self._refusal = error

    def data_received(self, chunk: bytes) -> None:
        self._received += len(chunk)
        if self._refusal is None and self._received > self.context.settings.max_body_bytes:
            self._refusal = _too_large(self.context.settings.max_body_bytes)
        if self._refusal is not None:
            self._chunks.clear()
            return
        self._chunks.append(chunk)

    def on_finish(self) -> None:
        self._stop_counting()
{%- if cookiecutter.opentelemetry %}
        if self._span is not None:
            self._span.end(self.get_status())  # after the access line, which names the span
{%- endif %}

    def on_connection_close(self) -> None:
        """A client that hangs up mid-request must not hold up shutdown."""
        self._stop_counting()
{%- if cookiecutter.opentelemetry %}
        if self._span is not None:
            self._span.end(self.get_status(), closed=True)
{%- endif %}
        super().on_connection_close()

    def _stop_counting(self) -> None:
        if self._counted:
            self._counted = False
            self.context.in_flight.finished()

    async def head(self, *args: str) -> None:
        """GET without the body: Tornado drops it and keeps the headers."""
        result = self.get(*args)
        if result is not None:
            await result

    def options(self, *args: str) -> None:
        """The allowed methods; for an allowed origin, a CORS preflight answer as well."""
        allowed = ", ".join(self.SUPPORTED_METHODS)
        self.set_header("Allow", allowed)
        preflight = "Access-Control-Request-Method" in self.request.headers
        if preflight and "Access-Control-Allow-Origin" in self._headers:
            self.set_header("Access-Control-Allow-Methods", allowed)
            self.set_header("Access-Control-Allow-Headers", _CORS_REQUEST_HEADERS)
            self.set_header("Access-Control-Max-Age", "600")
        self.set_status(204)
        self.finish()

    def parse_body(self, model: type[Body]) -> Body:
        if self._refusal is not None:
            raise self._refusal
        text = self._body_text(b"".join(self._chunks))
        try:
            return model.model_validate_json(text)
        except ValidationError as error:
            if any(detail["type"] == "json_invalid" for detail in error.errors()):
                raise ApiError(400, "The body is not valid JSON.") from None
            raise Unprocessable.from_validation(error, "body") from None

    def _body_text(self, raw: bytes) -> str:
        return json_body(raw)

    def parse_query(self, model: type[Body]) -> Body:
        arguments: dict[str, str] = {}
        for name, values in self.request.query_arguments.items():
            if name.startswith("_"):
                continue  # cache-busters such as `_=1700000000`
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

    def send_json(self, payload: BaseModel | dict[str, Any] | bytes, status: int = 200) -> None:
        """Answer with `payload` as JSON (bytes are JSON already)."""
        if isinstance(payload, BaseModel):
            body = payload.model_dump_json().encode()
        else:
            body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
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
        self._allow_origin()
        if isinstance(error, ApiError):
            problem["detail"] = error.detail
            if error.errors:
                problem["errors"] = error.errors
            for name, value in error.headers.items():
                self.set_header(name, value)
            if status_code == 503 and "Retry-After" not in error.headers:
                self.set_header("Retry-After", "1")
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
        self.finish(orjson.dumps(problem))

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


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"The body is larger than the limit of {limit} bytes.")


class ResourceHandler(ApiHandler):
    """What the collection and item handlers share: their resource and its repository."""

{%- if auth %}

    def initialize(  # type: ignore[override]
        self, context: ApiContext, resource: Resource, authenticator: Authenticator
    ) -> None:
        super().initialize(context)
        self.resource = resource
        self.repository: Repository = context.repositories[resource.name]
        self.authenticator = authenticator
        self.caller: Caller | None = None  # who is calling, once authenticated

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("Cache-Control", "no-store")  # answers depend on the credential

    async def prepare(self) -> None:  # type: ignore[override]
        """Authenticate before anything else: who may not ask learns nothing here."""
        super().prepare()
        if self.request.method == "OPTIONS":
            return  # CORS preflights carry no credentials
        try:
            credential = bearer_credential(self.request.headers.get("Authorization"))
            self.caller = await self.authenticator.caller(credential)
            bind_contextvars(caller=self.caller.identity)
            scope = required_scope(self.resource.name, self.request.method or "")
            if scope not in self.caller.scopes:
                raise Forbidden(scope)
        except ApiError as error:
            self._refuse(error)
{%- else %}

    def initialize(self, context: ApiContext, resource: Resource) -> None:  # type: ignore[override]
        super().initialize(context)
        self.resource = resource
        self.repository: Repository = context.repositories[resource.name]
{%- endif %}

{%- if any_unique %}

    @property
    def _building_unique_indexes(self) -> bool:
        building = self.resource.name in self.context.readiness.building
        return building and bool(self.resource.unique)
{%- endif %}
{%- if decimals %}

    def _body_text(self, raw: bytes) -> str:
        return json_body(raw, self.resource.decimal_fields)
{%- endif %}

    def _public(self, document: Document) -> PublicBody:
        return self.resource.public.from_document(document)

    def _missing(self, id_text: str) -> NotFound:
        return NotFound(f"No {self.resource.singular} with id {id_text!r}.")

    def _object_id(self, id_text: str) -> ObjectId:
        """A path id; anything else than 24 lower-case hex digits matches nothing: 404."""
        id_ = parse_object_id(id_text)
        if id_ is None:
            raise self._missing(id_text)
        return id_


def _entity_tag(document: Document) -> str:
    return f'"{version_tag(document)}"'


class CollectionHandler(ResourceHandler):
    """`/<collection>`: list with filters and keyset pagination, or create."""

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "OPTIONS")

    @property
    def route(self) -> str:
        return f"/{self.resource.name}"

    async def get(self) -> None:
        query = self.parse_query(self.resource.query)
        keys = signing_keys(self._cursor_secret)
        try:
            after = (
                None
                if query.after is None
                else decode_cursor(query.after, self.resource.name, query.sort, keys)
            )
        except InvalidCursor:
            raise Unprocessable(
                "The query is invalid.",
                [{"path": "after", "message": "not a cursor for this sort", "type": "cursor"}],
            ) from None
        # One extra document tells whether another page follows.
        documents = await self.repository.find_page(
            query.filters(), query.sort, query.limit + 1, after
        )
        page = documents[: query.limit]
        more = len(documents) > query.limit
        cursor = encode_cursor(self.resource.name, query.sort, page[-1], keys) if more else None
        items = self.resource.public_list.dump_json(self._readable(page))
        name = self.resource.name
        self.send_json(b'{"%s":%s,"next":%s}' % (name.encode(), items, orjson.dumps(cursor)))

    @property
    def _cursor_secret(self) -> str | None:
        secret = self.context.settings.cursor_secret
        return secret.get_secret_value() if secret else None

    async def post(self) -> None:
        body = self.parse_body(self.resource.create).model_dump()
        document = await self.repository.insert(body)
        self.set_header("Location", f"/{self.resource.name}/{document['_id']}")
        self.set_header("ETag", _entity_tag(document))
        self.send_json(self._public(document), status=201)

    def _readable(self, documents: list[Document]) -> list[PublicBody]:
        """Stored documents as the API returns them, leaving out (and logging) any that no
        longer fits the model.

        Documents written by an older version or another service are skipped, so one of
        them cannot turn every page that holds it into an error. The page is validated in one
        call; only a page with such a document is gone through one by one.
        """
        adapter = self.resource.public_list
        try:
            return adapter.validate_python([public_fields(document) for document in documents])
        except ValidationError:
            pass
        readable = []
        for document in documents:
            try:
                readable.append(self._public(document))
            except ValidationError as error:
                log.warning(
                    "skipping %s %s: stored document does not match the model: %s",
                    self.resource.singular,
                    document.get("_id"),
                    "; ".join(
                        f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()
                    ),
                )
        return readable


class ItemHandler(ResourceHandler):
    """`/<collection>/<id>`: read, replace, update or delete one document.

    Its ETag is the stored version, so `If-None-Match` gives 304 and `If-Match` makes a
    write conditional (412 when another write came first), each in one round trip.
    """

    SUPPORTED_METHODS = ("GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS")

    @property
    def route(self) -> str:
        return f"/{self.resource.name}" + "/{id}"

    _etag: str | None = None  # set by `get` for Tornado's If-None-Match check

    def compute_etag(self) -> str | None:
        return self._etag

    async def get(self, id_text: str) -> None:
        document = await self.repository.get(self._object_id(id_text))
        document = self._found(document, id_text, UNCONDITIONAL)
        if_match = self._tags("If-Match", strong=True)
        if if_match is not None and "*" not in if_match and version_tag(document) not in if_match:
            raise self._changed()
        self._etag = _entity_tag(document)
        self.send_json(self._public(document))

    async def put(self, id_text: str) -> None:
        replacement = self.parse_body(self.resource.replace).model_dump()
        id_ = self._object_id(id_text)
        condition = self._precondition()
        document = await self.repository.replace(id_, replacement, condition)
        self._send_written(self._found(document, id_text, condition))

    async def patch(self, id_text: str) -> None:
        changes = self.parse_body(self.resource.patch).changes()
        id_ = self._object_id(id_text)
        if not changes:
            raise Unprocessable(
                "The body is invalid.",
                [{"path": "(body)", "message": "name a field to change", "type": "empty"}],
            )
        condition = self._precondition()
        document = await self.repository.update(id_, changes, condition)
        self._send_written(self._found(document, id_text, condition))

    async def delete(self, id_text: str) -> None:
        id_ = self._object_id(id_text)
        condition = self._precondition()
        if not await self.repository.delete(id_, condition):
            self._found(None, id_text, condition)
        self.set_status(204)
        self.finish()

    def _precondition(self) -> Precondition:
        """`If-Match` (strong comparison) and `If-None-Match` (weak) as versions to filter on.

        A write never creates a document, so `If-None-Match: *` can never hold for one: 412.
        """
        if_match = self._tags("If-Match", strong=True)
        if_none_match = self._tags("If-None-Match", strong=False)
        if if_match == frozenset() or (if_none_match and "*" in if_none_match):
            raise self._changed()
        return Precondition(match=if_match, none_match=if_none_match)

    def _tags(self, header: str, strong: bool) -> frozenset[str] | None:
        """The entity tags a conditional header names (`*` as itself); None without it."""
        value = self.request.headers.get(header)
        if value is None:
            return None
        if value.strip() == "*":
            return frozenset({"*"})
        return frozenset(tag for weak, tag in _ENTITY_TAG.findall(value) if not (weak and strong))

    def _send_written(self, document: Document) -> None:
        self.set_header("ETag", _entity_tag(document))
        self.send_json(self._public(document))

    def _found(self, document: Document | None, id_text: str, condition: Precondition) -> Document:
        """The document; else 412 if the request named versions (RFC 9110), else 404."""
        if document is not None:
            return document
        if condition.given:
            raise self._changed()
        raise self._missing(id_text)

    def _changed(self) -> ApiError:
        return ApiError(
            412,
            f"No {self.resource.singular} here has a version that If-Match and If-None-Match"
            " allow. Read it again.",
        )


class HealthHandler(ApiHandler):
    """Liveness: the process is up and its event loop answers."""

    ROUTE = "/healthz"
    SUPPORTED_METHODS = ("GET", "HEAD", "OPTIONS")

    def get(self) -> None:
        self.send_json({"status": "ok"})


class ReadinessHandler(ApiHandler):
    """Readiness: indexes exist, no shutdown has begun, and the database answers a ping."""

    ROUTE = "/readyz"
    SUPPORTED_METHODS = ("GET", "HEAD", "OPTIONS")

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
            await asyncio.wait_for(ping(self.context.client, self.context.settings), timeout)
        except Exception as error:  # any failure means "not ready"
            log.warning("readiness check failed (request_id=%s): %r", self.request_id, error)
            self.send_json({"status": "unavailable"}, status=503)
        else:
            self.send_json({"status": "ok"})


class OpenApiHandler(ApiHandler):
    ROUTE = "/openapi.json"
    SUPPORTED_METHODS = ("GET", "HEAD", "OPTIONS")

    def initialize(self, context: ApiContext, document: bytes) -> None:  # type: ignore[override]
        super().initialize(context)
        self.document = document

    def get(self) -> None:
        self.send_json(self.document)


class NotFoundHandler(ApiHandler):
    """Every path the route table does not know."""

    def prepare(self) -> None:
        super().prepare()
        raise NotFound(f"No route for {self.request.path}.")
