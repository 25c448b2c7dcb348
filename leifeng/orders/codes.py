"""The orders app's error codes, order event actions and audit actions (Saleor's `error_codes.py`).

A value is part of the API (clients branch on codes) and of the stored history (events, the audit trail):
it never changes once published. Generic codes (`invalid_transition`, `not_found`, …) are
`leifeng.core.errors.ErrorCode`.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    NO_PARENT = "no_parent"  # passing an order up from the root node
    ALREADY_TAKEN = "already_taken"  # grabbing an order somebody else grabbed first


class EventAction(StrEnum):
    """What an OrderEvent says happened (the order page and the resident's tracking page show them)."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    MERGED = "merged"
    MERGED_IN = "merged_in"
    PASSED_UP = "passed_up"
    CANCELLED = "cancelled"
    DISPATCHED = "dispatched"
    PUSHED_DOWN = "pushed_down"
    OPENED = "opened"
    GRABBED = "grabbed"
    RECALLED = "recalled"
    TAKEN = "taken"
    JOINED = "joined"
    DECLINED = "declined"
    COMPLETED = "completed"
    RATED = "rated"
    REDO = "redo"
    FOLLOWED_UP = "followed_up"
    ESCALATED = "escalated"
    REMINDED = "reminded"
    AUTO_CLOSED = "auto_closed"


class AuditAction(StrEnum):
    MENU_ITEM_CREATE = "menu_item.create"
    MENU_ITEM_UPDATE = "menu_item.update"
    ORDER_SUBMIT = "order.submit"
    ORDER_EXPORT = "order.export"
    ORDER_FIGURES_EXPORT = "order.figures_export"
    ORDER_BATCH_DISPATCH = "order.batch_dispatch"
    # one per status move (`_move` audits "order.<event action>"), and the events audited without a move
    ORDER_ACCEPTED = "order.accepted"
    ORDER_REJECTED = "order.rejected"
    ORDER_MERGED = "order.merged"
    ORDER_PASSED_UP = "order.passed_up"
    ORDER_CANCELLED = "order.cancelled"
    ORDER_DISPATCHED = "order.dispatched"
    ORDER_PUSHED_DOWN = "order.pushed_down"
    ORDER_OPENED = "order.opened"
    ORDER_GRABBED = "order.grabbed"
    ORDER_RECALLED = "order.recalled"
    ORDER_TAKEN = "order.taken"
    ORDER_DECLINED = "order.declined"
    ORDER_COMPLETED = "order.completed"
    ORDER_RATED = "order.rated"
    ORDER_REDO = "order.redo"
    ORDER_FOLLOWED_UP = "order.followed_up"
    ORDER_ESCALATED = "order.escalated"
    ORDER_AUTO_CLOSED = "order.auto_closed"
    OPEN311_CLIENT_CREATE = "open311_client.create"
    OPEN311_CLIENT_REVOKE = "open311_client.revoke"

    @classmethod
    def of_event(cls, action: EventAction) -> "AuditAction":
        """The audit action of an order event ("order.<action>"); ValueError for an event that is never audited."""
        return cls(f"order.{EventAction(action)}")
