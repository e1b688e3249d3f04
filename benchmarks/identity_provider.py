"""A throwaway identity provider for the `jwt` benchmark variant: one key, one token.

Run with a Python that has PyJWT (the generated `auth=jwt` project's). Prints the JWKS
document on the first line and a token, valid for a day with every scope, on the second;
`benchmarks/run.py` serves the first and sends the second.

    python benchmarks/identity_provider.py --issuer https://idp.test/ --audience api \
        --scope "students:read students:write"
"""

from __future__ import annotations

import argparse
import json
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--audience", required=True)
    parser.add_argument("--scope", required=True)
    args = parser.parse_args()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    print(json.dumps({"keys": [{**public, "kid": "bench", "alg": "RS256", "use": "sig"}]}))
    now = int(time.time())
    claims = {
        "sub": "benchmark",
        "iss": args.issuer,
        "aud": args.audience,
        "iat": now,
        "exp": now + 86_400,
        "scope": args.scope,
    }
    print(jwt.encode(claims, key, algorithm="RS256", headers={"kid": "bench"}))


if __name__ == "__main__":
    main()
