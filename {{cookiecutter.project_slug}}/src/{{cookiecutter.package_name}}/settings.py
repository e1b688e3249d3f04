"""Configuration, read once from environment variables; invalid values stop start-up."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pymongo.errors import ConfigurationError, InvalidURI
from pymongo.uri_parser import parse_uri

# Characters MongoDB refuses in database names.
_DATABASE_NAME_FORBIDDEN = frozenset('/\\. "$*<>:|?\0')


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
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    max_body_bytes: int = Field(default=1_048_576, ge=1)
    shutdown_delay_seconds: float = Field(default=5.0, ge=0)
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    http_idle_timeout_seconds: float = Field(default=60.0, gt=0)
    http_body_timeout_seconds: float = Field(default=30.0, gt=0)
    cursor_secret: SecretStr | None = None

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

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


def load_settings() -> Settings:
    """Read the environment, turning every problem into one readable line."""
    try:
        return Settings()
    except (UnicodeDecodeError, OSError) as error:
        raise ConfigError(f"invalid configuration: .env cannot be read: {error}") from None
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in detail['loc']).upper()}: {detail['msg']}"
            for detail in error.errors(include_url=False)
        )
        raise ConfigError(f"invalid configuration: {problems}") from None
