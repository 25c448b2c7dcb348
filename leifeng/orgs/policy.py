"""Who may see and change which org nodes, units, positions and leading groups (built on `core.scope`).

Each rule is written once, here; selectors, services, views and the API ask these policies:

- a node is seen by whoever holds Perm.VIEW at it or above it; changed with Perm.MANAGE_ORG there
  (`org_policy`); the top of the tree (a new root, deleting one) is the platform admin's (`require`, `may_delete`);
- units hang on a node and follow its scope with Perm.CHANGE (`unit_policy`); positions and leading groups
  with Perm.MANAGE_ORG (`position_policy`, `leading_group_policy`, `leading_group_member_policy`).
Out of sight answers 404 like a missing object; seen but not allowed answers 403.
"""

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from leifeng.core import scope
from leifeng.core.errors import NotFound, PermissionDenied
from leifeng.core.policy import ModelPolicy
from leifeng.core.roles import Perm
from leifeng.orgs.models import LeadingGroup, LeadingGroupMember, Org, Position, Unit


class OrgPolicy(ModelPolicy):
    model = Org
    org_field = ""

    def anywhere(self, actor, perm: Perm = Perm.VIEW) -> bool:
        """Does the actor hold `perm` at some node (the gate of the unit pages)?"""
        return scope.has_any(actor, perm)

    def is_platform_admin(self, actor) -> bool:
        return scope.is_platform_admin(actor)

    def allows_at(self, actor, perm: Perm, org: Org | None) -> bool:
        """`perm` at `org`; at the top of the tree (no node: a new root) only the platform admin."""
        return self.is_platform_admin(actor) if org is None else scope.allows(actor, perm, org)

    def require(self, actor, perm: Perm, org: Org | None) -> None:
        """For services: NotFound when the actor cannot see `org`, PermissionDenied when they see it but lack `perm`."""
        if org is None:  # roots: the platform admin only
            if not self.is_platform_admin(actor):
                raise PermissionDenied(_("Only a platform administrator may do this at the top of the tree."))
            return
        if not scope.allows(actor, Perm.VIEW, org) and not scope.allows(actor, perm, org):
            raise NotFound()
        if not scope.allows(actor, perm, org):
            raise PermissionDenied()

    def may_delete(self, actor, org: Org) -> bool:
        """Whoever manages the node above may delete a node; only the platform admin deletes roots."""
        roots = scope.paths(actor, Perm.MANAGE_ORG)
        if roots is None:
            return True
        parent_path = org.path[: -Org.steplen]
        return bool(parent_path) and any(parent_path.startswith(p) for p in roots)


class OnNodePolicy(ModelPolicy):
    """Rows that hang on a node (`org_field`): seen with the node, changed with `change_perm` there."""

    change_perm: Perm = Perm.CHANGE

    def __init__(self, model, *, org_field: str = "org", change_perm: Perm = Perm.CHANGE):
        super().__init__(model, org_field=org_field)
        self.change_perm = change_perm

    def may_change(self, actor, obj) -> bool:
        return self.allows(actor, self.change_perm, obj)

    def require_change(self, actor, obj) -> None:
        org_policy.require(actor, self.change_perm, self.org_of(obj))


org_policy = OrgPolicy()
unit_policy = OnNodePolicy(Unit, org_field="org", change_perm=Perm.CHANGE)
position_policy = OnNodePolicy(Position, org_field="org", change_perm=Perm.MANAGE_ORG)
leading_group_policy = OnNodePolicy(LeadingGroup, org_field="org", change_perm=Perm.MANAGE_ORG)
leading_group_member_policy = OnNodePolicy(LeadingGroupMember, org_field="group.org", change_perm=Perm.MANAGE_ORG)


def orgs(actor, perm: Perm = Perm.VIEW) -> QuerySet:
    """The nodes `actor` holds `perm` at (their subtrees)."""
    return org_policy.visible(actor, perm)
