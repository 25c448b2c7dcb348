"""The one scope module: which org nodes may this actor see or change (Wagtail-style policy).

A role is held at a node and reaches that node's whole subtree. Every selector filters through
here; anything outside the result answers the same 404 as something that does not exist.
"""

from enum import StrEnum
from functools import reduce
from operator import or_

from django.db.models import Model, Q, QuerySet
from django.http import Http404

from leifeng.accounts.models import Role


class Perm(StrEnum):
    VIEW = "view"  # see records of the subtree (ID numbers masked)
    CHANGE = "change"  # enter and edit records: volunteers, teams, units
    APPROVE = "approve"  # approve or reject volunteer registrations
    VIEW_ID = "view_id"  # see ID numbers unmasked (audited)
    MANAGE_ORG = "manage_org"  # edit the tree, positions, leading groups, accounts and roles
    AUDIT = "audit"  # read the audit trail
    LEAD_TEAM = "lead_team"  # run the rosters of teams one leads


ALL = frozenset(Perm)
ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.PLATFORM_ADMIN: ALL,
    Role.ORG_ADMIN: frozenset(
        {Perm.VIEW, Perm.CHANGE, Perm.APPROVE, Perm.VIEW_ID, Perm.MANAGE_ORG, Perm.AUDIT, Perm.LEAD_TEAM}
    ),
    Role.ORG_STAFF: frozenset({Perm.VIEW, Perm.CHANGE, Perm.APPROVE, Perm.VIEW_ID, Perm.LEAD_TEAM}),
    Role.ASSESSOR: frozenset({Perm.VIEW}),
    Role.TEAM_LEADER: frozenset({Perm.LEAD_TEAM}),
    Role.CARE_WORKER: frozenset(),
    Role.RECORDER: frozenset(),
    Role.VOLUNTEER: frozenset(),
}


def _roles(actor) -> list[tuple[str, str]]:
    """(role, org path) pairs of the actor, loaded once per actor object (one query)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return []
    cached = getattr(actor, "_leifeng_roles", None)
    if cached is None:
        from leifeng.accounts.models import RoleAssignment

        cached = list(RoleAssignment.objects.filter(user=actor).values_list("role", "org__path"))
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


def orgs(actor, perm: Perm = Perm.VIEW) -> QuerySet:
    from leifeng.orgs.models import Org

    return scoped(Org.objects.all(), actor, perm, field="")


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
