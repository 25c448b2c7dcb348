"""/api/v1/accounts/: tokens, my account, and the accounts of my subtree."""

from datetime import datetime

from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from leifeng.accounts import selectors, services
from leifeng.accounts.models import RoleAssignment, User
from leifeng.core.errors import Unauthorized
from leifeng.core.pagination import Page
from leifeng.core.schemas import Id

router = Router(tags=["accounts"])

# A database id: above PostgreSQL's bigint (or SQLite's integer) it is no id, refused with a 422 naming the field.


class LoginIn(Schema):
    username: str = Field(..., min_length=1, description="User name or 11-digit mobile number")
    password: str = Field(..., min_length=1)
    token_name: str = Field("api", max_length=100, description="A label for the new token")


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(..., description="The bearer token. Shown once: store it now.")


class TokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)


class RoleOut(Schema):
    id: int
    role: str
    role_display: str = Field(..., alias="get_role_display")
    org_id: int
    org_name: str = Field(..., alias="org.name")


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    phone: str | None
    is_active: bool
    roles: list[RoleOut]

    @staticmethod
    def resolve_roles(obj: User) -> list[RoleAssignment]:
        return getattr(obj, "scoped_roles", None) or []


class MeOut(UserOut):
    @staticmethod
    def resolve_roles(obj: User) -> list[RoleAssignment]:
        return selectors.role_list_for_user(user=obj)


class UserIn(Schema):
    username: str = Field(..., max_length=150)
    display_name: str = Field(..., max_length=50)
    password: str
    phone: str | None = None
    email: str = ""
    role: str = Field(..., description="The first role, e.g. org_staff")
    org_id: Id = Field(..., description="The node where the first role is held")


class GrantIn(Schema):
    role: str
    org_id: Id


class UserFilterIn(Schema):
    q: str = ""
    role: str = ""
    active: str = ""


def _token_out(token, raw: str | None = None) -> dict:
    out = {f: getattr(token, f) for f in ("id", "name", "prefix", "created_at", "last_used_at", "revoked_at")}
    if raw is not None:
        out["token"] = raw
    return out


# A public operation, but a wrong password is a 401 (the API root documents 401 only for operations that ask for
# credentials), so this one says it itself, in the one error format.
WRONG_CREDENTIALS = {
    401: {
        "description": "Wrong user name / mobile number or password.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
}


@router.post(
    "/token",
    auth=None,
    response={201: NewTokenOut},
    openapi_extra={"responses": WRONG_CREDENTIALS},
    summary="Log in: user name or phone → new token",
)
def token_login(request: HttpRequest, payload: LoginIn):
    """Failed attempts count towards the login lockout (django-axes), exactly like the login page."""
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None:
        raise Unauthorized("Wrong user name / mobile number or password.")
    token, raw = services.token_create(actor=user, name=payload.token_name or "api")
    return Status(201, _token_out(token, raw))


@router.get("/me", response=MeOut, summary="The calling account with its roles")
def me(request: HttpRequest):
    return request.auth


@router.get("/tokens", response=list[TokenOut], summary="My API tokens")
@paginate(Page)
def token_list(request: HttpRequest):
    return selectors.token_list(actor=request.auth)


@router.post("/tokens", response={201: NewTokenOut}, summary="Create a token (shown once)")
def token_create(request: HttpRequest, payload: TokenIn):
    token, raw = services.token_create(actor=request.auth, name=payload.name)
    return Status(201, _token_out(token, raw))


@router.delete("/tokens/{token_id}", response={204: None}, summary="Revoke one of my tokens")
def token_revoke(request: HttpRequest, token_id: Id):
    services.token_revoke(actor=request.auth, token_id=token_id)
    return Status(204, None)


@router.get("/users", response=list[UserOut], summary="Accounts of my subtree (org admins)")
@paginate(Page)
def user_list(request: HttpRequest, filters: Query[UserFilterIn]):
    return selectors.user_list(actor=request.auth, filters=selectors.UserFilters(**filters.dict()))


@router.post("/users", response={201: UserOut}, summary="Create a staff account with its first role")
def user_create(request: HttpRequest, payload: UserIn):
    user = services.user_create(actor=request.auth, **payload.dict())
    return Status(201, selectors.user_get(actor=request.auth, user_id=user.pk))


@router.get("/users/{user_id}", response=UserOut, summary="One account of my subtree")
def user_get(request: HttpRequest, user_id: Id):
    return selectors.user_get(actor=request.auth, user_id=user_id)


@router.post("/users/{user_id}/roles", response={201: RoleOut}, summary="Grant a role at a node of my subtree")
def role_grant(request: HttpRequest, user_id: Id, payload: GrantIn):
    user = selectors.user_get(actor=request.auth, user_id=user_id)
    ra = services.role_grant(actor=request.auth, user=user, role=payload.role, org_id=payload.org_id)
    return Status(201, get_object_or_404(RoleAssignment.objects.select_related("org"), pk=ra.pk))


@router.delete("/users/{user_id}/roles/{role_id}", response={204: None}, summary="Remove a role")
def role_revoke(request: HttpRequest, user_id: Id, role_id: Id):
    user = selectors.user_get(actor=request.auth, user_id=user_id)
    services.role_revoke(actor=request.auth, user=user, assignment_id=role_id)
    return Status(204, None)
