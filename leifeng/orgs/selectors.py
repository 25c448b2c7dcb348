"""Reads of the tree, units, positions and leading groups, always through the policies of orgs.policy."""

from dataclasses import dataclass, field

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Length, Substr

from leifeng.core.scope import Perm
from leifeng.orgs import policy
from leifeng.orgs.models import (
    LeadingGroup,
    LeadingGroupMember,
    LeadingGroupRole,
    Org,
    OrgLevel,
    Position,
    PositionTitle,
    Unit,
    levels_above,
    levels_below,
)
from leifeng.orgs.policy import leading_group_member_policy, leading_group_policy, position_policy, unit_policy

# What a node counts on the tree page and in a node's list of children, e.g. {"volunteer_count": ("volunteers",
# Q(status="approved"))}. The apps that own those rows register them (people: approved volunteers, teams: active
# teams) with `count_per_node` when Django starts, so orgs reads them through Org's reverse relations without
# importing the apps above it.
NODE_COUNTS: dict[str, tuple[str, Q]] = {}


def count_per_node(name: str, related_name: str, condition: Q | None = None) -> None:
    """Annotate every node of the tree with `name`: its rows of the reverse relation `related_name` matching
    `condition` (rows attached to the node itself; the tree adds its subtrees up)."""
    NODE_COUNTS[name] = (related_name, condition or Q())


def _count_of(related_name: str, condition: Q) -> Coalesce:
    """Correlated COUNT(*) of the rows pointing at the outer org: a subquery, not a join."""
    rel = Org._meta.get_field(related_name)
    fk = rel.field.name
    sub = (
        rel.related_model._default_manager.filter(condition, **{fk: OuterRef("pk")})
        .order_by()
        .values(fk)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(sub, output_field=IntegerField()), Value(0))


def with_counts(qs: QuerySet[Org]) -> QuerySet[Org]:
    """Annotate each node with the counts registered in NODE_COUNTS (approved volunteers, active teams)."""
    return qs.annotate(**{name: _count_of(rel, cond) for name, (rel, cond) in NODE_COUNTS.items()})


def with_parent_id(qs: QuerySet[Org]) -> QuerySet[Org]:
    """Annotate `parent_id` from the materialized path (the row whose path is ours minus one step)."""
    parent_path = Substr(OuterRef("path"), 1, Length(OuterRef("path")) - Org.steplen)
    return qs.annotate(parent_id=Subquery(Org.objects.filter(path=parent_path).values("pk")[:1]))


# --- the tree ------------------------------------------------------------------------------------


@dataclass
class TreeNode:
    """One node of the visible tree, with its own and its subtree's counts."""

    org: Org
    children: list["TreeNode"] = field(default_factory=list)
    volunteers: int = 0
    teams: int = 0
    volunteers_total: int = 0
    teams_total: int = 0
    node_total: int = 1

    @property
    def pk(self) -> int:
        return self.org.pk


def org_tree(*, actor, perm: Perm = Perm.VIEW) -> list[TreeNode]:
    """The subtrees the actor may see, nested, from ONE query (counts are correlated subqueries).

    Rows come ordered by path, so a parent always arrives before its children; a node whose parent
    is not visible is the root of one of the actor's subtrees.
    """
    rows = with_counts(policy.orgs(actor, perm)).order_by("path")
    by_path: dict[str, TreeNode] = {}
    roots: list[TreeNode] = []
    for org in rows:
        node = TreeNode(org=org, volunteers=getattr(org, "volunteer_count", 0), teams=getattr(org, "team_count", 0))
        by_path[org.path] = node
        parent = by_path.get(org.path[: -Org.steplen])
        (parent.children if parent else roots).append(node)
    for root in roots:
        _sum_up(root)
    return roots


def _sum_up(node: TreeNode) -> None:
    node.volunteers_total, node.teams_total, node.node_total = node.volunteers, node.teams, 1
    for child in node.children:
        _sum_up(child)
        node.volunteers_total += child.volunteers_total
        node.teams_total += child.teams_total
        node.node_total += child.node_total


def org_list(*, actor, level: str | None = None, parent_id: int | None = None) -> QuerySet[Org]:
    """Nodes in scope in tree order; `parent_id` keeps only the direct children of that node."""
    qs = with_parent_id(policy.orgs(actor))
    if level:
        qs = qs.filter(level=level)
    if parent_id is not None:
        parent = policy.orgs(actor).filter(pk=parent_id).values_list("path", "depth").first()
        if parent is None:
            return qs.none()
        qs = qs.filter(path__startswith=parent[0], depth=parent[1] + 1)
    return qs.order_by("path")


def org_get(*, actor, pk, perm: Perm = Perm.VIEW) -> Org:
    """One node, or 404 when missing or out of scope."""
    return policy.org_policy.get_or_404(actor, perm, with_parent_id(Org.objects.all()), pk=pk)


def org_choices(*, actor, perm: Perm = Perm.VIEW, levels: list[str] | None = None) -> QuerySet[Org]:
    """Nodes for a select box (tree order, only what the label needs)."""
    qs = policy.orgs(actor, perm).only("id", "name", "level", "depth", "path")
    if levels is not None:
        qs = qs.filter(level__in=levels)
    return qs.order_by("path")


def levels_allowed_for(*, org: Org) -> list[str]:
    """Levels `org` may take where it sits: any level below its parent's (children are checked on save)."""
    parent_level = Org.objects.filter(path=org.path[: -Org.steplen]).values_list("level", flat=True).first()
    return levels_below(parent_level) if parent_level else list(OrgLevel.values)


def move_targets(*, actor, org: Org) -> QuerySet[Org]:
    """Where `org` may go: nodes the actor manages, above its level, outside its subtree, not its parent."""
    return (
        org_choices(actor=actor, perm=Perm.MANAGE_ORG, levels=levels_above(org.level))
        .exclude(path__startswith=org.path)
        .exclude(path=org.path[: -Org.steplen])
    )


@dataclass
class OrgDetail:
    org: Org
    ancestors: list[Org]
    children: list[Org]
    units: list[Unit]
    positions: list[Position]
    leading_groups: list[LeadingGroup]


def _title_rank(position: Position) -> tuple[int, str]:
    return (PositionTitle.values.index(position.title), position.person_name)


def _role_rank(member: LeadingGroupMember) -> tuple[int, int]:
    return (LeadingGroupRole.values.index(member.role), member.pk)


def positions_of(*, org: Org) -> list[Position]:
    """Positions of a node, 主任 before 副主任 before 成员 (the order of the choices, not the alphabet)."""
    return sorted(Position.objects.filter(org=org), key=_title_rank)


def leading_groups_of(*, org: Org) -> list[LeadingGroup]:
    """Leading groups of a node with their members (one query each), 组长 first."""
    groups = list(LeadingGroup.objects.filter(org=org).prefetch_related("members"))
    for group in groups:
        group.sorted_members = sorted(group.members.all(), key=_role_rank)
    return groups


def org_detail(*, actor, pk) -> OrgDetail:
    """Everything the node page shows; 404 when out of scope."""
    org = org_get(actor=actor, pk=pk)
    ancestor_paths = [org.path[:i] for i in range(Org.steplen, len(org.path), Org.steplen)]
    return OrgDetail(
        org=org,
        ancestors=list(policy.orgs(actor).filter(path__in=ancestor_paths).order_by("path")),
        children=list(with_counts(Org.objects.get_children(org))),
        units=list(Unit.objects.filter(org=org).select_related("parent").order_by(*UNIT_ORDER)),
        positions=positions_of(org=org),
        leading_groups=leading_groups_of(org=org),
    )


# --- units ---------------------------------------------------------------------------------------


# A school, then its classes, then the next school: sort by the top-level unit's name first.
UNIT_ORDER = (Coalesce("parent__name", "name"), F("parent_id").asc(nulls_first=True), "name", "id")


@dataclass
class UnitFilters:
    """What the unit list page and API filter by (same meaning everywhere)."""

    q: str = ""  # part of the name or the credit code
    kind: str = ""
    org_id: int | None = None  # this node and its subtree

    @classmethod
    def from_params(cls, params) -> "UnitFilters":
        """From a GET QueryDict or dict; malformed values are ignored, never an error page."""
        org_raw = str(params.get("org") or "").strip()
        return cls(
            q=(params.get("q") or "").strip(),
            kind=(params.get("kind") or "").strip(),
            org_id=int(org_raw) if org_raw.isdigit() else None,
        )


def unit_list(*, actor, filters: UnitFilters | None = None) -> QuerySet[Unit]:
    """Units attached to nodes in the actor's subtree, by name, with node and parent unit joined in."""
    f = filters or UnitFilters()
    qs = unit_policy.visible(actor, Perm.VIEW, Unit.objects.select_related("org", "parent"))
    if f.q:
        qs = qs.filter(Q(name__icontains=f.q) | Q(credit_code=f.q.upper()) | Q(parent__name__icontains=f.q))
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.org_id is not None:
        node = policy.orgs(actor).filter(pk=f.org_id).values_list("path", flat=True).first()
        qs = qs.filter(org__path__startswith=node) if node else qs.none()
    return qs.order_by(*UNIT_ORDER)


def unit_get(*, actor, pk, perm: Perm = Perm.VIEW) -> Unit:
    """One unit, or 404 when missing or out of scope."""
    return unit_policy.get_or_404(actor, perm, Unit.objects.select_related("org", "parent"), pk=pk)


def unit_parent_choices(*, actor) -> QuerySet[Unit]:
    """Top-level units the actor may attach sub-units to (sub-units nest one level: school → class)."""
    return unit_policy.visible(actor, Perm.CHANGE, Unit.objects.filter(parent__isnull=True)).select_related("org")


def unit_detail_subunits(*, unit: Unit) -> list[Unit]:
    return list(unit.subunits.order_by("name"))


# --- positions and leading groups ----------------------------------------------------------------


def position_get(*, actor, pk, perm: Perm = Perm.VIEW) -> Position:
    return position_policy.get_or_404(actor, perm, Position.objects.select_related("org"), pk=pk)


def leading_group_get(*, actor, pk, perm: Perm = Perm.VIEW) -> LeadingGroup:
    group = leading_group_policy.get_or_404(actor, perm, LeadingGroup.objects.select_related("org"), pk=pk)
    group.sorted_members = sorted(group.members.all(), key=_role_rank)
    return group


def leading_group_member_get(*, actor, pk, perm: Perm = Perm.VIEW) -> LeadingGroupMember:
    qs = LeadingGroupMember.objects.select_related("group__org")
    return leading_group_member_policy.get_or_404(actor, perm, qs, pk=pk)
