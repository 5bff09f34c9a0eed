"""`ae-token`: mint a development token signed with the HMAC secret.

Reads the secret from AE_JWT_SECRET or AE_JWT_SECRET_FILE, like the services, and
prints the token, for example for grpcurl:

    grpcurl -plaintext -H "authorization: Bearer $(ae-token --sub root --role admin)" ...
"""

from __future__ import annotations

import argparse
import sys

from assignment_engine.core.auth import ROLES, AuthSettings, mint_token
from assignment_engine.core.config import ConfigError
from assignment_engine.core.validation import ID_PATTERN

DEFAULT_TTL_S = 3600


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Mint a development token for the Assignment Engine."
    )
    parser.add_argument(
        "--sub", required=True, help="staff id, or a service name for --role service"
    )
    parser.add_argument("--role", required=True, choices=ROLES, help="the role claim")
    parser.add_argument(
        "--ttl",
        type=int,
        default=DEFAULT_TTL_S,
        help=f"lifetime in seconds (default {DEFAULT_TTL_S})",
    )
    args = parser.parse_args(argv)
    if not ID_PATTERN.match(args.sub):
        parser.error(
            f"--sub {args.sub!r} is invalid; expected 1 to 64 letters, digits, '.', '_' or '-'"
        )
    if not 1 <= args.ttl <= 30 * 24 * 3600:
        parser.error(f"--ttl {args.ttl} is out of range; expected 1 to 2592000 seconds")
    try:
        settings = AuthSettings.from_env()
    except ConfigError as exc:
        sys.exit(f"ae-token: {exc}")
    if settings.mode != "hmac":
        sys.exit(
            "ae-token: AE_AUTH_MODE is jwks; production tokens come from your identity provider"
        )
    print(mint_token(settings, args.sub, args.role, args.ttl))
