"""Errors as values: raised where they are found, rendered as problem+json by the handlers."""
{%- set any_unique = cookiecutter.resources | parse_resources | selectattr("unique_fields") | list %}

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from tornado.web import HTTPError

# How many validation errors a 422 lists.
MAX_ERRORS = 50


class ApiError(HTTPError):
    """An error the client can act on, with an RFC 9457 `detail` and optional field `errors`.

    `headers` go out with the problem, e.g. `WWW-Authenticate` with a 401.
    """

    def __init__(
        self,
        status: int,
        detail: str,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


class MalformedBody(ApiError):
    """400: the body is not one well-formed JSON object."""

    def __init__(self, detail: str) -> None:
        super().__init__(400, detail)


class NotFound(ApiError):
    def __init__(self, detail: str) -> None:
        super().__init__(404, detail)


class Unprocessable(ApiError):
    """422: the request parsed, but its content breaks the rules."""

    def __init__(self, detail: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(422, detail, errors)

    @classmethod
    def from_validation(cls, error: ValidationError, where: str) -> Unprocessable:
        """The first errors, each naming its path; a body can hold thousands of mistakes."""
        details = error.errors(include_url=False, include_input=False)
        shown = "" if len(details) <= MAX_ERRORS else f" The first {MAX_ERRORS} are listed."
        return cls(
            f"The {where} is invalid.{shown}",
            [
                {
                    "path": ".".join(str(part) for part in detail["loc"]) or "(body)",
                    "message": detail["msg"],
                    "type": detail["type"],
                }
                for detail in details[:MAX_ERRORS]
            ],
        )


{%- if any_unique %}


class Conflict(ApiError):
    def __init__(self, detail: str, field: str) -> None:
        super().__init__(409, detail, [{"path": field, "message": detail, "type": "duplicate"}])
{%- endif %}


class DatabaseUnavailable(ApiError):
    def __init__(self) -> None:
        super().__init__(503, "The database is unavailable; try again shortly.")
