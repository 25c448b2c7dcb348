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
    ERROR = "error"


class ServiceError(Exception):
    """A rule refused the request. `code` is stable for API clients; `message` is for people."""

    status = 400

    def __init__(self, message: str, *, code: StrEnum = ErrorCode.INVALID, field: str | None = None):
        super().__init__(str(message))
        self.message = str(message)
        self.code = code
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
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "throttled",
    500: "server_error",
    503: "unavailable",
}


def status_code(status: int) -> str:
    """A stable `code` for an HTTP status when nothing more specific is known."""
    return STATUS_CODES.get(status, "error")


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}
