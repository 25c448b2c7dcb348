"""The error codes and audit actions of orgs (Saleor's `error_codes.py`).

Both are part of the contract: API clients branch on a code, the audit trail is searched by action, so a
value never changes once published. Generic codes (invalid, not_found, …) are `core.errors.ErrorCode`.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    MOVE_INTO_SUBTREE = "move_into_subtree"
    LEVEL_ORDER = "level_order"
    MOVE_FAILED = "move_failed"
    NOT_EMPTY = "not_empty"
    CREDIT_CODE_TAKEN = "credit_code_taken"
    LEADER_TAKEN = "leader_taken"


class AuditAction(StrEnum):
    ORG_CREATE = "org.create"
    ORG_UPDATE = "org.update"
    ORG_MOVE = "org.move"
    ORG_DELETE = "org.delete"
    UNIT_CREATE = "unit.create"
    UNIT_UPDATE = "unit.update"
    POSITION_CREATE = "position.create"
    POSITION_UPDATE = "position.update"
    POSITION_DELETE = "position.delete"
    LEADING_GROUP_CREATE = "leading_group.create"
    LEADING_GROUP_UPDATE = "leading_group.update"
    LEADING_GROUP_DELETE = "leading_group.delete"
    LEADING_GROUP_MEMBER_ADD = "leading_group.member_add"
    LEADING_GROUP_MEMBER_REMOVE = "leading_group.member_remove"
