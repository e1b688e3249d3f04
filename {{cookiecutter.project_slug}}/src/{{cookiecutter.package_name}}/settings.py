"""Configuration, read once from environment variables; invalid values stop start-up."""

from __future__ import annotations

{% if cookiecutter.auth == "api-key" -%}
import json
{% endif -%}
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    IPvAnyNetwork,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pymongo.errors import ConfigurationError, InvalidURI
from pymongo.uri_parser import parse_uri
{%- if cookiecutter.auth == "api-key" %}

from {{ cookiecutter.package_name }}.api_keys import ApiKey
{%- endif %}

{% if cookiecutter.auth == "jwt" -%}
# Signature algorithms with a public key; never `none`, never HMAC (a public key is no secret).
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
{% endif -%}
# Characters MongoDB refuses in database names.
_DATABASE_NAME_FORBIDDEN = frozenset('/\\. "$*<>:|?\0')

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class ConfigError(Exception):
    """The environment holds a configuration value the service cannot run with."""


class Settings(BaseSettings):
    """Every knob the service has; each maps to the upper-case environment variable."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", env_file=".env")

    mongodb_uri: str = "mongodb://localhost:27017"
    mongodb_database: str = Field(
        default="{{ cookiecutter.database_name }}",
        min_length=1,
        max_length=63,
    )
    mongodb_timeout_ms: int = Field(default=5000, ge=100, le=120_000)
    host: str = Field(default="127.0.0.1", min_length=1)  # "" would mean every interface
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    log_level: LogLevel = "INFO"
    # json: one JSON object per line, for log collectors; text: for a terminal.
    log_format: Literal["json", "text"] = "text"
    # The level of /healthz and /readyz access lines: DEBUG keeps probes out of the log.
    probe_log_level: LogLevel = "DEBUG"
    # Proxies (addresses or networks) whose X-Forwarded-For names the client; none by default.
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = []
{%- if cookiecutter.metrics %}
    # Prometheus metrics on a port of their own, never the API's; 0 turns them off.
    metrics_port: int = Field(default=9100, ge=0, le=65535)
{%- endif %}
    max_body_bytes: int = Field(default=1_048_576, ge=1)
    shutdown_delay_seconds: float = Field(default=5.0, ge=0)
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    http_idle_timeout_seconds: float = Field(default=60.0, gt=0)
    http_body_timeout_seconds: float = Field(default=30.0, gt=0)
    cursor_secret: SecretStr | None = None
{%- if cookiecutter.auth == "api-key" %}
    # A JSON list of {"name", "sha256", "scopes"} entries; `new-api-key` prints one.
    api_keys: Annotated[list[ApiKey], NoDecode] = []
{%- elif cookiecutter.auth == "jwt" %}
    jwt_jwks_url: str
    jwt_issuer: str = Field(min_length=1)
    jwt_audience: str = Field(min_length=1)
    jwt_algorithms: Annotated[list[str], NoDecode] = ["RS256", "ES256"]
    jwt_leeway_seconds: float = Field(default=30.0, ge=0, le=300)
    # At most one JWKS fetch per this many seconds, however many unknown `kid`s arrive.
    jwt_jwks_refresh_seconds: float = Field(default=60.0, gt=0)
{%- endif %}
    # Exact origins (scheme://host[:port]) a browser may call the API from; none by default.
    cors_origins: Annotated[list[str], NoDecode] = []
    # Swagger UI at /docs, for /openapi.json (public, like the document itself).
    api_docs: bool = True
    # Development only (`make dev`): restart whenever a source file changes; one process.
    autoreload: bool = False

    @field_validator("mongodb_database")
    @classmethod
    def _legal_database_name(cls, value: str) -> str:
        if forbidden := sorted(_DATABASE_NAME_FORBIDDEN & set(value)):
            raise ValueError(f"must not contain {' '.join(map(repr, forbidden))}")
        if len(value.encode()) > 63:
            raise ValueError("must be at most 63 bytes in UTF-8")
        return value

    @field_validator("mongodb_uri")
    @classmethod
    def _parseable_uri(cls, value: str) -> str:
        """Catch a malformed URI at start-up; SRV records are resolved later, by the driver."""
        if value.startswith("mongodb+srv://"):
            return value
        try:
            parse_uri(value)
        except (ConfigurationError, InvalidURI, ValueError, OSError) as error:
            # OSError: a tlsCAFile or tlsCertificateKeyFile that cannot be read.
            raise ValueError(str(error)) from None
        return value

{%- if cookiecutter.auth == "jwt" %}

    @field_validator("jwt_jwks_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("jwt_algorithms", mode="before")
    @classmethod
    def _asymmetric_algorithms(cls, value: object) -> object:
        names = _comma_separated(value)
        if isinstance(names, list):
            if not names:
                raise ValueError("must name at least one algorithm")
            if refused := [name for name in names if name not in ASYMMETRIC_ALGORITHMS]:
                raise ValueError(
                    f"{', '.join(refused)} refused: only public-key algorithms "
                    f"({', '.join(sorted(ASYMMETRIC_ALGORITHMS))})"
                )
        return names
{%- endif %}

{%- if cookiecutter.auth == "api-key" %}

    @field_validator("api_keys", mode="before")
    @classmethod
    def _json_list(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return json.loads(value) if value.strip() else []
            except ValueError:
                raise ValueError("must be a JSON list of the entries new-api-key prints") from None
        return value
{%- endif %}

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _exact_origins(cls, value: object) -> object:
        origins = _comma_separated(value)
        for origin in origins if isinstance(origins, list) else []:
            parts = urlsplit(origin)
            exact = f"{parts.scheme}://{parts.netloc}"
            if parts.scheme not in ("http", "https") or not parts.netloc or origin != exact:
                raise ValueError(f"{origin!r} is not an origin such as https://app.example.com")
        return origins

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        return _comma_separated(value)

    @field_validator("autoreload")
    @classmethod
    def _one_process(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("workers", 1) > 1:
            raise ValueError("needs WORKERS=1: a restart replaces the one process")
        return value

    @field_validator("log_level", "probe_log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_case_format(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value
{%- if cookiecutter.metrics %}

    @field_validator("metrics_port")
    @classmethod
    def _not_the_api_port(cls, value: int, info: ValidationInfo) -> int:
        if value and value == info.data.get("port"):
            raise ValueError("must differ from PORT: metrics are never served with the API")
        return value
{%- endif %}


def _comma_separated(value: object) -> object:
    """`"a, b"` -> `["a", "b"]`, for list settings written in one environment variable."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def load_settings() -> Settings:
    """Read the environment, turning every problem into one readable line."""
    try:
        return Settings(){% if cookiecutter.auth == "jwt" %}  # type: ignore[call-arg]  # JWT_* come from the environment{% endif %}
    except (UnicodeDecodeError, OSError) as error:
        raise ConfigError(f"invalid configuration: .env cannot be read: {error}") from None
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in detail['loc']).upper()}: {detail['msg']}"
            for detail in error.errors(include_url=False)
        )
        raise ConfigError(f"invalid configuration: {problems}") from None
