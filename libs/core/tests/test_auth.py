"""Token verification with HMAC secrets and JWKS public keys."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from assignment_engine.core.auth import (
    AuthSettings,
    Caller,
    TokenVerifier,
    bearer_token,
    mint_token,
)
from assignment_engine.core.errors import Unauthenticated

SECRET = b"0123456789abcdef0123456789abcdef-test"
HMAC = AuthSettings.for_secret(SECRET)


def claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {
        "sub": "ana",
        "role": "staff",
        "iss": "assignment-engine",
        "aud": "assignment-engine",
        "iat": now,
        "exp": now + 300,
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def rejected(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as raised:
        verifier.verify(token)
    return raised.value.message


def test_hmac__valid_token_names_the_caller() -> None:
    token = mint_token(HMAC, "ana", "staff", 60)

    assert TokenVerifier(HMAC).verify(token) == Caller("ana", "staff")


def test_hmac__expired_token_is_rejected_as_expired() -> None:
    token = jwt.encode(
        claims(iat=int(time.time()) - 600, exp=int(time.time()) - 120),
        SECRET,
        algorithm="HS256",
    )

    assert rejected(TokenVerifier(HMAC), token) == "token expired"


def test_hmac__expiry_within_leeway_is_accepted() -> None:
    token = jwt.encode(claims(exp=int(time.time()) - 5), SECRET, algorithm="HS256")

    assert TokenVerifier(HMAC).verify(token).subject == "ana"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_verified_token__expires_while_remembered() -> None:
    clock = Clock()
    verifier = TokenVerifier(HMAC, clock=clock)
    token = mint_token(HMAC, "ana", "staff", ttl_s=60)
    assert verifier.verify(token) == Caller("ana", "staff")
    clock.now += 60 + HMAC.leeway_s - 1
    assert verifier.verify(token) == Caller("ana", "staff")
    clock.now += 2
    assert rejected(verifier, token) == "token expired"
    assert rejected(verifier, token) == "token expired"


def test_verified_tokens__past_cache_size_still_verified() -> None:
    verifier = TokenVerifier(HMAC, cache_size=4)
    tokens = [mint_token(HMAC, f"s{index}", "staff", ttl_s=60) for index in range(10)]
    for _ in range(2):
        for index, token in enumerate(tokens):
            assert verifier.verify(token) == Caller(f"s{index}", "staff")
    assert len(verifier._verified) <= 4
    forged = tokens[0][:-2] + ("AA" if not tokens[0].endswith("AA") else "BB")
    assert rejected(verifier, forged) == "token signature is invalid"


def test_hmac__not_before_in_the_future_is_rejected() -> None:
    token = jwt.encode(claims(nbf=int(time.time()) + 600), SECRET, algorithm="HS256")

    assert "not valid yet" in rejected(TokenVerifier(HMAC), token)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"aud": "someone-else"}, "audience"),
        ({"iss": "evil"}, "issuer"),
        ({"exp": None}, "'exp'"),
        ({"sub": None}, "'sub'"),
        ({"role": "root"}, "role claim"),
        ({"role": None}, "role claim"),
        ({"sub": "x" * 65}, "sub claim"),
    ],
    ids=[
        "audience",
        "issuer",
        "no_exp",
        "no_sub",
        "unknown_role",
        "no_role",
        "long_sub",
    ],
)
def test_hmac__bad_claims_are_rejected(
    overrides: dict[str, object], expected: str
) -> None:
    token = jwt.encode(claims(**overrides), SECRET, algorithm="HS256")

    assert expected in rejected(TokenVerifier(HMAC), token)


def test_hmac__wrong_secret_is_an_invalid_signature() -> None:
    token = jwt.encode(claims(), b"another-secret-another-secret-xx", algorithm="HS256")

    message = rejected(TokenVerifier(HMAC), token)

    assert message == "token signature is invalid"
    assert SECRET.decode() not in message


def test_hmac__unsigned_token_is_rejected() -> None:
    token = jwt.encode(claims(), None, algorithm="none")

    assert "algorithm" in rejected(TokenVerifier(HMAC), token)


def test_hmac__garbage_is_malformed() -> None:
    assert rejected(TokenVerifier(HMAC), "not.a.jwt") == "token is malformed"


def jwks_settings(public_jwks: list[dict[str, object]]) -> AuthSettings:
    return AuthSettings(
        mode="jwks",
        issuer="assignment-engine",
        audience="assignment-engine",
        leeway_s=30.0,
        secret=None,
        jwks={"keys": public_jwks},
        service_token_file=None,
    )


def public_jwk(private_key: object, kid: str, algorithm: type) -> dict[str, object]:
    jwk = json.loads(algorithm.to_jwk(private_key.public_key()))  # type: ignore[attr-defined]
    jwk["kid"] = kid
    return jwk


def test_jwks__rs256_and_es256_tokens_verify_by_key_id() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    settings = jwks_settings(
        [
            public_jwk(rsa_key, "rsa-1", jwt.algorithms.RSAAlgorithm),
            public_jwk(ec_key, "ec-1", jwt.algorithms.ECAlgorithm),
        ]
    )
    verifier = TokenVerifier(settings)

    rsa_token = jwt.encode(
        claims(sub="svc-a", role="service"),
        rsa_key,
        algorithm="RS256",
        headers={"kid": "rsa-1"},
    )
    ec_token = jwt.encode(
        claims(sub="boss", role="supervisor"),
        ec_key,
        algorithm="ES256",
        headers={"kid": "ec-1"},
    )

    assert verifier.verify(rsa_token) == Caller("svc-a", "service")
    assert verifier.verify(ec_token) == Caller("boss", "supervisor")


def test_jwks__unknown_key_id_is_rejected() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings = jwks_settings(
        [public_jwk(rsa_key, "rsa-1", jwt.algorithms.RSAAlgorithm)]
    )
    token = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "rsa-9"})

    assert (
        rejected(TokenVerifier(settings), token)
        == "token signed with an unknown key id"
    )


def test_jwks__hmac_token_is_rejected() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings = jwks_settings(
        [public_jwk(rsa_key, "rsa-1", jwt.algorithms.RSAAlgorithm)]
    )
    token = jwt.encode(claims(), SECRET, algorithm="HS256", headers={"kid": "rsa-1"})

    assert "algorithm" in rejected(TokenVerifier(settings), token)


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ((), "missing authorization"),
        ((("authorization", "Basic abc"),), "malformed"),
        ((("authorization", "Bearer "),), "malformed"),
        (
            (("authorization", "Bearer a"), ("authorization", "Bearer b")),
            "more than one",
        ),
    ],
    ids=["missing", "basic", "empty", "twice"],
)
def test_bearer_token__bad_metadata_is_rejected(
    metadata: tuple[tuple[str, str], ...], expected: str
) -> None:
    with pytest.raises(Unauthenticated) as raised:
        bearer_token(metadata)

    assert expected in raised.value.message


def test_bearer_token__scheme_is_case_insensitive() -> None:
    assert bearer_token((("authorization", "bearer abc.def"),)) == "abc.def"
