"""Roles and what they allow (DESIGN §1): the vocabulary of the scope module.

They live in core, under every app, so `core.scope` needs no app; `accounts.models.Role` re-exports `Role`
for the RoleAssignment field that stores it.
"""

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """DESIGN §1. A role is held at an org node and reaches its whole subtree."""

    PLATFORM_ADMIN = "platform_admin", _("Platform administrator")
    ORG_ADMIN = "org_admin", _("Organization administrator")
    ORG_STAFF = "org_staff", _("Organization staff")
    TEAM_LEADER = "team_leader", _("Team leader")
    VOLUNTEER = "volunteer", _("Volunteer")
    CARE_WORKER = "care_worker", _("Care worker")
    ASSESSOR = "assessor", _("Assessor")
    RECORDER = "recorder", _("Recorder")


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


def roles_with(perm: Perm) -> frozenset[str]:
    """The roles that grant `perm`."""
    return frozenset(r for r, perms in ROLE_PERMS.items() if perm in perms)
