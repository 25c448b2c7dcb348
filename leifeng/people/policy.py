"""Who may see and change which volunteers (Wagtail's permission policies, built on `core.scope`).

Each rule is written once, here; selectors, services, views, the API and the Excel pages ask `volunteer_policy`:

- a volunteer is seen (and acted on) by those holding the permission at their station or above it;
  out of sight answers 404 like a missing number, seen but not allowed answers 403 (`require`);
- the list resolves that scope to station ids first (`list_q`), so the planner walks one station's index;
- staff register volunteers into stations of their Perm.CHANGE scope (`may_register_at`);
- full ID numbers need Perm.VIEW_ID over every volunteer shown (`may_view_id`, `all_ids_visible`).
"""

from django.db.models import Q, QuerySet, Subquery

from leifeng.core import scope
from leifeng.core.errors import NotFound, PermissionDenied
from leifeng.core.policy import ModelPolicy
from leifeng.core.scope import Perm
from leifeng.orgs.models import Org, OrgLevel
from leifeng.orgs.policy import orgs
from leifeng.people.models import Volunteer

# Where volunteers are registered: a station, a practice point, or (staff entry, import) a sub-center.
REGISTRABLE_LEVELS = (OrgLevel.STATION, OrgLevel.POINT, OrgLevel.SUBCENTER)
# What a person picks from when registering (or being registered) on a form: stations and practice points.
STATION_LEVELS = (OrgLevel.STATION, OrgLevel.POINT)

# Up to this many org nodes are passed to the database as literal ids, so it can walk the (org, -id)
# index of one station; a bigger scope (a province) is passed as a subquery instead.
LITERAL_ORG_IDS = 500


class VolunteerPolicy(ModelPolicy):
    model = Volunteer
    org_field = "org"

    def anywhere(self, actor, perm: Perm = Perm.VIEW) -> bool:
        """Does the actor hold `perm` at some node (the gate of the list, import and export pages)?"""
        return scope.has_any(actor, perm)

    def require(self, actor, perm: Perm, volunteer: Volunteer | None, message: str | None = None) -> None:
        """For services: NotFound when the actor may not see the volunteer (or there is none),
        PermissionDenied (with `message`) when they see it without `perm`."""
        if volunteer is None or not self.allows(actor, Perm.VIEW, volunteer):
            raise NotFound()
        if not self.allows(actor, perm, volunteer):
            raise PermissionDenied(message) if message else PermissionDenied()

    def allows_at(self, actor, perm: Perm, org: Org) -> bool:
        """May the actor do `perm` to the volunteers of `org` (approve an import's rows there, …)?"""
        return scope.allows(actor, perm, org)

    def list_q(self, actor, org_id: int | None = None) -> Q | None:
        """Which stations the list shows: None for everywhere (the operator, no node chosen); one query otherwise.

        `org_id` narrows to a node of the actor's scope and its subtree (nothing when it is out of scope)."""
        if org_id is None and scope.paths(actor, Perm.VIEW) is None:
            return None
        nodes = orgs(actor, Perm.VIEW)
        if org_id is not None:
            node = orgs(actor, Perm.VIEW).filter(pk=org_id).values("path")[:1]
            nodes = nodes.filter(path__startswith=Subquery(node))
        ids = list(nodes.values_list("id", flat=True)[: LITERAL_ORG_IDS + 1])
        if len(ids) > LITERAL_ORG_IDS:
            return Q(org__in=nodes.values("id"))
        return Q(org_id__in=ids)

    def stations(self, actor=None, perm: Perm | None = None, levels=STATION_LEVELS) -> QuerySet[Org]:
        """Nodes a volunteer can belong to: anyone registering themselves picks any; staff their `perm` scope."""
        if perm is None:
            return Org.objects.filter(level__in=levels)
        return orgs(actor, perm).filter(level__in=levels)

    def may_register_at(self, actor, org: Org, *, self_service: bool) -> bool:
        """Self-registration goes to any station; staff register into their own Perm.CHANGE subtree."""
        return self_service or scope.allows(actor, Perm.CHANGE, org)

    def may_view_id(self, actor, volunteer: Volunteer) -> bool:
        return self.allows(actor, Perm.VIEW_ID, volunteer)

    def all_ids_visible(self, actor, qs: QuerySet[Volunteer]) -> bool:
        """May the actor see the full ID number of *every* volunteer of `qs` (an unmasked export)?"""
        return scope.has_any(actor, Perm.VIEW_ID) and not qs.exclude(scope.q(actor, Perm.VIEW_ID)).exists()


volunteer_policy = VolunteerPolicy()
