"""Reads for the home page: what each actor sees first, each part within their own scope."""

from django.db.models import Count, Q

from leifeng.accounts.models import RoleAssignment
from leifeng.core import scope
from leifeng.core.models import AuditEvent
from leifeng.core.scope import Perm
from leifeng.orgs import policy as org_policy
from leifeng.people.models import Volunteer, VolunteerStatus
from leifeng.teams.models import MembershipStatus, Team, TeamMembership


def home_summary(*, actor) -> dict:
    """What the home page shows this actor, each part within their own scope.

    can_view   counts of volunteers, pending registrations, teams and nodes (staff, admins, assessors)
    can_approve  a link to the registrations waiting for them
    volunteer  their own registration (status, number, station) and their teams
    leads      teams they lead as leader or deputy
    recent     the latest audit events of their subtree (org admins)
    """
    out: dict = {
        "roles": _role_labels(actor),
        "can_view": scope.has_any(actor, Perm.VIEW),
        "can_approve": scope.has_any(actor, Perm.APPROVE),
        "can_manage": scope.has_any(actor, Perm.MANAGE_ORG),
    }
    if out["can_view"]:
        out.update(
            scope.scoped(Volunteer.objects.all(), actor).aggregate(
                volunteers=Count("id", filter=Q(status=VolunteerStatus.APPROVED)),
                pending=Count("id", filter=Q(status=VolunteerStatus.PENDING)),
            )
        )
        out["teams"] = scope.scoped(Team.objects.all(), actor).count()
        out["orgs"] = org_policy.orgs(actor).count()
    volunteer = Volunteer.objects.select_related("org").filter(user=actor).first()
    Volunteer._meta.get_field("user").remote_field.set_cached_value(actor, volunteer)  # the menu asks again
    out["volunteer"] = volunteer
    if volunteer is not None:
        out["memberships"] = list(
            TeamMembership.objects.filter(
                volunteer=volunteer, status__in=[MembershipStatus.ACTIVE, MembershipStatus.PENDING]
            )
            .select_related("team")
            .order_by("team__name")
        )
        out["leads"] = list(Team.objects.filter(Q(leader=volunteer) | Q(deputy=volunteer)).order_by("name"))
    if scope.has_any(actor, Perm.AUDIT):
        out["recent"] = list(
            scope.scoped(AuditEvent.objects.select_related("actor"), actor, Perm.AUDIT).order_by("-created_at", "-id")[
                :5
            ]
        )
    return out


def _role_labels(actor) -> list[str]:
    if actor is None or not actor.is_authenticated:
        return []
    return [
        f"{ra.get_role_display()} · {ra.org.name}"
        for ra in RoleAssignment.objects.filter(user=actor).select_related("org").order_by("org__path", "role")
    ]
