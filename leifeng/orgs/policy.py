"""Who may see and change which org nodes (built on `core.scope`)."""

from django.db.models import QuerySet

from leifeng.core.policy import ModelPolicy
from leifeng.core.roles import Perm
from leifeng.orgs.models import Org, Unit

org_policy = ModelPolicy(Org, org_field="")
unit_policy = ModelPolicy(Unit, org_field="org")


def orgs(actor, perm: Perm = Perm.VIEW) -> QuerySet:
    """The nodes `actor` holds `perm` at (their subtrees)."""
    return org_policy.visible(actor, perm)
