"""Errors every service raises, so pages and the API report them the same way."""

from enum import StrEnum

from django.core.exceptions import ValidationError


class ErrorCode(StrEnum):
    """Codes any app may raise (Saleor's `error_codes.py`); an app's own live in `<app>/codes.py`.

    A code is part of the API: clients branch on it, so a value never changes once published."""

    INVALID = "invalid"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    UNAUTHORIZED = "unauthorized"
    INVALID_CREDENTIALS = "invalid_credentials"
    CONFLICT = "conflict"
    INVALID_TRANSITION = "invalid_transition"
    ENCRYPTION_KEY = "encryption_key"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    TOO_LARGE = "too_large"
    THROTTLED = "throttled"
    SERVER_ERROR = "server_error"
    UNAVAILABLE = "unavailable"
    CSRF_FAILED = "csrf_failed"
    ERROR = "error"


def require_enum(value, what: str):
    """Codes and audit actions are enum members, never loose strings: a typo fails at once, not in a client."""
    if not isinstance(value, StrEnum):
        raise TypeError(f"{what} must be a StrEnum member (an app's codes.py), not {value!r}")
    return value


class ServiceError(Exception):
    """A rule refused the request. `code` is stable for API clients; `message` is for people."""

    status = 400

    def __init__(self, message: str, *, code: StrEnum = ErrorCode.INVALID, field: str | None = None):
        super().__init__(str(message))
        self.message = str(message)
        self.code = require_enum(code, "ServiceError code")
        self.field = field


class NotFound(ServiceError):
    """Out of scope and nonexistent look the same (Zulip's rule)."""

    status = 404

    def __init__(self, message: str = "Not found.", *, code: StrEnum = ErrorCode.NOT_FOUND):
        super().__init__(message, code=code)


class Unauthorized(ServiceError):
    """Wrong credentials (the login endpoint)."""

    status = 401

    def __init__(self, message: str = "Wrong credentials.", *, code: StrEnum = ErrorCode.INVALID_CREDENTIALS):
        super().__init__(message, code=code)


class PermissionDenied(ServiceError):
    status = 403

    def __init__(self, message: str = "You may not do this.", *, code: StrEnum = ErrorCode.FORBIDDEN):
        super().__init__(message, code=code)


class Conflict(ServiceError):
    status = 409


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    """Django ValidationError → {field: [messages]} for the API's one error format."""
    if hasattr(exc, "error_dict"):
        return {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


# The one error format of the API: {"error": {"code", "message", "fields"}}.
STATUS_CODES = {
    400: ErrorCode.INVALID,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    409: ErrorCode.CONFLICT,
    413: ErrorCode.TOO_LARGE,
    422: ErrorCode.INVALID,
    429: ErrorCode.THROTTLED,
    500: ErrorCode.SERVER_ERROR,
    503: ErrorCode.UNAVAILABLE,
}


def status_code(status: int) -> str:
    """A stable `code` for an HTTP status when nothing more specific is known."""
    return STATUS_CODES.get(status, ErrorCode.ERROR)


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}
