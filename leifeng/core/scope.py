"""The one scope module: which org nodes may this actor see or change (Wagtail-style policy).

A role is held at a node and reaches that node's whole subtree. Every selector filters through
here; anything outside the result answers the same 404 as something that does not exist.
"""

from functools import reduce
from operator import or_

from django.contrib.auth import get_user_model
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from leifeng.core.roles import ALL, ROLE_PERMS, Perm, Role, roles_with

__all__ = [
    "ALL",
    "ROLE_PERMS",
    "Perm",
    "Role",
    "allows",
    "get_or_404",
    "has_any",
    "is_platform_admin",
    "paths",
    "q",
    "roles",
    "roles_with",
    "scoped",
    "users_with",
]


def _roles(actor) -> list[tuple[str, str]]:
    """(role, org path) pairs of the actor, loaded once per actor object (one query)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return []
    cached = getattr(actor, "_leifeng_roles", None)
    if cached is None:
        # `roles` is the reverse name of the account's role assignments (accounts.RoleAssignment.user).
        cached = list(actor.roles.values_list("role", "org__path"))
        actor._leifeng_roles = cached
    return cached


def forget(actor) -> None:
    """Drop the cached roles after they change."""
    if actor is not None and hasattr(actor, "_leifeng_roles"):
        del actor._leifeng_roles


def is_platform_admin(actor) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return actor.is_superuser or any(r == Role.PLATFORM_ADMIN for r, _ in _roles(actor))


def roles(actor) -> set[str]:
    return {r for r, _ in _roles(actor)}


def paths(actor, perm: Perm) -> tuple[str, ...] | None:
    """Minimal set of subtree roots where `actor` has `perm`; None means everywhere."""
    if is_platform_admin(actor):
        return None
    found = sorted({p for r, p in _roles(actor) if perm in ROLE_PERMS.get(r, ())})
    minimal: list[str] = []
    for p in found:  # sorted, so an ancestor comes before its descendants
        if not any(p.startswith(m) for m in minimal):
            minimal.append(p)
    return tuple(minimal)


def q(actor, perm: Perm, field: str = "org") -> Q:
    """Filter for objects whose `field` (an Org FK, or '' for Org itself) lies in scope."""
    roots = paths(actor, perm)
    if roots is None:
        # Everywhere. Not an empty Q(): Django drops an empty Q from `a | b`, so "everything OR mine" would
        # shrink to "mine" for a platform admin. A primary key is never NULL, so this is always true.
        return Q(pk__isnull=False)
    if not roots:
        return Q(pk__in=[])
    prefix = f"{field}__path" if field else "path"
    return reduce(or_, (Q(**{f"{prefix}__startswith": p}) for p in roots))


def scoped(qs: QuerySet, actor, perm: Perm = Perm.VIEW, field: str = "org") -> QuerySet:
    return qs.filter(q(actor, perm, field))


def allows(actor, perm: Perm, org) -> bool:
    """Does the actor hold `perm` at `org` (or any ancestor of it)?"""
    if org is None:
        return is_platform_admin(actor)
    roots = paths(actor, perm)
    return roots is None or any(org.path.startswith(p) for p in roots)


def has_any(actor, perm: Perm) -> bool:
    roots = paths(actor, perm)
    return roots is None or bool(roots)


def get_or_404(qs: QuerySet, actor, perm: Perm = Perm.VIEW, field: str = "org", **lookup) -> Model:
    """The object if it exists *and* is in scope; the same 404 otherwise."""
    try:
        return scoped(qs, actor, perm, field).get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def ancestor_paths(org) -> list[str]:
    """The materialized paths of `org` and every ancestor (treebeard: each step is `steplen` characters)."""
    return [org.path[:i] for i in range(org.steplen, len(org.path) + 1, org.steplen)]


def users_with(perm: Perm, org, *, here_only: bool = False) -> QuerySet:
    """Active accounts holding `perm` at `org`: a role granting it at the node or an ancestor (a right reaches the
    subtree), or only at the node itself with `here_only` (the node's own staff, not the county's). Platform
    administrators are not included: they are not anybody's day-to-day contact."""
    grants = [r for r in roles_with(perm) if r != Role.PLATFORM_ADMIN]
    where = Q(roles__org=org) if here_only else Q(roles__org__path__in=ancestor_paths(org))
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(pk__in=get_user_model().objects.filter(where, roles__role__in=grants).values("pk"))
        .order_by("pk")
    )
