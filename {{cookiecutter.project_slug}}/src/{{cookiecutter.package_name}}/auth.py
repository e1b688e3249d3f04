"""Who is calling, and may they: bearer credentials and per-resource scopes.

Every resource route needs `Authorization: Bearer <credential>`, checked by the
authenticator in {{ "api_keys.py" if cookiecutter.auth == "api-key" else "jwks.py" }}. Reading `/<collection>` needs the scope
`<collection>:read`; changing it needs `<collection>:write`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from {{ cookiecutter.package_name }}.errors import ApiError

READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: a name for the logs, and what it may do."""

    identity: str
    scopes: frozenset[str]


class Authenticator(Protocol):
    async def caller(self, credential: str) -> Caller:
        """The caller a bearer credential stands for; `Unauthorized` if it stands for none."""
        ...


class Unauthorized(ApiError):
    """401: no usable credential. The message never says whether a credential exists."""

    def __init__(self, detail: str, error: str | None = "invalid_token") -> None:
        # RFC 6750: no error code when the request carried no bearer credential at all.
        challenge = f'Bearer error="{error}"' if error else "Bearer"
        super().__init__(401, detail, headers={"WWW-Authenticate": challenge})


class Forbidden(ApiError):
    """403: a valid credential without the scope this request needs."""

    def __init__(self, scope: str) -> None:
        challenge = f'Bearer error="insufficient_scope", scope="{scope}"'
        super().__init__(
            403,
            f"This credential lacks the scope {scope!r}.",
            headers={"WWW-Authenticate": challenge},
        )


def required_scope(collection: str, method: str) -> str:
    return f"{collection}:{'read' if method in READ_METHODS else 'write'}"


def scopes_of(collections: list[str]) -> list[str]:
    """Every scope of every resource, in a stable order."""
    return [f"{name}:{access}" for name in collections for access in ("read", "write")]


def bearer_credential(authorization: str | None) -> str:
    """The credential of an `Authorization: Bearer <credential>` header."""
    if authorization is None:
        raise Unauthorized("Send a credential: Authorization: Bearer <credential>.", error=None)
    scheme, _, credential = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized("Use the Bearer scheme: Authorization: Bearer <credential>.", None)
    credential = credential.strip()
    if not credential or " " in credential:
        raise Unauthorized("The bearer credential is missing or malformed.")
    return credential
