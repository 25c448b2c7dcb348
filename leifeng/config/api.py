"""The REST API root: /api/v1/, one error format, token or session auth, every list paginated."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from leifeng.accounts.api_auth import SessionAuth, TokenAuth
from leifeng.core.errors import ServiceError, field_errors

api = NinjaAPI(
    title="leifeng API",
    version="1",
    description='学雷锋志愿服务与新时代文明实践平台 API. Errors: {"error": {"code", "message", "fields"}}.',
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api",
)


def error(request, status: int, code: str, message: str, fields: dict | None = None):
    return api.create_response(
        request, {"error": {"code": code, "message": message, "fields": fields or {}}}, status=status
    )


@api.exception_handler(ServiceError)
def on_service_error(request, exc: ServiceError):
    return error(request, exc.status, exc.code, exc.message, {exc.field: [exc.message]} if exc.field else None)


@api.exception_handler(DjangoValidationError)
def on_django_validation(request, exc: DjangoValidationError):
    fields = field_errors(exc)
    first = next(iter(fields.values()))[0] if fields else "Invalid input."
    return error(request, 400, "invalid", first, fields)


@api.exception_handler(NinjaValidationError)
def on_schema_validation(request, exc: NinjaValidationError):
    fields: dict[str, list[str]] = {}
    for err in exc.errors:
        loc = ".".join(str(x) for x in err.get("loc", ())[1:] if x not in ("body", "payload")) or "__all__"
        fields.setdefault(loc, []).append(err.get("msg", "invalid"))
    first_field = next(iter(fields), "__all__")
    return error(request, 422, "invalid", f"{first_field}: {fields[first_field][0]}", fields)


@api.exception_handler(Http404)
def on_404(request, exc):
    return error(request, 404, "not_found", "Not found.")


@api.exception_handler(AuthenticationError)
def on_auth(request, exc):
    return error(request, 401, "unauthorized", "Authentication required: send 'Authorization: Bearer <token>'.")


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    return error(request, exc.status_code, "error", str(exc))


def _register_routers() -> None:
    from leifeng.accounts.api import router as accounts_router
    from leifeng.core.api import router as core_router
    from leifeng.orgs.api import router as orgs_router
    from leifeng.people.api import router as people_router
    from leifeng.teams.api import router as teams_router

    api.add_router("/", core_router)
    api.add_router("/accounts/", accounts_router)
    api.add_router("/orgs/", orgs_router)
    api.add_router("/people/", people_router)
    api.add_router("/teams/", teams_router)


_register_routers()
