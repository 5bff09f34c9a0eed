"""Domain errors shared by every service, each carrying its gRPC status code.

Stores raise these (wrapping the driver's exception with `raise ... from exc`);
the gRPC error interceptor turns them into a status with a safe detail, so no
servicer matches on message text.
"""

from __future__ import annotations

from typing import Any

import grpc


class EngineError(Exception):
    """Root of every error the engine reports to a caller."""

    code = grpc.StatusCode.UNKNOWN
    # Whether the same request may succeed when tried again later.
    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(EngineError):
    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, field: str, value: Any, expected: str) -> None:
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"{field}={shown} is invalid; expected {expected}")
        self.field = field


class NotFound(EngineError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(EngineError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(EngineError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class PermissionDenied(EngineError):
    code = grpc.StatusCode.PERMISSION_DENIED


class Unauthenticated(EngineError):
    code = grpc.StatusCode.UNAUTHENTICATED


class Unavailable(EngineError):
    code = grpc.StatusCode.UNAVAILABLE
    retryable = True


class Aborted(EngineError):
    """A transaction kept conflicting with concurrent ones and gave up."""

    code = grpc.StatusCode.ABORTED
    retryable = True
