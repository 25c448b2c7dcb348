"""The notifications app's error codes and audit actions. A value never changes once published."""

from enum import StrEnum


class ErrorCode(StrEnum):
    NOT_FAILED = "not_failed"  # retrying a delivery that did not fail
    INVALID_ROLES = "invalid_roles"  # a relay to no role, or to a role that does not exist
    EMPTY = "empty"  # a relay without a title or a message


class AuditAction(StrEnum):
    DELIVERY_RETRY = "delivery.retry"
    RELAY_RETRY = "relay.retry"
    RELAY_SEND = "relay.send"
    FEED_TOKEN_RESET = "feed_token.reset"
