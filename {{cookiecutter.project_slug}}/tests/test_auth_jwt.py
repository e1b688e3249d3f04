"""JWT mode: bearer tokens from an identity provider, checked against the keys it publishes.

The keys are made in the run and published by the tests' JWKS server on 127.0.0.1
(conftest's `jwks`), so every attack below is a token an attacker could really send.
Authentication happens before the handler runs and is the same for every resource, so these
tests use the first resource (`CASES[0]`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from support import (
    AUDIENCE,
    CASES,
    ISSUER,
    KEY_ID,
    SIGNING_KEY,
    JwksServer,
    ServeApp,
    fetch,
    problem,
)
from tornado.httpclient import HTTPResponse

from {{ cookiecutter.package_name }}.context import ApiContext, Readiness
from {{ cookiecutter.package_name }}.database import AsyncMongoClient, Document
from {{ cookiecutter.package_name }}.repository import Repository, open_repositories
from {{ cookiecutter.package_name }}.settings import ConfigError, Settings, load_settings

CASE = CASES[0]
READ = f"{CASE.name}:read"
WRITE = f"{CASE.name}:write"
REFUSED_CHALLENGE = 'Bearer error="invalid_token"'
ACCESS_LOG = "{{ cookiecutter.package_name }}.access"


@dataclass(frozen=True)
class SigningKey:
    """A key pair of the identity provider (or of an impostor), named by its `kid`."""

    kid: str
    algorithm: str
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    @property
    def jwk(self) -> dict[str, Any]:
        """The public half, as the provider publishes it in its JWKS."""
        public = self.private.public_key()
        data = (
            RSAAlgorithm.to_jwk(public, as_dict=True)
            if isinstance(public, rsa.RSAPublicKey)
            else ECAlgorithm.to_jwk(public, as_dict=True)
        )
        return {**data, "kid": self.kid, "alg": self.algorithm, "use": "sig"}

    @property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, claims: dict[str, Any], algorithm: str | None = None, kid: str = "") -> str:
        return jwt.encode(
            claims,
            self.private,
            algorithm=algorithm or self.algorithm,
            headers={"kid": kid or self.kid},
        )


@dataclass(frozen=True)
class Keys:
    rsa: SigningKey  # published from the start
    ec: SigningKey  # published from the start
    rotated: SigningKey  # published only by the tests about rotation
    impostor: SigningKey  # never published; it claims the kid of `rsa`


@pytest.fixture(scope="session")
def keys() -> Keys:
    def rsa_key() -> rsa.RSAPrivateKey:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    return Keys(
        rsa=SigningKey(KEY_ID, "RS256", SIGNING_KEY),
        ec=SigningKey("ec-1", "ES256", ec.generate_private_key(ec.SECP256R1())),
        rotated=SigningKey("rsa-2", "RS256", rsa_key()),
        impostor=SigningKey(KEY_ID, "RS256", rsa_key()),
    )


def now() -> int:
    return int(time.time())


def claims(
    scope: str | None = READ, without: tuple[str, ...] = (), **values: Any
) -> dict[str, Any]:
    """Claims the service accepts, with `values` changed and the claims `without` left out."""
    issued = now()
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": issued, "exp": issued + 300}
    if scope is not None:
        base["scope"] = scope
    return {name: value for name, value in {**base, **values}.items() if name not in without}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: dict[str, Any]) -> str:
    return b64(json.dumps(value).encode())


def unsigned(payload: dict[str, Any], kid: str) -> str:
    """`alg: none`: no signature at all."""
    return f"{segment({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{segment(payload)}."


def hmac_signed(payload: dict[str, Any], secret: bytes, kid: str) -> str:
    """HS256 with `secret`: the classic confusion when the secret is a public key."""
    signing_input = f"{segment({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{segment(payload)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def tampered(keys: Keys) -> str:
    """A genuine header and signature around another payload (more scopes, another subject)."""
    header, _, signature = keys.rsa.sign(claims()).split(".")
    forged = claims(scope=f"{READ} {WRITE}", sub="mallory")
    return f"{header}.{segment(forged)}.{signature}"


def with_header(keys: Keys, **extra: Any) -> str:
    """Signed by the impostor, with header fields that point at the impostor's key."""
    return jwt.encode(claims(), keys.impostor.private, algorithm="RS256", headers=extra)


# Each is a token that differs from a valid one in one respect.
ATTACKS: dict[str, Callable[[Keys], str]] = {
    "expired": lambda keys: keys.rsa.sign(claims(exp=now() - 120, iat=now() - 600)),
    "not-yet-valid": lambda keys: keys.rsa.sign(claims(nbf=now() + 120)),
    "issued-in-the-future": lambda keys: keys.rsa.sign(claims(iat=now() + 120)),
    "wrong-issuer": lambda keys: keys.rsa.sign(claims(iss="https://evil.example.test/")),
    "wrong-audience": lambda keys: keys.rsa.sign(claims(aud="another-api")),
    "no-exp": lambda keys: keys.rsa.sign(claims(without=("exp",))),
    "no-sub": lambda keys: keys.rsa.sign(claims(without=("sub",))),
    "no-iat": lambda keys: keys.rsa.sign(claims(without=("iat",))),
    "no-iss": lambda keys: keys.rsa.sign(claims(without=("iss",))),
    "no-aud": lambda keys: keys.rsa.sign(claims(without=("aud",))),
    "exp-not-a-number": lambda keys: keys.rsa.sign(claims(exp="tomorrow")),
    "sub-not-a-string": lambda keys: keys.rsa.sign(claims(sub=42)),
    "alg-none": lambda keys: unsigned(claims(), keys.rsa.kid),
    "hs256-keyed-with-the-public-key": lambda keys: hmac_signed(
        claims(), keys.rsa.public_pem, keys.rsa.kid
    ),
    "unknown-kid": lambda keys: keys.rsa.sign(claims(), kid="no-such-key"),
    "no-kid": lambda keys: jwt.encode(claims(), keys.rsa.private, algorithm="RS256"),
    "tampered-payload": tampered,
    "signature-stripped": lambda keys: keys.rsa.sign(claims()).rpartition(".")[0] + ".",
    "second-key-pair-same-kid": lambda keys: keys.impostor.sign(claims()),
    "header-alg-of-another-key": lambda keys: keys.ec.sign(claims(), kid=keys.rsa.kid),
    "embedded-jwk": lambda keys: with_header(keys, kid="mine", jwk=keys.impostor.jwk),
    "not-a-jwt": lambda keys: "not.a.jwt",
}


@pytest.fixture
def provider(jwks: JwksServer, keys: Keys) -> JwksServer:
    """The provider the service trusts, publishing an RSA and an EC key.

    A test changes `document` (what it publishes), reads `fetches` and sets `failing`.
    """
    jwks.document = {"keys": [keys.rsa.jwk, keys.ec.jwk]}
    return jwks


@pytest.fixture
def elsewhere() -> Iterator[JwksServer]:
    """A JWKS server the service does not trust, such as an attacker's."""
    server = JwksServer()
    server.start()
    yield server
    server.stop()


@dataclass(frozen=True)
class Service:
    """A running service, called with the token a test gives (or none)."""

    url: str

    async def call(
        self, method: str, path: str, token: str | None = None, body: Any = None
    ) -> HTTPResponse:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return await fetch(
            f"{self.url}{path}",
            method,
            authorized=False,
            headers=headers,
            body=None if body is None else json.dumps(body),
        )

    async def read(self, token: str) -> HTTPResponse:
        return await self.call("GET", CASE.path, token)

    async def create(self, token: str) -> HTTPResponse:
        return await self.call("POST", CASE.path, token, CASE.new(0))


Serve = Callable[..., Service]


@pytest.fixture
def serve(
    serve_app: ServeApp,
    settings: Settings,
    client: AsyncMongoClient[Document],
    provider: JwksServer,
) -> Serve:
    """Start a service that trusts `provider`; keyword arguments override its settings.

    Each service has its own authenticator, so its key cache starts empty.
    """

    def start(**overrides: Any) -> Service:
        configured = settings.model_copy(update=overrides)
        context = ApiContext(
            settings=configured,
            client=client,
            repositories=open_repositories(client, configured),
            readiness=Readiness(),
        )
        return Service(serve_app(context))

    return start


def assert_invalid_token(response: HTTPResponse) -> None:
    assert response.code == 401, response.body
    assert response.headers["WWW-Authenticate"] == REFUSED_CHALLENGE
    assert response.headers["Cache-Control"] == "no-store"
    problem(response)


def assert_keys_unavailable(response: HTTPResponse) -> None:
    assert response.code == 503, response.body
    assert response.headers["Retry-After"].isdigit()
    assert "WWW-Authenticate" not in response.headers
    problem(response)


def callers(caplog: pytest.LogCaptureFixture) -> list[str | None]:
    """The caller of each access line, as the line names it."""
    return [
        getattr(record, "caller", "(missing)")
        for record in caplog.records
        if record.name == ACCESS_LOG
    ]


async def eventually(condition: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    """Poll an async check until it holds, failing after `seconds`."""
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, f"not true within {seconds} s"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("which", ["rsa", "ec"])
async def test_a_valid_token_passes_and_the_log_names_its_subject_not_the_token(
    serve: Serve, keys: Keys, caplog: pytest.LogCaptureFixture, which: str
) -> None:
    key: SigningKey = getattr(keys, which)
    token = key.sign(claims(sub=f"user-{which}"))
    caplog.set_level(logging.INFO)

    response = await serve().read(token)

    assert response.code == 200, response.body
    assert response.headers["Cache-Control"] == "no-store"
    assert callers(caplog)[-1] == f"user-{which}"
    signature = token.rpartition(".")[2]
    assert signature not in caplog.text
    assert token.split(".")[1] not in caplog.text


async def test_a_token_with_the_write_scope_in_scp_creates(
    serve: Serve, keys: Keys, repositories: dict[str, Repository]
) -> None:
    response = await serve().create(keys.ec.sign(claims(scope=None, scp=[WRITE])))

    assert response.code == 201, response.body
    assert await repositories[CASE.name].collection.count_documents({}) == 1


async def test_a_key_published_without_alg_verifies_tokens_of_its_type(
    serve: Serve, keys: Keys, provider: JwksServer
) -> None:
    """Some providers (Entra ID, for one) publish RSA keys without `alg`."""
    provider.document = {"keys": [{k: v for k, v in keys.rsa.jwk.items() if k != "alg"}]}

    assert (await serve().read(keys.rsa.sign(claims()))).code == 200


async def test_an_audience_list_that_names_this_service_passes(serve: Serve, keys: Keys) -> None:
    token = keys.rsa.sign(claims(aud=["another-api", AUDIENCE]))

    assert (await serve().read(token)).code == 200


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
async def test_an_invalid_token_is_401_invalid_token(
    serve: Serve, keys: Keys, caplog: pytest.LogCaptureFixture, attack: Callable[[Keys], str]
) -> None:
    token = attack(keys)
    caplog.set_level(logging.INFO)

    response = await serve().read(token)

    assert_invalid_token(response)
    assert callers(caplog)[-1] is None
    assert token not in caplog.text


async def test_an_invalid_token_is_401_on_writes_too(
    serve: Serve, keys: Keys, repositories: dict[str, Repository]
) -> None:
    forged = hmac_signed(claims(scope=WRITE), keys.rsa.public_pem, keys.rsa.kid)

    assert_invalid_token(await serve().create(forged))
    assert await repositories[CASE.name].collection.count_documents({}) == 0


async def test_a_header_alg_that_its_key_was_not_published_for_is_401(
    serve: Serve, keys: Keys
) -> None:
    """PS256 is allowed and the RSA key could verify it, but the key is published for RS256."""
    service = serve(jwt_algorithms=["RS256", "PS256", "ES256"])
    token = keys.rsa.sign(claims(), algorithm="PS256")

    assert_invalid_token(await service.read(token))
    assert (await service.read(keys.rsa.sign(claims()))).code == 200


async def test_an_algorithm_left_out_of_jwt_algorithms_is_401(serve: Serve, keys: Keys) -> None:
    service = serve(jwt_algorithms=["ES256"])

    assert_invalid_token(await service.read(keys.rsa.sign(claims())))
    assert (await service.read(keys.ec.sign(claims()))).code == 200


async def test_a_jku_header_is_never_followed(
    serve: Serve, keys: Keys, provider: JwksServer, elsewhere: JwksServer
) -> None:
    """A token cannot name the key set it should be checked against."""
    elsewhere.document = {"keys": [{**keys.impostor.jwk, "kid": "mine"}]}
    token = with_header(keys, kid="mine", jku=elsewhere.url)

    assert_invalid_token(await serve().read(token))
    assert (elsewhere.fetches, provider.fetches) == (0, 1)


@pytest.mark.parametrize(
    ("granted", "method", "status"),
    [
        pytest.param({"scope": READ}, "GET", 200, id="scope-read-GET"),
        pytest.param({"scope": f"openid {READ} profile"}, "GET", 200, id="scope-among-others"),
        pytest.param({"scp": [READ]}, "GET", 200, id="scp-list-GET"),
        pytest.param({"scp": ["openid", READ]}, "HEAD", 200, id="scp-list-HEAD"),
        pytest.param({"scp": f"{READ} {WRITE}"}, "GET", 200, id="scp-string"),
        pytest.param({"scope": WRITE}, "GET", 403, id="write-does-not-read"),
        pytest.param({"scp": [WRITE]}, "HEAD", 403, id="write-does-not-HEAD"),
        pytest.param({"scope": READ}, "POST", 403, id="read-does-not-POST"),
        pytest.param({"scp": [READ]}, "DELETE", 403, id="read-does-not-DELETE"),
        pytest.param({}, "GET", 403, id="no-scope-claim"),
        pytest.param({"scope": f"{READ}x"}, "GET", 403, id="longer-scope"),
        pytest.param({"scope": READ.upper()}, "GET", 403, id="upper-case-scope"),
        pytest.param({"scope": CASE.name}, "GET", 403, id="collection-alone"),
        pytest.param({"scope": "*"}, "GET", 403, id="wildcard"),
        pytest.param({"scope": f"{READ},{WRITE}"}, "GET", 403, id="comma-separated"),
        pytest.param({"scope": 42}, "GET", 403, id="scope-not-a-string"),
    ],
)
async def test_scopes_come_from_scope_or_scp(
    serve: Serve, keys: Keys, granted: dict[str, Any], method: str, status: int
) -> None:
    token = keys.rsa.sign({**claims(scope=None), **granted})
    path = CASE.path if method in ("GET", "HEAD", "POST") else f"{CASE.path}/{'0' * 24}"
    body = CASE.new(0) if method == "POST" else None

    response = await serve().call(method, path, token, body)

    assert response.code == status, response.body
    if status == 403:
        needed = READ if method in ("GET", "HEAD") else WRITE
        expected = f'Bearer error="insufficient_scope", scope="{needed}"'
        assert response.headers["WWW-Authenticate"] == expected
        if method != "HEAD":
            assert repr(needed) in problem(response)["detail"]


@pytest.mark.parametrize(("leeway", "status"), [(30, 200), (0, 401)])
@pytest.mark.parametrize(
    "skewed",
    [
        pytest.param(lambda: {"exp": now() - 10}, id="expired-10s-ago"),
        pytest.param(lambda: {"nbf": now() + 10}, id="valid-in-10s"),
        pytest.param(lambda: {"iat": now() + 10}, id="issued-in-10s"),
    ],
)
async def test_the_leeway_absorbs_clock_skew(
    serve: Serve, keys: Keys, leeway: int, status: int, skewed: Callable[[], dict[str, Any]]
) -> None:
    response = await serve(jwt_leeway_seconds=leeway).read(keys.rsa.sign(claims(**skewed())))

    assert response.code == status, response.body


async def test_the_key_set_is_fetched_once_for_many_requests(
    serve: Serve, keys: Keys, provider: JwksServer
) -> None:
    service = serve()
    tokens = [keys.rsa.sign(claims()), keys.ec.sign(claims())] * 10

    responses = await asyncio.gather(*(service.read(token) for token in tokens))
    responses += [await service.read(token) for token in tokens]

    assert [response.code for response in responses] == [200] * 40
    assert provider.fetches == 1


async def test_a_key_published_later_is_fetched_when_a_token_names_it(
    serve: Serve, keys: Keys, provider: JwksServer
) -> None:
    service = serve(jwt_jwks_refresh_seconds=0)
    assert (await service.read(keys.rsa.sign(claims()))).code == 200

    provider.document["keys"].append(keys.rotated.jwk)
    responses = [await service.read(keys.rotated.sign(claims())) for _ in range(3)]

    assert [response.code for response in responses] == [200] * 3
    assert provider.fetches == 2


async def test_an_unknown_kid_refreshes_at_most_once_per_interval(
    serve: Serve, keys: Keys, provider: JwksServer
) -> None:
    service = serve(jwt_jwks_refresh_seconds=60)
    assert (await service.read(keys.rsa.sign(claims()))).code == 200
    provider.document["keys"].append(keys.rotated.jwk)

    assert_invalid_token(await service.read(keys.rotated.sign(claims())))
    assert provider.fetches == 1


async def test_a_key_published_later_is_used_once_the_interval_has_passed(
    serve: Serve, keys: Keys, provider: JwksServer
) -> None:
    service = serve(jwt_jwks_refresh_seconds=0.2)
    assert (await service.read(keys.rsa.sign(claims()))).code == 200
    provider.document["keys"].append(keys.rotated.jwk)
    token = keys.rotated.sign(claims())

    async def accepted() -> bool:
        return (await service.read(token)).code == 200

    await eventually(accepted)
    assert provider.fetches == 2


async def test_a_key_withdrawn_from_the_key_set_is_refused_once_the_set_is_fetched_again(
    serve: Serve, keys: Keys, provider: JwksServer
) -> None:
    service = serve(jwt_jwks_refresh_seconds=0)
    assert (await service.read(keys.rsa.sign(claims()))).code == 200

    provider.document = {"keys": [keys.ec.jwk, keys.rotated.jwk]}
    assert (await service.read(keys.rotated.sign(claims()))).code == 200

    assert provider.fetches == 2
    assert_invalid_token(await service.read(keys.rsa.sign(claims())))


async def test_a_token_is_checked_once_while_it_is_valid(
    serve: Serve, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    decode = jwt.decode

    def counted(token: str, *args: Any, **kwargs: Any) -> Any:
        checked.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counted)
    service = serve()
    token = keys.rsa.sign(claims())

    responses = [await service.read(token) for _ in range(5)]

    assert [response.code for response in responses] == [200] * 5
    assert checked == [token]


async def test_a_remembered_token_is_refused_once_it_expires(serve: Serve, keys: Keys) -> None:
    service = serve(jwt_leeway_seconds=0)
    token = keys.rsa.sign(claims(exp=now() + 1))
    assert (await service.read(token)).code == 200

    async def refused() -> bool:
        response = await service.read(token)
        return response.code == 401 and b"expired" in response.body

    await eventually(refused)


async def test_a_remembered_token_is_refused_once_its_key_is_withdrawn(
    serve: Serve, keys: Keys, provider: JwksServer
) -> None:
    service = serve(jwt_jwks_refresh_seconds=0)
    token = keys.rsa.sign(claims())
    assert (await service.read(token)).code == 200

    provider.document = {"keys": [keys.ec.jwk, keys.rotated.jwk]}
    assert (await service.read(keys.rotated.sign(claims()))).code == 200  # the set is fetched

    assert_invalid_token(await service.read(token))


@pytest.mark.parametrize(
    ("interval", "down"),
    [(60.0, False), (0.5, False), (0.5, True)],
    ids=["interval-60s", "interval-0.5s", "interval-0.5s-provider-down"],
)
async def test_a_flood_of_random_kids_fetches_at_most_once_per_interval(
    serve: Serve, keys: Keys, provider: JwksServer, interval: float, down: bool
) -> None:
    """Fetches are at least `interval` apart, so n fetches take (n - 1) * interval."""
    service = serve(jwt_jwks_refresh_seconds=interval)
    provider.failing = down
    tokens = [keys.ec.sign(claims(), kid=secrets.token_hex(8)) for _ in range(1000)]

    started = time.monotonic()
    statuses: list[int] = []
    for start in range(0, len(tokens), 50):
        batch = tokens[start : start + 50]
        statuses += [r.code for r in await asyncio.gather(*(service.read(t) for t in batch))]
    elapsed = time.monotonic() - started

    assert statuses == [503 if down else 401] * len(tokens)
    assert 1 <= provider.fetches <= 1 + elapsed / interval, (provider.fetches, elapsed)


async def test_a_cached_key_outlives_a_provider_outage(
    serve: Serve, keys: Keys, provider: JwksServer
) -> None:
    service = serve(jwt_jwks_refresh_seconds=0)
    assert (await service.read(keys.rsa.sign(claims()))).code == 200

    provider.failing = True
    assert_keys_unavailable(await service.read(keys.rotated.sign(claims())))

    assert provider.fetches == 2
    assert (await service.read(keys.rsa.sign(claims()))).code == 200
    assert (await service.read(keys.ec.sign(claims()))).code == 200


async def test_a_token_no_cached_key_fits_is_503_while_the_provider_is_down(
    serve: Serve, keys: Keys, provider: JwksServer, repositories: dict[str, Repository]
) -> None:
    service = serve(jwt_jwks_refresh_seconds=0)
    provider.failing = True
    token = keys.rsa.sign(claims(scope=WRITE))

    assert_keys_unavailable(await service.read(keys.rsa.sign(claims())))
    assert_keys_unavailable(await service.create(token))
    assert await repositories[CASE.name].collection.count_documents({}) == 0

    provider.failing = False
    assert (await service.create(token)).code == 201
    assert (await service.read(keys.rsa.sign(claims()))).code == 200


async def test_the_service_recovers_within_the_interval_once_the_provider_is_back(
    serve: Serve, keys: Keys, provider: JwksServer
) -> None:
    service = serve(jwt_jwks_refresh_seconds=0.2)
    provider.failing = True
    token = keys.rsa.sign(claims())
    assert_keys_unavailable(await service.read(token))

    provider.failing = False

    async def accepted() -> bool:
        return (await service.read(token)).code == 200

    await eventually(accepted)
    assert provider.fetches == 2


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A 127.0.0.1 port nothing listens on (held bound, so no other test takes it)."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


@pytest.fixture
def hung_port() -> Iterator[int]:
    """A 127.0.0.1 port that accepts connections and never answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=8) as listener:
        yield listener.getsockname()[1]


async def test_a_provider_that_refuses_connections_is_503(
    serve: Serve, keys: Keys, closed_port: int
) -> None:
    service = serve(jwt_jwks_url=f"http://127.0.0.1:{closed_port}/jwks")

    assert_keys_unavailable(await service.read(keys.rsa.sign(claims())))


async def test_a_provider_that_never_answers_is_503_after_the_fetch_timeout(
    serve: Serve, keys: Keys, hung_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("{{ cookiecutter.package_name }}.jwks.FETCH_TIMEOUT_SECONDS", 0.5)
    service = serve(jwt_jwks_url=f"http://127.0.0.1:{hung_port}/jwks")

    started = time.monotonic()
    assert_keys_unavailable(await service.read(keys.rsa.sign(claims())))
    assert time.monotonic() - started < 5


async def test_keys_the_service_cannot_use_are_skipped_and_the_others_serve(
    serve: Serve, keys: Keys, provider: JwksServer
) -> None:
    secret = secrets.token_bytes(32)
    provider.document["keys"] = [
        {"kty": "oct", "kid": "shared", "k": b64(secret), "alg": "HS256"},
        {"kty": "RSA", "kid": "broken", "n": "AA", "e": "AQAB"},
        {"kty": "EC", "kid": "odd-curve", "crv": "P-999", "x": "AA", "y": "AA"},
        {**keys.rotated.jwk, "use": "enc"},
        {k: v for k, v in keys.ec.jwk.items() if k != "kid"},
        "not a key",
        keys.rsa.jwk,
    ]
    service = serve()

    assert (await service.read(keys.rsa.sign(claims()))).code == 200
    assert_invalid_token(await service.read(hmac_signed(claims(), secret, "shared")))
    assert_invalid_token(await service.read(keys.rotated.sign(claims())))


async def test_the_openapi_document_says_bearer_tokens_are_jwts(serve: Serve) -> None:
    response = await serve().call("GET", "/openapi.json")

    assert response.code == 200
    scheme = json.loads(response.body)["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")


# `clean_environment` (conftest.py): no service variable but valid JWT settings, and an
# empty working directory (no `.env`).


def test_the_jwt_settings_are_read_from_the_environment(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_JWKS_URL", "https://id.example.test/jwks")
    monkeypatch.setenv("JWT_ISSUER", "https://id.example.test/")
    monkeypatch.setenv("JWT_AUDIENCE", "an-api")
    monkeypatch.setenv("JWT_ALGORITHMS", "RS256, ES384")
    monkeypatch.setenv("JWT_LEEWAY_SECONDS", "5")
    monkeypatch.setenv("JWT_JWKS_REFRESH_SECONDS", "300")

    settings = load_settings()

    assert (settings.jwt_jwks_url, settings.jwt_issuer, settings.jwt_audience) == (
        "https://id.example.test/jwks",
        "https://id.example.test/",
        "an-api",
    )
    assert settings.jwt_algorithms == ["RS256", "ES384"]
    assert (settings.jwt_leeway_seconds, settings.jwt_jwks_refresh_seconds) == (5, 300)


def test_the_jwt_defaults_are_safe(clean_environment: Path) -> None:
    settings = load_settings()

    assert settings.jwt_algorithms == ["RS256", "ES256"]
    assert (settings.jwt_leeway_seconds, settings.jwt_jwks_refresh_seconds) == (30, 60)


@pytest.mark.parametrize("name", ["JWT_JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE"])
def test_a_missing_jwt_setting_stops_start_up(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.delenv(name)

    with pytest.raises(ConfigError, match=f"{name}: Field required") as raised:
        load_settings()
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("JWT_ALGORITHMS", "RS256,HS256", "HS256 refused"),
        ("JWT_ALGORITHMS", "none", "none refused"),
        ("JWT_ALGORITHMS", "ES256, HS512", "HS512 refused"),
        ("JWT_ALGORITHMS", " ", "at least one"),
        ("JWT_JWKS_URL", "file:///etc/jwks.json", "http(s) URL"),
        ("JWT_JWKS_URL", "ftp://id.example.test/jwks", "http(s) URL"),
        ("JWT_JWKS_URL", "id.example.test/jwks", "http(s) URL"),
        ("JWT_JWKS_URL", "https://", "http(s) URL"),
        ("JWT_ISSUER", "", "JWT_ISSUER"),
        ("JWT_AUDIENCE", "", "JWT_AUDIENCE"),
        ("JWT_LEEWAY_SECONDS", "-1", "JWT_LEEWAY_SECONDS"),
        ("JWT_JWKS_REFRESH_SECONDS", "-1", "JWT_JWKS_REFRESH_SECONDS"),
    ],
)
def test_a_bad_jwt_setting_stops_start_up_with_one_line(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ConfigError) as raised:
        load_settings()
    text = str(raised.value)
    assert "\n" not in text
    assert name in text
    assert message in text
