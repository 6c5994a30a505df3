"""GitHub App authentication: the app's RSA key, JWT checks like GitHub's, installation tokens.

The RSA key pair is generated once per process (2048-bit generation costs ~0.1-0.3 s) unless a
fresh one is asked for; each FakeGitHub still has its own app id, so JWTs never cross fakes.
"""

from __future__ import annotations

import secrets
import string
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

JWT_MAX_LIFETIME = 600  # exp may be at most 10 minutes after iat
CLOCK_DRIFT = 60  # iat may be up to 60 s in the future
TOKEN_LIFETIME = 3600


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str


def generate_key_pair() -> KeyPair:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # "BEGIN RSA PRIVATE KEY", as GitHub hands it out
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return KeyPair(private_pem, public_pem)


@lru_cache(maxsize=1)
def shared_key_pair() -> KeyPair:
    return generate_key_pair()


class JWTError(Exception):
    """Why GitHub would answer 401 to an app JWT (the message is GitHub's)."""


def make_jwt(
    private_pem: str, app_id: int | str, *, iat: int | None = None, exp: int | None = None, iss: Any = None
) -> str:
    """Sign an app JWT the way apps do (iat backdated 60 s, exp 9 minutes later).

    Signed at the JWS level so `iss` may be an int, as many GitHub App libraries send it
    (PyJWT's own encoder insists on a string).
    """
    import json

    from jwt import api_jws

    now = int(time.time())
    iat = now - 60 if iat is None else iat
    exp = iat + 540 if exp is None else exp
    claims = {"iat": iat, "exp": exp, "iss": str(app_id) if iss is None else iss}
    return api_jws.encode(json.dumps(claims).encode(), private_pem, algorithm="RS256", headers={"typ": "JWT"})


def verify_jwt(token: str, public_pem: str, app_id: int, now: float | None = None) -> dict[str, Any]:
    """Check an app JWT like GitHub: RS256 signature, `iss`, `iat`/`exp` window."""
    import jwt

    now = time.time() if now is None else now
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "RS256":
            raise JWTError("A JSON web token could not be decoded")
        claims = jwt.decode(
            token,
            public_pem,
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_iss": False},
        )
    except jwt.PyJWTError as exc:
        raise JWTError("A JSON web token could not be decoded") from exc
    iat, exp, iss = claims.get("iat"), claims.get("exp"), claims.get("iss")
    if not isinstance(iat, int) or isinstance(iat, bool) or iat > now + CLOCK_DRIFT:
        raise JWTError(
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
        )
    if not isinstance(exp, (int, float)) or isinstance(exp, bool) or exp <= now:
        raise JWTError(
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which "
            "the assertion expires"
        )
    if exp - iat > JWT_MAX_LIFETIME:
        raise JWTError("'Expiration time' claim ('exp') is too far in the future")
    if iss is None or not str(iss).isdigit():
        raise JWTError("'Issuer' claim ('iss') must be an Integer")
    if str(iss) != str(app_id):
        raise JWTError("A JSON web token could not be decoded")  # no app with that id has this key
    return claims


def new_installation_token() -> str:
    """`ghs_` + 36 alphanumerics, the shape of a real installation token."""
    alphabet = string.ascii_letters + string.digits
    return "ghs_" + "".join(secrets.choice(alphabet) for _ in range(36))
