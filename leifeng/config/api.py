"""The REST API root: /api/v1/, one error format, token or session auth, every list paginated.

Every error leaves as {"error": {"code", "message", "fields"}}: exceptions raised inside an endpoint
are turned into it here; errors Django answers before an endpoint runs (unknown path, wrong method,
a crash) are rewritten by `leifeng.core.middleware.ApiErrorMiddleware` with the same `error_body`.
"""

from enum import StrEnum

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from leifeng.accounts.api_auth import SessionAuth, TokenAuth
from leifeng.core.errors import ErrorCode, ServiceError, error_body, field_errors, status_code

# The error answers every operation may give, in the one error format (documented so that clients, and the
# contract test that fuzzes the API, know them). 5xx are deliberately absent: any server error is a defect.
ERROR_RESPONSES = {
    400: "The request breaks a rule (the message says which).",
    401: "No valid token or session.",
    403: "Signed in, but not allowed to do this here.",
    404: "No such object, or not within what the caller may see (the same answer).",
    409: "The object's state does not allow this now (e.g. a status move the table does not allow).",
    413: "The upload is too large.",
    422: "The input does not match the schema (the field is named).",
    429: "Too many requests from this address or account: wait and retry.",
}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            },
        }
    },
}


class LeifengAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """Ninja's document, with the error answers of ERROR_RESPONSES added to every operation."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        for methods in schema.get("paths", {}).values():
            for operation in methods.values():
                responses = operation.setdefault("responses", {})
                documented = {int(c) for c in responses}
                for code, description in ERROR_RESPONSES.items():
                    if code in documented:
                        continue
                    if code == 401 and not operation.get("security"):
                        continue  # a public operation never asks for credentials
                    responses[code] = {"description": description, "content": ref}
        return schema


api = LeifengAPI(
    title="leifeng API",
    version="1",
    description=(
        "学雷锋志愿服务与新时代文明实践平台 API.\n\n"
        "Authenticate with `Authorization: Bearer <token>` (get one from POST /api/v1/accounts/token or the "
        "account page) or with the browser session (CSRF token required on writes).\n\n"
        'Every error: `{"error": {"code": "...", "message": "...", "fields": {"field": ["..."]}}}`. '
        'Every list: `?page=N&page_size=M` → `{"items": [...], "count": N}`.'
    ),
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api",
    docs_url="/docs",
)


def error(request, status: int, code: StrEnum, message: str, fields: dict | None = None):
    return api.create_response(request, error_body(code, message, fields), status=status)


@api.exception_handler(ServiceError)
def on_service_error(request, exc: ServiceError):
    return error(request, exc.status, exc.code, exc.message, {exc.field: [exc.message]} if exc.field else None)


@api.exception_handler(DjangoValidationError)
def on_django_validation(request, exc: DjangoValidationError):
    fields = field_errors(exc)
    first_field, messages = next(iter(fields.items()), ("__all__", ["Invalid input."]))
    message = messages[0] if first_field == "__all__" else f"{first_field}: {messages[0]}"
    return error(request, 400, ErrorCode.INVALID, message, fields)


def _field_name(loc: tuple) -> str:
    """('body', 'payload', 'org_id') → 'org_id'; ('query', 'page') → 'page'; ('path', 'user_id') → 'user_id'."""
    parts = [str(x) for x in loc[1:]]
    if loc and loc[0] == "body" and len(parts) > 1:
        parts = parts[1:]  # drop the name of the body parameter
    return ".".join(p for p in parts if p not in ("payload", "filters")) or "__all__"


@api.exception_handler(NinjaValidationError)
def on_schema_validation(request, exc: NinjaValidationError):
    fields: dict[str, list[str]] = {}
    for err in exc.errors:
        fields.setdefault(_field_name(tuple(err.get("loc", ()))), []).append(err.get("msg", "invalid"))
    first_field = next(iter(fields), "__all__")
    return error(request, 422, ErrorCode.INVALID, f"{first_field}: {fields[first_field][0]}", fields)


@api.exception_handler(Http404)
def on_404(request, exc):
    return error(request, 404, ErrorCode.NOT_FOUND, "Not found.")


@api.exception_handler(AuthenticationError)
def on_auth(request, exc):
    return error(
        request, 401, ErrorCode.UNAUTHORIZED, "Authentication required: send 'Authorization: Bearer <token>' or log in."
    )


@api.exception_handler(Throttled)
def on_throttled(request, exc: Throttled):
    return error(request, 429, ErrorCode.THROTTLED, "Too many requests; slow down.")


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    message = str(exc)
    code = ErrorCode.CSRF_FAILED if "CSRF" in message else status_code(exc.status_code)
    return error(request, exc.status_code, code, message)


def _register_routers() -> None:
    from leifeng.accounts.api import router as accounts_router
    from leifeng.activities.api import router as activities_router
    from leifeng.attendance.api import router as attendance_router
    from leifeng.core.api import router as core_router
    from leifeng.hours.api import router as hours_router
    from leifeng.notifications.api import router as notifications_router
    from leifeng.orders.api import router as orders_router
    from leifeng.orders.dispatch.api import router as orders_dispatch_router
    from leifeng.orgs.api import router as orgs_router
    from leifeng.people.api import router as people_router
    from leifeng.teams.api import router as teams_router

    api.add_router("/", core_router)
    api.add_router("/accounts/", accounts_router)
    api.add_router("/orgs/", orgs_router)
    api.add_router("/people/", people_router)
    api.add_router("/teams/", teams_router)
    api.add_router("/activities/", activities_router)
    api.add_router("/attendance/", attendance_router)
    api.add_router("/hours/", hours_router)
    api.add_router("/orders/", orders_router)
    api.add_router("/orders/dispatch/", orders_dispatch_router)
    api.add_router("/notifications/", notifications_router)


_register_routers()
