"""API keys: only a key whose digest API_KEYS lists gets in, and `new-api-key` mints them."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support import (
    API_KEYS,
    CASES,
    IDENTITY,
    SCOPES,
    ServeApp,
    credential,
    fetch,
    problem,
    send_json,
    with_settings,
)

from {{ cookiecutter.package_name }}.api_keys import ApiKey, new_api_key
from {{ cookiecutter.package_name }}.context import ApiContext
from {{ cookiecutter.package_name }}.settings import ConfigError, load_settings

# Keys are checked the same way on every route: the first resource serves.
CASE = CASES[0]
KEY = credential()  # the key named IDENTITY, with every scope
DEADLINE = 20.0
MINT = [sys.executable, "-m", "{{ cookiecutter.package_name }}", "new-api-key"]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def one_character_changed(key: str, index: int) -> str:
    """`key` with the character at `index` replaced by another one of its alphabet."""
    other = "B" if key[index] == "A" else "A"
    return key[:index] + other + key[index + 1 :]


async def refusal(url: str, key: str) -> dict[str, object]:
    """The 401 problem document a key gets (asserting it is one)."""
    response = await fetch(url, headers=bearer(key))
    assert response.code == 401, response.body
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    return problem(response)


# Keys a guess or a leak could produce from a listed key.
NEAR_MISSES: dict[str, Callable[[str], str]] = {
    "first-character": lambda key: one_character_changed(key, 0),
    "middle-character": lambda key: one_character_changed(key, len(key) // 2),
    "last-character": lambda key: one_character_changed(key, -1),
    "truncated": lambda key: key[:-1],
    "extended": lambda key: key + "A",
    "swapped-case": lambda key: key.swapcase(),
    "its-digest": lambda key: hashlib.sha256(key.encode()).hexdigest(),
}


@pytest.mark.parametrize("near_miss", NEAR_MISSES)
async def test_a_key_near_a_listed_one_is_refused_like_any_unknown_key(
    base_url: str, near_miss: str
) -> None:
    """Never a hint that a key exists: the answer is the one an unknown key gets."""
    url = f"{base_url}{CASE.path}"
    unknown = await refusal(url, secrets.token_urlsafe(32))
    assert await refusal(url, NEAR_MISSES[near_miss](KEY)) == unknown


async def test_a_key_removed_from_api_keys_is_refused_and_the_others_still_work(
    serve_app: ServeApp, context: ApiContext
) -> None:
    remaining = [entry for entry in API_KEYS if entry.name != IDENTITY]
    revoked = serve_app(with_settings(context, api_keys=remaining))
    await refusal(f"{revoked}{CASE.path}", KEY)
    reader = credential([f"{CASE.name}:read"])
    assert (await fetch(f"{revoked}{CASE.path}", headers=bearer(reader))).code == 200


async def test_old_and_new_keys_work_together_while_a_key_is_rotated(
    serve_app: ServeApp, context: ApiContext
) -> None:
    old, old_entry = new_api_key("old", list(SCOPES))
    new, new_entry = new_api_key("new", list(SCOPES))
    both = [ApiKey.model_validate_json(entry) for entry in (old_entry, new_entry)]
    rotating = serve_app(with_settings(context, api_keys=both))
    rotated = serve_app(with_settings(context, api_keys=both[1:]))
    for key in (old, new):
        assert (await fetch(f"{rotating}{CASE.path}", headers=bearer(key))).code == 200
    await refusal(f"{rotated}{CASE.path}", old)
    assert (await fetch(f"{rotated}{CASE.path}", headers=bearer(new))).code == 200


async def test_each_key_grants_its_own_scopes(serve_app: ServeApp, context: ApiContext) -> None:
    reader, reader_entry = new_api_key("reader", [f"{CASE.name}:read"])
    writer, writer_entry = new_api_key("writer", [f"{CASE.name}:write"])
    listed = [ApiKey.model_validate_json(entry) for entry in (reader_entry, writer_entry)]
    url = f"{serve_app(with_settings(context, api_keys=listed))}{CASE.path}"
    assert (await fetch(url, headers=bearer(reader))).code == 200
    assert (await fetch(url, headers=bearer(writer))).code == 403
    assert (await send_json(url, "POST", CASE.new(1), headers=bearer(reader))).code == 403
    assert (await send_json(url, "POST", CASE.new(1), headers=bearer(writer))).code == 201


async def test_without_api_keys_every_key_is_refused(
    serve_app: ServeApp, context: ApiContext
) -> None:
    nobody = serve_app(with_settings(context, api_keys=[]))
    await refusal(f"{nobody}{CASE.path}", KEY)


def mint(*arguments: str) -> subprocess.CompletedProcess[str]:
    """The key-minting command with `arguments`, run as a person runs it."""
    return subprocess.run(  # noqa: S603 (this interpreter, and arguments from the test)
        [*MINT, *arguments],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )


def minted(*arguments: str) -> tuple[str, dict[str, object]]:
    """The key and the entry `new-api-key` prints, asserting it printed exactly those."""
    result = mint(*arguments)
    assert result.returncode == 0, result.stderr
    key, entry = result.stdout.splitlines()
    return key, json.loads(entry)


def test_new_api_key_prints_a_key_then_its_entry_with_every_scope() -> None:
    key, entry = minted("--name", "ci-bot")
    assert len(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))) >= 32  # 256 bits
    assert entry == {
        "name": "ci-bot",
        "sha256": hashlib.sha256(key.encode()).hexdigest(),
        "scopes": list(SCOPES),
    }
    assert minted("--name", "ci-bot")[0] != key


def test_new_api_key_grants_only_the_scopes_named() -> None:
    read, write = f"{CASE.name}:read", f"{CASE.name}:write"
    assert minted("--name", "reader", "--scope", read)[1]["scopes"] == [read]
    both = minted("--name", "both", "--scope", write, "--scope", read)[1]
    assert both["scopes"] == [write, read]


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(("--name", "has space"), id="space-in-name"),
        pytest.param(("--name", ""), id="empty-name"),
        pytest.param(("--name", "x" * 101), id="long-name"),
        pytest.param(("--name", "ci/bot"), id="slash-in-name"),
        pytest.param((), id="no-name"),
        pytest.param(("--name", "ci", "--scope", "nothing:read"), id="unknown-scope"),
    ],
)
def test_new_api_key_refuses_bad_arguments_with_exit_2(arguments: tuple[str, ...]) -> None:
    result = mint(*arguments)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "--name" in result.stderr or "--scope" in result.stderr


async def test_a_minted_entry_in_api_keys_lets_its_key_in(
    serve_app: ServeApp,
    context: ApiContext,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second line pasted into API_KEYS, as the README says, is all the service needs."""
    result = mint("--name", "pasted", "--scope", f"{CASE.name}:read")
    key, entry = result.stdout.splitlines()
    monkeypatch.setenv("API_KEYS", f"[{entry}]")
    url = f"{serve_app(with_settings(context, api_keys=load_settings().api_keys))}{CASE.path}"
    assert (await fetch(url, headers=bearer(key))).code == 200
    assert (await send_json(url, "POST", CASE.new(1), headers=bearer(key))).code == 403


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("not json", id="not-json"),
        pytest.param('{"name": "ci", "sha256": "' + "0" * 64 + '"}', id="object-not-list"),
        pytest.param("[1]", id="not-an-entry"),
        pytest.param('[{"name": "ci"}]', id="no-digest"),
        pytest.param('[{"name": "ci", "sha256": "abc"}]', id="short-digest"),
        pytest.param('[{"name": "ci", "sha256": "' + "A" * 64 + '"}]', id="upper-case-digest"),
        pytest.param('[{"name": "c i", "sha256": "' + "0" * 64 + '"}]', id="bad-name"),
        pytest.param(
            '[{"name": "ci", "sha256": "' + "0" * 64 + '", "key": "x"}]', id="unknown-field"
        ),
    ],
)
def test_a_malformed_api_keys_is_one_line_naming_it(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("API_KEYS", value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    text = str(raised.value)
    assert "\n" not in text
    assert "API_KEYS" in text
