"""The error codes and audit actions of teams (Saleor's `error_codes.py`).

Both are part of the contract: API clients branch on a code, the audit trail is searched by action, so a
value never changes once published. Generic codes (invalid, invalid_transition, …) are `core.errors.ErrorCode`.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    UNKNOWN_FIELD = "unknown_field"
    NOT_APPROVED = "not_approved"
    OUTSIDE_TEAM_ORG = "outside_team_org"
    TEAM_FULL = "team_full"
    NOT_A_VOLUNTEER = "not_a_volunteer"
    TEAM_INACTIVE = "team_inactive"
    ALREADY_REQUESTED = "already_requested"
    ALREADY_MEMBER = "already_member"
    NOT_PENDING = "not_pending"
    NOT_MEMBER = "not_member"


class AuditAction(StrEnum):
    TEAM_CREATE = "team.create"
    TEAM_UPDATE = "team.update"
    TEAM_SET_LEADERS = "team.set_leaders"
    MEMBERSHIP_REQUEST = "membership.request"
    MEMBERSHIP_APPROVE = "membership.approve"
    MEMBERSHIP_REJECT = "membership.reject"
    MEMBERSHIP_ADD = "membership.add"
    MEMBERSHIP_REMOVE = "membership.remove"
    MEMBERSHIP_LEAVE = "membership.leave"
    MEMBERSHIP_WITHDRAW = "membership.withdraw"
