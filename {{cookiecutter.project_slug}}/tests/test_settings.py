"""Configuration: the environment and `.env`, and one clear line for every bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.settings import ConfigError, load_settings

# `clean_environment` (conftest.py): an empty working directory and no service variables.


def test_dot_env_in_the_working_directory_is_read(clean_environment: Path) -> None:
    (clean_environment / ".env").write_text("PORT=8123\nMONGODB_DATABASE=from_file\n")
    settings = load_settings()
    assert (settings.port, settings.mongodb_database) == (8123, "from_file")


def test_the_environment_wins_over_dot_env(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_environment / ".env").write_text("PORT=8123\n")
    monkeypatch.setenv("PORT", "8124")
    assert load_settings().port == 8124


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MONGODB_DATABASE", "a.b", "must not contain '.'"),
        ("MONGODB_DATABASE", "a b", "must not contain ' '"),
        ("MONGODB_URI", "mongodb://h:99999", "MONGODB_URI"),
        ("MONGODB_URI", "http://example.com", "MONGODB_URI"),
        ("MONGODB_URI", "mongodb://h/?tls=true&tlsCAFile=/nonexistent", "MONGODB_URI"),
        ("HTTP_BODY_TIMEOUT_SECONDS", "0", "HTTP_BODY_TIMEOUT_SECONDS"),
        ("SHUTDOWN_DELAY_SECONDS", "-1", "SHUTDOWN_DELAY_SECONDS"),
        ("LOG_FORMAT", "xml", "'json' or 'text'"),
        ("PROBE_LOG_LEVEL", "LOUD", "PROBE_LOG_LEVEL"),
        ("TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal", "TRUSTED_PROXIES"),
{%- if cookiecutter.metrics %}
        ("METRICS_PORT", "8000", "must differ from PORT"),  # PORT's default
        ("METRICS_PORT", "65536", "METRICS_PORT"),
{%- endif %}
    ],
)
def test_bad_values_are_one_line_naming_the_variable(
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    text = str(raised.value)
    assert "\n" not in text
    assert name in text
    assert message in text


def test_log_and_proxy_settings_are_read_as_written(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    monkeypatch.setenv("PROBE_LOG_LEVEL", "info")
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1")
    settings = load_settings()
    assert settings.log_format == "json"
    assert settings.probe_log_level == "INFO"
    assert [str(network) for network in settings.trusted_proxies] == ["10.0.0.0/8", "192.0.2.1/32"]


def test_srv_uris_are_left_to_the_driver(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checking an SRV URI means a DNS lookup; the driver does it when it connects."""
    monkeypatch.setenv("MONGODB_URI", "mongodb+srv://cluster.example.com")
    assert load_settings().mongodb_uri == "mongodb+srv://cluster.example.com"


def test_a_dot_env_that_is_not_utf8_is_one_line(clean_environment: Path) -> None:
    (clean_environment / ".env").write_bytes(b"\xff\xfe garbage\n")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value).startswith("invalid configuration: .env cannot be read: ")
    assert "\n" not in str(raised.value)
