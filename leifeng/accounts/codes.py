"""The error codes and audit actions of accounts (Saleor's `error_codes.py`).

Both are part of the contract: API clients branch on a code, the audit trail is searched by action, so a
value never changes once published. Generic codes (invalid, not_found, …) are `core.errors.ErrorCode`.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    ACCOUNT_OUTSIDE_SCOPE = "account_outside_scope"
    PLATFORM_ROLE = "platform_role"
    DUPLICATE = "duplicate"
    SELF = "self"
    DUPLICATE_ROLE = "duplicate_role"
    OWN_ADMIN_ROLE = "own_admin_role"
    LAST_ROLE = "last_role"
    TOO_MANY_TOKENS = "too_many_tokens"


class AuditAction(StrEnum):
    USER_CREATE = "user.create"
    USER_UPDATE = "user.update"
    USER_ACTIVATE = "user.activate"
    USER_DEACTIVATE = "user.deactivate"
    USER_RESET_PASSWORD = "user.reset_password"
    USER_CHANGE_PASSWORD = "user.change_password"
    ROLE_GRANT = "role.grant"
    ROLE_REVOKE = "role.revoke"
    ROLE_ADMIN_CHANGE = "role.admin_change"
    TOKEN_CREATE = "token.create"
    TOKEN_REVOKE = "token.revoke"
