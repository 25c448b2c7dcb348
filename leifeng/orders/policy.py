"""Who may see and do what with orders and menus (built on `core.scope`): the one copy of each rule.

Who sees an order:
  * staff with Perm.VIEW at the node that owns it now, or at the node where it was placed (a station keeps
    sight of what it passed up) — so a station sees its own and its subtree's orders;
  * the leader or deputy of a team it was offered to, a volunteer it was offered to;
  * the leaders of eligible teams while it is open for grabbing;
  * the resident, through the private tracking link (token) only.
Who runs an order (review, dispatch, push down, pass up, merge, follow up): Perm.CHANGE at the node owning it;
the node's own staff (`staff_of`) are told about it.
"""

from django.db.models import Q, QuerySet

from leifeng.core import scope
from leifeng.core.policy import ModelPolicy
from leifeng.core.roles import Perm
from leifeng.orders.models import MenuItem, Order, OrderStatus
from leifeng.teams.models import Team
from leifeng.teams.selectors import volunteer_of


class OrderPolicy(ModelPolicy):
    model = Order
    org_field = "org"

    def staff_q(self, actor, perm: Perm = Perm.VIEW) -> Q:
        """Staff sight: `perm` at the owning node or (for VIEW) at the node where the order was placed."""
        if perm != Perm.VIEW:
            return scope.q(actor, perm, "org")
        return scope.q(actor, Perm.VIEW, "org") | scope.q(actor, Perm.VIEW, "origin_org")

    def visible(self, actor, perm: Perm = Perm.VIEW, qs: QuerySet | None = None) -> QuerySet:
        return (self.queryset() if qs is None else qs).filter(self.staff_q(actor, perm))

    def owned(self, actor, perm: Perm = Perm.VIEW, qs: QuerySet | None = None) -> QuerySet:
        """Orders whose owning node lies where the actor holds `perm` (not those only placed there)."""
        return super().visible(actor, perm, qs)

    def is_staff(self, actor, perm: Perm = Perm.VIEW) -> bool:
        """Does the actor hold `perm` anywhere (may they open the inbox, enter orders, dispatch in batches)?"""
        return scope.has_any(actor, perm)

    def may_see(self, actor, order: Order) -> bool:
        """Staff sight of one order (owning node or origin node)."""
        return scope.allows(actor, Perm.VIEW, order.org) or scope.allows(actor, Perm.VIEW, order.origin_org)

    def may_run(self, actor, order: Order) -> bool:
        """Review, dispatch, push down, pass up, merge, follow up: Perm.CHANGE at the owning node."""
        return scope.allows(actor, Perm.CHANGE, order.org)

    def assignee_q(self, actor) -> Q:
        """Orders offered to the actor's teams (as leader or deputy) or to the actor themself."""
        volunteer = volunteer_of(actor)
        team_ids = [t.pk for t in led_teams(actor)]
        q = Q(assignments__team_id__in=team_ids) if team_ids else Q(pk__in=[])
        if volunteer is not None:
            q |= Q(assignments__volunteer=volunteer)
        return q

    def own_assignments_q(self, actor) -> Q:
        """Assignments the actor answers: their teams' (as leader or deputy) and their own."""
        volunteer = volunteer_of(actor)
        team_ids = [t.pk for t in led_teams(actor)]
        return Q(team_id__in=team_ids) | Q(volunteer=volunteer) if volunteer else Q(team_id__in=team_ids)

    def may_grab(self, actor, order: Order) -> bool:
        """The order is open for grabbing and a team the actor leads may grab it."""
        return order.status == OrderStatus.OPEN and any(team_may_grab(t, order) for t in led_teams(actor))


class MenuPolicy(ModelPolicy):
    model = MenuItem
    org_field = "org"


order_policy = OrderPolicy()
menu_policy = MenuPolicy()


def staff_of(org) -> QuerySet:
    """Accounts that run a node's orders: those holding Perm.CHANGE at the node itself (its administrators and
    staff; not the county's, not the platform's)."""
    return scope.users_with(Perm.CHANGE, org, here_only=True)


# ---------------------------------------------------------------- which team may serve which order


def in_line(org_path: str, other_path: str) -> bool:
    """Is one node the other, an ancestor or a descendant of it (the same line of the tree)?"""
    return org_path.startswith(other_path) or other_path.startswith(org_path)


def team_may_serve(team: Team, order: Order) -> bool:
    """A team may serve an order when it is active and its node is the order's node, above it or below it."""
    return team.is_active and in_line(team.org.path, order.org.path)


def team_may_grab(team: Team, order: Order) -> bool:
    """Grab eligibility: may serve, and the category matches (an order without a category takes any team)."""
    return team_may_serve(team, order) and (not order.category or team.category == order.category)


def led_teams(actor) -> list[Team]:
    """Active teams the actor leads or deputizes (one query, cached on the actor)."""
    cached = getattr(actor, "_leifeng_led_teams", None)
    if cached is not None:
        return cached
    volunteer = volunteer_of(actor)
    teams = (
        list(Team.objects.filter(Q(leader=volunteer) | Q(deputy=volunteer), is_active=True).select_related("org"))
        if volunteer
        else []
    )
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor._leifeng_led_teams = teams
    return teams
