"""Authentication: bearer JWTs on every RPC, verified with PyJWT.

Every call carries `authorization: Bearer <JWT>` metadata. The token's `sub`
names the caller (a staff id, or a service name) and its `role` claim is
`staff`, `supervisor`, `admin` or `service`. Signature, expiry and not-before
(with a small leeway), issuer and audience are verified. Keys are an HMAC secret
(HS256, for development) or the public keys of a JWKS file (RS256 or ES256, for
production). Health checks and reflection stay open. Tokens and secrets are never
logged, and error messages say what was wrong without echoing key material.
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import jwt

from assignment_engine.core import logs
from assignment_engine.core.config import ConfigError, env_choice, env_float, env_str
from assignment_engine.core.errors import Unauthenticated

logger = logging.getLogger(__name__)

ROLES = ("staff", "supervisor", "admin", "service")
DEFAULT_ISSUER = "assignment-engine"
DEFAULT_AUDIENCE = "assignment-engine"
DEFAULT_LEEWAY_S = 30.0
MIN_SECRET_BYTES = 32
SERVICE_TOKEN_TTL_S = 600
# Valid tokens a verifier remembers, so each is checked in full once.
DEFAULT_VERIFIED_CACHE_SIZE = 4096
# Methods anyone may call: health checks (for probes) and reflection.
OPEN_METHOD_PREFIXES = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)
ASYMMETRIC_ALGORITHMS = ["RS256", "ES256"]

_current_caller: contextvars.ContextVar[Caller | None] = contextvars.ContextVar(
    "assignment_engine_caller", default=None
)


@dataclass(frozen=True)
class Caller:
    """The caller of the current RPC, as named by its verified token."""

    subject: str
    role: str


@dataclass(frozen=True)
class AuthSettings:
    mode: str  # "hmac" or "jwks"
    issuer: str
    audience: str
    leeway_s: float
    secret: bytes | None
    jwks: dict[str, Any] | None
    # A token file this service presents when it calls another service; when
    # unset in HMAC mode the service signs its own short-lived token.
    service_token_file: Path | None

    @classmethod
    def from_env(cls) -> AuthSettings:
        mode = env_choice("AE_AUTH_MODE", "hmac", ("hmac", "jwks"))
        secret = None
        jwks = None
        if mode == "hmac":
            secret = _read_secret()
        else:
            path = Path(env_str("AE_JWKS_FILE"))
            try:
                jwks = json.loads(path.read_text())
                jwt.PyJWKSet.from_dict(jwks)
            except (OSError, ValueError, jwt.PyJWTError) as exc:
                raise ConfigError(
                    f"AE_JWKS_FILE={str(path)!r} is invalid; expected a JWKS JSON file ({exc})"
                ) from None
        token_file = env_str("AE_SERVICE_TOKEN_FILE", "") or None
        if mode == "jwks" and token_file is None:
            raise ConfigError(
                "AE_SERVICE_TOKEN_FILE is not set; expected a token file when AE_AUTH_MODE=jwks"
            )
        return cls(
            mode=mode,
            issuer=env_str("AE_JWT_ISSUER", DEFAULT_ISSUER),
            audience=env_str("AE_JWT_AUDIENCE", DEFAULT_AUDIENCE),
            leeway_s=env_float("AE_JWT_LEEWAY_S", DEFAULT_LEEWAY_S, maximum=600),
            secret=secret,
            jwks=jwks,
            service_token_file=Path(token_file) if token_file else None,
        )

    @classmethod
    def for_secret(cls, secret: bytes, **overrides: Any) -> AuthSettings:
        """HMAC settings with the default issuer, audience and leeway."""
        fields: dict[str, Any] = {
            "mode": "hmac",
            "issuer": DEFAULT_ISSUER,
            "audience": DEFAULT_AUDIENCE,
            "leeway_s": DEFAULT_LEEWAY_S,
            "secret": secret,
            "jwks": None,
            "service_token_file": None,
        }
        fields.update(overrides)
        return cls(**fields)


def _read_secret() -> bytes:
    file_name = env_str("AE_JWT_SECRET_FILE", "")
    if file_name:
        try:
            secret = Path(file_name).read_bytes().strip()
        except OSError as exc:
            raise ConfigError(
                f"AE_JWT_SECRET_FILE={file_name!r} cannot be read ({exc.strerror})"
            ) from None
    else:
        raw = env_str("AE_JWT_SECRET", "")
        if not raw:
            raise ConfigError(
                "AE_JWT_SECRET and AE_JWT_SECRET_FILE are not set; expected an HMAC secret (AE_AUTH_MODE=hmac)"
            )
        secret = raw.encode()
    if len(secret) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"the JWT secret is {len(secret)} bytes; expected at least {MIN_SECRET_BYTES}"
        )
    return secret


class TokenVerifier:
    """Checks bearer tokens, remembering each valid one until it expires.

    A client sends the same token with every call until it renews it, so a token
    whose signature and claims were checked once is only checked for expiry on
    later calls. At most `cache_size` tokens are remembered.
    """

    def __init__(
        self,
        settings: AuthSettings,
        *,
        cache_size: int = DEFAULT_VERIFIED_CACHE_SIZE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._keys = jwt.PyJWKSet.from_dict(settings.jwks) if settings.jwks else None
        self._cache_size = cache_size
        self._clock = clock
        # token -> (caller, expiry in epoch seconds, leeway included)
        self._verified: dict[str, tuple[Caller, float]] = {}

    def verify(self, token: str) -> Caller:
        """Return the caller a valid token names; raise Unauthenticated otherwise."""
        remembered = self._verified.get(token)
        if remembered is not None:
            caller, expires_at = remembered
            if self._clock() < expires_at:
                return caller
            raise Unauthenticated("token expired")
        caller, expires_at = self._check(token)
        if len(self._verified) >= self._cache_size:
            # Forget the oldest half, which come first because dicts keep
            # insertion order.
            for stale in list(self._verified)[: self._cache_size // 2 + 1]:
                del self._verified[stale]
        self._verified[token] = (caller, expires_at)
        return caller

    def _check(self, token: str) -> tuple[Caller, float]:
        """Verify signature and claims, and return the caller and the token's expiry."""
        settings = self.settings
        try:
            if self._keys is not None:
                header = jwt.get_unverified_header(token)
                key_id = header.get("kid")
                matching = [key for key in self._keys.keys if key.key_id == key_id]
                if not matching:
                    raise Unauthenticated("token signed with an unknown key id")
                key: Any = matching[0].key
                algorithms = ASYMMETRIC_ALGORITHMS
            else:
                key = settings.secret
                algorithms = ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=settings.audience,
                issuer=settings.issuer,
                leeway=settings.leeway_s,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated(
                "token not valid yet (nbf or iat in the future)"
            ) from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated(
                f"token audience is wrong; expected {settings.audience!r}"
            ) from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated(
                f"token issuer is wrong; expected {settings.issuer!r}"
            ) from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthenticated(f"token lacks the {exc.claim!r} claim") from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("token signature is invalid") from None
        except jwt.InvalidAlgorithmError:
            raise Unauthenticated(
                f"token algorithm not accepted; expected {' or '.join(algorithms)}"
            ) from None
        except jwt.PyJWTError:
            raise Unauthenticated("token is malformed") from None
        subject, role = claims.get("sub"), claims.get("role")
        if not isinstance(subject, str) or not subject or len(subject) > 64:
            raise Unauthenticated(
                "token sub claim is invalid; expected a staff id or service name"
            )
        if role not in ROLES:
            raise Unauthenticated(
                f"token role claim is invalid; expected one of {', '.join(ROLES)}"
            )
        return Caller(subject, role), float(claims["exp"]) + settings.leeway_s


def mint_token(
    settings: AuthSettings,
    subject: str,
    role: str,
    ttl_s: float,
    *,
    now: float | None = None,
) -> str:
    """Sign an HS256 token with the HMAC secret (development and service identity)."""
    if settings.secret is None:
        raise ValueError("minting tokens needs the HMAC secret (AE_AUTH_MODE=hmac)")
    if role not in ROLES:
        raise ValueError(
            f"role {role!r} is invalid; expected one of {', '.join(ROLES)}"
        )
    issued = time.time() if now is None else now
    claims = {
        "sub": subject,
        "role": role,
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": int(issued),
        "nbf": int(issued),
        "exp": int(issued + ttl_s),
    }
    return jwt.encode(claims, settings.secret, algorithm="HS256")


def current_caller() -> Caller:
    """Return the caller of the RPC being handled, or raise Unauthenticated outside one."""
    caller = _current_caller.get()
    if caller is None:
        raise Unauthenticated("no authenticated caller")
    return caller


def bearer_token(metadata: Any) -> str:
    values = [value for key, value in (metadata or ()) if key == "authorization"]
    if not values:
        raise Unauthenticated("missing authorization metadata; expected 'Bearer <JWT>'")
    if len(values) > 1:
        raise Unauthenticated("more than one authorization header")
    scheme, _, token = str(values[0]).partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "authorization metadata is malformed; expected 'Bearer <JWT>'"
        )
    return token.strip()


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Verify the bearer token of every call except health and reflection."""

    def __init__(self, verifier: TokenVerifier) -> None:
        self.verifier = verifier

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if (
            handler is None
            or handler.unary_unary is None
            or method.startswith(OPEN_METHOD_PREFIXES)
        ):
            return handler
        inner = handler.unary_unary
        verifier = self.verifier

        async def authenticated(request: Any, context: grpc.aio.ServicerContext) -> Any:
            caller = verifier.verify(bearer_token(context.invocation_metadata()))
            reset = _current_caller.set(caller)
            try:
                return await inner(request, context)
            finally:
                _current_caller.reset(reset)

        return grpc.unary_unary_rpc_method_handler(
            authenticated,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class ServiceToken:
    """The token a service presents to another: a file's, or self-signed and renewed."""

    def __init__(self, settings: AuthSettings, service_name: str) -> None:
        self.settings = settings
        self.service_name = service_name
        self._token = ""
        self._expires = 0.0
        self._file_mtime = 0.0

    def get(self) -> str:
        path = self.settings.service_token_file
        if path is not None:
            mtime = path.stat().st_mtime
            if mtime != self._file_mtime:
                self._token = path.read_text().strip()
                self._file_mtime = mtime
            return self._token
        if time.time() > self._expires - SERVICE_TOKEN_TTL_S / 4:
            self._token = mint_token(
                self.settings, self.service_name, "service", SERVICE_TOKEN_TTL_S
            )
            self._expires = time.time() + SERVICE_TOKEN_TTL_S
            logger.debug(
                "renewed service token",
                extra=logs.fields(event="service_token_renewed"),
            )
        return self._token


class BearerInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    """Add `authorization: Bearer <token>` to every unary call of a channel."""

    def __init__(self, token: Callable[[], str]) -> None:
        self.token = token

    async def intercept_unary_unary(
        self, continuation: Any, client_call_details: Any, request: Any
    ) -> Any:
        metadata = [
            (key, value)
            for key, value in (client_call_details.metadata or ())
            if key != "authorization"
        ]
        metadata.append(("authorization", f"Bearer {self.token()}"))
        details = client_call_details._replace(metadata=metadata)
        return await continuation(details, request)
