"""Reads about accounts, always through accounts.policy: an account is in scope when it holds a role there."""

from dataclasses import dataclass

from django.db.models import F, Prefetch, Q, QuerySet
from django.http import Http404

from leifeng.accounts.models import ApiToken, Role, RoleAssignment, User
from leifeng.accounts.policy import account_policy, role_policy


def role_list_for_user(*, user) -> list[RoleAssignment]:
    return list(RoleAssignment.objects.filter(user=user).select_related("org").order_by("org__path", "role"))


def roles_in_scope(*, actor) -> QuerySet[RoleAssignment]:
    """Role assignments the actor may see and revoke (those at nodes of their MANAGE_ORG subtree)."""
    return role_policy.visible(actor, qs=RoleAssignment.objects.select_related("org")).order_by("org__path", "role")


def grantable_roles(*, actor) -> list[tuple[str, str]]:
    return [(v, label) for v, label in Role.choices if account_policy.may_grant_role(actor, v)]


def grantable_orgs(*, actor):
    return account_policy.grantable_orgs(actor).order_by("path")


@dataclass
class UserFilters:
    q: str = ""
    role: str = ""
    active: str = ""  # "", "1" active only, "0" deactivated only

    @classmethod
    def from_params(cls, params) -> "UserFilters":
        return cls(
            q=(params.get("q") or "").strip(),
            role=params.get("role") or "",
            active=params.get("active") or "",
        )


def user_list(*, actor, filters: UserFilters | None = None) -> QuerySet[User]:
    """Accounts holding a role in the actor's MANAGE_ORG subtree, each with those roles only.

    Roles outside the actor's subtree are not shown: out of scope is the same as nonexistent.
    """
    if not account_policy.anywhere(actor):
        raise Http404
    f = filters or UserFilters()
    in_scope = roles_in_scope(actor=actor)
    role_filter = in_scope.filter(role=f.role) if f.role in Role.values else in_scope
    qs = account_policy.visible(actor, roles=role_filter if f.role else None)
    qs = qs.prefetch_related(Prefetch("roles", queryset=in_scope, to_attr="scoped_roles"))
    if f.q:
        qs = qs.filter(
            Q(username__icontains=f.q) | Q(display_name__icontains=f.q) | Q(phone__startswith=f.q.replace(" ", ""))
        )
    if f.active in ("0", "1"):
        qs = qs.filter(is_active=f.active == "1")
    return qs.order_by("username")


def user_get(*, actor, user_id) -> User:
    """One account in scope (with `scoped_roles`), or 404 like a missing one."""
    try:
        return user_list(actor=actor).get(pk=user_id)
    except (User.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def token_list(*, actor) -> QuerySet[ApiToken]:
    """The actor's own tokens, active ones first, newest first (nobody lists another person's tokens here)."""
    if actor is None or not actor.is_authenticated:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=actor).order_by(F("revoked_at").desc(nulls_first=True), "-created_at", "-id")
